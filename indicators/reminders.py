"""Deadline reminders: each 填报员 hears, once per stage, how many of their items are still open.

Run daily by Celery beat (indicators.tasks.deadline_reminders). Each stage has a window rather than one day, so a
day the job did not run is caught up the next; the notification's occasion makes each person hear each stage of a
plan's year once, however often the job runs.
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from planning.models import EntryStatus, Notification, NotificationKind, Plan, Role
from planning.notifications import notify
from planning.roles import prime_roles
from planning.selectors import deadline_for, prime_scopes, reportable_years
from planning.workflow import entries_refused_because

from .selectors import reporting_items

# Open: not yet submitted for review. Labels in the order the message names them.
OPEN_STATUSES = {"missing": "未填报", EntryStatus.DRAFT: "草稿", EntryStatus.RETURNED: "已退回"}
# A stage is due while the days left fall in its window: 14 days before (until the 3-day stage), 3 days before
# (until the day itself), and after the deadline (from the day after, for a week).
STAGES = [("14", 4, 14), ("3", 0, 3), ("passed", -7, -1)]


@dataclass(frozen=True)
class Reminder:
    plan: Plan
    year: int
    deadline: datetime.date
    stage: str
    days_left: int

    @property
    def occasion(self) -> str:
        return f"deadline:{self.stage}:plan:{self.plan.pk}:year:{self.year}"

    @property
    def kind(self) -> str:
        return NotificationKind.DEADLINE_PASSED if self.stage == "passed" else NotificationKind.DEADLINE_SOON


def stage_for(days_left: int) -> str | None:
    return next((name for name, low, high in STAGES if low <= days_left <= high), None)


def reminders_due(today: datetime.date) -> list[Reminder]:
    """The plans' years whose deadline is in a stage's window today (plans that take entries now, years begun)."""
    due = []
    for plan in Plan.objects.exclude(region__isnull=True).order_by("pk"):
        if entries_refused_because(plan):
            continue
        for year in reportable_years(plan, today):
            deadline = deadline_for(plan, year)
            days_left = (deadline - today).days
            stage = stage_for(days_left)
            if stage is not None:
                due.append(Reminder(plan, year, deadline, stage, days_left))
    return due


def _date(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def reminder_text(reminder: Reminder, counts: Counter[str]) -> tuple[str, str]:
    plan, year, deadline = reminder.plan, reminder.year, reminder.deadline
    total = sum(counts.values())
    parts = "、".join(f"{label} {counts[status]} 项" for status, label in OPEN_STATUSES.items() if counts[status])
    what = f"您负责的项目中尚有 {total} 项未提交审核（{parts}）"
    if reminder.stage == "passed":
        title = f"{plan.short_title} {year}年度填报已逾期：{total} 项未提交"
        body = f"{plan.short_title} {year}年度的填报已于 {_date(deadline)} 截止，{what}，已计入逾期未报。请尽快填报并提交审核。"
    else:
        when = "今天" if reminder.days_left == 0 else f"{reminder.days_left} 天后"
        title = f"{plan.short_title} {year}年度填报{when}截止：{total} 项未提交"
        body = f"{plan.short_title} {year}年度的填报将于 {_date(deadline)} 截止，{what}。请在截止前填报并提交审核。"
    return title, body


def deadline_reminders_send(*, today: datetime.date | None = None) -> dict[str, int]:
    """Tell each active 填报员 the count of their items still open for every plan year whose deadline is 14 or 3
    days away or has just passed; nothing to those with none open, nothing twice (the occasion)."""
    today = today or timezone.localdate()
    due = reminders_due(today)
    if not due:
        return {"stages": 0, "reminded": 0}
    people = list(User.objects.filter(is_active=True, groups__name=Role.ENTRY.value).distinct().order_by("pk"))
    prime_roles(people)
    prime_scopes(people)
    reminded = 0
    for reminder in due:
        told = set(
            Notification.objects.filter(occasion=reminder.occasion, user__in=people).values_list("user_id", flat=True)
        )
        link = reverse("workbench:my-reporting") + f"?plan={reminder.plan.pk}&year={reminder.year}"
        for person in people:
            if person.pk in told:
                continue
            items, _deadline = reporting_items(person, reminder.plan, reminder.year, today)
            counts = Counter(item.status for item in items if item.status in OPEN_STATUSES)
            if not counts:
                continue
            title, body = reminder_text(reminder, counts)
            reminded += len(
                notify(
                    users=[person],
                    kind=reminder.kind,
                    title=title,
                    body=body,
                    link=link,
                    occasion=reminder.occasion,
                    webhook=False,
                )
            )
    return {"stages": len(due), "reminded": reminded}
