from rest_framework.routers import SimpleRouter

from .views import FlagViewSet, IndicatorValueViewSet, IndicatorViewSet

router = SimpleRouter()
router.register("indicators", IndicatorViewSet, basename="indicator")
router.register("indicator-values", IndicatorValueViewSet, basename="indicator-value")
router.register("flags", FlagViewSet, basename="flag")

urlpatterns = router.urls
