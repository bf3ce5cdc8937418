from django.urls import path

from . import workbench

# A person's own pages, in a namespace of their own ("workbench:…") so the navigation tells them apart.
app_name = "workbench"

urlpatterns = [
    path("my/", workbench.my_reporting, name="my-reporting"),
    path("review/", workbench.review_queue, name="review"),
    path("review/approve/", workbench.review_bulk_approve, name="review-bulk-approve"),
    path("notifications/", workbench.notification_list, name="notifications"),
]
