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


def _pct(value: Decimal | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


STATUS_HEADERS = [
    "序号",
    "指标",
    "单位",
    "属性",
    "区域",
    "基期值",
    "最新值",
    "最新年度",
    "目标值",
    "完成度",
    "按时间应完成",
    "进度比",
    "状态",
    "趋势预测",
    "预测能否达标",
    "牵头单位",
]


def _status_record(row: dict[str, Any]) -> list[Any]:
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
        _pct(getattr(status, "completion", None)),
        _pct(getattr(status, "expected_completion", None)),
        plain(getattr(status, "ratio", None)),
        row["label"],
        plain(getattr(status, "forecast_value", None)),
        _yes_no(getattr(status, "forecast_meets_target", None)),
        indicator.lead_unit.name if indicator.lead_unit else "",
    ]


def export_status_xlsx(
    *, plan: Plan, year: int, indicators: list[Indicator], regions: list[Region], tasks: list[Any]
) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    rows = status_rows(plan, year, indicators, regions)
    workbook = Workbook()
    detail = workbook.active
    detail.title = "指标状态"
    detail.append([f"{plan.title} · 截至{year}年 · 导出于 {timezone.localtime():%Y-%m-%d %H:%M}"])
    detail.append(STATUS_HEADERS)
    for cell in detail[2]:
        cell.font = Font(bold=True)
    for row in rows:
        detail.append(_status_record(row))
        fill, font = STATUS_FILLS[row["display"]]
        status_cell = detail.cell(row=detail.max_row, column=STATUS_HEADERS.index("状态") + 1)
        status_cell.fill = PatternFill("solid", fgColor=fill)
        status_cell.font = Font(color=font)
    for index, width in enumerate([6, 28, 8, 8, 14, 9, 9, 9, 9, 9, 11, 9, 13, 9, 11, 12], 1):
        detail.column_dimensions[detail.cell(row=2, column=index).column_letter].width = width
    detail.freeze_panes = "C3"

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
    matrix.column_dimensions["A"].width = 16
    matrix.freeze_panes = "B2"

    task_sheet = workbook.create_sheet("任务")
    task_sheet.append(["编号", "任务", "重点举措", "牵头单位", "状态", "完成度", "按时间应完成"])
    for cell in task_sheet[1]:
        cell.font = Font(bold=True)
    for task, overall, display, lead in tasks:
        task_sheet.append(
            [
                task.label,
                task.title,
                task.initiative.title,
                lead,
                DISPLAY_LABELS[display],
                _pct(getattr(overall, "completion", None)),
                _pct(getattr(overall, "expected_completion", None)),
            ]
        )
        fill, font = STATUS_FILLS[display]
        cell = task_sheet.cell(row=task_sheet.max_row, column=5)
        cell.fill = PatternFill("solid", fgColor=fill)
        cell.font = Font(color=font)
    for letter, width in zip("ABCDEFG", [10, 36, 30, 14, 13, 9, 11], strict=True):
        task_sheet.column_dimensions[letter].width = width
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def export_status_csv(*, plan: Plan, year: int, indicators: list[Indicator], regions: list[Region]) -> str:
    buffer = io.StringIO()
    buffer.write("\ufeff")  # so Excel opens UTF-8 Chinese correctly
    writer = csv.writer(buffer)
    writer.writerow(STATUS_HEADERS)
    for row in status_rows(plan, year, indicators, regions):
        writer.writerow(_status_record(row))
    return buffer.getvalue()
