"""A 填报员 with a few notifications: the header counts them, 查看 opens the linked page and marks one read,
全部标为已读 clears the rest, and the email settings save per kind."""

from __future__ import annotations

import re

import pytest

from tests.conftest import make_user

from .conftest import log_in, shot

pytestmark = pytest.mark.browser

DIGEST_LINES = [
    "市教育局：",
    "",
    "一、进度预警（2 项）",
    "  · 【约束性】九年义务教育巩固率（乐山市）：约束性指标滞后，2024年完成度 40%",
    "  · 学前教育毛入园率（沐川县）：倒退，2024年低于上年",
    "",
    "二、逾期未报（3 项）",
    "  · 2024年度：3 项未提交",
    "",
    "请登录系统查看详情并尽快处理。",
]


def header_count(page) -> str:  # type: ignore[no-untyped-def]
    link = page.locator("nav.nav a", has_text="通知")
    return link.locator(".count").inner_text() if link.locator(".count").count() else ""


def test_a_person_reads_and_clears_their_notifications(live_plan, live_server, page) -> None:  # type: ignore[no-untyped-def]
    from planning.models import Notification, NotificationKind, NotificationPreference, Unit
    from planning.notifications import notify

    alice = make_user("alice", "填报员", units=("市教育局",))
    bob = make_user("bob", "填报员", regions=("沐川县",))
    unit = Unit.objects.get(name="市教育局")
    notify(
        users=[alice],
        kind=NotificationKind.DEADLINE_SOON,
        title="填报截止临近：2025 年度还剩 14 天",
        body="2025 年度的填报将于 2026年3月31日截止，尚有 5 项未提交。",
        link="/my/",
    )
    notify(
        users=[alice],
        kind=NotificationKind.WARNING,
        title="【乐山教育规划目标跟踪】市教育局：新增预警 2 项，逾期未报 3 项",
        body="\n".join(DIGEST_LINES),
        link=f"/dashboard/?unit={unit.pk}",
        unit=unit,
    )
    notify(
        users=[alice],
        kind=NotificationKind.APPROVED,
        title="已通过：学前教育毛入园率（乐山市，2024年）",
        body="Carol 审核通过了“学前教育毛入园率（乐山市，2024年）”。",
        link="/tasks/progress/",
    )
    notify(users=[bob], kind=NotificationKind.RETURNED, title="鲍勃的退回通知", body="沐川县", link="/values/")

    log_in(page, live_server.url, "alice", "pw-alice")
    assert header_count(page) == "3"

    page.locator("nav.nav a", has_text="通知").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "通知"
    assert page.locator(".note-item").count() == 3
    assert "鲍勃" not in page.content()
    assert "共 3 条" in page.locator("main").inner_text()
    titles = page.locator(".note-name").all_inner_texts()
    assert titles[0].startswith("已通过：学前教育毛入园率")  # newest first
    assert page.locator(".note-item.unread").count() == 3
    shot(page, "notifications-1-list")

    # The long digest shows its start; 展开全文 shows every line.
    digest = page.locator(".note-item", has_text="新增预警 2 项")
    assert not digest.locator(".note-text").is_visible()
    digest.locator("summary").click()
    assert digest.locator(".note-text").is_visible()
    assert "请登录系统查看详情并尽快处理。" in digest.locator(".note-text").inner_text()
    assert "收起" in digest.locator("summary").inner_text()
    shot(page, "notifications-2-expanded")

    # 查看 opens the linked page and marks that one read.
    page.locator(".note-item", has_text="已通过：学前教育毛入园率").locator("button", has_text="查看").click()
    page.wait_for_load_state("networkidle")
    assert page.url == f"{live_server.url}/tasks/progress/"
    assert page.locator("h1").inner_text() == "任务进展"
    assert header_count(page) == "2"
    shot(page, "notifications-3-opened")
    assert Notification.objects.get(user=alice, kind=NotificationKind.APPROVED).read_at is not None

    # 未读: the two left; one marked read from its row, then the rest all at once.
    page.goto(f"{live_server.url}/notifications/")
    page.locator(".tabs a", has_text="未读").click()
    page.wait_for_load_state("networkidle")
    assert page.locator(".note-item").count() == 2
    assert re.search(r"未读\s*2", page.locator(".tabs").inner_text())
    page.locator(".note-item", has_text="填报截止临近").locator("button", has_text="标为已读").click()
    page.wait_for_load_state("networkidle")
    assert "unread=true" in page.url  # back to the list as it was
    assert page.locator(".note-item").count() == 1
    assert header_count(page) == "1"
    page.locator("button", has_text="全部标为已读").click()
    page.wait_for_load_state("networkidle")
    assert "已将 1 条通知标为已读" in page.locator(".messages").inner_text()
    assert header_count(page) == ""
    assert page.locator(".note-item").count() == 0
    assert "没有未读通知" in page.locator("main").inner_text()
    page.locator(".tabs a", has_text="全部").click()
    page.wait_for_load_state("networkidle")
    assert page.locator(".note-item").count() == 3 and page.locator(".note-item.unread").count() == 0
    shot(page, "notifications-4-all-read")
    assert Notification.objects.get(user=bob).read_at is None

    # 邮件通知设置: no address yet, so the page says mail will not be sent; the choice is saved per kind.
    page.locator("a", has_text="邮件通知设置").click()
    page.wait_for_load_state("networkidle")
    assert "您的账号未设置邮箱，邮件通知不会发送" in page.locator("main").inner_text()
    assert page.locator("input[type=checkbox]:checked").count() == len(NotificationKind.values)
    page.get_by_label("进度预警").uncheck()
    page.locator("button", has_text="保存").click()
    page.wait_for_load_state("networkidle")
    assert "邮件通知设置已保存" in page.locator(".messages").inner_text()
    assert not page.get_by_label("进度预警").is_checked()
    shot(page, "notifications-5-settings")
    assert NotificationPreference.objects.get(user=alice, kind=NotificationKind.WARNING).email is False
