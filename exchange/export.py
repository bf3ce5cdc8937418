"""The status export: every indicator × region in view as .xlsx (coloured as the dashboard) or .csv."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.utils import timezone

from indicators.models import Indicator, IndicatorStatus
from planning.assessment import DISPLAY_LABELS, display_status
from planning.models import Plan
from regions.models import Region

from .sheets import PERCENT_FORMAT, decimal_format, finish_table, fit_columns, header_height, number
from .template import plain

# Status colours of the dashboard (fill, font), for the export.
STATUS_FILLS = {
    "achieved_early": ("CDEBD6", "0B5128"),
    "achieved": ("D7F0DD", "0F5C2A"),
    "ahead": ("E3F4E6", "1B7F3B"),
    "on_track": ("E8F0FB", "1D4F91"),
    "watch": ("FFF4D6", "8A5A00"),
    "lagging": ("FDE3D3", "A3410F"),
    "regressing": ("FDECEA", "B42318"),
    "no_data": ("EEF1F4", "5F6B7A"),
    "no_plan": ("EEF1F4", "5F6B7A"),
}


def status_rows(plan: Plan, year: int, indicators: Iterable[Indicator], regions: list[Region]) -> list[dict[str, Any]]:
    cells = {
        (s.indicator_id, s.region_id): s
        for s in IndicatorStatus.objects.filter(indicator__plan=plan, as_of_year=year, region__in=regions)
    }
    rows = []
    for indicator in indicators:
        for region in regions:
            status = cells.get((indicator.pk, region.pk))
            display = display_status(status.status, status.latest_year, indicator.target_year) if status else "no_data"
            rows.append(
                {
                    "indicator": indicator,
                    "region": region,
                    "status": status,
                    "display": display,
                    "label": DISPLAY_LABELS[display],
                }
            )
    return rows


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("能" if value else "不能")


def _fraction(value: Decimal | None) -> float | None:
    """A stored fraction (0.9 = 90%) for a cell formatted as a percent."""
    return None if value is None else float(value)


def _percent_points(value: Decimal | None) -> str:
    """A stored fraction as plain percent points for the CSV (0.9 → 90); the header names the unit."""
    return "" if value is None else plain(value * 100)


# header, CSV header (the unit of computed ratios in the header, the values plain numbers)
STATUS_COLUMNS = [
    ("序号", "序号"),
    ("指标", "指标"),
    ("单位", "单位"),
    ("属性", "属性"),
    ("区域", "区域"),
    ("基期值", "基期值"),
    ("最新值", "最新值"),
    ("最新年度", "最新年度"),
    ("目标值", "目标值"),
    ("完成度", "完成度（%）"),
    ("按时间应完成", "按时间应完成（%）"),
    ("进度比", "进度比"),
    ("状态", "状态"),
    ("趋势预测", "趋势预测"),
    ("预测能否达标", "预测能否达标"),
    ("牵头单位", "牵头单位"),
]
STATUS_HEADERS = [title for title, _csv in STATUS_COLUMNS]
CSV_HEADERS = [title for _title, title in STATUS_COLUMNS]
RATIO_FORMAT = "0.00"
TITLE_ROWS = 1  # the title line above the header


def _status_cells(row: dict[str, Any]) -> list[tuple[Any, str]]:
    """One export row as (value, number format): numbers as numbers, formatted with the indicator's places."""
    indicator, status = row["indicator"], row["status"]
    places = decimal_format(indicator.decimal_places)

    def measure(name: str) -> Decimal | None:
        value: Decimal | None = getattr(status, name, None)
        return value

    return [
        (indicator.number, "0"),
        (indicator.name, ""),
        (indicator.unit, ""),
        (indicator.get_attribute_display(), ""),
        (row["region"].name, ""),
        (number(measure("baseline_value")), places),
        (number(measure("latest_value")), places),
        (getattr(status, "latest_year", None), "0"),
        (number(measure("target_value")), places),
        (_fraction(measure("completion")), PERCENT_FORMAT),
        (_fraction(measure("expected_completion")), PERCENT_FORMAT),
        (number(measure("ratio")), RATIO_FORMAT),
        (row["label"], ""),
        (number(measure("forecast_value")), places),
        (_yes_no(getattr(status, "forecast_meets_target", None)), ""),
        (indicator.lead_unit.name if indicator.lead_unit else "", ""),
    ]


def _status_csv_record(row: dict[str, Any]) -> list[Any]:
    """One CSV row: plain numbers as stored (no % text: the header carries the unit), blank for none."""
    indicator, status = row["indicator"], row["status"]
    return [
        indicator.number,
        indicator.name,
        indicator.unit,
        indicator.get_attribute_display(),
        row["region"].name,
        plain(getattr(status, "baseline_value", None)),
        plain(getattr(status, "latest_value", None)),
        getattr(status, "latest_year", None) or "",
        plain(getattr(status, "target_value", None)),
        _percent_points(getattr(status, "completion", None)),
        _percent_points(getattr(status, "expected_completion", None)),
        plain(getattr(status, "ratio", None)),
        row["label"],
        plain(getattr(status, "forecast_value", None)),
        _yes_no(getattr(status, "forecast_meets_target", None)),
        indicator.lead_unit.name if indicator.lead_unit else "",
    ]


def _put(sheet: Any, row: int, values: list[tuple[Any, str]]) -> None:
    for column, (value, number_format) in enumerate(values, 1):
        cell = sheet.cell(row=row, column=column, value=None if value == "" else value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            cell.number_format = number_format


def export_status_xlsx(
    *, plan: Plan, year: int, indicators: list[Indicator], regions: list[Region], tasks: list[Any]
) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    rows = status_rows(plan, year, indicators, regions)
    workbook = Workbook()
    detail = workbook.active
    detail.title = "指标状态"
    # The title line. The export time stays text here: the non-interference test (tests/security/
    # test_scope_in_bodies.py) masks "导出于 <minute>" in text; a date cell would make two exports differ.
    title = f"{plan.title} · 截至{year}年 · 导出于 {timezone.localtime():%Y-%m-%d %H:%M}"
    detail.cell(row=1, column=1, value=title).font = Font(bold=True, size=12)
    header_row = TITLE_ROWS + 1
    for column, heading in enumerate(STATUS_HEADERS, 1):
        detail.cell(row=header_row, column=column, value=heading).font = Font(bold=True)
    status_column = STATUS_HEADERS.index("状态") + 1
    for index, row in enumerate(rows, header_row + 1):
        _put(detail, index, _status_cells(row))
        fill, font = STATUS_FILLS[row["display"]]
        status_cell = detail.cell(row=index, column=status_column)
        status_cell.fill = PatternFill("solid", fgColor=fill)
        status_cell.font = Font(color=font)
    fit_columns(detail, header_row=header_row, caps={STATUS_HEADERS.index("指标") + 1: 40})
    finish_table(detail, header_row=header_row, freeze=f"C{header_row + 1}")

    matrix = workbook.create_sheet("区域矩阵")
    matrix.append(["区域", *[f"{i.number}.{i.name}" for i in indicators]])
    for cell in matrix[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    by_cell = {(r["indicator"].pk, r["region"].pk): r for r in rows}
    for region in regions:
        matrix.append([region.name, *[by_cell[(i.pk, region.pk)]["label"] for i in indicators]])
        for column, indicator in enumerate(indicators, 2):
            fill, font = STATUS_FILLS[by_cell[(indicator.pk, region.pk)]["display"]]
            cell = matrix.cell(row=matrix.max_row, column=column)
            cell.fill = PatternFill("solid", fgColor=fill)
            cell.font = Font(color=font)
    # Indicator names are long: the header wraps over as many lines as it needs, the columns fit the labels.
    fit_columns(matrix, header_row=1, header_lines=4, minimum=10, maximum=18)
    matrix.row_dimensions[1].height = header_height(matrix, 1)
    finish_table(matrix, header_row=1, freeze="B2")

    task_sheet = workbook.create_sheet("任务")
    task_headers = ["编号", "任务", "重点举措", "牵头单位", "状态", "完成度", "按时间应完成"]
    task_sheet.append(task_headers)
    for cell in task_sheet[1]:
        cell.font = Font(bold=True)
    for task, overall, display, lead in tasks:
        _put(
            task_sheet,
            task_sheet.max_row + 1,
            [
                (task.label, ""),
                (task.title, ""),
                (task.initiative.title, ""),
                (lead, ""),
                (DISPLAY_LABELS[display], ""),
                (_fraction(getattr(overall, "completion", None)), PERCENT_FORMAT),
                (_fraction(getattr(overall, "expected_completion", None)), PERCENT_FORMAT),
            ],
        )
        fill, font = STATUS_FILLS[display]
        cell = task_sheet.cell(row=task_sheet.max_row, column=5)
        cell.fill = PatternFill("solid", fgColor=fill)
        cell.font = Font(color=font)
    fit_columns(task_sheet, header_row=1, caps={2: 44, 3: 36})
    finish_table(task_sheet, header_row=1, freeze="C2")
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def export_status_csv(*, plan: Plan, year: int, indicators: list[Indicator], regions: list[Region]) -> str:
    """The 指标状态 rows as CSV for other programs: UTF-8 with a BOM (so Excel reads the Chinese), plain numbers."""
    buffer = io.StringIO()
    buffer.write("\ufeff")  # the byte-order mark: without it Excel opens UTF-8 as the local code page (GBK)
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADERS)
    for row in status_rows(plan, year, indicators, regions):
        writer.writerow(_status_csv_record(row))
    return buffer.getvalue()
