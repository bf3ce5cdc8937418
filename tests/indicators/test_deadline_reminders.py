"""Deadline reminders: 14 and 3 days before a year's deadline and the day after, each once, to each 填报员 with
items still open, counted as 我的填报 counts them."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from indicators.reminders import deadline_reminders_send, stage_for
from indicators.selectors import reporting_items
from indicators.services import (
    IndicatorValueInput,
    indicator_value_create,
    indicator_value_return,
    indicator_value_submit,
)
from planning.models import Notification, PlanState, ReportingDeadline
from tests.conftest import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today_2026")]

DUE = datetime.date(2026, 4, 30)


def day(days_before: int) -> datetime.date:
    return DUE - datetime.timedelta(days=days_before)


@pytest.fixture
def deadline(plan):  # type: ignore[no-untyped-def]
    """The 2025 figures of the plan are due on 30 April 2026; the plan takes entries (已结束, not finalised)."""
    plan.state, plan.evaluation_finalised_at = PlanState.ENDED, None
    plan.save()
    return ReportingDeadline.objects.create(plan=plan, year=2025, due_on=DUE)


def reminders() -> list[tuple[str, str, str]]:
    return list(Notification.objects.order_by("pk").values_list("user__username", "kind", "occasion"))


def test_the_stages(deadline) -> None:  # type: ignore[no-untyped-def]
    assert [stage_for(d) for d in (15, 14, 4, 3, 0, -1, -7, -8)] == [
        None,
        "14",
        "14",
        "3",
        "3",
        "passed",
        "passed",
        None,
    ]


def test_fourteen_days_before_each_entry_clerk_hears_their_open_count_once(  # type: ignore[no-untyped-def]
    deadline, plan, alice, bob, carol, frank, leo, rate, muchuan
) -> None:
    assert deadline_reminders_send(today=day(15)) == {"stages": 0, "reminded": 0}
    # bob has a draft and a returned value among his 16 indicators of 沐川县.
    draft = indicator_value_create(
        indicator=rate, region=muchuan, year=2025, user=bob, data=IndicatorValueInput(value="95.5", source="年报")
    )
    returned = indicator_value_create(
        indicator=plan.indicators.get(number=1),
        region=muchuan,
        year=2025,
        user=bob,
        data=IndicatorValueInput(value="0.3", source="年报", outlier_note="核实"),
    )
    returned = indicator_value_return(
        value=indicator_value_submit(value=returned, user=bob), user=carol, comment="请核实"
    )
    assert draft.status == "draft" and returned.status == "returned"
    bobs = reporting_items(bob, plan, 2025, day(14))[0]
    assert len(bobs) == 16

    result = deadline_reminders_send(today=day(14))
    assert result == {"stages": 1, "reminded": 2}
    occasion = f"deadline:14:plan:{plan.pk}:year:2025"
    # frank leads nothing in this plan (nothing open: nothing said); carol and leo do not enter figures.
    assert reminders()[-2:] == [("alice", "deadline_soon", occasion), ("bob", "deadline_soon", occasion)]
    notice = Notification.objects.get(user=bob, occasion=occasion)
    assert notice.title == f"{plan.short_title} 2025年度填报14 天后截止：16 项未提交"
    assert notice.body == (
        f"{plan.short_title} 2025年度的填报将于 2026年4月30日 截止，您负责的项目中尚有 16 项未提交审核"
        "（未填报 14 项、草稿 1 项、已退回 1 项）。请在截止前填报并提交审核。"
    )
    assert notice.link == reverse("workbench:my-reporting") + f"?plan={plan.pk}&year=2025"
    assert notice.unit is None
    # alice captures every region of 市教育局's items, bob's two among them.
    alices = len(reporting_items(alice, plan, 2025, day(14))[0])
    assert f"尚有 {alices} 项未提交审核（未填报 {alices - 2} 项、草稿 1 项、已退回 1 项）" in (
        Notification.objects.get(user=alice).body
    )

    # The job runs twice, or again the next day: nobody hears the same stage twice.
    assert deadline_reminders_send(today=day(14))["reminded"] == 0
    assert deadline_reminders_send(today=day(13))["reminded"] == 0
    assert Notification.objects.filter(occasion=occasion).count() == 2


def test_three_days_before_the_count_is_what_is_still_open(deadline, plan, bob, rate, muchuan) -> None:  # type: ignore[no-untyped-def]
    deadline_reminders_send(today=day(14))
    entry = indicator_value_create(
        indicator=rate, region=muchuan, year=2025, user=bob, data=IndicatorValueInput(value="95.5", source="年报")
    )
    indicator_value_submit(value=entry, user=bob)
    deadline_reminders_send(today=day(3))
    notice = Notification.objects.get(user=bob, occasion=f"deadline:3:plan:{plan.pk}:year:2025")
    assert notice.kind == "deadline_soon"
    assert notice.title == f"{plan.short_title} 2025年度填报3 天后截止：15 项未提交"
    assert "（未填报 15 项）" in notice.body
    deadline_reminders_send(today=day(0))  # the day itself is still the 3-day stage: nothing new
    assert Notification.objects.filter(user=bob).count() == 2


def test_the_day_after_the_deadline_once_then_nothing(deadline, plan, bob) -> None:  # type: ignore[no-untyped-def]
    assert deadline_reminders_send(today=day(-1))["reminded"] == 1
    notice = Notification.objects.get(user=bob)
    assert notice.kind == "deadline_passed"
    assert notice.occasion == f"deadline:passed:plan:{plan.pk}:year:2025"
    assert notice.title == f"{plan.short_title} 2025年度填报已逾期：16 项未提交"
    assert "已于 2026年4月30日 截止" in notice.body and "已计入逾期未报" in notice.body
    assert deadline_reminders_send(today=day(-2))["reminded"] == 0
    assert deadline_reminders_send(today=day(-9)) == {"stages": 0, "reminded": 0}


def test_nobody_with_nothing_open_and_nobody_inactive(deadline, plan, bob, frank) -> None:  # type: ignore[no-untyped-def]
    gone = make_user("gone", "填报员", regions=("沐川县",))
    gone.is_active = False
    gone.save()
    deadline_reminders_send(today=day(14))
    assert [u for u, *_ in reminders()] == ["bob"]


def test_a_plan_that_takes_no_entries_sends_no_reminders(deadline, plan, bob) -> None:  # type: ignore[no-untyped-def]
    plan.state = PlanState.ARCHIVED
    plan.save()
    assert deadline_reminders_send(today=day(14)) == {"stages": 0, "reminded": 0}
    assert not Notification.objects.exists()


def test_the_job_is_scheduled_daily_at_eight() -> None:
    from django_celery_beat.models import PeriodicTask

    job = PeriodicTask.objects.select_related("crontab").get(task="indicators.tasks.deadline_reminders")
    assert (job.crontab.minute, job.crontab.hour, str(job.crontab.timezone)) == ("0", "8", "Asia/Shanghai")
    assert job.enabled
    catch_up = PeriodicTask.objects.get(task="planning.tasks.catch_up_deliveries")
    assert catch_up.enabled


def test_the_task_calls_the_service(deadline, bob, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from indicators.tasks import deadline_reminders

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: day(14))
    assert deadline_reminders.delay().get() == {"stages": 1, "reminded": 1}
