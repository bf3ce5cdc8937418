"""Reads the dashboards and the status API share: one summary of a plan's standing for one region and year."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from indicators.models import Flag, FlagKind, Indicator
from indicators.selectors import indicators_visible_to, indicators_with_assessment, open_flags_in_order
from planning.assessment import count_display
from planning.models import Plan, TaskStatus
from planning.selectors import AnyUser, tasks_visible_to
from regions.models import Region


@dataclass
class StatusSummary:
    """Counts by shown status (zeros included, in display order) and the open flags, all in the user's scope."""

    indicator_counts: list[tuple[str, str, int]]
    task_counts: list[tuple[str, str, int]]
    lag_flags: QuerySet[Flag]  # in index order; `in_display_order` orders a page of them
    overdue_flags: QuerySet[Flag]


def status_summary(
    user: AnyUser, plan: Plan, year: int, region: Region, assessed: list[Indicator] | None = None
) -> StatusSummary:
    """The plan's indicators as assessed for `region` as of `year` (or the `assessed` ones a page already read, e.g.
    filtered by attribute), its tasks as of `year`, and the open flags in `region` and under it."""
    if assessed is None:
        queryset = indicators_visible_to(user).filter(plan=plan)
        assessed = list(indicators_with_assessment(queryset, year=year, region_id=region.pk))
    indicator_rows = [
        (getattr(i, "assessment_status", None), getattr(i, "assessment_latest_year", None), i.target_year)
        for i in assessed
    ]
    task_rows = TaskStatus.objects.filter(
        task__in=tasks_visible_to(user).filter(plan=plan), as_of_year=year, target__isnull=True
    ).values_list("status", "latest_year", "task__plan__period_end_year")
    return StatusSummary(
        indicator_counts=count_display(indicator_rows),
        task_counts=count_display(task_rows),
        lag_flags=open_flags_in_order(user, plan, region),
        overdue_flags=open_flags_in_order(user, plan, region, FlagKind.OVERDUE),
    )
