from django.urls import path

import config.filters  # noqa: F401  # registers the <id:…> path converter
from planning.views import entry_action, entry_detail, evidence_download

from . import dashboards, views

app_name = "indicators"

kind = {"kind": views.INDICATOR_VALUE}

urlpatterns = [
    path("my/", views.my_reporting, name="my-reporting"),
    path("review/", views.review_queue, name="review"),
    path("review/approve/", views.review_bulk_approve, name="review-bulk-approve"),
    path("values/", views.value_list, name="value-list"),
    path("values/new/<id:indicator_pk>/<id:region_pk>/<id:year>/", views.value_create, name="value-create"),
    path("values/<id:pk>/", entry_detail, kind, name="value-detail"),
    path("values/<id:pk>/edit/", views.value_edit, name="value-edit"),
    path("values/<id:pk>/evidence/<id:evidence_pk>/", evidence_download, kind, name="value-evidence"),
    path("values/<id:pk>/<str:action>/", entry_action, kind, name="value-action"),
    path("notifications/", views.notification_list, name="notifications"),
    path("excel/", views.excel_page, name="excel"),
    path("excel/template/", views.excel_template, name="excel-template"),
    path("excel/upload/", views.excel_upload, name="excel-upload"),
    path("excel/imports/<id:pk>/", views.import_detail, name="import-detail"),
    path("excel/imports/<id:pk>/confirm/", views.import_confirm, name="import-confirm"),
    path("excel/imports/<id:pk>/progress/", views.import_progress, name="import-progress"),
    path("excel/export.xlsx", views.excel_export, {"fmt": "xlsx"}, name="export-xlsx"),
    path("excel/export.csv", views.excel_export, {"fmt": "csv"}, name="export-csv"),
    path("reports/", views.report_list, name="reports"),
    path("reports/<id:pk>/download/", views.report_download, name="report-download"),
    path("decomposition/", views.decomposition_list, name="decomposition-list"),
    path("decomposition/<id:indicator_pk>/", views.decomposition_edit, name="decomposition-edit"),
]


# The leader dashboards, under their own namespace ("dashboards:…").
dashboard_urlpatterns = (
    [
        path("", dashboards.overview, name="overview"),
        path("indicators/<id:pk>/", dashboards.indicator_detail, name="indicator"),
        path("regions/", dashboards.region_matrix, name="regions"),
        path("tasks/", dashboards.task_board, name="tasks"),
        path("units/", dashboards.unit_board, name="units"),
        path("units/<id:pk>/", dashboards.unit_detail, name="unit"),
    ],
    "dashboards",
)
