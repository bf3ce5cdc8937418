from django.urls import path

import config.filters  # noqa: F401  # registers the <id:…> path converter

from . import plan_views, views

app_name = "exchange"

urlpatterns = [
    path("excel/", views.excel_page, name="excel"),
    path("excel/template/", views.excel_template, name="excel-template"),
    path("excel/upload/", views.excel_upload, name="excel-upload"),
    path("excel/imports/<id:pk>/", views.import_detail, name="import-detail"),
    path("excel/imports/<id:pk>/confirm/", views.import_confirm, name="import-confirm"),
    path("excel/imports/<id:pk>/progress/", views.import_progress, name="import-progress"),
    path("excel/export.xlsx", views.excel_export, {"fmt": "xlsx"}, name="export-xlsx"),
    path("excel/export.csv", views.excel_export, {"fmt": "csv"}, name="export-csv"),
    path("plans/manage/", plan_views.plans_manage, name="plans-manage"),
    path("plans/manage/<id:pk>/export.xlsx", plan_views.plans_export, name="plans-export"),
    path("plans/manage/upload/", plan_views.plans_upload, name="plans-upload"),
    path("plans/manage/uploads/<str:token>/", plan_views.plans_preview, name="plans-preview"),
    path("plans/manage/uploads/<str:token>/confirm/", plan_views.plans_confirm, name="plans-confirm"),
]
