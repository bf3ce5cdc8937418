"""Reads the dashboards and the status API share: one summary of a plan's standing for one region and year."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from indicators.filtersets import FlagFilterSet
from indicators.models import Flag, FlagKind, FlagState, Indicator
from indicators.selectors import (
    flags_in_order,
    flags_visible_to,
    indicators_visible_to,
    indicators_with_assessment,
    open_flags,
)
from planning.assessment import DISPLAY_LABELS, NO_DATA, count_display, display_status
from planning.models import (
    Plan,
    Responsibility,
    Task,
    TaskProgress,
    TaskProgressEvidence,
    TaskStatus,
    TaskTarget,
    TaskTargetValue,
    Unit,
)
from planning.selectors import (
    AnyUser,
    chosen_year,
    default_report_year,
    task_progress_visible_to,
    tasks_visible_to,
)
from regions.models import Region


@dataclass
class FlagList:
    """The open flags of one kind (the list) and each kind's total under the same filters (the counts beside it)."""

    kind: str
    unit: Unit | None
    flags: QuerySet[Flag]  # in index order; `in_display_order` orders a page of them
    totals: dict[str, int]  # every FlagKind, zeros included

    @property
    def total(self) -> int:
        return self.totals[self.kind]


def flag_list(user: AnyUser, plan: Plan, region: Region, params: Mapping[str, Any] | None = None) -> FlagList:
    """The open flags (open_flags: the plan's, in `region` and under it, in the user's view) that the overview lists
    and /api/v1/status/ returns, filtered with the flags' FilterSet (the parameters of /api/v1/flags/): `kind`
    (default 进度预警) and `unit` (牵头单位). A bad value is a ValidationError naming the parameter."""
    params = params or {}
    base = open_flags(user, plan, region)
    data = {"kind": params.get("kind") or FlagKind.LAG, "unit": params.get("unit") or ""}
    chosen = FlagFilterSet(data, queryset=base)
    if not chosen.is_valid():
        raise ValidationError({name: [str(m) for m in errors] for name, errors in chosen.errors.items()})
    either_kind = FlagFilterSet({"unit": data["unit"]}, queryset=base).qs
    totals = dict(either_kind.order_by().values_list("kind").annotate(n=Count("pk")))
    return FlagList(
        kind=chosen.form.cleaned_data["kind"],
        unit=chosen.form.cleaned_data.get("unit"),
        flags=flags_in_order(chosen.qs),
        totals={kind: totals.get(kind, 0) for kind in FlagKind.values},
    )


@dataclass
class StatusSummary:
    """Counts by shown status (zeros included, in display order) and the open flags, all in the user's scope."""

    indicator_counts: list[tuple[str, str, int]]
    task_counts: list[tuple[str, str, int]]
    flags: FlagList


def status_summary(
    user: AnyUser,
    plan: Plan,
    year: int,
    region: Region,
    assessed: list[Indicator] | None = None,
    flag_filters: Mapping[str, Any] | None = None,
) -> StatusSummary:
    """The plan's indicators as assessed for `region` as of `year` (or the `assessed` ones a page already read, e.g.
    filtered by attribute), its tasks as of `year`, and the open flags in `region` and under it (flag_list)."""
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
        flags=flag_list(user, plan, region, flag_filters),
    )


# --- one task's page ------------------------------------------------------------------------------------


@dataclass
class StatusLine:
    """A stored status as shown: the row (None: never computed), its display key and label, and for the history
    whether it differs from the year before."""

    row: TaskStatus | None
    display: str
    label: str
    changed_from: str = ""


@dataclass
class TaskPage:
    task: Task
    year: int
    status: StatusLine
    source: str  # the document the task comes from, cited by its title
    targets: list[tuple[TaskTarget, StatusLine]]
    responsibilities: list[tuple[Responsibility, str]]  # with where its basis says so, cited by title
    progress: list[TaskProgress]  # only entries in the person's view scope, newest year first
    history: list[tuple[int, StatusLine]]  # the task as a whole, as of each computed year
    flags: list[Flag]


def _status_line(row: TaskStatus | None, target_year: int) -> StatusLine:
    display = display_status(row.status, row.latest_year, target_year) if row is not None else NO_DATA
    return StatusLine(row, display, DISPLAY_LABELS[display])


def _cite(source: str, titles: dict[str, str]) -> str:
    """ "<file> （二）1 …" as people read it: the loaded document's file name replaced by its title."""
    name, _space, rest = source.partition(" ")
    title = titles.get(name)
    return f"《{title}》{rest}" if title else source


def task_page(user: AnyUser, pk: int, year: Any = None) -> TaskPage:
    """A task the person may see (else Http404), as of the year asked for (`?year=`, as the dashboards choose it:
    outside the plan a ValidationError), in a fixed number of queries: its targets and units, the progress entries
    in the person's scope, the status history and the open flags."""
    task = get_object_or_404(
        tasks_visible_to(user)
        .select_related("plan", "initiative", "column")
        .prefetch_related(
            Prefetch("targets", queryset=TaskTarget.objects.prefetch_related("regions").order_by("order")),
            Prefetch("responsibilities", queryset=Responsibility.objects.select_related("unit").order_by("order")),
            Prefetch("statuses", queryset=TaskStatus.objects.order_by("as_of_year")),
        ),
        pk=pk,
    )
    plan = task.plan
    end_year = plan.period_end_year
    default = min(default_report_year(plan, timezone.localdate()), end_year)
    year = chosen_year(year, years=list(plan.years), default=default, plan=plan)
    statuses = list(task.statuses.all())
    overall = {row.as_of_year: row for row in statuses if row.target_id is None}
    per_target = {row.target_id: row for row in statuses if row.target_id is not None and row.as_of_year == year}
    history: list[tuple[int, StatusLine]] = []
    previous: StatusLine | None = None
    for as_of, row in sorted(overall.items()):
        line = _status_line(row, end_year)
        if previous is not None and previous.display != line.display:
            line.changed_from = previous.label
        history.append((as_of, line))
        previous = line
    progress = list(
        task_progress_visible_to(user)
        .filter(task=task)
        .select_related("region", "created_by", "reviewed_by")
        .prefetch_related(
            Prefetch("amounts", queryset=TaskTargetValue.objects.select_related("target").order_by("target__order")),
            Prefetch("evidence", queryset=TaskProgressEvidence.objects.order_by("uploaded_at")),
        )
        .order_by("-year", "region__order")
    )
    flags = list(
        flags_visible_to(user)
        .filter(task=task, state=FlagState.OPEN)
        .select_related("region", "lead_unit")
        .order_by("kind", "-year", "region__order")
    )
    # The title of each cited document, from the plan first loaded from it (an imported copy keeps the same source).
    titles = dict(reversed(Plan.objects.order_by("pk").values_list("source_document", "title")))
    return TaskPage(
        task=task,
        year=year,
        status=_status_line(overall.get(year), end_year),
        source=_cite(task.source_document, titles),
        targets=[
            (target, _status_line(per_target.get(target.pk), target.target_year)) for target in task.targets.all()
        ],
        responsibilities=[(row, _cite(row.source, titles)) for row in task.responsibilities.all()],
        progress=progress,
        history=history,
        flags=flags,
    )
