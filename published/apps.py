from django.apps import AppConfig
from django.db.models.signals import post_save


class PublishedConfig(AppConfig):
    name = "published"
    verbose_name = "公开数据"

    def ready(self) -> None:
        from planning.models import Plan

        from .public import plan_saved

        # The public pages are cached; a plan saved in the admin (public_page unticked, say) drops them.
        post_save.connect(plan_saved, sender=Plan, dispatch_uid="published.public.plan_saved")
