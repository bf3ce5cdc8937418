from django.urls import path

import config.filters  # noqa: F401  # registers the <id:…> path converter
from planning.entry_views import entry_action, entry_detail, entry_edit, evidence_download

from . import views

app_name = "indicators"

kind = {"kind": views.INDICATOR_VALUE_PAGES}

urlpatterns = [
    path("values/", views.value_list, name="value-list"),
    path("values/new/<id:indicator_pk>/<id:region_pk>/<id:year>/", views.value_create, name="value-create"),
    path("values/<id:pk>/", entry_detail, kind, name="value-detail"),
    path("values/<id:pk>/edit/", entry_edit, kind, name="value-edit"),
    path("values/<id:pk>/evidence/<id:evidence_pk>/", evidence_download, kind, name="value-evidence"),
    path("values/<id:pk>/<str:action>/", entry_action, kind, name="value-action"),
    path("decomposition/", views.decomposition_list, name="decomposition-list"),
    path("decomposition/<id:indicator_pk>/", views.decomposition_edit, name="decomposition-edit"),
]
