"""The set-based SQL recompute agrees with planning.assessment.assess, row by row, on this database."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import connection

from indicators.models import Indicator, IndicatorRegionTarget, IndicatorStatus, IndicatorValue, TargetAdjustment
from indicators.status import recompute_indicator_statuses
from planning.assessment import Thresholds, assess, target_as_of
from planning.models import Plan

pytestmark = pytest.mark.django_db

EXACT = connection.vendor == "postgresql"  # SQLite does the reported arithmetic in floating point


def value(rng: random.Random) -> Decimal:
    return Decimal(rng.randint(-20000, 200000)).scaleb(-rng.choice([0, 1, 2, 4]))


def huge(rng: random.Random) -> Decimal:
    """Near the column's limit (14 digits, 4 decimals): products overflow 64 bits."""
    return Decimal(rng.randint(-(10**13), 10**14 - 1)).scaleb(-4)


def fill(plan: Plan, rng: random.Random, user: User, value=value) -> None:  # type: ignore[no-untyped-def]
    """Random targets, decompositions and approved values; some series empty, some 'maintain' targets."""
    plan.lagging_below, plan.watch_below, plan.on_track_below = rng.choice(
        [(Decimal("0.60"), Decimal("0.95"), Decimal("1.05")), (Decimal("0.50"), Decimal("0.90"), Decimal("1.10"))]
    )
    plan.save()
    regions = list(plan.area_regions())
    rows = []
    for indicator in plan.indicators.all():
        indicator.baseline_value = value(rng) if rng.random() > 0.1 else None
        indicator.target_value = indicator.baseline_value if rng.random() < 0.1 else value(rng)
        indicator.target_value = indicator.target_value if indicator.target_value is not None else value(rng)
        indicator.direction = rng.choice([1, -1])
        indicator.is_additive = rng.random() < 0.3
        indicator.save()
        # 规划调整: none, one or two, effective from a year of the plan (or the year after the baseline).
        for effective_year in rng.sample(range(2021, 2026), rng.choice([0, 0, 1, 2])):
            TargetAdjustment.objects.create(
                indicator=indicator,
                original_value=indicator.target_value,
                adjusted_value=value(rng),
                effective_year=effective_year,
                reason="测试",
                document="测试文件",
                created_by=user,
            )
        for region in regions[1:]:
            if rng.random() < 0.4:
                IndicatorRegionTarget.objects.create(
                    indicator=indicator,
                    region=region,
                    updated_by=user,
                    baseline_value=value(rng) if rng.random() < 0.7 else None,
                    target_value=value(rng) if rng.random() < 0.8 else None,
                )
        for region in regions:
            for year in range(2020, 2027):
                if rng.random() < 0.45:
                    approved = value(rng)
                    rows.append(
                        IndicatorValue(
                            indicator=indicator,
                            region=region,
                            year=year,
                            value=approved,
                            approved_value=approved if rng.random() < 0.9 else None,
                            source="测试",
                            created_by=user,
                            updated_by=user,
                        )
                    )
    IndicatorValue.objects.bulk_create(rows)


def target_for(status: IndicatorStatus, plan: Plan) -> tuple[object, object]:
    """The series' baseline and the target in force in the row's year (a 规划调整 changes the indicator's own)."""
    indicator = status.indicator
    adjustments = dict(
        TargetAdjustment.objects.filter(indicator=indicator).values_list("effective_year", "adjusted_value")
    )
    indicator_target = target_as_of(indicator.target_value, adjustments, status.as_of_year)
    own = IndicatorRegionTarget.objects.filter(indicator=indicator, region=status.region).first()
    if status.region_id == plan.region_id:
        return indicator.baseline_value, indicator_target
    if own is not None and (own.baseline_value is not None or own.target_value is not None):
        if indicator.is_additive:
            return own.baseline_value, own.target_value
        return (
            own.baseline_value if own.baseline_value is not None else indicator.baseline_value,
            own.target_value if own.target_value is not None else indicator_target,
        )
    return (None, None) if indicator.is_additive else (indicator.baseline_value, indicator_target)


def expected_for(status: IndicatorStatus, plan: Plan) -> object:
    indicator = status.indicator
    baseline, target = target_for(status, plan)
    observations = dict(
        IndicatorValue.objects.filter(
            indicator=indicator, region=status.region, approved_value__isnull=False
        ).values_list("year", "approved_value")
    )
    if target is None:
        return None
    return assess(
        baseline_year=indicator.baseline_year,
        baseline=baseline,
        target_year=indicator.target_year,
        target=target,
        observations=observations,
        direction=indicator.direction,
        as_of_year=status.as_of_year,
        thresholds=Thresholds(plan.lagging_below, plan.watch_below, plan.on_track_below),
    )


def close(actual: Decimal | None, wanted: Decimal | None) -> bool:
    if actual is None or wanted is None:
        return actual is wanted
    return actual == wanted if EXACT else abs(actual - wanted) <= Decimal("0.0002")


@pytest.fixture(params=["fast", "overflowing"])
def integer_type(request, monkeypatch):  # type: ignore[no-untyped-def]
    """On PostgreSQL also run with a 16-bit 'fast' integer, so every statement overflows and falls back to NUMERIC."""
    if request.param == "overflowing":
        if connection.vendor != "postgresql":
            pytest.skip("the NUMERIC fallback exists on PostgreSQL only")
        monkeypatch.setattr("indicators.status.FAST_INT", "SMALLINT")
    return request.param


@pytest.mark.parametrize(
    ("seed", "figures"),
    [
        (1, value),
        (2, value),
        (3, value),
        # Exactness beyond 64 bits: PostgreSQL's fallback to NUMERIC (SQLite would round, so PostgreSQL only).
        pytest.param(4, huge, marks=pytest.mark.postgres),
    ],
)
def test_sql_recompute_matches_the_reference(plan, seed, figures, integer_type) -> None:  # type: ignore[no-untyped-def]
    user = User.objects.create(username=f"filler{seed}")
    rng = random.Random(seed)
    fill(plan, rng, user, value=figures)
    recompute_indicator_statuses(plan_ids=[plan.pk])
    rows = list(IndicatorStatus.objects.filter(indicator__plan=plan).select_related("indicator", "region"))
    assert len(rows) == plan.indicators.count() * plan.area_regions().count() * 5
    checked = 0
    for row in rows:
        wanted = expected_for(row, plan)
        if wanted is None:
            assert row.status in ("no_plan", "no_data"), row
            continue
        checked += 1
        context = (row.indicator.number, row.region.name, row.as_of_year)
        assert row.target_value == target_for(row, plan)[1], context
        assert row.status == wanted.status, context
        assert row.latest_year == wanted.latest_year, context
        for name in ("gap", "completion", "expected_completion", "ratio", "forecast_value"):
            assert close(getattr(row, name), getattr(wanted, name)), (context, name)
        assert row.forecast_meets_target == wanted.forecast_meets_target, context
    assert checked > 500
    own = [r for r in rows if r.region_id == plan.region_id]
    assert sum(r.target_value != r.indicator.target_value for r in own) > 5  # the adjustments were in play


def test_band_edges_are_exact_in_sql(plan, alice, city) -> None:  # type: ignore[no-untyped-def]
    indicator = Indicator.objects.get(plan=plan, number=2)  # 95 → 96
    cases = {"95.57": "on_track", "95.5699": "watch", "95.36": "watch", "95.3599": "lagging", "95.63": "ahead"}
    user = alice
    for raw, status in cases.items():
        IndicatorValue.objects.update_or_create(
            indicator=indicator,
            region=city,
            year=2023,
            defaults={"value": raw, "approved_value": raw, "source": "x", "created_by": user, "updated_by": user},
        )
        recompute_indicator_statuses(indicator_ids=[indicator.pk], region_ids=[city.pk])
        row = IndicatorStatus.objects.get(indicator=indicator, region=city, as_of_year=2023)
        assert row.status == status, raw


def test_a_second_recompute_writes_nothing(plan, alice, city) -> None:  # type: ignore[no-untyped-def]
    indicator = plan.indicators.get(number=2)
    IndicatorValue.objects.create(
        indicator=indicator,
        region=city,
        year=2022,
        value="95.3",
        approved_value="95.3",
        source="x",
        created_by=alice,
        updated_by=alice,
    )
    first = recompute_indicator_statuses(plan_ids=[plan.pk])
    assert first.rows_written == plan.indicators.count() * plan.area_regions().count() * 5
    assert recompute_indicator_statuses(plan_ids=[plan.pk]).rows_written == 0
    # One changed value rewrites only that series' years from 2022 on.
    IndicatorValue.objects.filter(indicator=indicator, region=city).update(approved_value="95.5")
    assert recompute_indicator_statuses(plan_ids=[plan.pk]).rows_written == 4


def test_statuses_of_regions_outside_the_plan_are_removed(plan, city) -> None:  # type: ignore[no-untyped-def]
    from regions.models import Region

    recompute_indicator_statuses(plan_ids=[plan.pk])
    stray = Region.objects.create(name="外市某县", kind="county")
    indicator = plan.indicators.first()
    IndicatorStatus.objects.create(
        indicator=indicator, region=stray, as_of_year=2023, status="no_data", changed_at="2024-01-01T00:00:00+08:00"
    )
    # Rows written into the derived table by hand: the nightly run's check of the stored rows removes them.
    assert recompute_indicator_statuses(plan_ids=[plan.pk]).rows_deleted == 0
    result = recompute_indicator_statuses(plan_ids=[plan.pk], verify=True)
    assert result.rows_deleted == 1
    assert not IndicatorStatus.objects.filter(region=stray).exists()


def test_a_series_recompute_touches_only_its_own_plan(plan, alice, city) -> None:  # type: ignore[no-untyped-def]
    """Approving one value recomputes its series: with more plans tracked (next period's, other cities'), their
    statements, stored rows and counts are left alone, so the cost does not grow with the number of plans."""
    from django.test.utils import CaptureQueriesContext

    from indicators.models import StatusCount

    recompute_indicator_statuses(plan_ids=[plan.pk])
    other = Plan.objects.get(pk=plan.pk)
    other.pk, other.code = None, "another-plan-of-the-same-city"
    other.save()
    StatusCount.objects.create(plan=other, region=city, as_of_year=2023, status="ahead", count=7)
    indicator = Indicator.objects.get(plan=plan, number=2)
    IndicatorValue.objects.create(
        indicator=indicator, region=city, year=2023, value="95.6", approved_value="95.6", source="x",
        created_by=alice, updated_by=alice,
    )  # fmt: skip
    with CaptureQueriesContext(connection) as queries:
        result = recompute_indicator_statuses(indicator_ids=[indicator.pk], region_ids=[city.pk])
    assert result.rows_written > 0
    statements = [q["sql"] for q in queries.captured_queries if "indicators_indicatorstatus" in q["sql"]]
    assert statements and all(f"plan_id = {other.pk}" not in sql for sql in statements)
    # Its counts were not recounted (a recount would have replaced this row, which no status of it backs).
    assert StatusCount.objects.filter(plan=other).values_list("count", flat=True).get() == 7
