"""A synthetic plan at a chosen scale, for benchmarks only (`manage.py generate_scale`, `manage.py bench`).

Everything it creates is named 合成 (synthetic) and is never part of the real plan: a synthetic root region with
N county-level regions, M indicators with seeded random baselines and targets, and approved values for every
indicator × region × year, written in batches (COPY on PostgreSQL, bulk_create elsewhere).
"""

from __future__ import annotations

import random
import time
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from indicators.models import Attribute, Indicator, IndicatorValue
from planning.models import EntryStatus, Plan, PlanState
from regions.models import Region, RegionKind

SYNTHETIC_PREFIX = "synthetic"


def synthetic_code(regions: int, indicators: int, years: int) -> str:
    return f"{SYNTHETIC_PREFIX}-{regions}x{indicators}x{years}"


def delete_synthetic(code: str) -> None:
    plan = Plan.objects.filter(code=code).first()
    if plan is None:
        return
    root = plan.region
    with connection.cursor() as cursor:
        # Bulk deletes in SQL: the ORM would load a million rows to cascade them.
        cursor.execute(
            "DELETE FROM indicators_indicatorstatus WHERE indicator_id IN "
            "(SELECT id FROM indicators_indicator WHERE plan_id = %s)",
            [plan.pk],
        )
        cursor.execute(
            "DELETE FROM indicators_indicatorvalue WHERE indicator_id IN "
            "(SELECT id FROM indicators_indicator WHERE plan_id = %s)",
            [plan.pk],
        )
        cursor.execute("DELETE FROM indicators_flag WHERE plan_id = %s", [plan.pk])
    Indicator.objects.filter(plan=plan).delete()
    plan.delete()
    if root is not None:
        Region.objects.filter(parent=root).delete()
        root.delete()


def generate(*, regions: int, indicators: int, years: int, seed: int = 2025) -> tuple[Plan, int, float]:
    """Create the synthetic plan; returns it, the number of values written and the seconds taken."""
    started = time.perf_counter()
    code = synthetic_code(regions, indicators, years)
    delete_synthetic(code)
    rng = random.Random(seed)
    user, _ = User.objects.get_or_create(
        username="synthetic", defaults={"first_name": "合成数据生成器", "is_active": False}
    )
    with transaction.atomic():
        root = Region.objects.create(
            name=f"合成区域（{code}）", kind=RegionKind.CITY, order=60000, source="合成数据，仅用于性能测试"
        )
        Region.objects.bulk_create(
            [
                Region(
                    name=f"合成县{i:05d}",
                    kind=RegionKind.COUNTY,
                    parent=root,
                    order=60001 + i,
                    source="合成数据，仅用于性能测试",
                )
                for i in range(regions)
            ],
            batch_size=5000,
        )
        plan = Plan.objects.create(
            code=code,
            title=f"合成规模测试规划（{regions}个区域×{indicators}项指标×{years}年，非真实数据）",
            short_title="合成规模测试",
            issuing_body="（合成数据）",
            period_start_year=2021,
            period_end_year=2020 + years,
            baseline_year=2020,
            source_document="manage.py generate_scale",
            region=root,
            note="由 generate_scale 生成，仅用于性能测试，不是规划事实。",
            state=PlanState.ACTIVE,  # tracked, as a plan in use (a 草稿 takes no entries)
        )
        made = []
        for number in range(1, indicators + 1):
            baseline = Decimal(rng.randint(5000, 9500)) / 100
            made.append(
                Indicator(
                    plan=plan,
                    number=number,
                    name=f"合成指标{number:03d}",
                    unit="%",
                    baseline_year=2020,
                    baseline_value=baseline,
                    target_year=2020 + years,
                    target_value=baseline + Decimal(rng.randint(50, 800)) / 100,
                    attribute=Attribute.BINDING if number % 10 == 0 else Attribute.EXPECTED,
                    decimal_places=2,
                    source_document="manage.py generate_scale",
                )
            )
        Indicator.objects.bulk_create(made, batch_size=1000)
        indicator_rows = list(Indicator.objects.filter(plan=plan).values_list("pk", "baseline_value", "target_value"))
        region_ids = list(plan.area_regions().values_list("pk", flat=True))
        written = _write_values(plan, indicator_rows, region_ids, years, rng, user)
    return plan, written, time.perf_counter() - started


def _series(rng: random.Random, baseline: Decimal, target: Decimal, years: int) -> list[Decimal]:
    """A plausible path: some series ahead, most roughly on the line, some lagging or falling back."""
    pace = rng.choice([1.2, 1.0, 1.0, 0.9, 0.7, 0.4, -0.2])
    step = (target - baseline) / years
    return [
        (baseline + step * Decimal(str(round(pace * (year + 1) + rng.uniform(-0.3, 0.3), 3)))).quantize(Decimal("0.01"))
        for year in range(years)
    ]


def _write_values(
    plan: Plan, indicator_rows: list[Any], region_ids: list[int], years: int, rng: random.Random, user: User
) -> int:
    now = timezone.now()
    columns = [
        "indicator_id",
        "region_id",
        "year",
        "value",
        "approved_value",
        "status",
        "version",
        "revision",
        "source",
        "note",
        "outlier_note",
        "review_comment",
        "created_by_id",
        "updated_by_id",
        "created_at",
        "updated_at",
        "approved_at",
        "is_demo",
    ]
    count = 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            copy_sql = f"COPY indicators_indicatorvalue ({', '.join(columns)}) FROM STDIN"
            with cursor.cursor.copy(copy_sql) as copy:
                for indicator_id, baseline, target in indicator_rows:
                    for region_id in region_ids:
                        for offset, value in enumerate(_series(rng, baseline, target, years)):
                            copy.write_row(
                                [
                                    indicator_id,
                                    region_id,
                                    2021 + offset,
                                    value,
                                    value,
                                    EntryStatus.APPROVED,
                                    1,
                                    1,
                                    "合成数据",
                                    "",
                                    "",
                                    "",
                                    user.pk,
                                    user.pk,
                                    now,
                                    now,
                                    now,
                                    False,
                                ]
                            )
                            count += 1
        return count
    batch: list[IndicatorValue] = []
    for indicator_id, baseline, target in indicator_rows:
        for region_id in region_ids:
            for offset, value in enumerate(_series(rng, baseline, target, years)):
                batch.append(
                    IndicatorValue(
                        indicator_id=indicator_id,
                        region_id=region_id,
                        year=2021 + offset,
                        value=value,
                        approved_value=value,
                        status=EntryStatus.APPROVED,
                        source="合成数据",
                        created_by=user,
                        updated_by=user,
                        approved_at=now,
                    )
                )
                if len(batch) >= 5000:
                    IndicatorValue.objects.bulk_create(batch)
                    count += len(batch)
                    batch = []
    IndicatorValue.objects.bulk_create(batch)
    return count + len(batch)
