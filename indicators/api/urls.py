from django.urls import include, path
from rest_framework.routers import SimpleRouter

from config.tokens import RevokeAllTokensView, TokenView

from .views import FlagViewSet, IndicatorValueViewSet, IndicatorViewSet, StatusView

router = SimpleRouter()
router.register("indicators", IndicatorViewSet, basename="indicator")
router.register("indicator-values", IndicatorValueViewSet, basename="indicator-value")
router.register("flags", FlagViewSet, basename="flag")

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="token"),
    path("auth/token/revoke-all/", RevokeAllTokensView.as_view(), name="token-revoke-all"),
    path("status/", StatusView.as_view(), name="status"),
    path("", include("planning.api.urls")),
    path("", include("regions.api.urls")),
    *router.urls,
]
