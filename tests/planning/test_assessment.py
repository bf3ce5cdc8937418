"""planning.assessment: worked examples from the plan, boundaries, and properties (no database)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from planning.assessment import (
    ACHIEVED,
    AHEAD,
    LAGGING,
    NO_DATA,
    NO_PLAN,
    ON_TRACK,
    REGRESSING,
    SEVERITY,
    WATCH,
    Thresholds,
    assess,
    worst,
)


def plan_indicator(baseline: str, target: str, observations: dict[int, str], **kwargs):  # type: ignore[no-untyped-def]
    return assess(
        baseline_year=2020, baseline=baseline, target_year=2025, target=target, observations=observations, **kwargs
    )


# --- worked examples (专栏1 of the plan) -------------------------------------------------------------


def test_on_track_preschool_enrolment() -> None:
    # 学前教育毛入园率 95 → 96; 95.6 in 2023 covers 60% of the way after 60% of the time.
    result = plan_indicator("95", "96", {2023: "95.6"})
    assert result.status == ON_TRACK
    assert result.label == "基本符合预期"
    assert (result.latest_year, result.latest_value, result.gap) == (2023, Decimal("95.6000"), Decimal("0.4000"))
    assert (result.completion, result.expected_completion, result.ratio) == (
        Decimal("0.6000"),
        Decimal("0.6000"),
        Decimal("1.0000"),
    )
    # Least squares through (2020, 95) and (2023, 95.6) reaches 96 in 2025.
    assert result.forecast_value == Decimal("96.0000")
    assert result.forecast_meets_target is True


def test_lagging_binding_indicator() -> None:
    # 九年义务教育巩固率 (约束性) 95 → 96: 95.2 in 2022 is 20% of the way after 40% of the time.
    result = plan_indicator("95", "96", {2021: "95.1", 2022: "95.2"})
    assert result.status == LAGGING
    assert result.ratio == Decimal("0.5000")
    assert result.forecast_meets_target is False


def test_achieved_early_higher_education() -> None:
    # 高等教育毛入学率 52 → 59: 59.5 in 2024.
    result = plan_indicator("52", "59", {2022: "55", 2024: "59.5"})
    assert result.status == ACHIEVED
    assert result.label == "提前实现"
    assert result.gap == Decimal("-0.5000")
    assert plan_indicator("52", "59", {2025: "59"}).label == "已实现"


def test_regressing_public_kindergartens() -> None:
    # 公办幼儿园在园幼儿比率 40.9 → 55: below the baseline.
    result = plan_indicator("40.9", "55", {2022: "40"})
    assert result.status == REGRESSING
    assert result.ratio is not None and result.ratio < 0


def test_watch_continuing_education() -> None:
    # 从业人员继续教育 102 → 110 万人次: 106.2 in 2023 is 52.5% after 60% → R = 0.875.
    result = plan_indicator("102", "110", {2023: "106.2"})
    assert result.status == WATCH
    assert result.ratio == Decimal("0.8750")


def test_ahead_inclusive_kindergartens() -> None:
    # 普惠性幼儿园在园幼儿比率 84.1 → 86: 85 in 2022 → R = (0.9/1.9)/0.4 ≈ 1.1842.
    result = plan_indicator("84.1", "86", {2022: "85"})
    assert result.status == AHEAD
    assert result.ratio == Decimal("1.1842")


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("95.57", ON_TRACK),  # R = 0.95 exactly: the lower bound is inclusive
        ("95.5699", WATCH),
        ("95.36", WATCH),  # R = 0.60 exactly
        ("95.3599", LAGGING),
        ("95.63", AHEAD),  # R = 1.05 exactly
        ("95.6299", ON_TRACK),
        ("95", LAGGING),  # R = 0: no progress is lagging, not regressing
        ("94.9999", REGRESSING),
    ],
)
def test_band_boundaries_are_exact(value: str, status: str) -> None:
    assert plan_indicator("95", "96", {2023: value}).status == status


def test_thresholds_are_per_plan() -> None:
    strict = Thresholds(lagging=Decimal("0.8"), watch=Decimal("0.99"), on_track=Decimal("1.01"))
    assert plan_indicator("95", "96", {2023: "95.58"}, thresholds=strict).status == WATCH
    with pytest.raises(ValueError, match="thresholds"):
        Thresholds(lagging=Decimal("0.9"), watch=Decimal("0.8"))


def test_no_data_and_what_counts_as_data() -> None:
    assert plan_indicator("95", "96", {}).status == NO_DATA
    assert plan_indicator("95", "96", {}).label == "未填报"
    # The baseline year itself and years after the target year are not observations.
    assert plan_indicator("95", "96", {2020: "95", 2026: "97"}).status == NO_DATA
    # as_of_year looks back: only what was approved up to that year.
    result = plan_indicator("95", "96", {2021: "95.2", 2023: "95.3"}, as_of_year=2022)
    assert (result.latest_year, result.status) == (2021, ON_TRACK)


def test_maintain_targets() -> None:
    kept = plan_indicator("100", "100", {2022: "100"})
    assert kept.status == ACHIEVED
    assert kept.completion is None  # no distance to cover
    assert plan_indicator("100", "100", {2022: "99.9"}).status == REGRESSING


def test_lower_is_better() -> None:
    # A rate to bring down from 50 to 47.5: direction defaults to −1.
    result = plan_indicator("50", "47.5", {2022: "49"})
    assert result.direction == -1
    assert result.completion == Decimal("0.4000")
    assert result.status == ON_TRACK
    assert plan_indicator("50", "47.5", {2022: "47"}).status == ACHIEVED
    assert plan_indicator("50", "47.5", {2022: "51"}).status == REGRESSING


def test_task_kinds_use_the_same_function() -> None:
    # Cumulative: 新建城镇公办幼儿园16所, 5 built by 2022 → 31.25% after 40% → R = 0.78125.
    built = assess(baseline_year=2020, baseline=0, target_year=2025, target=16, observations={2021: 2, 2022: 5})
    assert built.status == WATCH
    # Annual: 每年评选50节 — each year against its own target, τ = 1.
    yearly = assess(baseline_year=2022, baseline=0, target_year=2023, target=50, observations={2023: 45})
    assert (yearly.expected_completion, yearly.status) == (Decimal("1.0000"), WATCH)
    # Region milestone: 4 named counties, 1 passed by 2023.
    passed = assess(baseline_year=2020, baseline=0, target_year=2025, target=4, observations={2023: 1})
    assert passed.status == LAGGING
    # Qualitative: the reported percentage against 100.
    percent = assess(baseline_year=2020, baseline=0, target_year=2025, target=100, observations={2024: "80"})
    assert percent.status == ON_TRACK


def test_a_missing_baseline_can_only_say_achieved() -> None:
    assert plan_indicator(None, "85", {2023: "86"}).status == ACHIEVED  # type: ignore[arg-type]
    unknown = plan_indicator(None, "85", {2023: "80"})  # type: ignore[arg-type]
    assert unknown.status == NO_PLAN
    assert unknown.label == "缺基期或目标"


def test_inputs_are_ints_strings_or_decimals_never_floats() -> None:
    assert plan_indicator(Decimal("95"), 96, {2023: "95.6"}).status == ON_TRACK  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        plan_indicator("95", "96", {2023: 95.6})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="finite"):
        plan_indicator("95", "96", {2023: "NaN"})
    with pytest.raises(ValueError, match="target_year"):
        assess(baseline_year=2025, baseline=1, target_year=2020, target=2, observations={})


def test_worst_of_several() -> None:
    assert worst([ON_TRACK, LAGGING, ACHIEVED]) == LAGGING
    assert worst([NO_DATA, AHEAD]) == AHEAD
    assert worst([NO_DATA, NO_DATA]) == NO_DATA
    assert worst([NO_PLAN, NO_DATA]) == NO_PLAN


# --- properties -----------------------------------------------------------------------------------

amounts = st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False, allow_infinity=False)
years = st.integers(min_value=2021, max_value=2025)


@st.composite
def series(draw):  # type: ignore[no-untyped-def]
    baseline = draw(amounts)
    target = draw(amounts)
    observed = draw(st.dictionaries(years, amounts, min_size=1, max_size=5))
    return baseline, target, observed


def run(baseline, target, observed, direction=None):  # type: ignore[no-untyped-def]
    return assess(
        baseline_year=2020,
        baseline=baseline,
        target_year=2025,
        target=target,
        observations=observed,
        direction=direction,
    )


@given(series(), st.fractions(min_value=0, max_value=1))
def test_moving_the_latest_value_toward_the_target_never_worsens_the_status(data, share) -> None:  # type: ignore[no-untyped-def]
    baseline, target, observed = data
    before = run(baseline, target, observed)
    latest = max(observed)
    value = Fraction(observed[latest])
    moved = value + share * (Fraction(target) - value)
    closer = Decimal(moved.numerator) / Decimal(moved.denominator)
    after = run(baseline, target, {**observed, latest: closer})
    assert SEVERITY[after.status] >= SEVERITY[before.status]


@given(series(), st.sampled_from([None, 1, -1]))
def test_mirroring_direction_and_values_keeps_the_status(data, direction) -> None:  # type: ignore[no-untyped-def]
    baseline, target, observed = data
    # With no direction given, a "maintain" target defaults to +1 on both sides: not a mirror image.
    assume(direction is not None or baseline != target)
    original = run(baseline, target, observed, direction)
    mirrored = run(-baseline, -target, {y: -v for y, v in observed.items()}, None if direction is None else -direction)
    assert mirrored.status == original.status
    assert mirrored.ratio == original.ratio
    assert mirrored.forecast_meets_target == original.forecast_meets_target
    if original.gap is not None:
        assert mirrored.gap == -original.gap


@given(series())
def test_the_status_agrees_with_the_reported_ratio(data) -> None:  # type: ignore[no-untyped-def]
    baseline, target, observed = data
    result = run(baseline, target, observed)
    assume(result.status not in (ACHIEVED, NO_DATA) and baseline != target)
    assert result.ratio is not None
    # The reported ratio is rounded; away from the band edges it must sit in the status's band.
    bands = {
        REGRESSING: (None, 0),
        LAGGING: (0, "0.6"),
        WATCH: ("0.6", "0.95"),
        ON_TRACK: ("0.95", "1.05"),
        AHEAD: ("1.05", None),
    }
    low, high = bands[result.status]
    slack = Decimal("0.0001")
    if low is not None:
        assert result.ratio >= Decimal(low) - slack
    if high is not None:
        assert result.ratio <= Decimal(high) + slack


@given(series())
def test_only_the_latest_year_decides_the_status(data) -> None:  # type: ignore[no-untyped-def]
    baseline, target, observed = data
    latest = max(observed)
    alone = run(baseline, target, {latest: observed[latest]})
    assert run(baseline, target, observed).status == alone.status


def test_the_core_imports_nothing_from_django() -> None:
    import subprocess
    import sys

    code = "import sys, planning.assessment; print(sorted(m for m in sys.modules if m.startswith('django')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"
