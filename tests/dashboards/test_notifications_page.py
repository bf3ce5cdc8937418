"""The 通知 page: a person's own notifications only, newest first, filtered by read state and kind; 查看 marks one
read and goes to its page on this site (never elsewhere); 标为已读 and 全部标为已读; the email settings."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from planning.models import Notification, NotificationKind, NotificationPreference, Unit
from planning.notifications import emails_wanted, notification_preferences_set, notifications_mark_read, notify

pytestmark = pytest.mark.django_db

PAGE = "/notifications/"
SETTINGS = "/notifications/settings/"


def note(user: Any, title: str, *, kind: str = NotificationKind.APPROVED, link: str = "/values/", **kw: Any) -> Any:
    [created] = notify(users=[user], kind=kind, title=title, body=kw.pop("body", f"{title}的详情"), link=link, **kw)
    return created


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def titles_in(html: str) -> list[str]:
    """The notification titles a page lists, in order."""
    return re.findall(r'<span class="note-name">(.*?)</span>', html)


def header_count(html: str) -> str | None:
    found = re.search(r'href="/notifications/"[^>]*>通知(?:<span class="count">(\d+)</span>)?</a>', html)
    assert found, "the header links to 通知"
    return found.group(1)


# --- own only, newest first ---------------------------------------------------------------------------


def test_a_person_sees_only_their_own_newest_first(alice, bob) -> None:  # type: ignore[no-untyped-def]
    for title in ("第一条：填报已通过", "第二条：填报被退回", "第三条：进度预警"):
        note(alice, title)
    note(bob, "鲍勃的秘密通知", body="沐川县的内容")

    html = text(client_for(alice).get(PAGE))
    assert titles_in(html) == ["第三条：进度预警", "第二条：填报被退回", "第一条：填报已通过"]
    assert "鲍勃的秘密通知" not in html and "沐川县的内容" not in html
    assert "共 3 条" in html
    assert header_count(html) == "3"
    assert "第一条：填报已通过的详情" in html  # the body is shown

    bobs = text(client_for(bob).get(PAGE))
    assert titles_in(bobs) == ["鲍勃的秘密通知"] and "第一条" not in bobs


def test_each_row_shows_kind_time_unread_and_its_buttons(alice) -> None:  # type: ignore[no-untyped-def]
    unit = Unit.objects.get(name="市教育局")
    unread = note(alice, "二〇二四年数值待审核", kind=NotificationKind.SUBMITTED, unit=unit)
    read = note(alice, "截止日期临近", kind=NotificationKind.DEADLINE_SOON, link="")
    notifications_mark_read(user=alice, ids=[read.pk])

    html = text(client_for(alice).get(PAGE))
    cards = html.split('<article class="card note-item')[1:]
    assert len(cards) == 2
    latest, earlier = cards
    assert "填报截止临近" in latest and "截止日期临近" in latest
    assert "未读" not in latest and "标为已读" not in latest  # already read
    assert "查看" not in latest  # no page to open
    assert "填报待审核" in earlier and "未读" in earlier and "市教育局" in earlier
    assert f'action="/notifications/{unread.pk}/open/"' in earlier and ">查看<" in earlier
    assert f'action="/notifications/{unread.pk}/read/"' in earlier and "标为已读" in earlier
    assert unread.created_at.astimezone().strftime("%Y-%m-%d") in earlier


def test_a_long_body_keeps_its_lines_and_folds_the_rest(alice) -> None:  # type: ignore[no-untyped-def]
    lines = [f"【预警】指标{n}：滞后" for n in range(1, 13)]
    note(alice, "每日汇总", kind=NotificationKind.WARNING, body="\n".join(lines))
    note(alice, "短通知", body="第一行\n第二行")

    html = text(client_for(alice).get(PAGE))
    assert "展开全文" in html
    assert html.count("【预警】指标1：滞后") == 2  # the preview and the full text behind 展开全文
    assert "【预警】指标12：滞后" in html
    assert "第一行\n第二行" in html  # line breaks kept (the page shows them with white-space: pre-line)
    assert html.count("展开全文") == 1


def test_anonymous_is_sent_to_the_login(db) -> None:  # type: ignore[no-untyped-def]
    for url in (PAGE, SETTINGS):
        response = Client().get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- filters ------------------------------------------------------------------------------------------


def test_unread_and_kind_filters(alice) -> None:  # type: ignore[no-untyped-def]
    seen = note(alice, "已读的退回", kind=NotificationKind.RETURNED)
    note(alice, "未读的退回", kind=NotificationKind.RETURNED)
    note(alice, "未读的预警", kind=NotificationKind.WARNING)
    notifications_mark_read(user=alice, ids=[seen.pk])
    client = client_for(alice)

    unread = text(client.get(PAGE, {"unread": "true"}))
    assert titles_in(unread) == ["未读的预警", "未读的退回"]
    assert "共 2 条" in unread
    assert re.search(r'aria-current="page">未读<span class="n">2</span>', unread)
    assert re.search(r"全部<span class=\"n\">3</span>", unread)

    assert titles_in(text(client.get(PAGE, {"unread": "false"}))) == ["已读的退回"]

    returned = text(client.get(PAGE, {"kind": NotificationKind.RETURNED}))
    assert titles_in(returned) == ["未读的退回", "已读的退回"]
    assert "共 2 条" in returned
    # The tabs count within the kind, and keep it in their links.
    assert re.search(r'href="\?unread=true&amp;kind=returned">未读<span class="n">1</span>', returned)

    both = text(client.get(PAGE, {"kind": NotificationKind.RETURNED, "unread": "true"}))
    assert titles_in(both) == ["未读的退回"]

    # All kinds are offered by their Chinese names.
    for label in NotificationKind.labels:
        assert f">{label}</option>" in unread


def test_the_page_is_paginated(alice) -> None:  # type: ignore[no-untyped-def]
    for n in range(25):
        note(alice, f"通知{n:02d}")
    client = client_for(alice)
    first = text(client.get(PAGE))
    assert len(titles_in(first)) == 20 and titles_in(first)[0] == "通知24"
    assert "共 25 条" in first
    second = text(client.get(PAGE, {"page": 2}))
    assert titles_in(second) == [f"通知{n:02d}" for n in range(4, -1, -1)]


# --- marking read ---------------------------------------------------------------------------------------


def test_mark_one_read_and_another_persons_id_is_404(alice, bob) -> None:  # type: ignore[no-untyped-def]
    mine = note(alice, "我的通知")
    other = note(alice, "另一条")
    bobs = note(bob, "鲍勃的通知")
    client = client_for(alice)

    response = client.post(f"/notifications/{mine.pk}/read/")
    assert response.status_code == 302 and response["Location"] == PAGE
    mine.refresh_from_db()
    other.refresh_from_db()
    assert mine.read_at is not None and other.read_at is None
    first_read = mine.read_at
    # Twice is once: the time it was read stays.
    assert client.post(f"/notifications/{mine.pk}/read/").status_code == 302
    mine.refresh_from_db()
    assert mine.read_at == first_read

    for url in (f"/notifications/{bobs.pk}/read/", f"/notifications/{bobs.pk}/open/", "/notifications/999999/read/"):
        refused = client.post(url)
        assert refused.status_code == 404, url
        assert "鲍勃的通知" not in refused.content.decode()
    bobs.refresh_from_db()
    assert bobs.read_at is None
    # A change of state is a POST.
    assert client.get(f"/notifications/{other.pk}/read/").status_code == 405
    assert client.get(f"/notifications/{other.pk}/open/").status_code == 405


def test_mark_read_returns_to_the_list_as_it_was_and_nowhere_else(alice) -> None:  # type: ignore[no-untyped-def]
    one, two, three = (note(alice, f"通知{n}") for n in range(3))
    client = client_for(alice)
    kept = client.post(f"/notifications/{one.pk}/read/", {"next": "/notifications/?unread=true&page=1"})
    assert kept["Location"] == "/notifications/?unread=true&page=1"
    for elsewhere in ("https://evil.example/notifications/", "//evil.example/notifications/", "/admin/"):
        response = client.post(f"/notifications/{two.pk}/read/", {"next": elsewhere})
        assert response["Location"] == PAGE, elsewhere
    mark_all = client.post(PAGE, {"next": "https://evil.example/"})
    assert mark_all["Location"] == PAGE
    three.refresh_from_db()
    assert three.read_at is not None


def test_mark_all_read_touches_only_ones_own(alice, bob) -> None:  # type: ignore[no-untyped-def]
    for n in range(3):
        note(alice, f"通知{n}")
    note(bob, "鲍勃的通知")
    client = client_for(alice)
    assert header_count(text(client.get(PAGE))) == "3"

    response = client.post(PAGE, follow=True)
    html = text(response)
    assert "已将 3 条通知标为已读" in html
    assert header_count(html) is None
    assert "未读</span>" not in html.split('<ul class="tabs"')[1].split("</ul>")[1]  # no unread badge on a card
    assert not Notification.objects.filter(user=alice, read_at__isnull=True).exists()
    assert Notification.objects.get(user=bob).read_at is None
    assert "没有未读通知" in text(client.post(PAGE, follow=True))


# --- 查看: mark read, then the linked page on this site only -------------------------------------------


def test_open_marks_read_and_goes_to_the_linked_page(alice, bob) -> None:  # type: ignore[no-untyped-def]
    target = note(alice, "填报已通过", link="/values/?status=approved")
    other = note(alice, "另一条")
    client = client_for(alice)
    response = client.post(f"/notifications/{target.pk}/open/")
    assert response.status_code == 302 and response["Location"] == "/values/?status=approved"
    target.refresh_from_db()
    other.refresh_from_db()
    assert target.read_at is not None and other.read_at is None
    assert header_count(text(client.get("/values/"))) == "1"


@pytest.mark.parametrize(
    "link",
    [
        "https://evil.example/values/",
        "//evil.example/values/",
        "/\\evil.example/values/",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:/values/",
        "values/12/",
        "",
    ],
)
def test_open_refuses_any_link_that_is_not_a_path_on_this_site(alice, link) -> None:  # type: ignore[no-untyped-def]
    notification = note(alice, "可疑链接", link=link)
    response = client_for(alice).post(f"/notifications/{notification.pk}/open/", follow=True)
    assert response.redirect_chain == [(PAGE, 302)]
    assert "该通知没有可打开的本站页面，已标为已读" in response.content.decode()
    notification.refresh_from_db()
    assert notification.read_at is not None


# --- email settings -------------------------------------------------------------------------------------


def test_email_settings_default_on_and_saved_per_kind(alice) -> None:  # type: ignore[no-untyped-def]
    client = client_for(alice)
    html = text(client.get(SETTINGS))
    for kind, label in NotificationKind.choices:
        assert f">{label}</label>" in html
        assert re.search(rf'<input type="checkbox" name="email_{kind}"[^>]* checked', html), kind
    assert "您的账号未设置邮箱，邮件通知不会发送" in html

    kept = [NotificationKind.RETURNED, NotificationKind.DEADLINE_PASSED]
    response = client.post(SETTINGS, {f"email_{kind}": "on" for kind in kept}, follow=True)
    assert "邮件通知设置已保存" in text(response)
    saved = dict(NotificationPreference.objects.filter(user=alice).values_list("kind", "email"))
    assert saved == {kind: kind in kept for kind in NotificationKind.values}
    assert emails_wanted([alice.pk], NotificationKind.RETURNED) == {alice.pk}
    assert emails_wanted([alice.pk], NotificationKind.WARNING) == set()

    again = text(client.get(SETTINGS))
    assert re.search(r'name="email_returned"[^>]* checked', again)
    assert not re.search(r'name="email_warning"[^>]* checked', again)


def test_with_an_email_address_the_settings_say_where_mail_goes(alice, bob) -> None:  # type: ignore[no-untyped-def]
    alice.email = "alice@jyj.leshan.gov.cn"
    alice.save()
    html = text(client_for(alice).get(SETTINGS))
    assert "alice@jyj.leshan.gov.cn" in html and "未设置邮箱" not in html
    # One person's choice is theirs alone.
    client_for(bob).post(SETTINGS, {})
    assert emails_wanted([alice.pk, bob.pk], NotificationKind.WARNING) == {alice.pk}


def test_the_preferences_service_refuses_an_unknown_kind_and_saves_nothing(alice) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as refused:
        notification_preferences_set(user=alice, email_by_kind={"warning": False, "spam": False})
    assert "没有这种通知类型：spam" in refused.value.messages[0]
    assert not NotificationPreference.objects.filter(user=alice).exists()
    notification_preferences_set(user=alice, email_by_kind={"warning": False})
    notification_preferences_set(user=alice, email_by_kind={"warning": True})
    assert list(NotificationPreference.objects.filter(user=alice).values_list("kind", "email")) == [("warning", True)]


# --- cost ------------------------------------------------------------------------------------------------


def test_the_page_runs_a_fixed_number_of_queries(alice, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    unit = Unit.objects.get(name="市教育局")
    client = client_for(alice)
    for n in range(3):
        note(alice, f"通知{n}", unit=unit)
    with django_assert_max_num_queries(12) as few:
        text(client.get(PAGE, {"unread": "true", "kind": NotificationKind.APPROVED}))
    for n in range(40):
        note(alice, f"更多通知{n}", unit=unit, kind=NotificationKind.WARNING if n % 2 else NotificationKind.APPROVED)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = text(client.get(PAGE, {"unread": "true", "kind": NotificationKind.APPROVED}))
    assert "共 23 条" in html
