"""Routes of people, households and reference data under /api/v1/ (listed in jointops.api_urls.APP_API_MODULES),
plus the import and export endpoints of beneficiaries.api.imports (its routes and its urlpatterns; the latter are
placed before every router, so "beneficiaries/export/" is matched before "beneficiaries/{id}/")."""

from rest_framework.routers import SimpleRouter

from beneficiaries.api import imports, views

router = SimpleRouter()
router.register("beneficiaries", views.BeneficiaryViewSet, basename="beneficiary")
router.register("households", views.HouseholdViewSet, basename="household")
router.register("beneficiary-categories", views.BeneficiaryCategoryViewSet, basename="beneficiary-category")
router.register("mandates", views.MandateViewSet, basename="mandate")
router.registry.extend(imports.router.registry)

urlpatterns = [*imports.urlpatterns]
