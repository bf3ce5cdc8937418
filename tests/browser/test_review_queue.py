"""A 审核员 opens 待审核: change from last year, outlier note, evidence, author and waiting time per row; filters;
bulk approval leaves out an outlier row until its note is confirmed."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from tests.conftest import make_user

from .conftest import log_in

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/review")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_reviewer_reads_the_queue_and_bulk_approves(live_plan, live_server, page, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from indicators.models import Indicator, IndicatorValue
    from indicators.services import (
        IndicatorValueInput,
        indicator_value_approve,
        indicator_value_create,
        indicator_value_submit,
    )
    from indicators.values import INDICATOR_VALUE
    from planning.entries import evidence_add
    from planning.models import EntryStatus, Task
    from planning.services import TaskProgressInput, task_progress_create, task_progress_submit
    from regions.models import Region

    settings.MEDIA_ROOT = tmp_path
    alice = make_user("alice", "填报员", units=("市教育局",))
    carol = make_user("carol", "审核员", units=("市教育局",))
    rate = Indicator.objects.get(plan__code="leshan-edu-14fyp", number=2)
    city = Region.objects.get(code="511100")
    muchuan = Region.objects.get(name="沐川县")

    def value(region, year, number, **extra):  # type: ignore[no-untyped-def]
        entry = indicator_value_create(
            indicator=rate,
            region=region,
            year=year,
            user=alice,
            data=IndicatorValueInput(value=number, source="统计年报", **extra),
        )
        if year == 2023 and region == city:
            evidence_add(INDICATOR_VALUE, entry, files=[SimpleUploadedFile("统计表.pdf", PDF)], user=alice)
            entry.refresh_from_db()
        return indicator_value_submit(value=entry, user=alice)

    indicator_value_approve(value=value(city, 2022, "95.4"), user=carol)
    ordinary = value(city, 2023, "95.8")
    IndicatorValue.objects.filter(pk=ordinary.pk).update(submitted_at=timezone.now() - datetime.timedelta(days=3))
    outlier = value(muchuan, 2023, "98", outlier_note="新建幼儿园集中投用，入园人数大增，已与统计部门核对")
    task = Task.objects.get(plan__code="leshan-edu-14fyp", code="C2.1")
    progress = task_progress_create(
        task=task, year=2023, region=None, user=alice, data=TaskProgressInput(narrative="案例汇编", percent="50")
    )
    task_progress_submit(progress=progress, user=alice)

    log_in(page, live_server.url, "carol", "pw-carol")
    assert page.locator("h1").inner_text() == "待审核"
    headers = page.locator("table.review-table thead").inner_text()
    for column in ("较上年", "佐证", "提交人", "已等待"):
        assert column in headers
    row = page.locator("tr", has=page.locator(f'input[value="iv-{ordinary.pk}"]'))
    text = row.inner_text()
    assert "+0.4" in text and "(+0.4%)" in text and "2022年 95.4" in text
    assert "1 个" in text and "Alice" in text and "已等待 3 天" in text
    flagged = page.locator("tr", has=page.locator(f'input[value="iv-{outlier.pk}"]'))
    assert "异常值" in flagged.locator(".badge.outlier").inner_text()
    assert "新建幼儿园集中投用" in flagged.inner_text()
    assert "共 3 条" in page.locator("main").inner_text()
    shot(page, "1-queue")

    # Filters: search, then the kind tab; each tab's count is the list's length.
    page.fill("#f-q", "沐川")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator('input[name="selected"]').count() == 1
    assert "共 1 条" in page.locator("main").inner_text()
    shot(page, "2-search")
    page.goto(f"{live_server.url}/review/?kind=task")
    assert page.locator('input[name="selected"]').count() == 1
    assert "任务进展1" in page.locator(".tabs").inner_text().replace(" ", "").replace("\n", "")
    page.goto(f"{live_server.url}/review/")

    # 全选 leaves the outlier row out; ticking it by hand without confirming its note leaves it out on the server.
    page.check("#select-all")
    assert page.is_checked(f'input[name="selected"][value="iv-{ordinary.pk}"]')
    assert not page.is_checked(f'input[name="selected"][value="iv-{outlier.pk}"]')
    page.check(f'input[name="selected"][value="iv-{outlier.pk}"]')
    page.click("text=批量通过所选")
    page.wait_for_load_state("networkidle")
    notes = page.locator(".messages").inner_text()
    assert "已审核通过 2 条" in notes
    assert "以下填报含异常值说明，未确认，未通过：学前教育毛入园率 · 沐川县 · 2023年" in notes
    shot(page, "3-outlier-left-out")
    ordinary.refresh_from_db()
    outlier.refresh_from_db()
    assert ordinary.status == EntryStatus.APPROVED and outlier.status == EntryStatus.SUBMITTED

    # Confirming the note in the bulk box selects its row too; then it is approved.
    page.check(f'input[name="confirm_outlier"][value="iv-{outlier.pk}"]')
    assert page.is_checked(f'input[name="selected"][value="iv-{outlier.pk}"]')
    shot(page, "4-confirmed")
    page.click("text=批量通过所选")
    page.wait_for_load_state("networkidle")
    notes = page.locator(".messages").inner_text()
    assert "已审核通过 1 条" in notes and "未确认" not in notes
    assert "没有待审核的指标数值或任务进展" in page.content()
    outlier.refresh_from_db()
    assert outlier.status == EntryStatus.APPROVED
    shot(page, "5-done")

    # The entry's history names the evidence upload beside its own changes.
    page.goto(f"{live_server.url}/values/{ordinary.pk}/")
    history = page.locator("table").last.inner_text()
    assert "表单：上传佐证材料" in history and "统计表.pdf" in history and "表单：审核通过" in history
    shot(page, "8-history-with-evidence")


def test_entry_staff_filter_and_search_my_reporting(live_plan, live_server, page) -> None:  # type: ignore[no-untyped-def]
    from regions.models import Region

    make_user("bob", "填报员", regions=("沐川县",))
    make_user("alice", "填报员", units=("市教育局",))
    log_in(page, live_server.url, "alice", "pw-alice")
    assert page.locator("h1").inner_text() == "我的填报"
    muchuan = Region.objects.get(name="沐川县")
    page.select_option("#f-region", str(muchuan.pk))
    page.fill("#f-q", "学前")
    page.click("form.filters >> text=筛选")
    page.wait_for_load_state("networkidle")
    rows = page.locator("tbody tr")
    assert rows.count() > 0
    for text in rows.all_inner_texts():
        assert "沐川县" in text and "学前" in text
    tabs = page.locator(".tabs").inner_text().replace("\n", "")
    assert f"全部{rows.count()}" in tabs
    assert f"共 {rows.count()} 条（已筛选）" in page.locator("main").inner_text()
    shot(page, "6-my-reporting-filtered")
    page.click(".tabs >> text=已逾期")
    page.wait_for_load_state("networkidle")
    assert page.input_value("#f-q") == "学前"  # the tab keeps the filters
    shot(page, "7-my-reporting-overdue-tab")
