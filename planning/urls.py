from django.urls import path

import config.filters  # noqa: F401  # registers the <id:…> path converter

from . import views

app_name = "planning"

kind = {"kind": views.TASK_PROGRESS}

urlpatterns = [
    path("progress/", views.progress_list, name="progress-list"),
    path("progress/new/<id:task_pk>/<id:year>/", views.progress_create, name="progress-create"),
    path("progress/<id:pk>/", views.entry_detail, kind, name="progress-detail"),
    path("progress/<id:pk>/edit/", views.progress_edit, name="progress-edit"),
    path("progress/<id:pk>/evidence/<id:evidence_pk>/", views.evidence_download, kind, name="progress-evidence"),
    path(
        "progress/<id:pk>/<str:action>/",
        views.entry_action,
        kind,
        name="progress-action",
    ),
]
