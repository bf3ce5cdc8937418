from django.urls import path

import config.filters  # noqa: F401  # registers the <id:…> path converter

from . import workbench

# A person's own pages, in a namespace of their own ("workbench:…") so the navigation tells them apart.
app_name = "workbench"

urlpatterns = [
    path("my/", workbench.my_reporting, name="my-reporting"),
    path("review/", workbench.review_queue, name="review"),
    path("review/approve/", workbench.review_bulk_approve, name="review-bulk-approve"),
    path("notifications/", workbench.notification_list, name="notifications"),
    path("notifications/settings/", workbench.notification_settings, name="notification-settings"),
    path("notifications/<id:pk>/read/", workbench.notification_read, name="notification-read"),
    path("notifications/<id:pk>/open/", workbench.notification_open, name="notification-open"),
]
