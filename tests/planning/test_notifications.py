"""Who is told of each transition of a reviewed entry, what they read, and how mail follows each person's choice."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from indicators.services import (
    IndicatorValueInput,
    indicator_value_approve,
    indicator_value_create,
    indicator_value_reopen,
    indicator_value_return,
    indicator_value_submit,
    indicator_value_update,
    indicator_value_withdraw,
)
from indicators.values import INDICATOR_VALUE
from planning.models import Notification, NotificationKind, NotificationPreference
from planning.notifications import notify
from planning.selectors import entry_reviewers
from planning.services import TaskProgressInput, task_progress_create, task_progress_submit
from tests.conftest import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today_2026")]


def told(kind: str | None = None) -> list[tuple[str, str]]:
    """(username, kind) of every notification, in the order written."""
    rows = Notification.objects.order_by("pk")
    if kind is not None:
        rows = rows.filter(kind=kind)
    return list(rows.values_list("user__username", "kind"))


def draft(user, indicator, region, year=2024, value="95.8"):  # type: ignore[no-untyped-def]
    return indicator_value_create(
        indicator=indicator,
        region=region,
        year=year,
        user=user,
        data=IndicatorValueInput(value=value, source="统计年报"),
    )


@pytest.fixture
def mia(db):  # type: ignore[no-untyped-def]
    """审核员 of 沐川县: in scope for 沐川县's values, not for the city's."""
    return make_user("mia", "审核员", regions=("沐川县",))


# --- submit -----------------------------------------------------------------------------------------------


def test_submit_tells_exactly_the_reviewers_in_scope(alice, bob, carol, dave, erin, leo, mia, rate, city) -> None:  # type: ignore[no-untyped-def]
    entry = indicator_value_submit(value=draft(alice, rate, city), user=alice)
    # carol and erin review 市教育局's indicators; dave (夹江县) and mia (沐川县) are out of scope for the city.
    assert told() == [("carol", "submitted"), ("erin", "submitted")]
    notice = Notification.objects.get(user=carol)
    assert notice.title == "待审核：学前教育毛入园率 · 乐山市 · 2024年"
    assert notice.body == "Alice 提交了“学前教育毛入园率 · 乐山市 · 2024年”，请审核。"
    assert notice.link == reverse("indicators:value-detail", args=[entry.pk])
    assert notice.unit == rate.lead_unit
    assert notice.unit.name == "市教育局"


def test_a_county_value_reaches_the_county_reviewer_too(alice, carol, dave, mia, rate, muchuan) -> None:  # type: ignore[no-untyped-def]
    indicator_value_submit(value=draft(alice, rate, muchuan), user=alice)
    assert told() == [("carol", "submitted"), ("mia", "submitted")]


def test_a_reviewer_who_wrote_the_entry_is_not_asked_to_review_it(alice, carol, erin, rate, city) -> None:  # type: ignore[no-untyped-def]
    entry = draft(erin, rate, city)
    entry = indicator_value_update(
        entry=entry, version=entry.version, data=IndicatorValueInput(value="95.9"), user=alice
    )
    indicator_value_submit(value=entry, user=alice)
    # erin created it: the four-eyes rule keeps her from reviewing it, so she is not asked to.
    assert told() == [("carol", "submitted")]


def test_an_inactive_reviewer_hears_nothing(alice, carol, erin, rate, city) -> None:  # type: ignore[no-untyped-def]
    carol.is_active = False
    carol.save()
    indicator_value_submit(value=draft(alice, rate, city), user=alice)
    assert told() == [("erin", "submitted")]


def test_finding_the_reviewers_costs_one_query_per_candidate(alice, carol, rate, city) -> None:  # type: ignore[no-untyped-def]
    entry = draft(alice, rate, city)

    def queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as context:
            found = entry_reviewers(INDICATOR_VALUE.review_scope, entry)
        return len(found), len(context)

    few = queries()
    for n in range(4):
        make_user(f"reviewer{n}", "审核员", units=("市教育局",))
    many = queries()
    assert (few[0], many[0]) == (1, 5)
    assert many[1] - few[1] <= 4  # one query for each of the four new candidates, nothing more
    assert few[1] <= 3 + 1


# --- return, approve, reopen, withdraw -----------------------------------------------------------------------


def test_return_tells_the_authors_with_the_reason(alice, bob, carol, erin, mia, rate, muchuan) -> None:  # type: ignore[no-untyped-def]
    entry = draft(alice, rate, muchuan)
    entry = indicator_value_update(entry=entry, version=entry.version, data=IndicatorValueInput(value="95.9"), user=bob)
    entry = indicator_value_submit(value=entry, user=bob)
    Notification.objects.all().delete()

    indicator_value_return(value=entry, user=mia, comment="  请补充数据来源的文号。  ")
    # alice created it, bob edited and submitted it; mia (who returned it) hears nothing of her own action.
    assert told() == [("alice", "returned"), ("bob", "returned")]
    notice = Notification.objects.get(user=bob)
    assert notice.title == "被退回：学前教育毛入园率 · 沐川县 · 2024年"
    assert "Mia 退回了“学前教育毛入园率 · 沐川县 · 2024年”" in notice.body
    assert "审核意见：请补充数据来源的文号。\n" in notice.body
    assert notice.link == reverse("indicators:value-detail", args=[entry.pk])


def test_approve_tells_the_authors(alice, bob, carol, rate, muchuan) -> None:  # type: ignore[no-untyped-def]
    entry = draft(alice, rate, muchuan)
    entry = indicator_value_submit(value=entry, user=bob)
    Notification.objects.all().delete()
    indicator_value_approve(value=entry, user=carol)
    assert told() == [("alice", "approved"), ("bob", "approved")]
    assert Notification.objects.get(user=alice).body == "Carol 审核通过了“学前教育毛入园率 · 沐川县 · 2024年”。"


def test_reopen_tells_the_authors_and_the_approver_but_not_the_actor(alice, bob, carol, rate, muchuan) -> None:  # type: ignore[no-untyped-def]
    entry = indicator_value_submit(value=draft(alice, rate, muchuan), user=bob)
    entry = indicator_value_approve(value=entry, user=carol)
    Notification.objects.all().delete()
    indicator_value_reopen(value=entry, user=alice)
    assert told() == [("bob", "reopened"), ("carol", "reopened")]
    assert Notification.objects.get(user=carol).title == "发起更正：学前教育毛入园率 · 沐川县 · 2024年"


def test_withdraw_tells_nobody(alice, carol, erin, rate, city) -> None:  # type: ignore[no-untyped-def]
    entry = indicator_value_submit(value=draft(alice, rate, city), user=alice)
    before = told()
    indicator_value_withdraw(value=entry, user=alice)
    assert told() == before


def test_task_progress_links_to_its_page_and_its_lead_unit(alice, carol, erin, frank, plan) -> None:  # type: ignore[no-untyped-def]
    task = next(
        t
        for t in plan.tasks.filter(responsibilities__unit__name="市教育局", responsibilities__role="lead").order_by(
            "order"
        )
        if t.progress_kind == "qualitative"
    )
    progress = task_progress_create(
        task=task, year=2024, region=None, user=alice, data=TaskProgressInput(narrative="推进中", percent="40")
    )
    task_progress_submit(progress=progress, user=alice)
    assert told() == [("carol", "submitted"), ("erin", "submitted")]
    notice = Notification.objects.get(user=carol)
    assert notice.link == reverse("planning:progress-detail", args=[progress.pk])
    assert notice.unit is not None and notice.unit.name == "市教育局"
    assert notice.title == f"待审核：{task.label} {task.title} 2024年"


# --- mail -----------------------------------------------------------------------------------------------


def test_mail_follows_each_persons_choice(alice, carol, erin, rate, city, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    carol.email, erin.email = "carol@jyj.leshan.gov.cn", "erin@jyj.leshan.gov.cn"
    carol.save()
    erin.save()
    NotificationPreference.objects.create(user=erin, kind=NotificationKind.SUBMITTED, email=False)
    NotificationPreference.objects.create(user=carol, kind=NotificationKind.APPROVED, email=False)  # another kind
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        entry = indicator_value_submit(value=draft(alice, rate, city), user=alice)
    assert [m.to for m in mail.outbox] == [["carol@jyj.leshan.gov.cn"]]
    message = mail.outbox[0]
    assert message.subject == "待审核：学前教育毛入园率 · 乐山市 · 2024年"
    assert f"查看：http://127.0.0.1:8000{reverse('indicators:value-detail', args=[entry.pk])}" in message.body
    # Both see it on the 通知 page; only the mailed one is marked as mailed.
    assert told() == [("carol", "submitted"), ("erin", "submitted")]
    emailed = dict(Notification.objects.values_list("user__username", "emailed_at"))
    assert emailed["carol"] is not None and emailed["erin"] is None


def test_no_mail_is_queued_before_the_commit(alice, carol, rate, city, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    carol.email = "carol@jyj.leshan.gov.cn"
    carol.save()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        indicator_value_submit(value=draft(alice, rate, city), user=alice)
    assert mail.outbox == []
    assert callbacks  # the mail waits for the commit


# --- occasions ------------------------------------------------------------------------------------------


def test_an_occasion_is_told_once_per_person(alice, carol, erin) -> None:  # type: ignore[no-untyped-def]
    first = notify(users=[alice, carol], kind=NotificationKind.DEADLINE_SOON, title="t", body="b", occasion="x:1")
    again = notify(users=[alice, carol, erin], kind=NotificationKind.DEADLINE_SOON, title="t", body="b", occasion="x:1")
    assert [n.user.username for n in first] == ["alice", "carol"]
    assert [n.user.username for n in again] == ["erin"]
    assert Notification.objects.filter(occasion="x:1").count() == 3
    # Without an occasion an event may repeat.
    notify(users=[alice], kind=NotificationKind.WARNING, title="t", body="b")
    notify(users=[alice], kind=NotificationKind.WARNING, title="t", body="b")
    assert Notification.objects.filter(user=alice, occasion="").count() == 2


def test_an_author_who_no_longer_sees_the_entry_is_not_told(alice, carol, rate, city) -> None:  # type: ignore[no-untyped-def]
    from planning.models import Unit

    entry = indicator_value_submit(value=draft(alice, rate, city), user=alice)
    # Alice moves to another unit before the review: the value is now outside her view.
    alice.scope.units.set(Unit.objects.filter(name="市财政局"))
    alice.scope.view_units.set(Unit.objects.filter(name="市财政局"))
    Notification.objects.all().delete()
    indicator_value_return(value=entry, user=carol, comment="请补充来源。")
    assert told() == []
    assert not [m for m in mail.outbox if "请补充来源" in m.body]
