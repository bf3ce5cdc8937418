"""A plan's life: 草稿 → 实施中 → 已结束 → 已归档, and an administrator reopening an archived plan.

草稿: imported, not tracked yet. 实施中: tracked. 已结束: its period is over (the nightly step ends it), entries for
its years are still accepted until the final evaluation (终期评估) is finalised. 已归档: read-only, allowed only once
the final evaluation is finalised; an administrator reopens it (back to 已结束, with a reason) to correct anything,
which also withdraws the finalisation so that corrections can be entered; finalising again and archiving again
close it. Which entries a state accepts is planning.workflow.entries_refused_because (the one rule every door uses).
Every change writes a Plan history row naming who, how and why.
"""

from __future__ import annotations

import datetime

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Plan, PlanState, Role
from .roles import has_role
from .tasks import plan_recompute_on_commit
from .workflow import Channel, NotAllowed, TransitionError, field_limit

# (from, to) → the history's name of the step. Anything else is refused.
TRANSITIONS = {
    (PlanState.DRAFT, PlanState.ACTIVE): "开始跟踪",
    (PlanState.ACTIVE, PlanState.ENDED): "规划期结束",
    (PlanState.ENDED, PlanState.ARCHIVED): "归档",
    (PlanState.ARCHIVED, PlanState.ENDED): "重新开放",
}
# Steps that need a stated reason (the history keeps it).
REASON_REQUIRED = {(PlanState.ARCHIVED, PlanState.ENDED)}


def _reason_text(plan: Plan, raw: str, *, channel: str, step: str) -> str:
    """The history row's reason: '后台：重新开放（reason）', refused (never cut) when longer than the column allows."""
    prefix = f"{Channel(channel).label}：{step}"
    reason = str(raw or "").strip()
    limit = field_limit(Plan.history.model, "history_change_reason") - len(prefix) - 2
    if len(reason) > limit:
        raise ValidationError(
            {"reason": [_("原因最多 %(limit)d 字，现为 %(length)d 字。") % {"limit": limit, "length": len(reason)}]}
        )
    return f"{prefix}（{reason}）" if reason else prefix


def _save(plan: Plan, *, user: User | None, change_reason: str, fields: list[str]) -> None:
    plan._history_user = user  # type: ignore[attr-defined]
    plan._change_reason = change_reason  # type: ignore[attr-defined]
    plan.save(update_fields=fields)


@transaction.atomic
def plan_state_set(*, plan: Plan, state: str, user: User, reason: str = "", channel: str = Channel.ADMIN) -> Plan:
    """Move a plan to another state along TRANSITIONS. Administrators only."""
    if not has_role(user, Role.ADMIN):
        raise NotAllowed(_("只有管理员可以变更规划状态。"))
    locked = Plan.objects.select_for_update().get(pk=plan.pk)
    try:
        target = PlanState(state)
    except ValueError:
        raise ValidationError({"state": [_("规划状态无效。")]}) from None
    current = PlanState(locked.state)
    step = TRANSITIONS.get((current, target))
    if step is None:
        raise TransitionError(
            _("规划不能从“%(current)s”变更为“%(target)s”。") % {"current": current.label, "target": target.label}
        )
    if (current, target) in REASON_REQUIRED and not str(reason or "").strip():
        raise ValidationError({"reason": [_("重新开放已归档的规划须说明原因。")]})
    if target == PlanState.ARCHIVED and locked.evaluation_finalised_at is None:
        raise TransitionError(_("终期评估定稿后才能归档；请先定稿终期评估。"))
    if (
        target == PlanState.ENDED
        and current == PlanState.ACTIVE
        and locked.period_end_year >= timezone.localdate().year
    ):
        raise TransitionError(_("规划期到 %(end)s 年才结束，现在不能标记为已结束。") % {"end": locked.period_end_year})
    change_reason = _reason_text(locked, reason, channel=channel, step=step)
    locked.state = target
    fields = ["state"]
    if current == PlanState.ARCHIVED:
        # Reopening is for corrections: the finalisation is withdrawn so the entries can be changed (history keeps it).
        locked.evaluation_finalised_at = None
        fields.append("evaluation_finalised_at")
    _save(locked, user=user, change_reason=change_reason, fields=fields)
    if current == PlanState.DRAFT:
        # A draft has no statuses yet: compute them once it is tracked.
        plan_recompute_on_commit(locked.pk)
    return locked


@transaction.atomic
def plan_evaluation_finalise(*, plan: Plan, user: User, channel: str = Channel.ADMIN) -> Plan:
    """Finalise the final evaluation of an ended plan: from now on it takes no entries, and it may be archived."""
    if not has_role(user, Role.ADMIN):
        raise NotAllowed(_("只有管理员可以定稿终期评估。"))
    locked = Plan.objects.select_for_update().get(pk=plan.pk)
    if locked.state != PlanState.ENDED:
        raise TransitionError(
            _("只有已结束的规划可以定稿终期评估（当前状态：%(state)s）。") % {"state": locked.get_state_display()}
        )
    if locked.evaluation_finalised_at is not None:
        raise TransitionError(_("该规划的终期评估已经定稿。"))
    locked.evaluation_finalised_at = timezone.now()
    _save(
        locked, user=user, change_reason=f"{Channel(channel).label}：终期评估定稿", fields=["evaluation_finalised_at"]
    )
    return locked


def plans_end_due(*, today: datetime.date | None = None) -> int:
    """The nightly step: active plans whose period is over become 已结束 (a history row each). Returns how many."""
    year = (today or timezone.localdate()).year
    ended = 0
    for pk in Plan.objects.filter(state=PlanState.ACTIVE, period_end_year__lt=year).values_list("pk", flat=True):
        with transaction.atomic():
            # Re-read under a lock: a plan an administrator changed meanwhile is left alone.
            plan = Plan.objects.select_for_update().filter(pk=pk, state=PlanState.ACTIVE).first()
            if plan is None:
                continue
            plan.state = PlanState.ENDED
            _save(plan, user=None, change_reason=f"{Channel.SYSTEM.label}：规划期已满，自动结束", fields=["state"])
            ended += 1
    return ended


def state_for_new_plan(period_start_year: int, period_end_year: int, today: datetime.date | None = None) -> str:
    """A plan loaded from the seed fixtures starts tracked: 实施中 while its period covers today, else 已结束
    (a plan not started yet is 实施中 too: entries for its years are refused by year until they come)."""
    year = (today or timezone.localdate()).year
    return PlanState.ENDED if period_end_year < year else PlanState.ACTIVE
