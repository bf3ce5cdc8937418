from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class PlanningConfig(AppConfig):
    name = "planning"
    verbose_name = _("规划与任务")

    def ready(self) -> None:
        from .entries import TRANSITION_LISTENERS
        from .notifications import entry_transition_notify
        from .roles import ensure_role_groups

        # After every migrate, so the groups exist on a fresh database and pick up new permissions.
        # Not limited to this app: permissions of apps migrated later must reach the 管理员 group too.
        post_migrate.connect(ensure_role_groups, dispatch_uid="planning.ensure_role_groups")
        # Submit, return, approve and reopen tell the people they concern (planning.notifications).
        if entry_transition_notify not in TRANSITION_LISTENERS:
            TRANSITION_LISTENERS.append(entry_transition_notify)
