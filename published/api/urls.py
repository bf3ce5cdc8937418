from rest_framework.routers import SimpleRouter

from .views import PublishedFigureViewSet

router = SimpleRouter()
router.register("published-figures", PublishedFigureViewSet, basename="published-figure")

urlpatterns = router.urls
