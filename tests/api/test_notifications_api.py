"""/api/v1/notifications/: a person's own notifications, newest first, filtered and paginated as the other lists;
marking one (404 for anyone else's) or all read, each idempotent."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from planning.models import Notification, NotificationKind, Unit
from planning.notifications import notifications_mark_read, notify
from tests.api.test_api import api
from tests.conftest import api_token

pytestmark = pytest.mark.django_db

LIST = "/api/v1/notifications/"


def note(user: Any, title: str, *, kind: str = NotificationKind.APPROVED, **kw: Any) -> Any:
    [created] = notify(
        users=[user], kind=kind, title=title, body=kw.pop("body", f"{title}\n第二行"), link="/values/", **kw
    )
    return created


def titles(response: Any) -> list[str]:
    assert response.status_code == 200, response.content[:300]
    return [row["title"] for row in response.json()["results"]]


def test_the_list_holds_only_ones_own_newest_first(alice, bob) -> None:  # type: ignore[no-untyped-def]
    unit = Unit.objects.get(name="市教育局")
    first = note(alice, "第一条", unit=unit)
    note(alice, "第二条", kind=NotificationKind.WARNING)
    note(bob, "鲍勃的秘密通知", body="沐川县的内容")

    response = api(alice).get(LIST)
    assert titles(response) == ["第二条", "第一条"]
    assert "鲍勃" not in response.content.decode() and "沐川县的内容" not in response.content.decode()
    body = response.json()
    assert body["count"] == 2
    row = body["results"][1]
    assert row == {
        "id": first.pk,
        "kind": "approved",
        "kind_label": "填报已通过",
        "title": "第一条",
        "body": "第一条\n第二行",
        "link": "/values/",
        "unit": unit.pk,
        "unit_name": "市教育局",
        "created_at": row["created_at"],
        "read_at": None,
        "unread": True,
    }
    assert titles(api(bob).get(LIST)) == ["鲍勃的秘密通知"]


def test_filters_ordering_and_pagination(alice) -> None:  # type: ignore[no-untyped-def]
    seen = note(alice, "已读的退回", kind=NotificationKind.RETURNED)
    note(alice, "未读的退回", kind=NotificationKind.RETURNED)
    note(alice, "未读的预警", kind=NotificationKind.WARNING)
    notifications_mark_read(user=alice, ids=[seen.pk])
    client = api(alice)

    assert titles(client.get(LIST, {"unread": "true"})) == ["未读的预警", "未读的退回"]
    assert titles(client.get(LIST, {"unread": "false"})) == ["已读的退回"]
    assert titles(client.get(LIST, {"kind": "returned"})) == ["未读的退回", "已读的退回"]
    assert titles(client.get(LIST, {"kind": "returned", "unread": "true"})) == ["未读的退回"]
    assert titles(client.get(LIST, {"ordering": "created_at"})) == ["已读的退回", "未读的退回", "未读的预警"]

    paged = client.get(LIST, {"page_size": 2})
    assert paged.json()["count"] == 3 and len(paged.json()["results"]) == 2 and paged.json()["next"]

    for params, field in (
        ({"unread": "maybe"}, "unread"),
        ({"kind": "spam"}, "kind"),
        ({"ordering": "title"}, "ordering"),
    ):
        refused = client.get(LIST, params)
        assert refused.status_code == 400, params
        assert field in refused.json()
        assert any("\u4e00" <= ch <= "\u9fff" for ch in str(refused.json()[field])), refused.json()


def test_mark_one_read_is_idempotent_and_anothers_id_is_404(alice, bob) -> None:  # type: ignore[no-untyped-def]
    mine = note(alice, "我的通知")
    other = note(alice, "另一条")
    bobs = note(bob, "鲍勃的通知")
    client = api(alice)

    response = client.post(f"{LIST}{mine.pk}/read/")
    assert response.status_code == 200
    assert response.json()["id"] == mine.pk and response.json()["unread"] is False
    read_at = response.json()["read_at"]
    assert read_at is not None
    again = client.post(f"{LIST}{mine.pk}/read/")
    assert again.status_code == 200 and again.json()["read_at"] == read_at
    other.refresh_from_db()
    assert other.read_at is None
    # The list's filters do not decide whether the one asked for is found.
    assert client.post(f"{LIST}{mine.pk}/read/?unread=true").status_code == 200

    for url in (f"{LIST}{bobs.pk}/read/", f"{LIST}999999999/read/"):
        refused = client.post(url)
        assert refused.status_code == 404, url
        assert refused.json() == {"detail": "不存在，或不在您的查看范围内。", "code": "not_found"}
    bobs.refresh_from_db()
    assert bobs.read_at is None
    assert client.get(f"{LIST}{mine.pk}/read/").status_code == 405


def test_mark_all_read_touches_only_ones_own(alice, bob) -> None:  # type: ignore[no-untyped-def]
    for n in range(3):
        note(alice, f"通知{n}")
    note(bob, "鲍勃的通知")
    client = api(alice)
    response = client.post(f"{LIST}read-all/")
    assert response.status_code == 200
    assert response.json() == {"marked": 3, "detail": "已将 3 条通知标为已读。"}
    assert client.post(f"{LIST}read-all/").json()["marked"] == 0
    assert titles(client.get(LIST, {"unread": "true"})) == []
    assert Notification.objects.get(user=bob).read_at is None


def test_mark_all_of_one_kind_read(alice) -> None:  # type: ignore[no-untyped-def]
    note(alice, "预警一", kind=NotificationKind.WARNING)
    note(alice, "预警二", kind=NotificationKind.WARNING)
    note(alice, "退回", kind=NotificationKind.RETURNED)
    client = api(alice)
    refused = client.post(f"{LIST}read-all/?kind=spam")
    assert refused.status_code == 400 and "kind" in refused.json()
    assert titles(client.get(LIST, {"unread": "true"})) == ["退回", "预警二", "预警一"]  # nothing marked
    assert client.post(f"{LIST}read-all/?kind=warning").json()["marked"] == 2
    assert titles(client.get(LIST, {"unread": "true"})) == ["退回"]


def test_with_a_token_and_anonymously(alice) -> None:  # type: ignore[no-untyped-def]
    note(alice, "令牌可见")
    client = APIClient()
    assert client.get(LIST).status_code == 401
    assert client.post(f"{LIST}read-all/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(alice)}")
    assert titles(client.get(LIST)) == ["令牌可见"]


def test_the_list_runs_a_fixed_number_of_queries(alice, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    unit = Unit.objects.get(name="市教育局")
    client = api(alice)
    note(alice, "一条", unit=unit)
    with django_assert_max_num_queries(4) as few:
        assert client.get(LIST).status_code == 200
    for n in range(30):
        note(alice, f"通知{n}", unit=unit)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(titles(client.get(LIST))) == 31
