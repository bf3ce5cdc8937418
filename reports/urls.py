from django.urls import path

import config.filters  # noqa: F401  # registers the <id:…> path converter

from . import views

app_name = "reports"

urlpatterns = [
    path("reports/", views.report_list, name="reports"),
    path("reports/<id:pk>/download/", views.report_download, name="report-download"),
]
