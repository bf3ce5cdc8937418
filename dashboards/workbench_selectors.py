"""Reads of the person's workbench (我的填报 and 待审核): filters, search, tab counts and the review queue's rows.

Everything here starts from the scoped selectors (indicators.selectors, planning.selectors), so a list, a count or
a filter choice never holds anything outside the person's scope.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, QuerySet

from config.filters import parse_id
from indicators.models import Indicator, IndicatorValue
from indicators.selectors import (
    ReportingItem,
    indicator_values_for_review,
    indicator_values_reviewable_by,
    indicator_values_visible_to,
)
from planning.models import EntryStatus, Plan, Task, TaskProgress
from planning.selectors import (
    AnyUser,
    task_progress_for_review,
    task_progress_reviewable_by,
    task_progress_visible_to,
)
from regions.models import Region

Choice = tuple[int, str]

# --- 我的填报 ---------------------------------------------------------------------------------------------

REPORTING_TABS = [
    ("all", "全部"),
    ("missing", "未填报"),
    (EntryStatus.DRAFT, "草稿"),
    (EntryStatus.RETURNED, "已退回"),
    (EntryStatus.SUBMITTED, "待审核"),
    (EntryStatus.APPROVED, "已通过"),
    ("overdue", "已逾期"),
]

# Returned and overdue first: what needs the person's attention.
_ATTENTION = {"returned": 0, "missing": 1, "draft": 2, "submitted": 3, "approved": 4}


@dataclass(frozen=True)
class ReportingFilters:
    """What 我的填报 is narrowed to besides its status tab (`?indicator=&region=&task=&overdue=1&q=`)."""

    indicator: Indicator | None = None
    region: Region | None = None
    task: Task | None = None
    overdue: bool = False
    q: str = ""


def _in_region(item_region: Region | None, region: Region, plan: Plan) -> bool:
    # A task reported for the whole plan (no region) counts as the plan's own region's (全市).
    return item_region.pk == region.pk if item_region is not None else region.pk == plan.region_id


def _matches(haystack: str, q: str) -> bool:
    text = haystack.casefold()
    return all(word.casefold() in text for word in q.split())


def filter_reporting_items(items: list[ReportingItem], filters: ReportingFilters, plan: Plan) -> list[ReportingItem]:
    """The items that pass every filter but the status tab (the tabs count these, so each count is its list)."""
    shown = items
    if filters.indicator is not None:
        shown = [i for i in shown if i.kind == "indicator" and i.item_id == filters.indicator.pk]
    if filters.task is not None:
        shown = [i for i in shown if i.kind == "task" and i.item_id == filters.task.pk]
    if filters.region is not None:
        region = filters.region
        shown = [i for i in shown if _in_region(i.region, region, plan)]
    if filters.overdue:
        shown = [i for i in shown if i.overdue]
    if filters.q:
        shown = [i for i in shown if _matches(f"{i.title} {i.region.name if i.region else ''}", filters.q)]
    return shown


def reporting_tab(items: list[ReportingItem], tab: str) -> list[ReportingItem]:
    """One status tab of the items, what needs attention first."""
    if tab == "overdue":
        shown = [i for i in items if i.overdue]
    elif tab != "all":
        shown = [i for i in items if i.status == tab]
    else:
        shown = items
    return sorted(shown, key=lambda i: (not i.overdue, _ATTENTION.get(i.status, 5)))


def reporting_tab_counts(items: list[ReportingItem]) -> dict[str, int]:
    """How many items each tab lists: len(reporting_tab(items, key)) for every key, in one pass."""
    counts = {key: 0 for key, _label in REPORTING_TABS}
    for item in items:
        counts["all"] += 1
        if item.status in counts:
            counts[item.status] += 1
        if item.overdue:
            counts["overdue"] += 1
    return counts


@dataclass(frozen=True)
class ReportingChoices:
    indicators: list[Choice]
    regions: list[Choice]
    tasks: list[Choice]


def reporting_choices(items: list[ReportingItem], plan: Plan) -> ReportingChoices:
    """The filter choices: exactly the indicators, regions and tasks the person's items name (all in scope)."""
    indicators: dict[int, str] = {}
    tasks: dict[int, str] = {}
    regions: dict[int, tuple[int, str]] = {}
    for item in items:
        (indicators if item.kind == "indicator" else tasks).setdefault(item.item_id, item.title)
        if item.region is not None:
            regions.setdefault(item.region.pk, (item.region.order, item.region.name))
        elif plan.region is not None:
            regions.setdefault(plan.region.pk, (-1, plan.region.name))
    return ReportingChoices(
        indicators=list(indicators.items()),
        regions=[(pk, name) for pk, (_order, name) in sorted(regions.items(), key=lambda kv: kv[1][0])],
        tasks=list(tasks.items()),
    )


# --- 待审核 ----------------------------------------------------------------------------------------------

QUEUE_KINDS = [("indicator", "指标数值"), ("task", "任务进展")]


@dataclass(frozen=True)
class QueueFilters:
    """What 待审核 is narrowed to (`?kind=&indicator=&region=&task=&q=`)."""

    kind: str = ""  # "", or a key of QUEUE_KINDS
    indicator: Indicator | None = None
    region: Region | None = None
    task: Task | None = None
    q: str = ""


def review_queue_querysets(
    user: AnyUser, filters: QueueFilters
) -> tuple[QuerySet[IndicatorValue], QuerySet[TaskProgress]]:
    """The person's queue of each kind under the filters (an indicator chosen leaves no task progress, and so on)."""
    values = indicator_values_reviewable_by(user)
    progress = task_progress_reviewable_by(user)
    if filters.kind == "task" or filters.task is not None:
        values = values.none()
    if filters.kind == "indicator" or filters.indicator is not None:
        progress = progress.none()
    if filters.indicator is not None:
        values = values.filter(indicator=filters.indicator)
    if filters.task is not None:
        progress = progress.filter(task=filters.task)
    if filters.region is not None:
        values = values.filter(region=filters.region)
        # Progress reported for a whole plan (no region) belongs to the plan's own region (全市).
        progress = progress.filter(Q(region=filters.region) | Q(region__isnull=True, task__plan__region=filters.region))
    for word in filters.q.split():
        values = values.filter(Q(indicator__name__icontains=word) | Q(region__name__icontains=word))
        progress = progress.filter(
            Q(task__label__icontains=word) | Q(task__title__icontains=word) | Q(region__name__icontains=word)
        )
    return values, progress


def review_queue_keys(values: QuerySet[IndicatorValue], progress: QuerySet[TaskProgress]) -> list[tuple[str, int]]:
    """Both kinds as one queue, longest waiting first: ids and times only (two light queries), so the queue can be
    paged before any row is read in full."""
    never = datetime.datetime.max.replace(tzinfo=datetime.UTC)
    rows = [(at or never, "iv", pk) for pk, at in values.values_list("pk", "submitted_at")]
    rows += [(at or never, "tp", pk) for pk, at in progress.values_list("pk", "submitted_at")]
    rows.sort()
    return [(kind, pk) for _at, kind, pk in rows]


@dataclass(frozen=True)
class Change:
    """One figure of an entry against the same figure approved last year (较上年)."""

    label: str  # a quantitative target's label; "" for the entry's own figure
    current: Decimal | None
    previous: Decimal | None
    unit: str
    indicator: Indicator | None = None  # whose decimal places round the change

    @property
    def delta(self) -> Decimal | None:
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous

    @property
    def ratio(self) -> Decimal | None:
        """The change as a share of last year's figure; none when last year was zero (or not approved)."""
        delta = self.delta
        if delta is None or not self.previous:
            return None
        return delta / abs(self.previous)


@dataclass(frozen=True)
class ReviewRow:
    kind: str  # "iv" or "tp": the bulk form's tokens are "<kind>-<id>"
    entry: IndicatorValue | TaskProgress
    evidence_count: int
    waited: datetime.timedelta
    changes: list[Change] = field(default_factory=list)
    previous_passed: bool | None = None  # a region milestone: last year's approved verdict
    outlier_note: str = ""

    @property
    def token(self) -> str:
        return f"{self.kind}-{self.entry.pk}"

    @property
    def author(self) -> str:
        user = self.entry.submitted_by
        return (user.get_full_name() or user.get_username()) if user is not None else "—"

    @property
    def waited_label(self) -> str:
        if self.waited.days >= 1:
            return f"已等待 {self.waited.days} 天"
        hours = self.waited.seconds // 3600
        return f"已等待 {hours} 小时" if hours else "已等待不足 1 小时"


def _value_row(entry: IndicatorValue, now: datetime.datetime) -> ReviewRow:
    indicator = entry.indicator
    change = Change("", entry.value, getattr(entry, "last_year_value", None), indicator.unit, indicator)
    return ReviewRow(
        kind="iv",
        entry=entry,
        evidence_count=getattr(entry, "evidence_count", 0),
        waited=now - entry.submitted_at if entry.submitted_at else datetime.timedelta(0),
        changes=[change],
        outlier_note=entry.outlier_note,
    )


def _progress_row(entry: TaskProgress, now: datetime.datetime) -> ReviewRow:
    amounts = list(entry.amounts.all())
    if amounts:
        changes = [
            Change(a.target.label, a.amount, getattr(a, "last_year_amount", None), a.target.unit) for a in amounts
        ]
    elif entry.percent is not None:
        changes = [Change("", entry.percent, getattr(entry, "last_year_percent", None), "%")]
    else:
        changes = []
    return ReviewRow(
        kind="tp",
        entry=entry,
        evidence_count=getattr(entry, "evidence_count", 0),
        waited=now - entry.submitted_at if entry.submitted_at else datetime.timedelta(0),
        changes=changes,
        previous_passed=getattr(entry, "last_year_passed", None),
    )


def review_rows(user: AnyUser, keys: list[tuple[str, int]], now: datetime.datetime) -> list[ReviewRow]:
    """One page of the queue in full, in the keys' order: a fixed number of queries whatever the page's size."""
    value_ids = [pk for kind, pk in keys if kind == "iv"]
    progress_ids = [pk for kind, pk in keys if kind == "tp"]
    values = (
        {v.pk: v for v in indicator_values_for_review(indicator_values_reviewable_by(user).filter(pk__in=value_ids))}
        if value_ids
        else {}
    )
    progress = (
        {p.pk: p for p in task_progress_for_review(task_progress_reviewable_by(user).filter(pk__in=progress_ids))}
        if progress_ids
        else {}
    )
    rows = []
    for kind, pk in keys:
        if kind == "iv" and pk in values:
            rows.append(_value_row(values[pk], now))
        elif kind == "tp" and pk in progress:
            rows.append(_progress_row(progress[pk], now))
    return rows


@dataclass(frozen=True)
class QueueChoices:
    indicators: list[Choice]
    regions: list[Choice]
    tasks: list[Choice]


def review_queue_choices(user: AnyUser) -> QueueChoices:
    """The filter choices: the indicators, regions and tasks of entries waiting in the person's queue."""
    values = indicator_values_reviewable_by(user)
    progress = task_progress_reviewable_by(user)
    indicators = Indicator.objects.filter(pk__in=values.values("indicator")).order_by("plan", "number")
    tasks = Task.objects.filter(pk__in=progress.values("task")).order_by("plan", "order")
    regions = Region.objects.filter(
        Q(pk__in=values.values("region"))
        | Q(pk__in=progress.values("region"))
        | Q(pk__in=progress.filter(region__isnull=True).values("task__plan__region"))
    ).order_by("order")
    return QueueChoices(
        indicators=[(pk, f"{number}. {name}") for pk, number, name in indicators.values_list("pk", "number", "name")],
        regions=list(regions.values_list("pk", "name")),
        tasks=[(pk, f"{label} {title}") for pk, label, title in tasks.values_list("pk", "label", "title")],
    )


def bulk_selection(
    user: AnyUser, selected: list[str], confirmed: list[str]
) -> tuple[list[tuple[str, IndicatorValue | TaskProgress]], list[IndicatorValue]]:
    """The entries a bulk approval names that the person may see, in the order named, and apart from them the
    values with an outlier note (异常值确认说明) that were selected without being confirmed one by one."""
    wanted = [key for key in (parse_token(token) for token in selected) if key is not None]
    confirmed_keys = {key for key in (parse_token(token) for token in confirmed) if key is not None}
    value_ids = [pk for kind, pk in wanted if kind == "iv"]
    progress_ids = [pk for kind, pk in wanted if kind == "tp"]
    values = {
        v.pk: v
        for v in indicator_values_visible_to(user).filter(pk__in=value_ids).select_related("indicator", "region")
    }
    progress = {
        p.pk: p for p in task_progress_visible_to(user).filter(pk__in=progress_ids).select_related("task", "region")
    }
    chosen: list[tuple[str, IndicatorValue | TaskProgress]] = []
    unconfirmed: list[IndicatorValue] = []
    seen: set[tuple[str, int]] = set()
    for key in wanted:
        if key in seen:
            continue
        seen.add(key)
        kind, pk = key
        if kind == "iv" and pk in values:
            if values[pk].outlier_note and key not in confirmed_keys:
                unconfirmed.append(values[pk])
            else:
                chosen.append((kind, values[pk]))
        elif kind == "tp" and pk in progress:
            chosen.append((kind, progress[pk]))
    return chosen, unconfirmed


def parse_token(token: str) -> tuple[str, int] | None:
    """ "iv-12" / "tp-7" (the bulk form's values) → ("iv", 12); anything else → None."""
    kind, _sep, raw = str(token).partition("-")
    pk = parse_id(raw)
    return (kind, pk) if kind in ("iv", "tp") and pk is not None else None
