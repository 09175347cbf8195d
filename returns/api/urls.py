"""Routes of return cases, repatriation operations and return agreements under /api/v1/ (listed in
jointops.api_urls.APP_API_MODULES)."""

from rest_framework.routers import SimpleRouter

from returns.api import views

router = SimpleRouter()
router.register("return-cases", views.ReturnCaseViewSet, basename="return-case")
router.register("repatriation-operations", views.RepatriationOperationViewSet, basename="repatriation-operation")
router.register("return-agreements", views.ReturnAgreementViewSet, basename="return-agreement")

urlpatterns = []
