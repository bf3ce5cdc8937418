"""存在问题 and 下步打算 in the Excel template: columns beside 工作进展, pre-filled from a draft, read back, limited."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook

from exchange.services import import_check, import_confirm
from exchange.template import TASK_SHEET, build_template
from planning.models import Task, TaskProgress
from planning.services import TaskProgressInput, task_progress_create
from planning.workflow import field_limit
from tests.exchange.test_excel import column, find_row, save, upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today_2026")]


def template(user, plan) -> Workbook:  # type: ignore[no-untyped-def]
    return load_workbook(io.BytesIO(build_template(user=user, plan=plan, year=2024)))


def test_the_task_sheet_has_the_columns_with_their_limits(alice, plan) -> None:  # type: ignore[no-untyped-def]
    sheet = template(alice, plan)[TASK_SHEET]
    headers = [str(cell.value) for cell in sheet[1]]
    narrative = headers.index("工作进展*")
    assert headers[narrative + 1 : narrative + 3] == ["存在问题（选填）", "下步打算（选填）"]
    row = find_row(sheet, "专栏2-1")
    for title in ("存在问题（选填）", "下步打算（选填）"):
        assert not sheet.cell(row=row, column=column(sheet, title)).protection.locked  # typed into
    limits = {
        next(iter(validation.sqref.ranges)).coord.split(":")[0].rstrip("0123456789"): validation.formula1
        for validation in sheet.data_validations.dataValidation
        if validation.type == "textLength"
    }
    for title, name in (("存在问题（选填）", "problems"), ("下步打算（选填）", "next_steps")):
        letter = sheet.cell(row=1, column=column(sheet, title)).column_letter
        assert limits[letter] == str(field_limit(TaskProgress, name))


def test_a_round_trip_writes_and_prefills_them(alice, plan) -> None:  # type: ignore[no-untyped-def]
    workbook = template(alice, plan)
    sheet = workbook[TASK_SHEET]
    row = find_row(sheet, "专栏2-1")
    for title, value in {
        "完成百分比（定性任务）": 60,
        "工作进展": "形成案例汇编",
        "存在问题（选填）": "部分案例质量不高",
        "下步打算（选填）": "组织专家评审",
    }.items():
        sheet.cell(row=row, column=column(sheet, title), value=value)
    batch = import_check(user=alice, upload=upload(save(workbook)))
    assert batch.state == "previewed", batch.summary["errors"]
    import_confirm(batch=batch, user=alice)
    progress = TaskProgress.objects.get(task__code="C2.1", task__plan=plan, year=2024)
    assert (progress.narrative, progress.problems, progress.next_steps) == (
        "形成案例汇编",
        "部分案例质量不高",
        "组织专家评审",
    )

    # The draft is pre-filled; changing only 下步打算 is an update that says so in the preview.
    again = template(alice, plan)
    sheet = again[TASK_SHEET]
    row = find_row(sheet, "专栏2-1")
    assert sheet.cell(row=row, column=column(sheet, "存在问题（选填）")).value == "部分案例质量不高"
    sheet.cell(row=row, column=column(sheet, "下步打算（选填）"), value="年底前出版汇编")
    second = import_check(user=alice, upload=upload(save(again)))
    assert second.summary["counts"] == {"create": 0, "update": 1, "unchanged": 0}
    assert "下步打算已修改" in second.summary["changes"][0]["details"]
    import_confirm(batch=second, user=alice)
    progress.refresh_from_db()
    assert (progress.problems, progress.next_steps) == ("部分案例质量不高", "年底前出版汇编")


def test_too_long_text_is_refused_with_its_column_and_nothing_is_written(alice, plan) -> None:  # type: ignore[no-untyped-def]
    task = Task.objects.prefetch_related("targets__regions").get(plan=plan, code="C2.1")
    task_progress_create(
        task=task, year=2024, region=None, user=alice, data=TaskProgressInput(narrative="原进展", percent="10")
    )
    workbook = template(alice, plan)
    sheet = workbook[TASK_SHEET]
    row = find_row(sheet, "专栏2-1")
    limit = field_limit(TaskProgress, "next_steps")
    sheet.cell(row=row, column=column(sheet, "下步打算（选填）"), value="计" * (limit + 1))
    batch = import_check(user=alice, upload=upload(save(workbook)))
    assert batch.state == "rejected"
    assert {(e["column"], e["message"]) for e in batch.summary["errors"]} == {
        ("下步打算（选填）", f"下步打算最多 {limit} 字，现为 {limit + 1} 字，请删减后再保存。")
    }
    assert TaskProgress.objects.get(task=task, year=2024).next_steps == ""
