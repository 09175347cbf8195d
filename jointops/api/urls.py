from rest_framework.routers import DefaultRouter

from jointops.api import views

router = DefaultRouter()
router.register("organisations", views.OrganisationViewSet, basename="organisation")
router.register("offices", views.OfficeViewSet, basename="office")
