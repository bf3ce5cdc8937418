"""What a report says, collected from the stored statuses (IndicatorStatus/TaskStatus, never recomputed here).

The tables read the same rows as the dashboards, so the report and the pages agree.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db.models import Prefetch

from indicators.models import Flag, FlagKind, FlagState, Indicator, IndicatorValue
from indicators.selectors import demo_present, indicators_with_assessment
from planning.assessment import DISPLAY_LABELS, DISPLAY_STATUSES, display_status
from planning.models import (
    EntryStatus,
    Plan,
    PlanState,
    Responsibility,
    ResponsibilityBasis,
    ResponsibilityRole,
    Task,
    TaskProgress,
    TaskStatus,
)
from planning.selectors import AnnotatedAssessment


@dataclass
class IndicatorLine:
    indicator: Indicator
    row: AnnotatedAssessment
    display: str
    label: str


@dataclass(frozen=True)
class ProgressNote:
    """What a task's approved progress says, as Chinese progress reports put it: 工作进展, 存在问题, 下步打算."""

    year: int
    region_id: int | None
    region: str  # "" for a city-wide task
    narrative: str
    problems: str
    next_steps: str


@dataclass
class ReportData:
    plan: Plan
    year: int
    kind: str
    indicators: list[IndicatorLine]
    counts: list[tuple[str, str, int]]
    task_counts: list[tuple[str, str, int]]
    tasks_by_group: dict[str, list[tuple[Task, str, str, str]]]
    concerns: list[tuple[Flag, str]]
    demo: bool
    # Other plans the report leans on (the implementation plan whose 责任单位 were copied), cited by title and date.
    related_plans: list[Plan] = field(default_factory=list)
    # Per task, the latest approved progress up to the report's year (one per region for region milestones).
    task_notes: dict[int, list[ProgressNote]] = field(default_factory=dict)

    def notes_for(self, task_id: int | None, region_id: int | None = None) -> list[ProgressNote]:
        """A task's notes; a flag on one region of a task reads that region's."""
        notes = self.task_notes.get(task_id or 0, [])
        if region_id is not None and any(note.region_id == region_id for note in notes):
            return [note for note in notes if note.region_id == region_id]
        return notes


def collect(plan: Plan, year: int, kind: str) -> ReportData:
    """Everything the report says, read from stored statuses (never recomputed here)."""
    indicators = list(
        indicators_with_assessment(
            Indicator.objects.filter(plan=plan).select_related("lead_unit", "plan"), year=year
        ).order_by("number")
    )
    lines = []
    for indicator in indicators:
        row = AnnotatedAssessment.of(indicator)
        display = display_status(row.status, row.latest_year, indicator.target_year)
        lines.append(IndicatorLine(indicator, row, display, DISPLAY_LABELS[display]))
    counts = Counter(line.display for line in lines)
    tasks = (
        Task.objects.filter(plan=plan)
        .select_related("initiative")
        .prefetch_related(
            Prefetch(
                "statuses",
                queryset=TaskStatus.objects.filter(as_of_year=year, target__isnull=True),
                to_attr="year_statuses",
            ),
            Prefetch(
                "responsibilities",
                queryset=Responsibility.objects.filter(role=ResponsibilityRole.LEAD).select_related("unit"),
                to_attr="leads",
            ),
        )
        .order_by("order")
    )
    task_counts: Counter[str] = Counter()
    by_group: dict[str, list[tuple[Task, str, str, str]]] = defaultdict(list)
    for task in tasks:
        overall = task.year_statuses[0] if task.year_statuses else None
        display = display_status(overall.status, overall.latest_year, plan.period_end_year) if overall else "no_data"
        task_counts[display] += 1
        lead = "、".join(r.unit.name for r in task.leads)
        by_group[task.initiative.group_title].append((task, display, DISPLAY_LABELS[display], lead))
    flags = list(
        Flag.objects.filter(plan=plan, state=FlagState.OPEN, kind=FlagKind.LAG)
        .select_related("indicator", "task", "region", "lead_unit")
        .order_by("-is_binding", "indicator__number", "task__order", "region__order")
    )
    notes: dict[tuple[int | None, int | None], str] = {
        (v.indicator_id, v.region_id): v.note or v.outlier_note
        for v in IndicatorValue.objects.filter(indicator__plan=plan, year__lte=year, approved_value__isnull=False)
        .exclude(note="", outlier_note="")
        .order_by("year")
    }
    concerns = [
        (flag, notes.get((flag.indicator_id, flag.region_id), "") if flag.indicator_id else "") for flag in flags
    ]
    latest: dict[tuple[int, int | None], tuple[int, ProgressNote]] = {}
    # Only approved text is reported: a draft or a correction under review is not yet the bureau's word.
    for entry in (
        TaskProgress.objects.filter(task__plan=plan, year__lte=year, status=EntryStatus.APPROVED)
        .select_related("region")
        .only("task_id", "year", "region__name", "region__order", "narrative", "problems", "next_steps")
        .order_by("year", "region__order")
    ):
        note = ProgressNote(
            year=entry.year,
            region_id=entry.region_id,
            region=entry.region.name if entry.region else "",
            narrative=entry.narrative,
            problems=entry.problems,
            next_steps=entry.next_steps,
        )
        latest[(entry.task_id, entry.region_id)] = (entry.region.order if entry.region else -1, note)
    task_notes: dict[int, list[ProgressNote]] = defaultdict(list)
    for (task_id, _region_id), (_order, note) in sorted(latest.items(), key=lambda item: item[1][0]):
        task_notes[task_id].append(note)
    # A mapped responsibility cites "<source file> <task label> <task title>（basis）": the file names the other plan.
    mapped_files = {
        source.split(" ", 1)[0]
        for source in Responsibility.objects.filter(task__plan=plan, basis=ResponsibilityBasis.MAPPED)
        .values_list("source", flat=True)
        .distinct()
    }
    # One plan per cited document, never a draft (an imported copy must not change another plan's report): the
    # first loaded of those tracked.
    related_by_source: dict[str, Plan] = {}
    for other in (
        Plan.objects.filter(source_document__in=mapped_files)
        .exclude(pk=plan.pk)
        .exclude(state=PlanState.DRAFT)
        .order_by("pk")
    ):
        related_by_source.setdefault(other.source_document, other)
    related = sorted(related_by_source.values(), key=lambda other: (other.issued_on or datetime.date.min, other.code))
    return ReportData(
        plan=plan,
        year=year,
        kind=kind,
        indicators=lines,
        counts=[(key, label, counts.get(key, 0)) for key, label in DISPLAY_STATUSES],
        task_counts=[(key, label, task_counts.get(key, 0)) for key, label in DISPLAY_STATUSES],
        tasks_by_group=dict(by_group),
        concerns=concerns,
        demo=demo_present(),
        related_plans=related,
        task_notes=dict(task_notes),
    )
