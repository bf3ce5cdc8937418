"""Excel: template round trip, whole-file checking, unsafe files, export colours; all through the services."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from exchange.models import ImportBatch
from exchange.reader import read_upload
from exchange.services import import_check, import_confirm
from exchange.template import INDICATOR_SHEET, TASK_SHEET, build_template
from indicators.models import IndicatorValue
from indicators.services import IndicatorValueInput, indicator_value_create, indicator_value_submit
from planning.models import EntryStatus, TaskProgress

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today_2026")]


def template(user, plan, **kwargs) -> Workbook:  # type: ignore[no-untyped-def]
    return load_workbook(io.BytesIO(build_template(user=user, plan=plan, year=2024, **kwargs)))


def column(sheet, title: str) -> int:  # type: ignore[no-untyped-def]
    for cell in sheet[1]:
        if str(cell.value).rstrip("*") == title:
            return cell.column
    raise AssertionError(title)


def find_row(sheet, *texts: str) -> int:  # type: ignore[no-untyped-def]
    for row in sheet.iter_rows(min_row=2):
        values = " ".join(str(c.value or "") for c in row)
        if all(t in values for t in texts):
            return row[0].row
    raise AssertionError(texts)


def save(workbook: Workbook) -> bytes:
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def upload(data: bytes, name: str = "填报.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(
        name, data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )


def fill(sheet, row: int, **values: object) -> None:  # type: ignore[no-untyped-def]
    for title, value in values.items():
        sheet.cell(row=row, column=column(sheet, title), value=value)


def test_the_template_lists_what_the_user_captures_with_context(bob, plan) -> None:  # type: ignore[no-untyped-def]
    workbook = template(bob, plan)
    assert workbook.sheetnames == [INDICATOR_SHEET, TASK_SHEET, "填写说明"]
    sheet = workbook[INDICATOR_SHEET]
    assert sheet.max_row == 1 + 16  # the 16 indicators for 沐川县 only
    row = find_row(sheet, "学前教育毛入园率", "沐川县")
    assert sheet.cell(row=row, column=column(sheet, "基期值")).value == 95
    assert sheet.cell(row=row, column=column(sheet, "目标值")).value == 96
    assert sheet.cell(row=row, column=column(sheet, "本年应达")).value == 95.8
    assert sheet.protection.sheet
    assert not sheet.cell(row=row, column=column(sheet, "填报值")).protection.locked
    assert sheet.cell(row=row, column=column(sheet, "基期值")).protection.locked
    assert sheet.data_validations.dataValidation  # numbers and ranges are validated in Excel too
    assert workbook[TASK_SHEET].max_row == 1  # 沐川县 has no region-milestone task


def test_round_trip_creates_exactly_the_drafts(alice, plan, rate, city) -> None:  # type: ignore[no-untyped-def]
    workbook = template(alice, plan, region_id=city.pk)
    sheet = workbook[INDICATOR_SHEET]
    fill(sheet, find_row(sheet, "2. 学前教育毛入园率", "乐山市"), 填报值=95.8, 数据来源="2024年教育事业统计年报")
    fill(sheet, find_row(sheet, "1. 学前教育幼儿数", "乐山市"), 填报值="9.52", 数据来源="统计年报", 说明="含民办园")
    tasks = workbook[TASK_SHEET]
    kindergartens = find_row(tasks, "专栏14-2")
    fill(tasks, kindergartens, **{"本年完成①": 3, "工作进展": "新建城镇公办幼儿园3所"})
    research = find_row(tasks, "专栏2-1")
    fill(tasks, research, **{"完成百分比（定性任务）": 60, "工作进展": "形成案例汇编"})

    batch = import_check(user=alice, upload=upload(save(workbook)))
    assert batch.state == "previewed", batch.summary["errors"]
    assert batch.summary["counts"] == {"create": 4, "update": 0, "unchanged": 0}
    assert not IndicatorValue.objects.exists()  # nothing until confirmed

    batch = import_confirm(batch=batch, user=alice)
    assert batch.state == "done"
    values = {v.indicator.number: v for v in IndicatorValue.objects.select_related("indicator")}
    assert (values[2].value, values[2].source, values[2].status) == (
        Decimal("95.8"),
        "2024年教育事业统计年报",
        EntryStatus.DRAFT,
    )
    assert values[1].value == Decimal("9.52")
    assert values[1].note == "含民办园"
    assert values[2].history.first().history_change_reason == "Excel导入：新建草稿"
    progress = {p.task.code: p for p in TaskProgress.objects.select_related("task")}
    assert progress["C14.2"].amounts.get().amount == Decimal("3")
    assert progress["C2.1"].percent == Decimal("60")

    # Downloading again shows the drafts; uploading it unchanged changes nothing.
    again = template(alice, plan, region_id=city.pk)
    row = find_row(again[INDICATOR_SHEET], "2. 学前教育毛入园率", "乐山市")
    assert again[INDICATOR_SHEET].cell(row=row, column=column(again[INDICATOR_SHEET], "填报值")).value == 95.8
    second = import_check(user=alice, upload=upload(save(again)))
    assert second.summary["counts"] == {"create": 0, "update": 0, "unchanged": 4}
    assert second.state == "unchanged"  # nothing to confirm (tests/exchange/test_spreadsheets.py: the page)


def test_a_file_with_good_and_bad_rows_lists_every_problem_and_writes_nothing(alice, plan, city) -> None:  # type: ignore[no-untyped-def]
    workbook = template(alice, plan, region_id=city.pk)
    sheet = workbook[INDICATOR_SHEET]
    fill(sheet, find_row(sheet, "2. 学前教育毛入园率"), 填报值=95.8, 数据来源="年报")  # good
    bad_text = find_row(sheet, "3. 公办幼儿园在园幼儿比率")
    fill(sheet, bad_text, 填报值="四十五", 数据来源="年报")
    too_many = find_row(sheet, "4. 普惠性幼儿园在园幼儿比率")
    fill(sheet, too_many, 填报值=85.123)
    over = find_row(sheet, "5. 彝区学前教育毛入园率")
    fill(sheet, over, 填报值=101, 数据来源="年报")
    tasks = workbook[TASK_SHEET]
    negative = find_row(tasks, "专栏14-2")
    fill(tasks, negative, **{"本年完成①": -2})

    batch = import_check(user=alice, upload=upload(save(workbook)))
    assert batch.state == "rejected"
    problems = {(e["sheet"], e["row"], e["column"], e["message"]) for e in batch.summary["errors"]}
    assert problems == {
        (INDICATOR_SHEET, bad_text, "填报值", "“四十五”不是有效的数字。"),
        (INDICATOR_SHEET, too_many, "填报值", "数值最多保留 2 位小数。"),
        (INDICATOR_SHEET, too_many, "数据来源", "请填写数据来源，例如“教育事业统计年报”。"),
        (INDICATOR_SHEET, over, "填报值", "数值不能超过 100。"),
        (TASK_SHEET, negative, "本年完成①", "新建城镇公办幼儿园不能为负数。"),
        (TASK_SHEET, negative, "工作进展", "请填写本年度工作进展（做了什么、完成情况）。"),
    }
    assert not IndicatorValue.objects.exists()
    assert not TaskProgress.objects.exists()
    with pytest.raises(Exception):  # noqa: B017 - any refusal; the state says why
        import_confirm(batch=batch, user=alice)


def test_locked_entries_cannot_be_changed_by_a_file(alice, plan, rate, city) -> None:  # type: ignore[no-untyped-def]
    entry = indicator_value_create(
        indicator=rate, region=city, year=2024, user=alice, data=IndicatorValueInput(value="95.5", source="年报")
    )
    indicator_value_submit(value=entry, user=alice)
    workbook = template(alice, plan, region_id=city.pk)
    sheet = workbook[INDICATOR_SHEET]
    row = find_row(sheet, "2. 学前教育毛入园率")
    assert sheet.cell(row=row, column=column(sheet, "当前状态")).value == "待审核"
    fill(sheet, row, 填报值=95.9, 数据来源="年报")
    plan_result = read_upload(save(workbook), user=alice)
    assert [e.message for e in plan_result.errors] == ["该填报待审核，不能通过导入修改（请在系统中撤回或发起更正）。"]


def test_rows_outside_the_uploaders_scope_or_tampered_keys_are_refused(alice, bob, plan, city) -> None:  # type: ignore[no-untyped-def]
    workbook = template(alice, plan, region_id=city.pk)  # the city's rows; bob captures only 沐川县
    sheet = workbook[INDICATOR_SHEET]
    fill(sheet, find_row(sheet, "2. 学前教育毛入园率"), 填报值=95.8, 数据来源="年报")
    fill(sheet, 2, **{"系统编号（勿改）": "I99999-R1", "填报值": 9.5, "数据来源": "年报"})
    messages = {e.message for e in read_upload(save(workbook), user=bob).errors}
    assert messages == {"系统编号无效：请勿修改这一列。", "您没有填报“学前教育毛入园率”（乐山市）的权限。"}


def _xlsx_with(extra: dict[str, bytes], content_types: bytes | None = None) -> bytes:
    base = io.BytesIO(build_template_bytes())
    output = io.BytesIO()
    with zipfile.ZipFile(base) as source, zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if content_types is not None and item.filename == "[Content_Types].xml":
                data = content_types
            target.writestr(item, data)
        for name, data in extra.items():
            target.writestr(name, data)
    return output.getvalue()


_TEMPLATE_CACHE: dict[str, bytes] = {}


def build_template_bytes() -> bytes:
    if "t" not in _TEMPLATE_CACHE:
        workbook = Workbook()
        workbook.active.title = "Sheet"
        _TEMPLATE_CACHE["t"] = save(workbook)
    return _TEMPLATE_CACHE["t"]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("乱码.xlsx", b"this is not a workbook at all", "这不是 Excel（.xlsx）文件"),
        ("坏.xlsx", b"PK\x03\x04" + b"\x00" * 200, "文件已损坏"),
        ("宏.xlsx", None, "文件包含宏"),
        ("炸弹.xlsx", None, "疑似压缩炸弹"),
        ("实体.xlsx", None, "不安全的 XML 内容"),
        ("别的表.xlsx", None, "这不是本系统的填报模板"),
    ],
)
def test_unsafe_or_foreign_files_are_refused_cleanly(alice, name, data, message) -> None:  # type: ignore[no-untyped-def]
    if name == "宏.xlsx":
        data = _xlsx_with({"xl/vbaProject.bin": b"\x00" * 64})
    elif name == "炸弹.xlsx":
        data = _xlsx_with({"xl/media/zeros.bin": b"\x00" * 80_000_000})
    elif name == "实体.xlsx":
        bomb = (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
            b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
            b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">&lol3;</workbook>'
        )
        source = io.BytesIO(build_template_bytes())
        output = io.BytesIO()
        with zipfile.ZipFile(source) as zin, zipfile.ZipFile(output, "w") as zout:
            for item in zin.infolist():
                zout.writestr(item, bomb if item.filename == "xl/workbook.xml" else zin.read(item.filename))
        data = output.getvalue()
    elif name == "别的表.xlsx":
        data = build_template_bytes()
    batch = import_check(user=alice, upload=upload(data, name))
    assert batch.state == "rejected"
    assert message in batch.summary["errors"][0]["message"]
    assert not IndicatorValue.objects.exists()


@override_settings(IMPORT_MAX_BYTES=1024)
def test_oversized_files_are_refused_before_reading(alice, plan) -> None:  # type: ignore[no-untyped-def]
    batch = import_check(user=alice, upload=upload(build_template(user=alice, plan=plan, year=2024)))
    assert batch.state == "rejected"
    assert batch.summary["errors"][0]["message"].endswith("MB 的上限。")


@override_settings(IMPORT_SYNC_LIMIT=1)
def test_large_imports_run_as_a_task_with_progress(alice, plan, city, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    workbook = template(alice, plan, region_id=city.pk)
    sheet = workbook[INDICATOR_SHEET]
    for number, value in (("2. 学前教育毛入园率", 95.8), ("4. 普惠性幼儿园在园幼儿比率", 85.5)):
        fill(sheet, find_row(sheet, number), 填报值=value, 数据来源="年报")
    batch = import_check(user=alice, upload=upload(save(workbook)))
    assert batch.state == "previewed", batch.summary["errors"]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        batch = import_confirm(batch=batch, user=alice)
    assert batch.state == "applying"
    client = Client()
    client.force_login(alice)
    progress = client.get(reverse("exchange:import-progress", args=[batch.pk])).json()
    assert progress["state"] == "applying"
    for callback in callbacks:
        callback()
    batch.refresh_from_db()
    assert batch.state == "done"
    assert IndicatorValue.objects.count() == 2
    assert ImportBatch.objects.filter(state="done").count() == 1


def test_the_pages(alice, leo, plan) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(alice)
    assert "下载模板" in client.get(reverse("exchange:excel")).content.decode()
    response = client.get(reverse("exchange:excel-template"), {"plan": plan.pk, "year": 2024})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    uploaded = client.post(reverse("exchange:excel-upload"), {"file": upload(b"nonsense")}, follow=True)
    assert "这不是 Excel（.xlsx）文件" in uploaded.content.decode()
    leader = Client()
    leader.force_login(leo)
    assert leader.get(reverse("exchange:excel-template")).status_code == 403


def test_the_status_export_uses_the_dashboard_colours(leo, plan) -> None:  # type: ignore[no-untyped-def]
    from indicators.services import status_recompute_all

    status_recompute_all()
    client = Client()
    client.force_login(leo)
    response = client.get(reverse("exchange:export-xlsx"), {"plan": plan.pk, "year": 2025})
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["指标状态", "区域矩阵", "任务"]
    detail = workbook["指标状态"]
    assert detail.max_row == 2 + 16 * 13
    status_column = [c.value for c in detail[2]].index("状态") + 1
    cell = detail.cell(row=3, column=status_column)
    assert cell.value == "未填报"
    assert cell.fill.fgColor.rgb.endswith("EEF1F4")
    csv_text = client.get(reverse("exchange:export-csv"), {"plan": plan.pk}).content.decode("utf-8")
    assert csv_text.startswith("\ufeff序号,指标")
    assert len(csv_text.strip().splitlines()) == 1 + 16 * 13
