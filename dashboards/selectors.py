"""Reads the dashboards and the status API share: one summary of a plan's standing for one region and year."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Model, Prefetch, Q, QuerySet, Subquery, Sum
from django.shortcuts import get_object_or_404
from django.utils import timezone

from config.statements import statement_parts, statement_rows
from indicators.filtersets import FlagFilterSet
from indicators.models import Flag, FlagCount, FlagKind, FlagState, Indicator, StatusCount
from indicators.selectors import (
    flags_in_order,
    flags_visible_to,
    in_region,
    indicators_visible_to,
    indicators_with_assessment,
    open_flags,
)
from planning.assessment import DISPLAY_LABELS, DISPLAY_STATUSES, NO_DATA, count_display, display_status
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
    user_scope,
)
from regions.models import Region


@dataclass
class FlagList:
    """The open flags of one kind (the list) and each kind's total under the same filters (the counts beside it)."""

    kind: str
    unit: Unit | None
    totals: dict[str, int]  # every FlagKind, zeros included
    key: tuple[Any, ...]  # everything the list is built from (config.statements): a first page read by its statement
    build: Callable[[], QuerySet[Flag]]

    @cached_property
    def flags(self) -> QuerySet[Flag]:
        """In index order; `in_display_order` orders a page of them."""
        return self.build()

    @property
    def total(self) -> int:
        return self.totals[self.kind]


@dataclass(frozen=True)
class _Read:
    """A few rows read by a kept statement (config.statements): the key of everything `build` reads, the builder."""

    key: tuple[Any, ...]
    build: Callable[[], QuerySet[Any, Any]]

    def rows(self, model: type[Model]) -> list[Any]:
        return statement_rows(model, self.key, self.build)


def open_flag_totals(user: AnyUser, plan: Plan, region: Region, *, unit_id: int | None = None) -> dict[str, int] | None:
    """How many flags of each kind open_flags(user, plan, region) holds (with `unit_id`: of that lead unit), from
    the stored counts (indicators.summaries) in one query; None when the plan's flags were never counted.

    The person's view (indicators.flags.flags_visible_to) decides which rows and which column answer: everything,
    or every region of some units, is the `total` at the region (with the task flags of no region at the plan's
    own); an explicit set of regions (not closed under the regions below them) is the `own` of those of its regions
    that lie under the chosen one, of the person's units if they also have some."""
    read = _flag_totals_read(user, plan, region, unit_id)
    return _flag_totals(plan, read.rows(FlagCount) if read is not None else None)


def _flag_totals_read(user: AnyUser, plan: Plan, region: Region, unit_id: int | None) -> _Read | None:
    """open_flag_totals' statement; None when the person sees no flags at all."""
    scope = user_scope(user)
    if not scope.everything and not (scope.view_units or scope.view_regions):
        return None

    def build() -> QuerySet[Any, Any]:
        rows = FlagCount.objects.filter(plan=plan)
        if unit_id is not None:
            rows = rows.filter(lead_unit_id=unit_id)
        if not scope.everything and scope.view_units:
            rows = rows.filter(lead_unit__in=scope.view_units)
        if scope.everything or not scope.view_regions:
            here = Q(region=region)
            if region.pk == plan.region_id:
                here |= Q(region__isnull=True)
            return rows.filter(here).values_list("kind").annotate(n=Sum("total")).order_by()
        return (
            rows.filter(in_region(region, plan), region__in=scope.view_regions)
            .values_list("kind")
            .annotate(n=Sum("own"))
            .order_by()
        )

    return _Read(("open_flag_totals", plan.pk, plan.region_id, region.pk, unit_id, scope), build)


def _flag_totals(plan: Plan, rows: list[Any] | None) -> dict[str, int] | None:
    """open_flag_totals from its statement's rows (None: the person sees no flags)."""
    zeros = dict.fromkeys(FlagKind.values, 0)
    if rows is None:
        return zeros
    counts = dict(rows)
    if not counts and not FlagCount.objects.filter(plan=plan).exists():
        return None
    return {**zeros, **{kind: n or 0 for kind, n in counts.items()}}


@dataclass(frozen=True)
class _FlagChoice:
    """Which flags a list shows: the kind and lead unit asked for (checked), and the flags they select."""

    kind: str
    unit: Unit | None
    chosen: Callable[[], QuerySet[Flag]]

    @property
    def unit_id(self) -> int | None:
        return self.unit.pk if self.unit is not None else None


def _flag_choice(user: AnyUser, plan: Plan, region: Region, params: Mapping[str, Any] | None) -> _FlagChoice:
    params = params or {}
    data = {"kind": params.get("kind") or FlagKind.LAG, "unit": params.get("unit") or ""}
    if data == {"kind": FlagKind.LAG, "unit": ""}:
        # The default (what clients poll): the FilterSet's own answer, without building its form (or, when the
        # first page is read by its kept statement, the queryset) on every call.
        return _FlagChoice(FlagKind.LAG, None, lambda: open_flags(user, plan, region).filter(kind=FlagKind.LAG))
    filtered = FlagFilterSet(data, queryset=open_flags(user, plan, region))
    if not filtered.is_valid():
        raise ValidationError({name: [str(m) for m in errors] for name, errors in filtered.errors.items()})
    chosen = filtered.qs
    return _FlagChoice(filtered.form.cleaned_data["kind"], filtered.form.cleaned_data.get("unit"), lambda: chosen)


def flag_list(user: AnyUser, plan: Plan, region: Region, params: Mapping[str, Any] | None = None) -> FlagList:
    """The open flags (open_flags: the plan's, in `region` and under it, in the user's view) that the overview lists
    and /api/v1/status/ returns, filtered with the flags' FilterSet (the parameters of /api/v1/flags/): `kind`
    (default 进度预警) and `unit` (牵头单位). A bad value is a ValidationError naming the parameter.

    The totals are the stored counts (open_flag_totals), so they cost a few rows at any scale; a plan whose flags
    were never counted is counted here instead."""
    choice = _flag_choice(user, plan, region, params)
    return _flag_list(user, plan, region, choice, open_flag_totals(user, plan, region, unit_id=choice.unit_id))


def _flag_list(
    user: AnyUser, plan: Plan, region: Region, choice: _FlagChoice, totals: dict[str, int] | None
) -> FlagList:
    if totals is None:
        base = open_flags(user, plan, region)
        either_kind = base if choice.unit is None else base.filter(lead_unit=choice.unit)
        counted = dict(either_kind.order_by().values_list("kind").annotate(n=Count("pk")))
        totals = {each: counted.get(each, 0) for each in FlagKind.values}
    known, chosen = totals[choice.kind], choice.chosen
    return FlagList(
        kind=choice.kind,
        unit=choice.unit,
        totals=totals,
        key=("open_flags", plan.pk, plan.region_id, region.pk, choice.kind, choice.unit_id, user_scope(user)),
        build=lambda: _KnownCount.of(flags_in_order(chosen()), known),
    )


class _KnownCount(QuerySet[Flag]):
    """Flags whose number is known already (the stored counts): count() answers it, so a Paginator over them asks
    the database for the page only. Any queryset made from it (a filter, a slice) counts for itself again."""

    known: int | None = None  # set on one instance only: clones start from the class's None

    @classmethod
    def of(cls, flags: QuerySet[Flag], known: int) -> QuerySet[Flag]:
        counted = cls(model=Flag, query=flags.query.chain(), using=flags.db)
        counted.known = known
        return counted

    def count(self) -> int:
        return self.known if self.known is not None else super().count()


@dataclass
class StatusSummary:
    """Counts by shown status (zeros included, in display order) and the open flags, all in the user's scope."""

    indicator_counts: list[tuple[str, str, int]]
    task_counts: list[tuple[str, str, int]]
    flags: FlagList


def _count_assessed(assessed: list[Indicator]) -> list[tuple[str, str, int]]:
    return count_display(
        (getattr(i, "assessment_status", None), getattr(i, "assessment_latest_year", None), i.target_year)
        for i in assessed
    )


def indicator_status_counts(user: AnyUser, plan: Plan, year: int, region: Region) -> list[tuple[str, str, int]]:
    """The plan's indicators the user may see (indicators_visible_to) by shown status in `region` as of `year`, from
    the stored counts (StatusCount, kept by the recompute): indicators with no status row are 未填报. Where the
    recompute has stored no counts (statuses never computed there), the statuses themselves are counted."""
    read = _indicator_counts_read(user, plan, year, region)
    return _indicator_counts(user, plan, year, region, read.rows(StatusCount) if read is not None else None)


def _indicator_counts_read(user: AnyUser, plan: Plan, year: int, region: Region) -> _Read | None:
    """indicator_status_counts' statement; None when the person sees no indicators at all."""
    scope = user_scope(user)
    if not (scope.everything or scope.view_units or scope.view_regions):
        return None

    def build() -> QuerySet[Any, Any]:
        stored = StatusCount.objects.filter(plan=plan, region=region, as_of_year=year)
        if not scope.everything and scope.view_units:
            stored = stored.filter(lead_unit__in=scope.view_units)  # as indicators_visible_to
        # How many indicators the person sees, in the same statement (one row per status each carries it).
        visible = indicators_visible_to(user).filter(plan=plan)
        seen = Subquery(visible.order_by().values("plan").annotate(n=Count("pk")).values("n"))
        return stored.values_list("status").annotate(n=Sum("count"), seen=seen).order_by()

    return _Read(("indicator_status_counts", plan.pk, region.pk, year, scope), build)


def _indicator_counts(
    user: AnyUser, plan: Plan, year: int, region: Region, rows: list[Any] | None
) -> list[tuple[str, str, int]]:
    """indicator_status_counts from its statement's rows (None: the person sees no indicators)."""
    if rows is None:
        return count_display([])
    counts = dict.fromkeys(DISPLAY_LABELS, 0)
    indicators = 0
    for status, n, each_row_seen in rows:
        counts[status] += n or 0
        indicators = each_row_seen or 0
    unassessed = indicators - sum(counts.values()) if any(counts.values()) else -1
    if unassessed < 0:
        # No counts stored here (never computed), or more than there are indicators (counted before one was
        # deleted, until its recompute): the statuses themselves are counted.
        visible = indicators_visible_to(user).filter(plan=plan)
        return _count_assessed(list(indicators_with_assessment(visible, year=year, region_id=region.pk)))
    counts[NO_DATA] += unassessed
    return [(key, label, counts[key]) for key, label in DISPLAY_STATUSES]


def _task_rows_read(user: AnyUser, plan: Plan, year: int) -> _Read:
    """The (status, latest year) of each task of the plan the person sees, as of `year`."""
    return _Read(
        ("task_status_rows", plan.pk, year, user_scope(user)),
        lambda: (
            TaskStatus.objects.filter(
                task__in=tasks_visible_to(user).filter(plan=plan), as_of_year=year, target__isnull=True
            )
            .order_by()
            .values_list("status", "latest_year")
        ),
    )


def status_summary(
    user: AnyUser,
    plan: Plan,
    year: int,
    region: Region,
    assessed: list[Indicator] | None = None,
    flag_filters: Mapping[str, Any] | None = None,
) -> StatusSummary:
    """The plan's indicators as assessed for `region` as of `year` (the stored counts, or the `assessed` ones a page
    already read, e.g. filtered by attribute), its tasks as of `year`, and the open flags in `region` and under it
    (flag_list). The stored counts, the tasks and the flag totals are read by one kept statement: polled by clients,
    a round trip each cost more than their few rows."""
    choice = _flag_choice(user, plan, region, flag_filters)
    reads = {
        "indicators": _indicator_counts_read(user, plan, year, region) if assessed is None else None,
        "tasks": _task_rows_read(user, plan, year),
        "flags": _flag_totals_read(user, plan, region, choice.unit_id),
    }
    asked = {name: read for name, read in reads.items() if read is not None}
    parts = statement_parts(
        StatusCount, ("status_summary", *(read.key for read in asked.values())), [r.build for r in asked.values()]
    )
    rows: dict[str, list[Any] | None] = dict.fromkeys(reads) | dict(zip(asked, parts, strict=True))
    end = plan.period_end_year
    return StatusSummary(
        indicator_counts=(
            _indicator_counts(user, plan, year, region, rows["indicators"])
            if assessed is None
            else _count_assessed(assessed)
        ),
        task_counts=count_display((status, latest, end) for status, latest in rows["tasks"] or []),
        flags=_flag_list(user, plan, region, choice, _flag_totals(plan, rows["flags"])),
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
