"""Everything under /api/v1/.

Each app contributes `router` (a SimpleRouter) and, if it has non-viewset routes, `urlpatterns` in its
api/urls.py; add it to APP_API_MODULES. One DefaultRouter gathers every registry so the API root lists
them all. Unknown paths answer the API's JSON 404 body (the catch-all stays last).
"""

from importlib import import_module

from django.urls import include, path, re_path
from rest_framework.routers import DefaultRouter

from jointops.api.exception_handler import not_found
from jointops.api.views import ApiDocsView, ApiSchemaView

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
    path("docs/", ApiDocsView.as_view(url_name="api-schema"), name="api-docs"),
    *app_urlpatterns,
    path("", include(router.urls)),
    # Last: anything else under /api/v1/ ending in a slash (APPEND_SLASH still redirects the rest here).
    re_path(r"^.*/$", not_found),
]
