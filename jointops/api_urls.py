"""Everything under /api/v1/.

Each app contributes `router` (a SimpleRouter) and, if it has non-viewset routes, `urlpatterns` in its
api/urls.py; add it to APP_API_MODULES. One DefaultRouter gathers every registry so the API root lists
them all. Unknown paths answer the API's JSON 404 body (the catch-all stays last).
"""

from importlib import import_module

from django.http import HttpResponseForbidden
from django.urls import include, path, re_path
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from jointops.api.exception_handler import not_found
from jointops.api.views import ApiDocsView, ApiSchemaView


class ApiDocsSplitView(ApiDocsView, SpectacularSwaggerSplitView):
    """Issue 8: the Swagger UI under the Content-Security-Policy (script-src 'self', no inline script or style).

    The page loads its start-up script from this same address with `?script` (drf-spectacular's split view) instead
    of carrying it inline; templates/jointops/api_docs.html drops the inline <style>. That script holds the caller's
    CSRF token, so it is only ever served to our own pages: a browser asking for it from another site (Sec-Fetch-Site)
    is refused, and Cross-Origin-Resource-Policy stops another site's <script src> from reading it.
    """

    template_name = "jointops/api_docs.html"

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        is_script = request.GET.get("script") is not None
        if is_script and request.headers.get("Sec-Fetch-Site", "same-origin") != "same-origin":
            return HttpResponseForbidden()
        response = super().get(request, *args, **kwargs)
        if is_script:
            response["Cross-Origin-Resource-Policy"] = "same-origin"
        return response


APP_API_MODULES = [
    "jointops.api.urls",
    "beneficiaries.api.urls",
    "returns.api.urls",
    "jointops.api.consultations",
    "letters_of_understanding.api.urls",
    "notifications.api.urls",
    "dashboards.api_urls",
]

router = DefaultRouter()
app_urlpatterns = []
for module_name in APP_API_MODULES:
    module = import_module(module_name)
    router.registry.extend(module.router.registry)
    app_urlpatterns += getattr(module, "urlpatterns", [])

urlpatterns = [
    path("schema/", ApiSchemaView.as_view(), name="api-schema"),
    path("docs/", ApiDocsSplitView.as_view(url_name="api-schema"), name="api-docs"),
    *app_urlpatterns,
    path("", include(router.urls)),
    # Last: anything else under /api/v1/ ending in a slash (APPEND_SLASH still redirects the rest here).
    re_path(r"^[\s\S]*/$", not_found),  # any character, a newline (%0A) too (found by schemathesis)
]
