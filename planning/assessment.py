"""Gap-to-target assessment: the pure domain core (no Django).

`assess` says where an item stands against its target from the values approved so far: the gap, the share
of the way from baseline to target covered (completion), the share expected for the time elapsed
(时间过半、任务过半), their ratio, a status band, and a least-squares forecast for the target year.

Comparisons are exact (fractions of the Decimal inputs), so a ratio of exactly 0.95 is 基本符合预期 and never
需加快 by a rounding accident; the reported numbers are rounded to `PLACES` decimal places, half up. The bulk
recompute in SQL (indicators/status.py) and the task recompute (planning/status.py) follow the same rules and are
checked against this function (tests/indicators/test_status_engine.py, tests/planning/test_assessment.py).

This module is also the one home of the status vocabulary: the stored codes and their labels, the display statuses
(提前实现 split from 已实现), their order and ranks, and `expected_value`, the straight path from baseline to
target that pages, charts, reports and the Excel template draw.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

PLACES = 4
_QUANTUM = Decimal(1).scaleb(-PLACES)

NO_DATA = "no_data"
NO_PLAN = "no_plan"
ACHIEVED = "achieved"
AHEAD = "ahead"
ON_TRACK = "on_track"
WATCH = "watch"
LAGGING = "lagging"
REGRESSING = "regressing"

# Best first; `SEVERITY` orders statuses from worst (0) to best for "the worst of several targets".
STATUS_ORDER = [ACHIEVED, AHEAD, ON_TRACK, WATCH, LAGGING, REGRESSING, NO_PLAN, NO_DATA]
RANKED = [REGRESSING, LAGGING, WATCH, ON_TRACK, AHEAD, ACHIEVED]
SEVERITY = {status: rank for rank, status in enumerate(RANKED)}

LABELS = {
    ACHIEVED: "已实现",
    AHEAD: "快于预期",
    ON_TRACK: "基本符合预期",
    WATCH: "需加快",
    LAGGING: "滞后",
    REGRESSING: "倒退",
    NO_PLAN: "缺基期或目标",
    NO_DATA: "未填报",
}
# The stored assessment's columns, in this order, wherever assessments are stored, compared or flattened.
STORED_FIELDS = [
    "status",
    "latest_year",
    "latest_value",
    "baseline_value",
    "target_value",
    "gap",
    "completion",
    "expected_completion",
    "ratio",
    "forecast_value",
    "forecast_meets_target",
]

# What people see: 已实现 splits into 提前实现 when the target was reached before its year. Every page, serializer,
# export and report reads the display vocabulary from here, in this order (the overview chart's).
ACHIEVED_EARLY = "achieved_early"
EARLY_ACHIEVED_LABEL = "提前实现"
DISPLAY_STATUSES = [
    (ACHIEVED_EARLY, EARLY_ACHIEVED_LABEL),
    (ACHIEVED, LABELS[ACHIEVED]),
    (AHEAD, LABELS[AHEAD]),
    (ON_TRACK, LABELS[ON_TRACK]),
    (WATCH, LABELS[WATCH]),
    (LAGGING, LABELS[LAGGING]),
    (REGRESSING, LABELS[REGRESSING]),
    (NO_DATA, LABELS[NO_DATA]),
    (NO_PLAN, LABELS[NO_PLAN]),
]
DISPLAY_LABELS = dict(DISPLAY_STATUSES)
# Ordinal for the region heat map (worst low): the colour scale and sorting use it.
DISPLAY_RANK = {
    key: rank
    for rank, key in enumerate(
        [REGRESSING, LAGGING, WATCH, ON_TRACK, AHEAD, ACHIEVED, ACHIEVED_EARLY, NO_PLAN, NO_DATA]
    )
}


def display_status(status: str | None, latest_year: int | None, target_year: int) -> str:
    """The stored status as shown: 已实现 before the target year is 提前实现; never computed is 未填报."""
    if not status:
        return NO_DATA
    if status == ACHIEVED and latest_year is not None and latest_year < target_year:
        return ACHIEVED_EARLY
    return status


def count_display(rows: Iterable[tuple[str | None, int | None, int]]) -> list[tuple[str, str, int]]:
    """(status, latest_year, target_year) rows → [(key, label, count)] in display order, zeros included."""
    counts: dict[str, int] = dict.fromkeys(DISPLAY_LABELS, 0)
    for status, latest_year, target_year in rows:
        counts[display_status(status, latest_year, target_year)] += 1
    return [(key, label, counts[key]) for key, label in DISPLAY_STATUSES]


@dataclass(frozen=True)
class Thresholds:
    """Lower bounds are inclusive: R < lagging → 滞后; R < watch → 需加快; R < on_track → 基本符合预期."""

    lagging: Decimal = Decimal("0.60")
    watch: Decimal = Decimal("0.95")
    on_track: Decimal = Decimal("1.05")

    def __post_init__(self) -> None:
        if not Decimal(0) <= self.lagging <= self.watch <= self.on_track:
            raise ValueError("thresholds must satisfy 0 ≤ lagging ≤ watch ≤ on_track")


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class Assessment:
    status: str
    direction: int
    latest_year: int | None = None
    latest_value: Decimal | None = None
    gap: Decimal | None = None
    completion: Decimal | None = None
    expected_completion: Decimal | None = None
    ratio: Decimal | None = None
    forecast_value: Decimal | None = None
    forecast_meets_target: bool | None = None
    target_year: int | None = field(default=None, compare=False)

    @property
    def label(self) -> str:
        if self.target_year is None:
            return LABELS[self.status]
        return DISPLAY_LABELS[display_status(self.status, self.latest_year, self.target_year)]


def expected_value(
    baseline: Decimal | None, target: Decimal | None, *, baseline_year: int, target_year: int, year: int
) -> Decimal | None:
    """Where the straight path from baseline to target stands in `year` (时间过半、任务过半); None without both ends.

    Years before the baseline or after the target year are held at the ends.
    """
    if baseline is None or target is None:
        return None
    span = target_year - baseline_year
    elapsed = min(max(year - baseline_year, 0), span)
    return baseline + (target - baseline) * Decimal(elapsed) / Decimal(span)


def target_as_of(target: Any, adjustments: Mapping[int, Any], year: int) -> Any:
    """The target in force in `year`: the latest 规划调整 effective at or before it, else the original target.

    An adjustment (effective year → adjusted value) changes the target from its year on; earlier years keep the
    original. indicators/status.py does the same in SQL (`adjusted`, `targeted`).
    """
    effective = [y for y in adjustments if int(y) <= year]
    return adjustments[max(effective)] if effective else target


def to_decimal(value: Any) -> Decimal:
    """Accept int, str or Decimal (never float: 0.1 is not a plan figure)."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int | str):
        result = Decimal(value)
    else:
        raise TypeError(f"expected int, str or Decimal, got {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def rounded(value: Fraction) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(_QUANTUM, rounding=ROUND_HALF_UP)


def _sign(value: Fraction) -> int:
    return (value > 0) - (value < 0)


def assess(
    *,
    baseline_year: int,
    baseline: Any,
    target_year: int,
    target: Any,
    observations: Mapping[int, Any],
    direction: int | None = None,
    as_of_year: int | None = None,
    thresholds: Thresholds | None = None,
) -> Assessment:
    """Assess approved `observations` (year → value) against the line from baseline to target.

    `baseline` may be None (the source states none): then only 已实现 can be told, else 缺基期或目标.
    """
    if target_year <= baseline_year:
        raise ValueError("target_year must be after baseline_year")
    if direction not in (None, 1, -1):
        raise ValueError("direction must be +1, -1 or None")
    bands = thresholds or DEFAULT_THRESHOLDS
    t = Fraction(to_decimal(target))
    b = Fraction(to_decimal(baseline)) if baseline is not None else None
    d = direction if direction is not None else (_sign(t - b) or 1 if b is not None else 1)

    last_year = min(target_year, as_of_year) if as_of_year is not None else target_year
    used = {
        int(year): Fraction(to_decimal(value))
        for year, value in observations.items()
        if value is not None and baseline_year < int(year) <= last_year
    }
    if not used:
        return Assessment(NO_DATA, d, target_year=target_year)

    y = max(used)
    a = used[y]
    common: dict[str, Any] = {
        "direction": d,
        "latest_year": y,
        "latest_value": rounded(a),
        "gap": rounded(t - a),
        "target_year": target_year,
    }
    tau = Fraction(y - baseline_year, target_year - baseline_year)
    if b is None:
        status = ACHIEVED if d * (a - t) >= 0 else NO_PLAN
        return Assessment(status, expected_completion=rounded(tau), **common)

    forecast = _least_squares_at(target_year, [(baseline_year, b), *sorted(used.items())])
    measures: dict[str, Any] = {
        "expected_completion": rounded(tau),
        "forecast_value": rounded(forecast),
        "forecast_meets_target": d * (forecast - t) >= 0,
    }
    if t != b:
        completion = (a - b) / (t - b)
        ratio = completion / tau
        measures.update(completion=rounded(completion), ratio=rounded(ratio))

    if d * (a - t) >= 0:
        status = ACHIEVED
    elif t == b:
        status = REGRESSING  # a "maintain" target that is not maintained
    else:
        ratio = (a - b) / (t - b) / tau
        if ratio < 0:
            status = REGRESSING
        elif ratio < Fraction(bands.lagging):
            status = LAGGING
        elif ratio < Fraction(bands.watch):
            status = WATCH
        elif ratio < Fraction(bands.on_track):
            status = ON_TRACK
        else:
            status = AHEAD
    return Assessment(status, **common, **measures)


def _least_squares_at(x_at: int, points: list[tuple[int, Fraction]]) -> Fraction:
    """The least-squares line through `points`, evaluated at `x_at` (exact)."""
    n = len(points)
    sum_x = sum((Fraction(x) for x, _ in points), Fraction(0))
    sum_y = sum((y for _, y in points), Fraction(0))
    sum_xx = sum((Fraction(x * x) for x, _ in points), Fraction(0))
    sum_xy = sum((x * y for x, y in points), Fraction(0))
    spread = n * sum_xx - sum_x * sum_x
    if spread == 0:
        return Fraction(sum_y, n)
    slope = Fraction(n * sum_xy - sum_x * sum_y, spread)
    intercept = Fraction(sum_y - slope * sum_x, n)
    return intercept + slope * x_at


def worst(statuses: list[str]) -> str:
    """The least favourable of several assessed statuses (e.g. a task's targets); NO_DATA if none assessed."""
    assessed = [s for s in statuses if s in SEVERITY]
    if assessed:
        return min(assessed, key=SEVERITY.__getitem__)
    return NO_PLAN if NO_PLAN in statuses else NO_DATA
