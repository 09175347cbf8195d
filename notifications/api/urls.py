"""Routes of pre-departure lists and the inbox under /api/v1/ (listed in jointops.api_urls.APP_API_MODULES)."""

from rest_framework.routers import SimpleRouter

from notifications.api import views

router = SimpleRouter()
router.register("pre-departure-lists", views.PreDepartureListViewSet, basename="pre-departure-list")
router.register("notifications", views.NotificationViewSet, basename="notification")

urlpatterns = []
