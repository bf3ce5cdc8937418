from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config.views import home

admin.site.site_header = "乐山教育规划目标跟踪系统"
admin.site.site_title = "乐山教育规划目标跟踪系统"
admin.site.index_title = "规划数据管理"

# A lost database connection answers 503 (temporary), not 500; see config.security.
handler500 = "config.security.server_error"
# Under /api/ the errors are JSON in the API's shape; pages keep their templates.
handler400 = "config.security.bad_request"
handler403 = "config.security.permission_denied"
handler404 = "config.security.page_not_found"


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for the load balancer and compose health check; touches the database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages that name none (the admin's, Swagger UI's)."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


urlpatterns = [
    path("", home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("dashboard/", include("dashboards.urls")),
    path("", include("dashboards.workbench_urls")),
    path("", include("indicators.urls")),
    path("", include("exchange.urls")),
    path("", include("reports.urls")),
    path("", include("published.urls")),
    path("tasks/", include("planning.urls")),
    # 政务公开: anonymous, read-only, cached (published/public.py).
    path("public/", include("published.public_urls")),
    path("api/v1/", include(("config.api_urls", "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("admin/demo/", include("demo.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon),
]
