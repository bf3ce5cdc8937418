from django.urls import path

import config.filters  # noqa: F401  # registers the <id:…> path converter

from . import entry_views, views

app_name = "planning"

kind = {"kind": views.TASK_PROGRESS_PAGES}

urlpatterns = [
    path("progress/", views.progress_list, name="progress-list"),
    path("progress/new/<id:task_pk>/<id:year>/", views.progress_create, name="progress-create"),
    path("progress/<id:pk>/", entry_views.entry_detail, kind, name="progress-detail"),
    path("progress/<id:pk>/edit/", entry_views.entry_edit, kind, name="progress-edit"),
    path("progress/<id:pk>/evidence/<id:evidence_pk>/", entry_views.evidence_download, kind, name="progress-evidence"),
    path(
        "progress/<id:pk>/<str:action>/",
        entry_views.entry_action,
        kind,
        name="progress-action",
    ),
]
