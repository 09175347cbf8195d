"""Routes of Letters of Understanding under /api/v1/ (listed in jointops.api_urls.APP_API_MODULES)."""

from rest_framework.routers import SimpleRouter

from letters_of_understanding.api import views

router = SimpleRouter()
router.register("letters-of-understanding", views.LetterOfUnderstandingViewSet, basename="letter-of-understanding")

urlpatterns = []
