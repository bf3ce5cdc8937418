from django.urls import path

import config.filters  # noqa: F401  # registers the <id:…> path converter

from . import views

app_name = "published"

urlpatterns = [
    path("dashboard/benchmark/", views.benchmark, name="benchmark"),
    path("published-figures/<id:pk>/adopt/", views.figure_adopt, name="figure-adopt"),
]
