from django.urls import path

from . import views

app_name = "demo"

# Under /admin/demo/ (config.urls, before the admin's own URLs): an administrator's page in the admin's look.
urlpatterns = [
    path("remove/", views.remove, name="remove"),
]
