from django.urls import path

import config.filters  # noqa: F401  # registers the <id:…> path converter

from . import views

app_name = "dashboards"

# The leader dashboards, under /dashboard/.
urlpatterns = [
    path("", views.overview, name="overview"),
    path("indicators/<id:pk>/", views.indicator_detail, name="indicator"),
    path("regions/", views.region_matrix, name="regions"),
    path("tasks/", views.task_board, name="tasks"),
    path("tasks/<id:pk>/", views.task_detail, name="task"),
    path("units/", views.unit_board, name="units"),
    path("units/<id:pk>/", views.unit_detail, name="unit"),
]
