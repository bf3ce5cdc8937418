from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IndicatorsConfig(AppConfig):
    name = "indicators"
    verbose_name = _("主要指标")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from planning.entries import TRANSITION_LISTENERS
        from planning.status import TASK_STATUS_LISTENERS

        from .flags import overdue_on_transition, sync_task_lag_flags, warn_lead_units
        from .status import register_sqlite_functions

        # The recompute's input fingerprints use PostgreSQL's hash functions; SQLite gets them under the same names.
        connection_created.connect(register_sqlite_functions, dispatch_uid="indicators.sqlite_functions")

        # planning may not import upward; the indicators app keeps the task flags in step instead, and then tells
        # the lead units of any new one at once (held while a full recompute runs; it tells them at its end).
        for listener in (sync_task_lag_flags, warn_lead_units):
            if listener not in TASK_STATUS_LISTENERS:
                TASK_STATUS_LISTENERS.append(listener)
        # Overdue flags follow every submit, withdraw, return, approve and reopen at once, in its transaction.
        if overdue_on_transition not in TRANSITION_LISTENERS:
            TRANSITION_LISTENERS.append(overdue_on_transition)
