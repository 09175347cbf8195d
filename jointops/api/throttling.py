"""Per-principal throttling: each partner system and each user has its own bucket (anonymous: per address).

DRF throttling spreads load fairly; it is not a security control (DRF #8127): sign-in lock-out lives elsewhere.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class PrincipalRateThrottle(SimpleRateThrottle):
    scope = "principal"

    def get_rate(self) -> str | None:
        # Read the rate at each request (DRF binds THROTTLE_RATES once at import), so settings can change it.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view) -> str:
        user = request.user
        if user is None or not user.is_authenticated:
            return self.cache_format % {"scope": self.scope, "ident": f"anon-{self.get_ident(request)}"}
        kind = "client" if getattr(user, "is_api_client", False) else "user"
        return self.cache_format % {"scope": self.scope, "ident": f"{kind}-{user.pk}"}
