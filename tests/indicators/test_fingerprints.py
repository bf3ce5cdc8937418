"""A recompute redoes exactly the plan × region pieces whose inputs changed (however they changed), and what it
leaves is what a forced recompute of everything gives; the stored status counts always equal a count of the rows."""

from __future__ import annotations

import random
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection

from indicators.models import (
    IndicatorRegionTarget,
    IndicatorStatus,
    IndicatorValue,
    StatusCount,
    StatusFingerprint,
    TargetAdjustment,
)
from indicators.status import recompute_indicator_statuses
from planning.assessment import display_status
from planning.models import Plan
from regions.models import Region

pytestmark = pytest.mark.django_db


def stored(plan: Plan) -> dict[tuple[int, int, int], tuple[object, ...]]:
    return {
        (row[0], row[1], row[2]): row[3:]
        for row in IndicatorStatus.objects.filter(indicator__plan=plan).values_list(
            "indicator_id",
            "region_id",
            "as_of_year",
            "status",
            "latest_year",
            "latest_value",
            "target_value",
            "gap",
            "completion",
            "ratio",
            "forecast_value",
            "forecast_meets_target",
        )
    }


def counted(plan: Plan) -> Counter[tuple[int, int, int | None, str]]:
    """The status counts as a scan of the stored rows gives them."""
    scan: Counter[tuple[int, int, int | None, str]] = Counter()
    rows = IndicatorStatus.objects.filter(indicator__plan=plan).values_list(
        "region_id", "as_of_year", "indicator__lead_unit_id", "status", "latest_year", "indicator__target_year"
    )
    for region, year, unit, status, latest, target_year in rows:
        scan[(region, year, unit, display_status(status, latest, target_year))] += 1
    return scan


def kept_counts(plan: Plan) -> Counter[tuple[int, int, int | None, str]]:
    kept: Counter[tuple[int, int, int | None, str]] = Counter()
    for region, year, unit, status, n in StatusCount.objects.filter(plan=plan).values_list(
        "region_id", "as_of_year", "lead_unit_id", "status", "count"
    ):
        kept[(region, year, unit, status)] += n
    return kept


def approve(indicator, region, year, value, user) -> None:  # type: ignore[no-untyped-def]
    IndicatorValue.objects.update_or_create(
        indicator=indicator,
        region=region,
        year=year,
        defaults={"value": value, "approved_value": value, "source": "x", "created_by": user, "updated_by": user},
    )


@pytest.fixture
def tracked(plan, alice):  # type: ignore[no-untyped-def]
    regions = list(plan.area_regions())
    for indicator in plan.indicators.all()[:6]:
        for region in regions[:5]:
            approve(indicator, region, 2022, indicator.baseline_value or Decimal("1"), alice)
    first = recompute_indicator_statuses(plan_ids=[plan.pk])
    assert first.regions_recomputed == first.regions_total == len(regions)
    return plan


def test_nothing_changed_recomputes_nothing(tracked) -> None:  # type: ignore[no-untyped-def]
    before = stored(tracked)
    again = recompute_indicator_statuses(plan_ids=[tracked.pk])
    assert (again.regions_recomputed, again.rows_written, again.rows_deleted) == (0, 0, 0)
    assert again.regions_total == tracked.area_regions().count()
    assert stored(tracked) == before
    assert kept_counts(tracked) == counted(tracked)


def test_an_edit_outside_the_services_recomputes_its_region_only(tracked, city) -> None:  # type: ignore[no-untyped-def]
    entry = IndicatorValue.objects.filter(indicator__plan=tracked).exclude(region=city).first()
    assert entry is not None
    # As an administrator's SQL would: no service, no signal, no pending recompute.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE indicators_indicatorvalue SET approved_value = approved_value + 7 WHERE id = %s", [entry.pk]
        )
    result = recompute_indicator_statuses(plan_ids=[tracked.pk])
    assert result.regions_recomputed == 1
    assert result.rows_written > 0
    assert set(
        IndicatorStatus.objects.filter(indicator__plan=tracked, changed_at__gte=_last_change(tracked)).values_list(
            "region_id", flat=True
        )
    ) == {entry.region_id}
    assert recompute_indicator_statuses(plan_ids=[tracked.pk], force=True).rows_written == 0


def _last_change(plan: Plan):  # type: ignore[no-untyped-def]
    return IndicatorStatus.objects.filter(indicator__plan=plan).latest("changed_at").changed_at


def test_each_kind_of_input_is_in_the_fingerprint(tracked, alice, city) -> None:  # type: ignore[no-untyped-def]
    regions = list(tracked.area_regions())
    county = regions[1]
    indicator = tracked.indicators.order_by("number").first()
    every = len(regions)

    def recomputed() -> int:
        return recompute_indicator_statuses(plan_ids=[tracked.pk]).regions_recomputed

    IndicatorRegionTarget.objects.create(indicator=indicator, region=county, target_value="3", updated_by=alice)
    assert recomputed() == 1  # a region's own target: that region
    IndicatorValue.objects.filter(indicator=indicator, region=county).update(approved_value=None)
    assert recomputed() == (1 if IndicatorValue.objects.filter(indicator=indicator, region=county).exists() else 0)
    approve(indicator, county, 2024, "12.5", alice)
    assert recomputed() == 1  # a new approved value
    IndicatorValue.objects.filter(indicator=indicator, region=county, year=2024).update(approved_value="12.50")
    assert recomputed() == 0  # the same number written differently is the same input
    type(indicator).objects.filter(pk=indicator.pk).update(target_value=(indicator.target_value or 0) + 1)
    assert recomputed() == every  # the indicator's own target: every region
    type(indicator).objects.filter(pk=indicator.pk).update(direction=-indicator.direction)
    assert recomputed() == every
    Plan.objects.filter(pk=tracked.pk).update(lagging_below=Decimal("0.55"))
    assert recomputed() == every  # the plan's bands
    other_unit = type(indicator.lead_unit).objects.exclude(pk=indicator.lead_unit_id).first()
    type(indicator).objects.filter(pk=indicator.pk).update(lead_unit=other_unit)
    assert recomputed() == every  # no status changes, but the counts are kept per lead unit
    assert kept_counts(tracked) == counted(tracked)
    TargetAdjustment.objects.create(
        indicator=indicator,
        original_value=indicator.target_value,
        adjusted_value="50",
        effective_year=2024,
        reason="测试",
        document="测试",
        created_by=alice,
    )
    assert recomputed() == every  # a 规划调整
    assert recomputed() == 0
    # Rows deleted outside the services are noticed by the nightly run's count of the stored rows, and put back.
    IndicatorStatus.objects.filter(region=county, as_of_year=2023).delete()
    assert recomputed() == 0
    assert recompute_indicator_statuses(plan_ids=[tracked.pk], verify=True).regions_recomputed == 1
    assert IndicatorStatus.objects.filter(region=county, indicator__plan=tracked).count() == (
        tracked.indicators.count() * 5
    )
    assert recompute_indicator_statuses(plan_ids=[tracked.pk], force=True).rows_written == 0
    assert kept_counts(tracked) == counted(tracked)


def test_a_region_that_leaves_the_area_loses_its_statuses_and_counts(tracked) -> None:  # type: ignore[no-untyped-def]
    county = list(tracked.area_regions())[-1]
    Region.objects.filter(pk=county.pk).update(parent=None)
    result = recompute_indicator_statuses(plan_ids=[tracked.pk])
    assert result.rows_deleted == tracked.indicators.count() * 5
    assert not IndicatorStatus.objects.filter(region=county).exists()
    assert not StatusFingerprint.objects.filter(region=county).exists()
    assert not StatusCount.objects.filter(region=county).exists()
    assert kept_counts(tracked) == counted(tracked)


def test_piecewise_recomputes_leave_what_a_forced_one_gives(plan, alice) -> None:  # type: ignore[no-untyped-def]
    """Random edits (values, targets, adjustments, series recomputes between them), each followed by the
    fingerprinted recompute: a forced recompute of everything then finds nothing to write, and the counts agree."""
    rng = random.Random(16)
    regions = list(plan.area_regions())
    indicators = list(plan.indicators.all())
    recompute_indicator_statuses(plan_ids=[plan.pk])
    for step in range(25):
        indicator, region = rng.choice(indicators), rng.choice(regions)
        action = rng.choice(["value", "value", "unapprove", "target", "adjust", "series"])
        if action == "value":
            approve(indicator, region, rng.choice(range(2020, 2027)), Decimal(rng.randint(0, 9999)).scaleb(-2), alice)
        elif action == "unapprove":
            IndicatorValue.objects.filter(indicator=indicator, region=region).update(approved_value=None)
        elif action == "target" and region.pk != plan.region_id:
            IndicatorRegionTarget.objects.update_or_create(
                indicator=indicator,
                region=region,
                defaults={"target_value": Decimal(rng.randint(1, 500)), "updated_by": alice},
            )
        elif action == "adjust":
            TargetAdjustment.objects.update_or_create(
                indicator=indicator,
                effective_year=rng.choice(range(2021, 2026)),
                defaults={
                    "original_value": indicator.target_value,
                    "adjusted_value": Decimal(rng.randint(1, 500)),
                    "reason": "测试",
                    "document": "测试",
                    "created_by": alice,
                },
            )
        elif action == "series":
            # A series recompute (as on approval) leaves the fingerprints for the next whole recompute.
            approve(indicator, region, 2023, Decimal(rng.randint(0, 999)), alice)
            recompute_indicator_statuses(indicator_ids=[indicator.pk], region_ids=[region.pk])
        if rng.random() < 0.6:
            recompute_indicator_statuses(plan_ids=[plan.pk])
        assert kept_counts(plan) == counted(plan), step
    recompute_indicator_statuses(plan_ids=[plan.pk])
    forced = recompute_indicator_statuses(plan_ids=[plan.pk], force=True)
    assert (forced.rows_written, forced.rows_deleted) == (0, 0)
    assert kept_counts(plan) == counted(plan)


def test_a_region_subset_recompute_keeps_the_other_fingerprints(tracked) -> None:  # type: ignore[no-untyped-def]
    regions = list(tracked.area_regions())
    before = dict(StatusFingerprint.objects.filter(plan=tracked).values_list("region_id", "fingerprint"))
    Plan.objects.filter(pk=tracked.pk).update(watch_below=Decimal("0.96"))
    some = recompute_indicator_statuses(plan_ids=[tracked.pk], region_ids=[r.pk for r in regions[:3]])
    assert (some.regions_total, some.regions_recomputed) == (3, 3)
    after = dict(StatusFingerprint.objects.filter(plan=tracked).values_list("region_id", "fingerprint"))
    assert all(after[r.pk] != before[r.pk] for r in regions[:3])
    assert all(after[r.pk] == before[r.pk] for r in regions[3:])
    assert recompute_indicator_statuses(plan_ids=[tracked.pk]).regions_recomputed == len(regions) - 3
    assert kept_counts(tracked) == counted(tracked)


def test_the_nightly_chunks_use_the_fingerprints(tracked) -> None:  # type: ignore[no-untyped-def]
    from indicators.services import status_recompute_chunk

    regions = [r.pk for r in tracked.area_regions()]
    summary = status_recompute_chunk(plan_id=tracked.pk, region_ids=regions[:4])
    assert summary["regions_recomputed"] == 0
    assert summary["indicator_rows_written"] == 0


def test_the_hash_functions_exist_and_a_number_hashes_alike_however_written(db) -> None:  # type: ignore[no-untyped-def]
    """The fingerprint functions exist on this database (PostgreSQL's own; registered on SQLite)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT hashint8extended(1, 2), hashtextextended('a', 0), hash_numeric_extended(CAST(1.5 AS NUMERIC), 0)"
        )
        first = cursor.fetchone()
        cursor.execute(
            "SELECT hashint8extended(1, 2), hashtextextended('a', 0), hash_numeric_extended(CAST(1.50 AS NUMERIC), 0)"
        )
        assert cursor.fetchone() == first
        cursor.execute("SELECT hashint8extended(1, 3)")
        assert cursor.fetchone()[0] != first[0]


@pytest.mark.postgres
def test_the_hashes_kept_by_the_triggers_equal_a_scan(plan, alice) -> None:  # type: ignore[no-untyped-def]
    """Whatever writes the values and region targets (ORM, bulk, raw SQL; insert, update, delete), the hashes the
    PostgreSQL triggers keep give the fingerprints a scan of the data gives."""
    from indicators.status import _plans, input_fingerprints

    rng = random.Random(7)
    regions = list(plan.area_regions())
    indicators = list(plan.indicators.all())
    (subject,) = _plans([plan.pk])

    def agree() -> None:
        with connection.cursor() as cursor:
            assert input_fingerprints(cursor, subject, None) == input_fingerprints(cursor, subject, None, scan=True)

    recompute_indicator_statuses(plan_ids=[plan.pk])
    agree()
    IndicatorValue.objects.bulk_create(
        [
            IndicatorValue(
                indicator=i,
                region=r,
                year=2023,
                value=5,
                approved_value=Decimal(rng.randint(0, 99)),
                source="x",
                created_by=alice,
                updated_by=alice,
            )
            for i in indicators[:4]
            for r in regions
        ]
    )
    agree()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE indicators_indicatorvalue SET approved_value = approved_value * 2 WHERE year = 2023")
        cursor.execute("UPDATE indicators_indicatorvalue SET note = 'x' WHERE year = 2023")  # not an input
        cursor.execute("UPDATE indicators_indicatorvalue SET approved_value = NULL WHERE MOD(id, 3) = 0")
        cursor.execute(
            "UPDATE indicators_indicatorvalue SET year = 2021 WHERE year = 2023 AND region_id = %s", [regions[3].pk]
        )
        cursor.execute(  # a row moved to another region: out of one fingerprint, into another
            "UPDATE indicators_indicatorvalue SET region_id = %s WHERE year = 2021 AND region_id = %s",
            [regions[5].pk, regions[3].pk],
        )
    agree()
    IndicatorRegionTarget.objects.create(indicator=indicators[0], region=regions[2], target_value=4, updated_by=alice)
    IndicatorRegionTarget.objects.filter(region=regions[2]).update(baseline_value=1)
    agree()
    IndicatorValue.objects.filter(region=regions[1]).delete()
    IndicatorRegionTarget.objects.filter(region=regions[2]).delete()
    agree()
    # And the recompute, reading the kept hashes, finds exactly what changed since its last run.
    assert recompute_indicator_statuses(plan_ids=[plan.pk]).regions_recomputed > 0
    assert recompute_indicator_statuses(plan_ids=[plan.pk]).regions_recomputed == 0
    assert recompute_indicator_statuses(plan_ids=[plan.pk], force=True).rows_written == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_many_changed_regions_are_recomputed_in_parts_to_the_same_result(settings) -> None:  # type: ignore[no-untyped-def]
    """Outside a transaction on PostgreSQL, many changed regions go to parallel connections, each part committing
    its own rows, fingerprints and counts; the result is what one connection gives."""
    import threading

    from django.contrib.auth.models import User

    from indicators import status
    from indicators.management.commands.load_plan import load_all

    # A transactional test starts from whatever an earlier one left (it empties the tables at its end).
    load_all(settings.PLAN_FIXTURES_DIR)
    alice = User.objects.create(username="parts")
    plan = Plan.objects.get(code="leshan-edu-14fyp")
    settings.RECOMPUTE_PARALLEL_REGIONS = 2
    rng = random.Random(3)
    for indicator in plan.indicators.all()[:5]:
        for region in plan.area_regions():
            approve(indicator, region, rng.choice([2021, 2022, 2023]), Decimal(rng.randint(1, 99)), alice)
    threads: set[int] = set()
    real = status._recompute

    def watched(**kwargs):  # type: ignore[no-untyped-def]
        threads.add(threading.get_ident())
        return real(**kwargs)

    status._recompute = watched  # type: ignore[assignment]
    try:
        first = recompute_indicator_statuses(plan_ids=[plan.pk])
    finally:
        status._recompute = real  # type: ignore[assignment]
    regions = plan.area_regions().count()
    assert len(threads) >= 2  # the parts ran on other threads (their own connections)
    assert (first.regions_total, first.regions_recomputed) == (regions, regions)
    assert first.rows_written == plan.indicators.count() * regions * 5
    assert StatusFingerprint.objects.filter(plan=plan).count() == regions
    assert kept_counts(plan) == counted(plan)
    one = recompute_indicator_statuses(plan_ids=[plan.pk], force=True, connections=1)
    assert (one.rows_written, one.rows_deleted) == (0, 0)
    assert recompute_indicator_statuses(plan_ids=[plan.pk]).regions_recomputed == 0
