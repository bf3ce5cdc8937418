"""One review cycle of an indicator value through /api/v1/: exactly who is told, of what, in which order."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse
from rest_framework.test import APIClient

from indicators.flags import sync_overdue_flags
from indicators.models import Flag, FlagKind, FlagState, IndicatorStatus, PendingSeriesRecompute
from planning.models import Notification

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today_2026")]


def api(user) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_submit_return_resubmit_approve(  # type: ignore[no-untyped-def]
    alice, bob, carol, dave, erin, leo, rate, city, django_capture_on_commit_callbacks
) -> None:
    for person in (alice, bob, carol, dave, erin, leo):
        person.email = f"{person.username}@jyj.leshan.gov.cn"
        person.save()
    # The nightly run has flagged the 2024 value as overdue and the units have heard of it.
    sync_overdue_flags()
    overdue = Flag.objects.get(kind=FlagKind.OVERDUE, indicator=rate, region=city, year=2024, state=FlagState.OPEN)
    Flag.objects.update(notified_at=overdue.raised_at)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        created = api(alice).post(
            "/api/v1/indicator-values/",
            {"indicator": rate.pk, "region": city.pk, "year": 2024, "value": 95.8, "source": "统计年报"},
            format="json",
        )
        assert created.status_code == 201, created.json()
        pk = created.json()["id"]
        assert Notification.objects.count() == 0  # a draft tells nobody

        submitted = api(alice).post(f"/api/v1/indicator-values/{pk}/submit/", {"version": 1}, format="json")
        assert submitted.status_code == 200, submitted.json()
        returned = api(carol).post(
            f"/api/v1/indicator-values/{pk}/return/", {"comment": "请注明统计年报的年份和页码。"}, format="json"
        )
        assert returned.status_code == 200, returned.json()
        edited = api(alice).patch(
            f"/api/v1/indicator-values/{pk}/",
            {"version": returned.json()["version"], "source": "2024年教育事业统计年报第12页"},
            format="json",
        )
        assert edited.status_code == 200, edited.json()
        resubmitted = api(alice).post(
            f"/api/v1/indicator-values/{pk}/submit/", {"version": edited.json()["version"]}, format="json"
        )
        assert resubmitted.status_code == 200, resubmitted.json()
        approved = api(erin).post(f"/api/v1/indicator-values/{pk}/approve/", {}, format="json")
        assert approved.status_code == 200, approved.json()

    item = "学前教育毛入园率 · 乐山市 · 2024年"
    rows = list(Notification.objects.order_by("pk").values_list("user__username", "kind", "title"))
    assert rows == [
        ("carol", "submitted", f"待审核：{item}"),
        ("erin", "submitted", f"待审核：{item}"),
        ("alice", "returned", f"被退回：{item}"),
        ("carol", "submitted", f"待审核：{item}"),
        ("erin", "submitted", f"待审核：{item}"),
        ("alice", "approved", f"已通过：{item}"),
    ]
    returned_notice = Notification.objects.get(kind="returned")
    assert returned_notice.body == (
        f"Carol 退回了“{item}”。\n审核意见：请注明统计年报的年份和页码。\n请按审核意见修改后重新提交。"
    )
    link = reverse("indicators:value-detail", args=[pk])
    assert set(Notification.objects.values_list("link", flat=True)) == {link}
    # Each notification mailed once to its person, in the same order; nobody else (bob, dave, leo) hears anything.
    assert [(m.to, m.subject) for m in mail.outbox] == [
        ([f"{user}@jyj.leshan.gov.cn"], title) for user, _kind, title in rows
    ]
    assert "审核意见：请注明统计年报的年份和页码。" in mail.outbox[2].body
    assert f"http://127.0.0.1:8000{link}" in mail.outbox[2].body

    # Nothing stale after the cycle: the overdue flag was resolved by the submission and stays resolved, the
    # status shows the approved value, and no recompute is left pending.
    overdue.refresh_from_db()
    assert overdue.state == FlagState.RESOLVED
    assert not Flag.objects.filter(indicator=rate, region=city, year=2024, kind=FlagKind.OVERDUE, state=FlagState.OPEN)
    status = IndicatorStatus.objects.get(indicator=rate, region=city, as_of_year=2024)
    assert str(status.latest_value.normalize()) == "95.8"
    assert not PendingSeriesRecompute.objects.exists()
