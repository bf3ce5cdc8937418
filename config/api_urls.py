"""The API's root (/api/v1/): each app's endpoints, and the token endpoints the project owns (config.tokens)."""

from django.urls import include, path

from config.tokens import RevokeAllTokensView, TokenView

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="token"),
    path("auth/token/revoke-all/", RevokeAllTokensView.as_view(), name="token-revoke-all"),
    path("", include("dashboards.api.urls")),
    path("", include("indicators.api.urls")),
    path("", include("planning.api.urls")),
    path("", include("published.api.urls")),
    path("", include("regions.api.urls")),
]
