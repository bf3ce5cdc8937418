"""The public pages (政务公开), included at /public/ by config/urls.py."""

from django.urls import path

from . import public

app_name = "public"

urlpatterns = [
    path("", public.plan_list, name="plan-list"),
    path("<slug:code>/", public.plan_detail, name="plan"),
]
