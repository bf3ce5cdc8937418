from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IndicatorsConfig(AppConfig):
    name = "indicators"
    verbose_name = _("主要指标")

    def ready(self) -> None:
        from planning.status import TASK_STATUS_LISTENERS

        from .flags import sync_task_lag_flags

        # planning may not import upward; the indicators app keeps the task flags in step instead.
        if sync_task_lag_flags not in TASK_STATUS_LISTENERS:
            TASK_STATUS_LISTENERS.append(sync_task_lag_flags)
