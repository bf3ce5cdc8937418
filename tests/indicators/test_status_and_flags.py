"""Stored statuses, lag/overdue flags and digests, driven through the services as people use them."""

from __future__ import annotations

import datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.core import mail
from django.urls import reverse
from kombu.exceptions import OperationalError

from indicators.flags import send_flag_digests, sync_overdue_flags
from indicators.models import (
    Flag,
    FlagKind,
    FlagState,
    IndicatorStatus,
    IndicatorValue,
    PendingSeriesRecompute,
)
from indicators.services import (
    IndicatorValueInput,
    indicator_value_approve,
    indicator_value_create,
    indicator_value_reopen,
    indicator_value_submit,
    indicator_value_update,
    status_nightly,
    status_recompute_all,
    status_recompute_pending,
)
from planning.models import (
    Notification,
    NotificationKind,
    NotificationPreference,
    ReportingDeadline,
    Task,
    TaskStatus,
)
from planning.services import TaskProgressInput, task_progress_approve, task_progress_create, task_progress_submit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today_2026")]


def approved(author, reviewer, indicator, region, year, value, capture):  # type: ignore[no-untyped-def]
    """Create, submit and approve a value; run what the approval queues on commit."""
    with capture(execute=True):
        entry = indicator_value_create(
            indicator=indicator,
            region=region,
            year=year,
            user=author,
            data=IndicatorValueInput(value=value, source="统计年报", outlier_note="核实无误"),
        )
        entry = indicator_value_submit(value=entry, user=author)
        return indicator_value_approve(value=entry, user=reviewer)


def latest(indicator, region) -> IndicatorStatus:  # type: ignore[no-untyped-def]
    return IndicatorStatus.objects.get(indicator=indicator, region=region, as_of_year=2025)


@pytest.fixture
def binding(plan):  # type: ignore[no-untyped-def]
    """九年义务教育巩固率, the one 约束性 indicator: 95 → 96."""
    return plan.indicators.get(number=7)


def test_approval_recomputes_the_series_on_commit(
    alice,
    carol,
    rate,
    city,  # type: ignore[no-untyped-def]
    django_capture_on_commit_callbacks,
) -> None:
    approved(alice, carol, rate, city, 2023, "95.6", django_capture_on_commit_callbacks)
    row = latest(rate, city)
    assert (row.status, row.latest_year, row.ratio) == ("on_track", 2023, Decimal("1.0000"))
    assert row.baseline_value == Decimal("95") and row.target_value == Decimal("96")
    # The year-by-year trend: nothing known before 2023.
    by_year = dict(IndicatorStatus.objects.filter(indicator=rate, region=city).values_list("as_of_year", "status"))
    assert by_year == {2021: "no_data", 2022: "no_data", 2023: "on_track", 2024: "on_track", 2025: "on_track"}
    assert not PendingSeriesRecompute.objects.exists()


def test_a_draft_or_a_submitted_value_does_not_count(
    alice,
    rate,
    city,  # type: ignore[no-untyped-def]
    django_capture_on_commit_callbacks,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        entry = indicator_value_create(
            indicator=rate, region=city, year=2023, user=alice, data=IndicatorValueInput(value="95.6", source="x")
        )
        indicator_value_submit(value=entry, user=alice)
    status_recompute_all()
    assert latest(rate, city).status == "no_data"


def test_a_lagging_binding_indicator_is_flagged_to_its_lead_unit_and_resolved(  # type: ignore[no-untyped-def]
    alice, carol, binding, city, django_capture_on_commit_callbacks
) -> None:
    entry = approved(alice, carol, binding, city, 2023, "95.3", django_capture_on_commit_callbacks)
    assert latest(binding, city).status == "lagging"
    flag = Flag.objects.get(kind=FlagKind.LAG, state=FlagState.OPEN)
    assert (flag.indicator, flag.region, flag.is_binding, flag.lead_unit.name) == (binding, city, True, "市教育局")
    assert flag.reason.startswith("约束性指标滞后；完成度 30%，按时间应达 60%")
    assert "按趋势预测为" in flag.reason

    # A correction that brings it on track resolves the flag, keeping its history.
    with django_capture_on_commit_callbacks(execute=True):
        entry = indicator_value_reopen(value=entry, user=alice)
        entry = indicator_value_update(
            entry=entry, version=entry.version, user=alice, data=IndicatorValueInput(value="95.6", source="统计年报")
        )
        entry = indicator_value_submit(value=entry, user=alice)
        indicator_value_approve(value=entry, user=carol)
    flag.refresh_from_db()
    assert flag.state == FlagState.RESOLVED
    assert flag.resolution == "进度已恢复，不再满足预警条件"
    assert [h.history_change_reason for h in flag.history.order_by("history_date", "history_id")] == [
        "系统：发出预警",
        "系统：自动解除",
    ]


def test_a_binding_indicator_that_needs_speeding_up_is_flagged_but_an_expected_one_is_not(  # type: ignore[no-untyped-def]
    alice, carol, binding, rate, city, django_capture_on_commit_callbacks
) -> None:
    # Both 需加快 in 2023 (R ≈ 0.93) after a strong 2021, so the fitted line still reaches 96 (≈ 96.03):
    # only the 约束性 one is flagged.
    for indicator in (binding, rate):
        approved(alice, carol, indicator, city, 2021, "96.5", django_capture_on_commit_callbacks)
        approved(alice, carol, indicator, city, 2023, "95.56", django_capture_on_commit_callbacks)
    assert latest(binding, city).status == latest(rate, city).status == "watch"
    assert latest(rate, city).forecast_meets_target is True
    assert list(Flag.objects.values_list("indicator__number", flat=True)) == [7]


def test_a_forecast_that_misses_the_target_is_flagged(
    alice,
    carol,
    rate,
    city,  # type: ignore[no-untyped-def]
    django_capture_on_commit_callbacks,
) -> None:
    # On track in 2023 (R = 1), but the fitted line through 95, 95.1, 95.2, 95.6 reaches only ≈ 95.89.
    for year, value in [(2021, "95.1"), (2022, "95.2"), (2023, "95.6")]:
        approved(alice, carol, rate, city, year, value, django_capture_on_commit_callbacks)
    row = latest(rate, city)
    assert row.status == "on_track"
    assert row.forecast_meets_target is False
    flag = Flag.objects.get()
    assert flag.reason.startswith("按趋势预测为")
    assert "达不到目标 96" in flag.reason


def test_the_nightly_job_is_idempotent(
    alice,
    carol,
    binding,
    city,  # type: ignore[no-untyped-def]
    django_capture_on_commit_callbacks,
) -> None:
    approved(alice, carol, binding, city, 2023, "95.3", django_capture_on_commit_callbacks)
    first = status_nightly()
    flags = list(Flag.objects.order_by("pk").values_list("pk", "key", "state"))
    statuses = list(IndicatorStatus.objects.order_by("pk").values_list("pk", "status", "changed_at"))
    second = status_nightly()
    assert second["indicator_rows_written"] == 0
    assert second["task_rows_written"] == 0
    assert second["lag_flags_raised"] == second["overdue_flags_raised"] == 0
    assert list(Flag.objects.order_by("pk").values_list("pk", "key", "state")) == flags
    assert list(IndicatorStatus.objects.order_by("pk").values_list("pk", "status", "changed_at")) == statuses
    assert first["overdue_flags_raised"] > 0


def test_the_nightly_chord_in_small_pieces_equals_one_full_recompute(
    alice, carol, binding, rate, city, muchuan, settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    from indicators.services import recompute_chunks
    from indicators.tasks import nightly

    approved(alice, carol, binding, city, 2023, "95.3", django_capture_on_commit_callbacks)
    approved(alice, carol, rate, muchuan, 2022, "90", django_capture_on_commit_callbacks)
    status_nightly()
    whole = list(
        IndicatorStatus.objects.order_by("indicator", "region", "as_of_year").values_list(
            "indicator", "region", "as_of_year", "status", "latest_value", "forecast_value"
        )
    )
    open_flags = set(Flag.objects.filter(state=FlagState.OPEN).values_list("key", flat=True))
    IndicatorStatus.objects.all().delete()
    Flag.objects.all().delete()

    settings.RECOMPUTE_CHUNK_REGIONS = 5  # the city, 11 counties and 乐山高新区 → 3 pieces per plan
    assert [len(regions) for _, regions in recompute_chunks()] == [5, 5, 3, 5, 5, 3]
    nightly.delay()  # eager here: the chord's pieces, then the finishing step
    pieces = list(
        IndicatorStatus.objects.order_by("indicator", "region", "as_of_year").values_list(
            "indicator", "region", "as_of_year", "status", "latest_value", "forecast_value"
        )
    )
    assert pieces == whole
    assert set(Flag.objects.filter(state=FlagState.OPEN).values_list("key", flat=True)) == open_flags
    from planning.models import Plan
    from tests.indicators.test_flag_counts import counted_table, stored_table

    for each in Plan.objects.all():
        assert stored_table(each.pk) == counted_table(each.pk)


@pytest.mark.parametrize("chord", [True, False], ids=["chord", "one-process"])
def test_the_nightly_run_resolves_the_flags_of_a_region_that_left_the_plans_area(
    chord, alice, carol, rate, plan, muchuan, settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    """The chord's pieces look only at the regions in a plan's area: its last step resolves what is left open
    elsewhere, as the one-process nightly does, with the same resolution; the stored counts follow."""
    from indicators.tasks import nightly

    def run() -> None:
        if chord:
            nightly.delay()
        else:
            status_nightly()

    from tests.indicators.test_flag_counts import counted_table, stored_table

    approved(alice, carol, rate, muchuan, 2021, "80", django_capture_on_commit_callbacks)
    approved(alice, carol, rate, muchuan, 2022, "70", django_capture_on_commit_callbacks)  # 倒退
    settings.RECOMPUTE_CHUNK_REGIONS = 5
    run()
    kinds = set(Flag.objects.filter(state=FlagState.OPEN, region=muchuan).values_list("kind", flat=True))
    assert kinds == {FlagKind.LAG, FlagKind.OVERDUE}
    elsewhere = set(Flag.objects.filter(state=FlagState.OPEN).exclude(region=muchuan).values_list("pk", flat=True))

    muchuan.parent = None  # 沐川县 moved out of 乐山市 (as an administrator might, by mistake or by decree)
    muchuan.save()
    run()

    assert not Flag.objects.filter(state=FlagState.OPEN, region=muchuan).exists()
    assert set(Flag.objects.filter(state=FlagState.OPEN).values_list("pk", flat=True)) == elsewhere
    assert set(Flag.objects.filter(region=muchuan).values_list("resolution", flat=True)) == {"所在区域已不在规划范围内"}
    assert stored_table(plan.pk) == counted_table(plan.pk)


def nightly_run(chord: bool) -> None:
    from indicators.tasks import nightly

    if chord:
        nightly.delay()  # eager here: the pieces, then the last step
    else:
        status_nightly()


@pytest.mark.parametrize("chord", [True, False], ids=["chord", "one-process"])
def test_an_indicator_moved_to_another_plan_takes_its_flags_along(
    chord, alice, carol, rate, plan, muchuan, settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    """An administrator moves an indicator to the other plan: the next night resolves its flags under the old plan
    and raises them under the new one (a flag's key is unique while open, so a piece that did not look at flags
    held under another plan failed on it); both plans' stored counts stay the counts of their flags."""
    from indicators.flags import MOVED_PLAN
    from indicators.models import Indicator
    from planning.models import Plan
    from tests.indicators.test_flag_counts import counted_table, stored_table

    settings.RECOMPUTE_CHUNK_REGIONS = 5
    approved(alice, carol, rate, muchuan, 2021, "80", django_capture_on_commit_callbacks)
    approved(alice, carol, rate, muchuan, 2022, "70", django_capture_on_commit_callbacks)  # 倒退
    nightly_run(chord)
    before = set(Flag.objects.filter(state=FlagState.OPEN, indicator=rate).values_list("key", "kind"))
    assert {kind for _, kind in before} == {FlagKind.LAG, FlagKind.OVERDUE}

    other = Plan.objects.exclude(pk=plan.pk).exclude(region__isnull=True).get()
    Indicator.objects.filter(pk=rate.pk).update(plan=other, number=900)
    nightly_run(chord)

    moved = Flag.objects.filter(state=FlagState.OPEN, indicator=rate)
    assert set(moved.values_list("key", "kind")) == before
    assert set(moved.values_list("plan_id", flat=True)) == {other.pk}
    left = Flag.objects.filter(indicator=rate, plan=plan)
    assert set(left.values_list("state", "resolution")) == {(FlagState.RESOLVED, MOVED_PLAN)}
    for each in (plan, other):
        assert stored_table(each.pk) == counted_table(each.pk)


@pytest.mark.parametrize("chord", [True, False], ids=["chord", "one-process"])
def test_a_plan_without_a_region_raises_nothing_night_after_night(
    chord, alice, carol, rate, plan, muchuan, settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    """A plan whose region is taken away is not tracked: its indicators' flags are resolved once, and its status
    rows left from before raise no new ones (which would reach the unit again each night)."""
    from planning.models import Notification, Plan

    settings.RECOMPUTE_CHUNK_REGIONS = 5
    approved(alice, carol, rate, muchuan, 2021, "80", django_capture_on_commit_callbacks)
    approved(alice, carol, rate, muchuan, 2022, "70", django_capture_on_commit_callbacks)
    nightly_run(chord)
    assert Flag.objects.filter(state=FlagState.OPEN, plan=plan, indicator__isnull=False).exists()

    Plan.objects.filter(pk=plan.pk).update(region=None)
    nightly_run(chord)
    flags = list(Flag.objects.filter(plan=plan).order_by("pk").values_list("pk", "state"))
    notifications = Notification.objects.count()
    assert not Flag.objects.filter(state=FlagState.OPEN, plan=plan, indicator__isnull=False).exists()
    nightly_run(chord)
    assert list(Flag.objects.filter(plan=plan).order_by("pk").values_list("pk", "state")) == flags
    assert Notification.objects.count() == notifications


def test_overdue_flags_follow_the_deadline_and_go_when_the_entry_is_submitted(alice, rate, city, plan) -> None:  # type: ignore[no-untyped-def]
    ReportingDeadline.objects.create(plan=plan, year=2025, due_on=datetime.date(2026, 4, 30))
    sync_overdue_flags(today=datetime.date(2026, 3, 15))
    years = set(Flag.objects.filter(kind=FlagKind.OVERDUE, plan=plan).values_list("year", flat=True))
    assert years == {2021, 2022, 2023, 2024}  # 2025 is due on 30 April
    key = f"overdue:indicator:{rate.pk}:region:{city.pk}:year:2024"
    flag = Flag.objects.get(key=key, state=FlagState.OPEN)
    assert flag.reason == "2024年度数据逾期未报（截止 2025-01-31）"

    entry = indicator_value_create(
        indicator=rate, region=city, year=2024, user=alice, data=IndicatorValueInput(value="95.8", source="x")
    )
    sync_overdue_flags(today=datetime.date(2026, 3, 15))
    assert Flag.objects.get(key=key).state == FlagState.OPEN  # a draft is not a report
    indicator_value_submit(value=entry, user=alice)
    # The submission resolved it in its own transaction; the nightly run finds nothing left to do.
    assert Flag.objects.get(key=key).state == FlagState.RESOLVED
    result = sync_overdue_flags(today=datetime.date(2026, 3, 15))
    assert (result.raised, result.resolved) == (0, 0)


def warnings_to(username: str) -> list[Notification]:
    return list(Notification.objects.filter(user__username=username, kind=NotificationKind.WARNING).order_by("pk"))


def warning_mails() -> list[tuple[list[str], str]]:
    return [(m.to, m.subject) for m in mail.outbox if m.subject.startswith("【乐山教育规划目标跟踪】")]


def test_a_new_warning_reaches_the_lead_unit_at_once_mailed_as_each_chose(
    alice,
    carol,
    frank,
    binding,
    city,  # type: ignore[no-untyped-def]
    django_capture_on_commit_callbacks,
) -> None:
    alice.email, carol.email = "alice@jyj.leshan.gov.cn", "carol@jyj.leshan.gov.cn"
    alice.save()
    carol.save()
    NotificationPreference.objects.create(user=carol, kind=NotificationKind.WARNING, email=False)
    mail.outbox.clear()

    approved(alice, carol, binding, city, 2023, "95.3", django_capture_on_commit_callbacks)
    # The approval's on-commit recompute raised a 约束性 warning; 市教育局's people hear of it now, not tonight.
    flag = Flag.objects.get(state=FlagState.OPEN, kind=FlagKind.LAG, indicator=binding, region=city)
    assert flag.notified_at is not None
    (notice,) = warnings_to("alice")
    assert notice.title == "【乐山教育规划目标跟踪】市教育局：新增预警 1 项，逾期未报 0 项"
    assert "【约束性】九年义务教育巩固率（乐山市）：约束性指标滞后" in notice.body
    assert notice.unit is not None and notice.unit.name == "市教育局"
    assert notice.link == reverse("dashboards:overview") + f"?unit={notice.unit.pk}"
    assert len(warnings_to("carol")) == 1
    assert warnings_to("frank") == []  # 市财政局 leads no indicator
    # One mail per person who wants it (carol turned warning mail off), not one per unit.
    assert warning_mails() == [(["alice@jyj.leshan.gov.cn"], notice.title)]

    # The nightly digest has nothing new about it.
    assert send_flag_digests().flags == 0


def test_the_nightly_digest_tells_each_unit_once_and_never_twice(
    alice,
    carol,
    frank,
    binding,
    city,
    muchuan,  # type: ignore[no-untyped-def]
    django_capture_on_commit_callbacks,
) -> None:
    from indicators.tasks import recompute_series

    alice.email, carol.email = "alice@jyj.leshan.gov.cn", "carol@jyj.leshan.gov.cn"
    alice.save()
    carol.save()
    # The broker is down at both approvals: no warning at once; the nightly run finds both.
    with mock.patch.object(recompute_series, "apply_async", side_effect=OperationalError("Redis 连接被拒绝")):
        approved(alice, carol, binding, city, 2023, "95.3", django_capture_on_commit_callbacks)
        approved(alice, carol, binding, muchuan, 2023, "95.1", django_capture_on_commit_callbacks)
    assert Notification.objects.filter(kind=NotificationKind.WARNING).count() == 0
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        summary = status_nightly()
    # Lag and overdue flags in one digest per unit and person, although the full recompute raised them in parts.
    assert (summary["digest_notifications"], summary["digest_mails"]) == (3, 2)
    (alices,) = warnings_to("alice")
    assert alices.title.startswith("【乐山教育规划目标跟踪】市教育局：新增预警 2 项，逾期未报")
    assert "【约束性】九年义务教育巩固率（乐山市）：约束性指标滞后" in alices.body
    assert len(warnings_to("carol")) == 1
    # frank hears only about what 市财政局 leads (加强经费保障 of the implementation plan), as one digest.
    (franks,) = warnings_to("frank")
    assert franks.title.startswith("【乐山教育规划目标跟踪】市财政局：新增预警 0 项，逾期未报")
    assert "九年义务教育巩固率" not in franks.body
    assert sorted(to for to, _subject in warning_mails()) == [["alice@jyj.leshan.gov.cn"], ["carol@jyj.leshan.gov.cn"]]

    again = send_flag_digests()
    assert (again.mails, again.notifications, again.flags) == (0, 0, 0)
    assert len(warning_mails()) == 2


def test_a_lagging_task_warns_its_lead_unit_at_once(alice, carol, plan, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    qualitative = next(
        t
        for t in plan.tasks.filter(responsibilities__unit__name="市教育局", responsibilities__role="lead").order_by(
            "order"
        )
        if t.progress_kind == "qualitative"
    )
    approve_progress(alice, carol, qualitative, 2024, django_capture_on_commit_callbacks, percent="10")
    flag = Flag.objects.get(state=FlagState.OPEN, kind=FlagKind.LAG, task=qualitative)
    assert flag.notified_at is not None
    (notice,) = warnings_to("carol")
    assert notice.title == "【乐山教育规划目标跟踪】市教育局：新增预警 1 项，逾期未报 0 项"
    assert f"{qualitative.label}" in notice.body and "滞后" in notice.body


def test_an_unreachable_broker_keeps_the_approval_and_the_pending_recompute(  # type: ignore[no-untyped-def]
    alice, carol, rate, city, django_capture_on_commit_callbacks
) -> None:
    from indicators.tasks import recompute_series

    with mock.patch.object(recompute_series, "apply_async", side_effect=OperationalError("Redis 连接被拒绝")):
        entry = approved(alice, carol, rate, city, 2023, "95.6", django_capture_on_commit_callbacks)
    entry.refresh_from_db()
    assert entry.approved_value == Decimal("95.6")
    assert PendingSeriesRecompute.objects.filter(indicator=rate, region=city).count() == 1
    assert not IndicatorStatus.objects.filter(indicator=rate, region=city).exists()

    assert status_recompute_pending() == {"series": 1, "tasks": 0}
    assert latest(rate, city).status == "on_track"
    assert not PendingSeriesRecompute.objects.exists()


# --- tasks -------------------------------------------------------------------------------------------


def task(code: str) -> Task:
    return Task.objects.prefetch_related("targets__regions").get(plan__code="leshan-edu-14fyp", code=code)


def approve_progress(author, reviewer, task_obj, year, capture, region=None, **data):  # type: ignore[no-untyped-def]
    with capture(execute=True):
        progress = task_progress_create(
            task=task_obj, year=year, region=region, user=author, data=TaskProgressInput(narrative="进展", **data)
        )
        progress = task_progress_submit(progress=progress, user=author)
        return task_progress_approve(progress=progress, user=reviewer)


def task_status(task_obj, target=None, year=2025) -> TaskStatus:  # type: ignore[no-untyped-def]
    return TaskStatus.objects.get(task=task_obj, target=target, as_of_year=year)


def test_a_cumulative_task_counts_the_running_total(alice, carol, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    kindergartens = task("C14.2")  # 新建城镇公办幼儿园16所
    target = kindergartens.targets.get()
    approve_progress(alice, carol, kindergartens, 2021, django_capture_on_commit_callbacks, amounts={target.pk: "2"})
    approve_progress(alice, carol, kindergartens, 2022, django_capture_on_commit_callbacks, amounts={target.pk: "3"})
    row = task_status(kindergartens, target)
    assert (row.latest_value, row.completion, row.status) == (Decimal("5.0000"), Decimal("0.3125"), "watch")
    assert task_status(kindergartens).status == "watch"
    assert task_status(kindergartens, target, 2021).latest_value == Decimal("2.0000")


def test_an_annual_task_is_judged_year_by_year(alice, carol, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    lessons = task("C3.2")  # 每年评选50节智育“嘉课堂”、10所课堂教学改革样板学校
    classes, schools = lessons.quantity_targets
    approve_progress(
        alice, carol, lessons, 2022, django_capture_on_commit_callbacks, amounts={classes.pk: "50", schools.pk: "4"}
    )
    assert task_status(lessons, classes).status == "achieved"
    assert task_status(lessons, schools).status == "lagging"  # 4 of 10 that year
    assert task_status(lessons).status == "lagging"
    flag = Flag.objects.get(task=lessons, kind=FlagKind.LAG)
    assert flag.lead_unit.name == "市教育局"


def test_a_milestone_counts_the_regions_that_passed(alice, carol, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    from regions.models import Region

    milestone = task("C8.1")
    target = milestone.targets.get()
    approve_progress(
        alice,
        carol,
        milestone,
        2023,
        django_capture_on_commit_callbacks,
        region=Region.objects.get(name="五通桥区"),
        passed=True,
    )
    approve_progress(
        alice,
        carol,
        milestone,
        2023,
        django_capture_on_commit_callbacks,
        region=Region.objects.get(name="夹江县"),
        passed=False,
    )
    row = task_status(milestone, target)
    assert (row.latest_value, row.target_value, row.status) == (Decimal("1.0000"), Decimal("4.0000"), "lagging")


def test_a_qualitative_task_uses_the_percentage(alice, carol, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    research = task("C2.1")
    approve_progress(alice, carol, research, 2024, django_capture_on_commit_callbacks, percent="80")
    row = task_status(research)
    assert (row.status, row.completion, row.expected_completion) == ("on_track", Decimal("0.8000"), Decimal("0.8000"))


def test_values_are_untouched_by_a_recompute(alice, carol, rate, city, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    entry = approved(alice, carol, rate, city, 2023, "95.6", django_capture_on_commit_callbacks)
    before = IndicatorValue.history.filter(id=entry.pk).count()
    status_recompute_all()
    assert IndicatorValue.history.filter(id=entry.pk).count() == before


def test_an_open_flag_follows_its_unit_and_is_told_again_when_it_gets_worse(plan, rate, city) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from django.utils import timezone

    from indicators.flags import _sync
    from planning.models import AssessmentStatus, Unit

    education, finance = Unit.objects.get(name="市教育局"), Unit.objects.get(name="市财政局")
    earlier = timezone.now() - dt.timedelta(days=3)
    key = f"lag:indicator:{rate.pk}:region:{city.pk}"
    flag = Flag.objects.create(
        kind=FlagKind.LAG,
        key=key,
        plan=plan,
        indicator=rate,
        region=city,
        year=2025,
        lead_unit=education,
        status=AssessmentStatus.ON_TRACK,
        reason="按趋势预测为 95.5，达不到目标 96",
        raised_at=earlier,
        notified_at=earlier,
    )
    wanted = {
        "plan_id": plan.pk,
        "indicator": rate,
        "region_id": city.pk,
        "year": 2025,
        "lead_unit_id": finance.pk,  # an administrator changed the lead unit
        "is_binding": False,
        "status": AssessmentStatus.LAGGING,
        "reason": "滞后",
    }
    result = _sync(FlagKind.LAG, {key: wanted}, Flag.objects.filter(pk=flag.pk), timezone.now())
    flag.refresh_from_db()
    assert (flag.lead_unit, flag.status, flag.reason) == (finance, AssessmentStatus.LAGGING, "滞后")
    # Now 滞后: the unit hears of it again (the next digest takes flags not yet notified).
    assert flag.notified_at is None and result.escalated == 1
    # Only the reason changes next time: no new notice.
    wanted["reason"] = "滞后（完成度 40%）"
    result = _sync(FlagKind.LAG, {key: wanted}, Flag.objects.filter(pk=flag.pk), timezone.now())
    assert result.escalated == 0
