"""Reads of published figures (公开数据).

Published figures are public information: everyone signed in sees all of them, with no scope beyond that. What
they are shown beside (indicators, approved values) is read through the indicators' own selectors, scoped to the
person, so the benchmark page never shows an indicator or a value the person may not see.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from indicators.models import Direction, Indicator
from indicators.selectors import can_capture_cell, indicator_values_visible_to, indicators_visible_to
from planning.models import Plan
from planning.selectors import AnyUser
from planning.templatetags.plan_tags import plain

from .models import PublishedFigure

# 超、近、约 are written before the number (超97%), 以上、余 after it (97%以上, 300余所).
QUALIFIERS_BEFORE = {"超", "近", "约"}


def written(figure: PublishedFigure) -> str:
    """The figure as the source writes it, with its qualifier in its place: 97%以上, 超97%, 300余所."""
    number_text = f"{figure.value.normalize():f}"
    if figure.qualifier in QUALIFIERS_BEFORE:
        return f"{figure.qualifier}{number_text}{figure.unit}"
    if figure.qualifier == "余":
        return f"{number_text}余{figure.unit}"
    return f"{number_text}{figure.unit}{figure.qualifier}"


def _with_written(figures: Any) -> list[PublishedFigure]:
    shown = sorted(figures, key=lambda f: (not f.is_leshan, f.province, f.subject, f.year, f.measure, f.pk))
    for figure in shown:
        figure.written = written(figure)  # shown in the lists (templates)
    return shown


def published_figures_visible_to(user: AnyUser) -> QuerySet[PublishedFigure]:
    """Every figure for a signed-in person (they are public); none for anyone else."""
    if user is None or not user.is_authenticated:
        return PublishedFigure.objects.none()
    return PublishedFigure.objects.all()


def figures_for_indicator(user: AnyUser, indicator: Indicator) -> list[PublishedFigure]:
    """The figures linked to an indicator, Leshan's first, then the peers', each by year."""
    return _with_written(published_figures_visible_to(user).filter(indicator=indicator).select_related("region"))


def may_adopt(user: AnyUser, figure: PublishedFigure) -> bool:
    """Whether the adopt-as-draft button is offered: a Leshan figure of an indicator the person captures there."""
    if figure.region is None or figure.indicator is None or user is None or not user.is_authenticated:
        return False
    return can_capture_cell(user, figure.indicator, figure.region)


def adoptable_ids(user: AnyUser, figures: list[PublishedFigure]) -> set[int]:
    return {f.pk for f in figures if may_adopt(user, f)}


def number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


@dataclass
class BenchmarkIndicator:
    """One plan indicator with its figures: Leshan's approved values and figures, and each peer's figures."""

    indicator: Indicator
    approved: dict[int, Decimal]
    figures: list[PublishedFigure]
    reached: list[str] = field(default_factory=list)
    chart: dict[str, Any] = field(default_factory=dict)


def reached_sentence(indicator: Indicator, figure: PublishedFigure) -> str | None:
    """When a peer's figure (same unit) meets the plan's target, the sentence that says so, e.g.
    “内江市 2023年已达 96%，高于乐山 2025 年目标 95%”; else None."""
    target = indicator.target_value
    if figure.is_leshan or target is None or figure.unit != indicator.unit:
        return None
    higher = indicator.direction == Direction.HIGHER_IS_BETTER
    if (figure.value < target) if higher else (figure.value > target):
        return None
    comparison = "等于" if figure.value == target else ("高于" if higher else "低于")
    note = f"（口径：{figure.definition_note}）" if figure.definition_note else ""
    return (
        f"{figure.subject} {figure.year}年已达 {written(figure)}，"
        f"{comparison}乐山 {indicator.target_year} 年目标 {plain(target)}{indicator.target_qualifier}{indicator.unit}{note}"
    )


def benchmark_chart(item: BenchmarkIndicator) -> dict[str, Any]:
    """Years on x; Leshan's approved values, Leshan's published figures, each peer's figures, and the target line.
    The series kinds are those static/js/charts.js draws (trajectory)."""
    indicator = item.indicator
    years = sorted(set(range(indicator.baseline_year, indicator.target_year + 1)) | {f.year for f in item.figures})
    approved = dict(item.approved)
    if indicator.baseline_value is not None:
        approved.setdefault(indicator.baseline_year, indicator.baseline_value)
    series: list[dict[str, Any]] = [
        {"name": "乐山市（已审核）", "data": [number(approved.get(y)) for y in years], "kind": "actual"}
    ]
    by_subject: dict[tuple[bool, str], dict[int, Decimal]] = defaultdict(dict)
    for figure in item.figures:
        by_subject[(figure.is_leshan, figure.subject)].setdefault(figure.year, figure.value)
    for (is_leshan, subject), values in sorted(by_subject.items(), key=lambda kv: (not kv[0][0], kv[0][1])):
        series.append(
            {
                "name": f"{subject}（公开报道）",
                "data": [number(values.get(y)) for y in years],
                "kind": "published" if is_leshan else "peer",
            }
        )
    if indicator.target_value is not None:
        series.append(
            {
                "name": f"乐山 {indicator.target_year}年目标",
                "data": [number(indicator.target_value)] * len(years),
                "kind": "target",
            }
        )
    return {"years": [str(y) for y in years], "unit": indicator.unit, "series": series}


def benchmark_for(user: AnyUser, plan: Plan) -> list[BenchmarkIndicator]:
    """The plan's indicators in the person's view that have figures, in number order, each with its chart."""
    indicators = list(
        indicators_visible_to(user).filter(plan=plan, published_figures__isnull=False).distinct().order_by("number")
    )
    figures: dict[int, list[PublishedFigure]] = defaultdict(list)
    for figure in published_figures_visible_to(user).filter(indicator__in=indicators).select_related("region"):
        assert figure.indicator_id is not None
        figures[figure.indicator_id].append(figure)
    approved: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for indicator_id, year, value in (
        indicator_values_visible_to(user)
        .filter(indicator__in=indicators, region=plan.region, approved_value__isnull=False)
        .values_list("indicator_id", "year", "approved_value")
    ):
        if value is not None:
            approved[indicator_id][year] = value
    items = []
    for indicator in indicators:
        mine = _with_written(figures[indicator.pk])
        item = BenchmarkIndicator(
            indicator=indicator, approved=dict(sorted(approved[indicator.pk].items())), figures=mine
        )
        item.reached = [s for s in (reached_sentence(indicator, f) for f in mine) if s]
        item.chart = benchmark_chart(item)
        items.append(item)
    return items
