from django.urls import include, path
from rest_framework.routers import SimpleRouter

from .views import FlagViewSet, IndicatorValueViewSet, IndicatorViewSet, StatusView, TokenView

router = SimpleRouter()
router.register("indicators", IndicatorViewSet, basename="indicator")
router.register("indicator-values", IndicatorValueViewSet, basename="indicator-value")
router.register("flags", FlagViewSet, basename="flag")

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="token"),
    path("status/", StatusView.as_view(), name="status"),
    path("", include("planning.api.urls")),
    path("", include("regions.api.urls")),
    *router.urls,
]
