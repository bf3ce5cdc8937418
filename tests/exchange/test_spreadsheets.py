"""Spreadsheets fit for official use: numbers as numbers with formats, frozen and filtered headers, fitted widths;
the import preview names sheet and row, shows task figures, and an identical re-upload has nothing to confirm."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from exchange.models import ImportState
from exchange.services import import_check, import_confirm
from exchange.sheets import decimal_format, text_width
from exchange.template import INDICATOR_SHEET, TASK_SHEET
from indicators.models import IndicatorValue
from indicators.services import (
    IndicatorValueInput,
    indicator_value_approve,
    indicator_value_create,
    indicator_value_submit,
    status_recompute_all,
)
from planning.workflow import TransitionError

from .test_excel import column, fill, find_row, save, template, upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today_2026")]

NUMBER = (int, float)


def approve(alice, carol, indicator, region, year: int, value: str) -> None:  # type: ignore[no-untyped-def]
    entry = indicator_value_create(
        indicator=indicator, region=region, year=year, user=alice, data=IndicatorValueInput(value=value, source="年报")
    )
    indicator_value_approve(value=indicator_value_submit(value=entry, user=alice), user=carol)


@pytest.fixture
def exported(alice, carol, leo, plan, rate, city) -> Workbook:  # type: ignore[no-untyped-def]
    approve(alice, carol, rate, city, 2023, "95.4")
    approve(alice, carol, rate, city, 2024, "95.6")
    status_recompute_all()
    client = Client()
    client.force_login(leo)
    response = client.get(reverse("exchange:export-xlsx"), {"plan": plan.pk, "year": 2025})
    assert response.status_code == 200
    return load_workbook(io.BytesIO(response.content))


def headers(sheet, row: int) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {str(c.value): c.column for c in sheet[row] if c.value is not None}


def width(sheet, column_index: int) -> float:  # type: ignore[no-untyped-def]
    return sheet.column_dimensions[get_column_letter(column_index)].width


def test_the_export_writes_numbers_as_numbers_with_formats(exported, rate, city) -> None:  # type: ignore[no-untyped-def]
    detail = exported["指标状态"]
    cols = headers(detail, 2)
    row = find_row(detail, f"{rate.name}", city.name)
    places = decimal_format(rate.decimal_places)

    def at(title: str):  # type: ignore[no-untyped-def]
        return detail.cell(row=row, column=cols[title])

    assert (at("基期值").value, at("基期值").number_format) == (95, places)
    assert (at("最新值").value, at("最新值").number_format) == (95.6, places)
    assert isinstance(at("目标值").value, NUMBER) and at("目标值").number_format == places
    assert (at("最新年度").value, at("最新年度").data_type) == (2024, "n")
    for title in ("完成度", "按时间应完成"):  # real fractions, shown as percents
        assert isinstance(at(title).value, float) and 0 <= at(title).value <= 1.5, title
        assert at(title).number_format == "0.0%"
    assert at("完成度").value == pytest.approx(0.6)  # (95.6 − 95) / (96 − 95)
    assert isinstance(at("进度比").value, NUMBER) and at("进度比").number_format == "0.00"
    assert isinstance(at("序号").value, int)
    # No number is stored as text anywhere in the table, and no "%" text: SUM and sorting work.
    for cells in detail.iter_rows(min_row=3):
        for cell in cells:
            assert not (isinstance(cell.value, str) and cell.value.replace(".", "").rstrip("%").isdigit()), cell
    # A SUM over the 基期值 column adds numbers: every filled cell is numeric.
    baseline = [detail.cell(row=r, column=cols["基期值"]).value for r in range(3, detail.max_row + 1)]
    filled = [v for v in baseline if v is not None]
    assert filled and all(isinstance(v, NUMBER) for v in filled)
    # The title names the plan, the year and when it was exported (text: see exchange/export.py).
    assert str(detail.cell(row=1, column=1).value).startswith(f"{rate.plan.title} · 截至2025年 · 导出于 ")
    tasks = exported["任务"]
    task_cols = headers(tasks, 1)
    for title in ("完成度", "按时间应完成"):
        values = [tasks.cell(row=r, column=task_cols[title]) for r in range(2, tasks.max_row + 1)]
        assert all(c.value is None or (isinstance(c.value, float) and c.number_format == "0.0%") for c in values)


def test_the_export_freezes_filters_and_fits_its_columns(exported, rate) -> None:  # type: ignore[no-untyped-def]
    detail = exported["指标状态"]
    assert detail.freeze_panes == "C3"
    assert detail.auto_filter.ref == f"A2:P{detail.max_row}"
    assert detail.print_title_rows == "$2:$2"
    cols = headers(detail, 2)
    longest_name = max(text_width(str(detail.cell(row=r, column=cols["指标"]).value)) for r in range(3, 20))
    assert width(detail, cols["指标"]) >= min(longest_name, 38)  # CJK counted double, capped at 40
    assert width(detail, cols["序号"]) < width(detail, cols["区域"]) < width(detail, cols["指标"])
    assert width(detail, cols["按时间应完成"]) >= text_width("按时间应完成") + 2  # header and filter button
    for name in ("区域矩阵", "任务"):
        sheet = exported[name]
        assert sheet.freeze_panes and sheet.auto_filter.ref.startswith("A1:")
        assert all(width(sheet, c) for c in range(1, sheet.max_column + 1))
    assert exported["区域矩阵"].row_dimensions[1].height >= 30  # wrapped indicator names are visible


def test_the_csv_keeps_plain_numbers_with_units_in_the_header(alice, carol, leo, plan, rate, city) -> None:  # type: ignore[no-untyped-def]
    approve(alice, carol, rate, city, 2024, "95.6")
    status_recompute_all()
    client = Client()
    client.force_login(leo)
    response = client.get(reverse("exchange:export-csv"), {"plan": plan.pk, "year": 2025})
    assert response.content.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark: Excel reads the Chinese
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][9:11] == ["完成度（%）", "按时间应完成（%）"]
    row = next(r for r in rows if r[1] == rate.name and r[4] == city.name)
    assert row[5:8] == ["95", "95.6", "2024"]
    assert Decimal(row[9]) == Decimal(60)  # percent points, no "%" text
    assert not any(value.endswith("%") for r in rows[1:] for i, value in enumerate(r) if i != 2)  # 2: 单位


def test_template_reference_values_are_numbers_with_a_frozen_filtered_header(alice, carol, plan, rate, city) -> None:  # type: ignore[no-untyped-def]
    approve(alice, carol, rate, city, 2023, "95.4")
    workbook = template(alice, plan, region_id=city.pk)
    sheet = workbook[INDICATOR_SHEET]
    row = find_row(sheet, "2. 学前教育毛入园率", "乐山市")
    places = decimal_format(rate.decimal_places)
    for title, expected in (("基期值", 95), ("目标值", 96), ("上年已审核值", 95.4), ("本年应达", 95.8)):
        cell = sheet.cell(row=row, column=column(sheet, title))
        assert cell.value == expected and isinstance(cell.value, NUMBER), title
        assert cell.number_format == (decimal_format(max(rate.decimal_places, 2)) if title == "本年应达" else places)
    for name in (INDICATOR_SHEET, TASK_SHEET):
        current = workbook[name]
        assert current.freeze_panes == "B2"
        assert current.auto_filter.ref == f"A1:{get_column_letter(current.max_column)}{current.max_row}"
        assert not current.protection.autoFilter  # the filter can be used on the protected sheet
        assert all(width(current, c) >= 6 for c in range(1, current.max_column + 1))
    longest = max(text_width(str(sheet.cell(row=r, column=2).value)) for r in range(2, sheet.max_row + 1))
    assert width(sheet, 2) == min(longest + 2, 40)  # fitted to the longest 指标, wrapped beyond 40
    assert width(sheet, column(sheet, "数据来源")) >= 22  # room to type in input columns
    tasks = workbook[TASK_SHEET]
    amounts = [tasks.cell(row=r, column=column(tasks, "本年完成①")).value for r in range(2, tasks.max_row + 1)]
    assert all(v is None or isinstance(v, NUMBER) for v in amounts)


def test_the_preview_names_the_sheet_and_shows_task_figures(alice, plan, city) -> None:  # type: ignore[no-untyped-def]
    workbook = template(alice, plan, region_id=city.pk)
    sheet = workbook[INDICATOR_SHEET]
    rate_row = find_row(sheet, "2. 学前教育毛入园率", "乐山市")
    fill(sheet, rate_row, 填报值=95.8, 数据来源="年报")
    tasks = workbook[TASK_SHEET]
    kindergartens = find_row(tasks, "专栏14-2")
    fill(tasks, kindergartens, **{"本年完成①": 3, "工作进展": "新建城镇公办幼儿园3所"})
    research = find_row(tasks, "专栏2-1")
    fill(tasks, research, **{"完成百分比（定性任务）": 60, "工作进展": "形成案例汇编"})
    batch = import_check(user=alice, upload=upload(save(workbook)))
    assert batch.state == ImportState.PREVIEWED, batch.summary["errors"]
    changes = {c["where"]: c for c in batch.summary["changes"]}
    assert set(changes) == {
        f"{INDICATOR_SHEET} 第{rate_row}行",
        f"{TASK_SHEET} 第{kindergartens}行",
        f"{TASK_SHEET} 第{research}行",
    }
    assert changes[f"{INDICATOR_SHEET} 第{rate_row}行"]["details"] == "（无） → 95.8%"
    assert "3" in changes[f"{TASK_SHEET} 第{kindergartens}行"]["details"]
    assert changes[f"{TASK_SHEET} 第{kindergartens}行"]["details"].startswith("（无） → ①")
    assert changes[f"{TASK_SHEET} 第{research}行"]["details"] == "（无） → 完成 60%"

    client = Client()
    client.force_login(alice)
    page = client.get(reverse("exchange:import-detail", args=[batch.pk])).content.decode()
    assert f"{TASK_SHEET} 第{research}行" in page
    assert "完成 60%" in page
    assert "确认导入为草稿" in page


def test_an_identical_re_upload_has_nothing_to_confirm(alice, plan, city) -> None:  # type: ignore[no-untyped-def]
    workbook = template(alice, plan, region_id=city.pk)
    sheet = workbook[INDICATOR_SHEET]
    fill(sheet, find_row(sheet, "2. 学前教育毛入园率", "乐山市"), 填报值=95.8, 数据来源="年报")
    tasks = workbook[TASK_SHEET]
    fill(tasks, find_row(tasks, "专栏2-1"), **{"完成百分比（定性任务）": 60, "工作进展": "形成案例汇编"})
    first = import_confirm(batch=import_check(user=alice, upload=upload(save(workbook))), user=alice)
    assert first.state == ImportState.DONE
    saved = IndicatorValue.objects.get()

    again = template(alice, plan, region_id=city.pk)  # the drafts, pre-filled, uploaded as downloaded
    batch = import_check(user=alice, upload=upload(save(again)))
    assert batch.state == ImportState.UNCHANGED
    assert batch.summary["counts"] == {"create": 0, "update": 0, "unchanged": 2}
    assert {c["details"] for c in batch.summary["changes"]} == {"95.8%", "完成 60%"}

    client = Client()
    client.force_login(alice)
    page = client.get(reverse("exchange:import-detail", args=[batch.pk])).content.decode()
    assert "无变化" in page
    assert "没有需要导入的内容" in page
    assert "确认导入为草稿" not in page
    assert reverse("exchange:import-confirm", args=[batch.pk]) not in page
    assert "无变化，无需导入" in client.get(reverse("exchange:excel")).content.decode()

    with pytest.raises(TransitionError, match="无变化"):
        import_confirm(batch=batch, user=alice)
    posted = client.post(reverse("exchange:import-confirm", args=[batch.pk]), follow=True).content.decode()
    assert "没有需要导入的内容" in posted
    batch.refresh_from_db()
    assert batch.state == ImportState.UNCHANGED
    saved.refresh_from_db()
    assert saved.version == 1  # nothing was written


def test_an_update_shows_old_and_new_values(alice, plan, city) -> None:  # type: ignore[no-untyped-def]
    workbook = template(alice, plan, region_id=city.pk)
    sheet = workbook[INDICATOR_SHEET]
    row = find_row(sheet, "2. 学前教育毛入园率", "乐山市")
    fill(sheet, row, 填报值=95.8, 数据来源="年报")
    import_confirm(batch=import_check(user=alice, upload=upload(save(workbook))), user=alice)
    again = template(alice, plan, region_id=city.pk)
    fill(again[INDICATOR_SHEET], row, 填报值=95.9, 说明="复核后更正")
    batch = import_check(user=alice, upload=upload(save(again)))
    assert batch.state == ImportState.PREVIEWED
    (change,) = batch.summary["changes"]
    assert change["details"] == "95.8% → 95.9%（说明已修改）"
