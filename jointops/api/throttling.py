"""Per-principal throttling: each partner system (and each user) has its own bucket."""

from rest_framework.throttling import SimpleRateThrottle


class PrincipalRateThrottle(SimpleRateThrottle):
    scope = "principal"

    def get_cache_key(self, request, view):
        user = request.user
        if user is None or not user.is_authenticated:
            return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
        kind = "client" if getattr(user, "is_api_client", False) else "user"
        return self.cache_format % {"scope": self.scope, "ident": f"{kind}-{user.pk}"}
