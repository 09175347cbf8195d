"""Cross-cutting HTTP behaviour."""


class NoStoreMiddleware:
    """Pages and API answers may hold personal data: browsers and proxies must not keep copies.

    Static assets (served by whitenoise before this runs) keep their own long-lived caching.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith("/static/"):
            response["Cache-Control"] = "no-store"
            response.setdefault("Pragma", "no-cache")
        return response
