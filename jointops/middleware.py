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


class RejectNullCharactersMiddleware:
    """A NUL character in a browser page's path or query string answers 400, before any view runs.

    PostgreSQL refuses NUL in text, so such a value reaching a query would be a 500. Forms already refuse NUL in
    fields; this closes the query string of every page. The API does the same with its JSON error body
    (jointops.api.base.ApiViewMixin), so /api/ is left to it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/"):
            raw = request.path + request.META.get("QUERY_STRING", "")
            if "\x00" in raw or "%00" in raw.lower() or any("\x00" in v for v in request.GET.values()):
                from django.http import HttpResponseBadRequest
                from django.utils.translation import gettext as _

                return HttpResponseBadRequest(_("The address contains a null character."))
        return self.get_response(request)


class PermissionsPolicyMiddleware:
    """Issue 8: switch off the browser features the app never uses (camera, microphone, location, payment, USB).

    A script that got in anyway (or a page of ours framed elsewhere, which X-Frame-Options and frame-ancestors
    already refuse) cannot ask for them. The value is settings.PERMISSIONS_POLICY; a view may set its own header.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings

        response = self.get_response(request)
        if settings.PERMISSIONS_POLICY:
            response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response
