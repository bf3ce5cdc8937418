"""Overdue flags follow every transition of an entry at once, in its transaction; the nightly run only catches up.

Today is 15 March 2026 (today_2026): 2024's deadline (31 January 2025) has passed, so an item of 2024 without a
submitted or approved entry is overdue.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from indicators.flags import REPORTED, indicator_overdue_key, overdue_years, sync_overdue_flags, task_overdue_key
from indicators.models import Flag, FlagKind, FlagState, IndicatorStatus, IndicatorValue
from indicators.selectors import reporting_items
from indicators.services import (
    IndicatorValueInput,
    indicator_value_approve,
    indicator_value_create,
    indicator_value_reopen,
    indicator_value_return,
    indicator_value_submit,
    indicator_value_withdraw,
)
from planning.models import EntryStatus, ReportingDeadline, Task
from planning.services import (
    TaskProgressInput,
    task_progress_approve,
    task_progress_create,
    task_progress_reopen,
    task_progress_return,
    task_progress_submit,
    task_progress_withdraw,
)
from regions.models import Region, RegionKind

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today_2026")]

TODAY = datetime.date(2026, 3, 15)


def open_flag(key: str) -> Flag | None:
    return Flag.objects.filter(key=key, state=FlagState.OPEN).first()


def story(key: str) -> list[str]:
    """Each flag of the key, oldest first, as state (and resolution)."""
    return [
        f"{state}:{resolution}" if resolution else state
        for state, resolution in Flag.objects.filter(key=key).order_by("pk").values_list("state", "resolution")
    ]


def nightly_changes_nothing() -> None:
    before = list(Flag.objects.order_by("pk").values_list("pk", "key", "state", "reason"))
    result = sync_overdue_flags(today=TODAY)
    assert (result.raised, result.resolved) == (0, 0)
    assert list(Flag.objects.order_by("pk").values_list("pk", "key", "state", "reason")) == before


@pytest.fixture
def raised(plan):  # type: ignore[no-untyped-def]
    """The overdue flags as the nightly run leaves them before anyone reports."""
    sync_overdue_flags(today=TODAY)
    assert Flag.objects.filter(kind=FlagKind.OVERDUE, state=FlagState.OPEN).count() > 500
    return plan


@pytest.fixture
def qualitative(plan) -> Task:  # type: ignore[no-untyped-def]
    """A city-wide qualitative task led by 市教育局 (progress without a region)."""
    return next(
        t
        for t in plan.tasks.filter(responsibilities__unit__name="市教育局", responsibilities__role="lead").order_by(
            "order"
        )
        if t.progress_kind == "qualitative"
    )


def test_every_transition_of_an_indicator_value_keeps_its_overdue_flag_in_step(  # type: ignore[no-untyped-def]
    raised, alice, carol, rate, city, muchuan
) -> None:
    key = indicator_overdue_key(rate.pk, city.pk, 2024)
    other = indicator_overdue_key(rate.pk, muchuan.pk, 2024)
    assert open_flag(key) is not None and open_flag(other) is not None

    entry = indicator_value_create(
        indicator=rate, region=city, year=2024, user=alice, data=IndicatorValueInput(value="95.8", source="年报")
    )
    assert open_flag(key) is not None  # a draft is not a report

    entry = indicator_value_submit(value=entry, user=alice)
    assert open_flag(key) is None
    assert story(key) == ["resolved:已提交填报"]

    entry = indicator_value_withdraw(value=entry, user=alice)  # back to a draft after the deadline: overdue again
    assert open_flag(key) is not None
    entry = indicator_value_submit(value=entry, user=alice)
    entry = indicator_value_return(value=entry, user=carol, comment="请补充来源")
    assert open_flag(key) is not None  # returned after the deadline: overdue again

    entry = indicator_value_submit(value=entry, user=alice)
    entry = indicator_value_approve(value=entry, user=carol)
    assert open_flag(key) is None
    # A correction keeps the approved value in force: reopening does not make the item overdue.
    entry = indicator_value_reopen(value=entry, user=alice)
    assert open_flag(key) is None
    assert story(key) == ["resolved:已提交填报", "resolved:已提交填报", "resolved:已提交填报"]
    # Only the entry's own item: the same indicator elsewhere is still overdue.
    assert open_flag(other) is not None
    nightly_changes_nothing()


def test_every_transition_of_task_progress_keeps_its_overdue_flag_in_step(  # type: ignore[no-untyped-def]
    raised, alice, carol, qualitative
) -> None:
    key = task_overdue_key(qualitative.pk, None, 2024)
    assert open_flag(key) is not None
    progress = task_progress_create(
        task=qualitative, year=2024, region=None, user=alice, data=TaskProgressInput(narrative="推进", percent="30")
    )
    assert open_flag(key) is not None

    progress = task_progress_submit(progress=progress, user=alice)
    assert open_flag(key) is None
    progress = task_progress_withdraw(progress=progress, user=alice)
    assert open_flag(key) is not None
    progress = task_progress_submit(progress=progress, user=alice)
    progress = task_progress_return(progress=progress, user=carol, comment="请补充佐证")
    assert open_flag(key) is not None
    progress = task_progress_submit(progress=progress, user=alice)
    progress = task_progress_approve(progress=progress, user=carol)
    assert open_flag(key) is None
    task_progress_reopen(progress=progress, user=alice)
    assert open_flag(key) is None
    assert len(story(key)) == 3
    nightly_changes_nothing()


def test_a_region_milestone_flag_is_the_regions_own(raised, alice) -> None:  # type: ignore[no-untyped-def]
    from regions.models import Region

    milestone = Task.objects.prefetch_related("targets__regions").get(plan=raised, code="C8.1")
    wutongqiao, jiajiang = Region.objects.get(name="五通桥区"), Region.objects.get(name="夹江县")
    key, other = task_overdue_key(milestone.pk, wutongqiao.pk, 2024), task_overdue_key(milestone.pk, jiajiang.pk, 2024)
    progress = task_progress_create(
        task=milestone, year=2024, region=wutongqiao, user=alice, data=TaskProgressInput(narrative="推进", passed=True)
    )
    task_progress_submit(progress=progress, user=alice)
    assert open_flag(key) is None
    assert open_flag(other) is not None
    nightly_changes_nothing()


def test_before_the_deadline_nothing_is_raised(alice, carol, rate, city, plan) -> None:  # type: ignore[no-untyped-def]
    ReportingDeadline.objects.create(plan=plan, year=2025, due_on=datetime.date(2026, 4, 30))
    sync_overdue_flags(today=TODAY)
    key = indicator_overdue_key(rate.pk, city.pk, 2025)
    assert Flag.objects.filter(key=indicator_overdue_key(rate.pk, city.pk, 2024), state=FlagState.OPEN).exists()
    entry = indicator_value_create(
        indicator=rate, region=city, year=2025, user=alice, data=IndicatorValueInput(value="95.9", source="年报")
    )
    entry = indicator_value_submit(value=entry, user=alice)
    indicator_value_return(value=entry, user=carol, comment="请核实")
    assert not Flag.objects.filter(key=key).exists()
    nightly_changes_nothing()


def test_a_failed_transition_leaves_the_flag_as_it_was(raised, alice, rate, city) -> None:  # type: ignore[no-untyped-def]
    from planning.workflow import ConflictError

    key = indicator_overdue_key(rate.pk, city.pk, 2024)
    entry = indicator_value_create(
        indicator=rate, region=city, year=2024, user=alice, data=IndicatorValueInput(value="95.8", source="年报")
    )
    with pytest.raises(ConflictError):
        indicator_value_submit(value=entry, user=alice, version=entry.version + 5)
    assert open_flag(key) is not None


def test_a_correction_under_way_is_not_overdue_on_my_reporting_either(  # type: ignore[no-untyped-def]
    raised, alice, carol, rate, city
) -> None:
    entry = indicator_value_create(
        indicator=rate, region=city, year=2024, user=alice, data=IndicatorValueInput(value="95.8", source="年报")
    )
    entry = indicator_value_approve(value=indicator_value_submit(value=entry, user=alice), user=carol)
    indicator_value_reopen(value=entry, user=alice)
    items, _deadline = reporting_items(alice, raised, 2024, TODAY)
    item = next(i for i in items if i.kind == "indicator" and i.item_id == rate.pk and i.region == city)
    assert item.status == "draft" and item.overdue is False
    assert open_flag(indicator_overdue_key(rate.pk, city.pk, 2024)) is None
    # Every other item of hers the page marks overdue has its open flag, and no other.
    overdue_values = {(i.item_id, i.region.pk) for i in items if i.kind == "indicator" and i.overdue}
    flagged = set(
        Flag.objects.filter(
            plan=raised, kind=FlagKind.OVERDUE, state=FlagState.OPEN, year=2024, indicator__lead_unit__name="市教育局"
        ).values_list("indicator_id", "region_id")
    )
    assert overdue_values == flagged


def test_after_approval_the_indicator_page_shows_the_flag_resolved_and_the_status_fresh(  # type: ignore[no-untyped-def]
    raised, alice, carol, leo, rate, city, django_capture_on_commit_callbacks
) -> None:
    client = Client()
    client.force_login(leo)
    url = reverse("dashboards:indicator", args=[rate.pk])
    before = client.get(url, {"region": city.pk, "year": 2025}).content.decode()
    assert "逾期未报 · 未解除" in before

    with django_capture_on_commit_callbacks(execute=True):  # the recompute the approval queues (eager Celery)
        entry = indicator_value_create(
            indicator=rate, region=city, year=2024, user=alice, data=IndicatorValueInput(value="95.8", source="年报")
        )
        indicator_value_approve(value=indicator_value_submit(value=entry, user=alice), user=carol)

    row = IndicatorStatus.objects.get(indicator=rate, region=city, as_of_year=2025)
    assert (row.latest_year, str(row.latest_value.normalize())) == (2024, "95.8")
    body = client.get(url, {"region": city.pk, "year": 2025}).content.decode()
    lines = {m.group(1): m.group(0) for m in re.finditer(r"<li>[^<]*：(\d{4})年度数据逾期未报[^<]*</li>", body)}
    assert "逾期未报 · 已解除" in lines["2024"] and "已提交填报" in lines["2024"]
    # Other years of the same series are still overdue, and say so.
    assert "逾期未报 · 未解除" in lines["2023"]
    assert "95.8（2024）" in body  # the region's latest value, from the fresh stored status
    assert "待重新计算" not in body


def test_the_nightly_sync_flags_exactly_the_unreported_items_of_the_area(plan, rate, alice) -> None:  # type: ignore[no-untyped-def]
    """The nightly sync counts reported values per indicator × year before it reads any region: whatever it skips
    must still be what the item-by-item definition says. Mixed years of one indicator: 2021 complete, 2022 one
    region short but with a reported value outside the plan's area (which must not make up for it), 2023 with a
    draft and a returned value (not reported) and an approved one under correction (reported)."""
    area = list(plan.area_regions().values_list("pk", flat=True))
    outside = Region.objects.create(name="区外某县", kind=RegionKind.COUNTY)
    now = timezone.now()

    def value(region_id: int, year: int, status: str, approved: bool = False) -> None:
        IndicatorValue.objects.create(
            indicator=rate,
            region_id=region_id,
            year=year,
            value="95",
            status=status,
            approved_at=now if approved else None,
            created_by=alice,
            updated_by=alice,
        )

    for region in area:
        value(region, 2021, EntryStatus.APPROVED, approved=True)
    for region in area[1:]:
        value(region, 2022, EntryStatus.SUBMITTED)
    value(outside.pk, 2022, EntryStatus.APPROVED, approved=True)
    value(area[0], 2023, EntryStatus.DRAFT)
    value(area[1], 2023, EntryStatus.RETURNED)
    value(area[2], 2023, EntryStatus.DRAFT, approved=True)  # a correction of an approved value

    sync_overdue_flags(today=TODAY)

    reported = set(IndicatorValue.objects.filter(REPORTED, indicator=rate).values_list("region_id", "year"))
    expected = {
        indicator_overdue_key(rate.pk, region, year)
        for year in overdue_years(plan, TODAY)
        for region in area
        if (region, year) not in reported
    }
    flagged = set(
        Flag.objects.filter(state=FlagState.OPEN, kind=FlagKind.OVERDUE, indicator=rate).values_list("key", flat=True)
    )
    assert flagged == expected
    assert indicator_overdue_key(rate.pk, area[0], 2022) in flagged
    assert 2021 in overdue_years(plan, TODAY)
    assert not any(":year:2021:" in key + ":" for key in flagged)
    assert {indicator_overdue_key(rate.pk, area[i], 2023) for i in (0, 1)} <= flagged
    assert indicator_overdue_key(rate.pk, area[2], 2023) not in flagged
    nightly_changes_nothing()
