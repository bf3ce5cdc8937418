"""The parts of `manage.py bench` that need no PostgreSQL: the sizes, the goals' verdicts, the chart, and the
harness's helpers on a tiny synthetic plan."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from benchmarks.scaling import (
    ScalePoint,
    draw_chart,
    find_cjk_font,
    full_goal,
    incremental_met,
    main_size,
    median_run,
    noop_met,
    parse_sizes,
    seconds_label,
    spread,
)

PNG = b"\x89PNG\r\n\x1a\n"


def point(regions: int, *, full: float = 1.0, noop: float = 0.1, incremental: float = 0.1, **more: Any) -> ScalePoint:
    figures: dict[str, Any] = {
        "regions": regions,
        "values": (regions + 1) * 350,
        "full_seconds": full,
        "full_rows": (regions + 1) * 350,
        "noop_seconds": noop,
        "noop_rows": 0,
        "noop_regions": 0,
        "incremental_seconds": incremental,
        "incremental_max_seconds": incremental * 1.2,
        "incremental_rows": 30,
        "incremental_regions": 10,
        "regions_total": regions + 1,
        "peak_rss_mb": 90.0,
    }
    return ScalePoint(**{**figures, **more})


# --- sizes ---------------------------------------------------------------------------------------------------


def test_sizes_are_read_sorted_and_each_once() -> None:
    assert parse_sizes("5700, 285,1430,3000,285") == (285, 1430, 3000, 5700)
    assert parse_sizes("20,") == (20,)


@pytest.mark.parametrize("text", ["", " , ", "abc", "20,0", "20,-5", "1.5", "3e3"])
def test_sizes_that_are_not_positive_integers_are_refused_in_chinese(text: str) -> None:
    with pytest.raises(ValueError, match="--sizes"):
        parse_sizes(text)


def test_the_main_size_is_the_one_asked_for_else_the_nearest_to_the_default() -> None:
    assert main_size((285, 1430, 3000, 5700), None, 3000) == 3000
    assert main_size((20, 40, 80, 160), None, 3000) == 160
    assert main_size((2000, 4000), None, 3000) == 2000  # a tie goes to the smaller
    assert main_size((20, 40), 80, 3000) == 80


# --- verdicts ------------------------------------------------------------------------------------------------


def test_the_full_goal_is_five_seconds_while_the_floor_is_fast() -> None:
    goal = full_goal(4.9, floor_seconds=2.0)
    assert (goal.limit, goal.floor_limit, goal.met) == (5.0, 3.0, True)
    assert "适用：5 秒" in goal.text
    assert not full_goal(5.1, floor_seconds=2.0).met


def test_the_full_goal_is_one_and_a_half_floors_once_that_is_larger() -> None:
    goal = full_goal(11.0, floor_seconds=7.8)
    assert goal.limit == pytest.approx(11.7)
    assert goal.met
    assert "适用：1.5 × 下限" in goal.text and "11.7 秒" in goal.text
    assert not full_goal(12.0, floor_seconds=7.8).met


def test_noop_needs_every_size_under_a_second_with_nothing_written_or_redone() -> None:
    assert noop_met([point(285, noop=0.1), point(5700, noop=0.9)])
    assert not noop_met([point(285), point(5700, noop=1.2)])
    assert not noop_met([point(285), point(5700, noop_rows=3)])
    assert not noop_met([point(285), point(5700, noop_regions=1)])
    assert noop_met([point(285, noop_regions=None)])  # a recompute that does not count regions is judged on time


def test_incremental_is_flat_when_the_largest_is_at_most_twice_the_smallest() -> None:
    assert spread([0.1, 0.15, 0.2]) == pytest.approx(2.0)
    assert incremental_met([point(285, incremental=0.1), point(5700, incremental=0.2)], series=10)
    assert not incremental_met([point(285, incremental=0.1), point(5700, incremental=0.21)], series=10)
    # Flat but not incremental: more regions redone than series changed.
    assert not incremental_met([point(285), point(5700, incremental_regions=5701)], series=10)
    assert incremental_met([point(285)], series=10) is None  # one size says nothing about growth


def test_seconds_are_labelled_with_two_significant_figures_below_ten() -> None:
    assert [seconds_label(s) for s in (0.01234, 0.35, 4.25, 23.4, 123.0)] == ["0.012", "0.35", "4.2", "23", "123"]


# --- the chart -----------------------------------------------------------------------------------------------


def figures() -> list[ScalePoint]:
    return [
        point(285, full=2.2, noop=0.05, incremental=0.12),
        point(1430, full=11.0, noop=0.08, incremental=0.13),
        point(3000, full=23.0, noop=0.12, incremental=0.12),
        point(5700, full=45.0, noop=0.2, incremental=0.14),
    ]


def missing_glyphs(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if "missing from" in str(w.message)]


def test_the_chart_is_a_png_with_every_label_drawn_in_a_cjk_font(tmp_path: Path) -> None:
    font = find_cjk_font()
    if font is None:
        pytest.skip("没有中文字体（apt-get install fonts-noto-cjk）")
    path = tmp_path / "docs" / "scaling.png"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        draw_chart(figures(), path, font_file=font, note="测试")
    assert path.read_bytes().startswith(PNG)
    assert missing_glyphs(caught) == []


def test_without_a_cjk_font_the_chart_has_numbers_only_not_boxes(tmp_path: Path) -> None:
    path = tmp_path / "scaling.png"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        draw_chart(figures(), path, font_file=None, note="测试")
    assert path.read_bytes().startswith(PNG)
    assert missing_glyphs(caught) == []


# --- the harness on a tiny synthetic plan (SQLite or PostgreSQL) --------------------------------------------


@pytest.mark.django_db
def test_clearing_a_plan_removes_its_statuses_fingerprints_and_counts_and_nothing_else() -> None:
    from benchmarks.harness import clear_statuses
    from benchmarks.scale import generate
    from indicators.models import IndicatorStatus, StatusCount, StatusFingerprint

    now = datetime(2026, 1, 1, tzinfo=UTC)
    plans = [generate(regions=regions, indicators=2, years=2)[0] for regions in (3, 4)]
    for plan in plans:
        region = plan.area_divisions().first()
        indicator = plan.indicators.first()
        assert region is not None and indicator is not None
        IndicatorStatus.objects.create(
            indicator=indicator, region=region, as_of_year=2021, status="on_track", changed_at=now
        )
        StatusFingerprint.objects.create(plan=plan, region=region, fingerprint=42, computed_at=now)
        StatusCount.objects.create(plan=plan, region=region, as_of_year=2021, status="on_track", count=1)
    cleared, kept = plans
    clear_statuses(cleared)
    for model in (StatusFingerprint, StatusCount):
        assert not model.objects.filter(plan=cleared).exists()
        assert model.objects.filter(plan=kept).count() == 1
    assert not IndicatorStatus.objects.filter(indicator__plan=cleared).exists()
    assert IndicatorStatus.objects.filter(indicator__plan=kept).count() == 1


@pytest.mark.django_db
def test_the_changed_series_lie_in_as_many_regions_and_change_by_sql_and_back() -> None:
    from benchmarks.harness import shift_approved, spread_values
    from benchmarks.scale import generate
    from indicators.models import IndicatorValue

    plan, _, _ = generate(regions=25, indicators=3, years=5)
    ids = spread_values(plan, 10)
    chosen = IndicatorValue.objects.filter(pk__in=ids)
    assert len(ids) == 10
    assert len({v.region_id for v in chosen}) == 10
    assert plan.region_id not in {v.region_id for v in chosen}
    assert len({v.indicator_id for v in chosen}) > 1
    before = {v.pk: v.approved_value for v in chosen}
    assert shift_approved(ids, 1) == 10
    after = {v.pk: v.approved_value for v in IndicatorValue.objects.filter(pk__in=ids)}
    assert all(after[pk] == (before[pk] or Decimal(0)) + 1 for pk in ids)
    shift_approved(ids, -1)
    assert {v.pk: v.approved_value for v in IndicatorValue.objects.filter(pk__in=ids)} == before
    # A plan smaller than the number asked for gives one value per region it has.
    small, _, _ = generate(regions=4, indicators=2, years=2)
    assert len(spread_values(small, 10)) == 4


def test_the_median_run_is_a_run_that_happened_with_its_own_figures() -> None:
    runs = [point(3000, full=7.9, noop=0.3), point(3000, full=7.1, noop=0.1), point(3000, full=9.4, noop=0.2)]
    chosen = median_run(runs, lambda p: p.full_seconds)
    assert (chosen.full_seconds, chosen.noop_seconds) == (7.9, 0.3)
    assert median_run(runs[:2], lambda p: p.full_seconds).full_seconds == 7.1  # the lower middle of two
    with pytest.raises(ValueError):
        median_run([], lambda p: p.full_seconds)
