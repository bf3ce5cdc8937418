"""The 填报模板: an .xlsx of what a user captures for a year, pre-filled, with its sheets and columns.

The layout here (sheet names, columns, the mark on the help sheet) is what `exchange.reader` reads back.
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User

from indicators.models import IndicatorRegionTarget, IndicatorValue
from indicators.selectors import indicators_capturable_by, previous_approved, region_plan, regions_capturable_by
from planning import workflow
from planning.models import EntryStatus, Plan, TaskProgress
from planning.selectors import deadline_for, tasks_capturable_by, user_scope
from regions.models import Region

from .sheets import decimal_format, finish_table, fit_columns, number

TEMPLATE_MARK = "乐山教育规划目标跟踪系统填报模板 v1"
INDICATOR_SHEET = "指标填报"
TASK_SHEET = "任务填报"
HELP_SHEET = "填写说明"
MAX_TARGETS = 5
CIRCLED = "①②③④⑤"

INDICATOR_COLUMNS = [
    # header, key, width, editable
    ("系统编号（勿改）", "key", 14, False),
    ("指标", "indicator", 30, False),
    ("单位", "unit", 8, False),
    ("区域", "region", 14, False),
    ("年度", "year", 7, False),
    ("基期值", "baseline", 10, False),
    ("目标值", "target", 10, False),
    ("上年已审核值", "previous", 12, False),
    ("本年应达", "expected", 10, False),
    ("当前状态", "state", 12, False),
    ("填报值", "value", 12, True),
    ("数据来源", "source", 22, True),
    ("说明", "note", 30, True),
    ("异常值确认说明", "outlier_note", 24, True),
]
TASK_COLUMNS = [
    ("系统编号（勿改）", "key", 14, False),
    ("任务", "task", 36, False),
    ("区域", "region", 12, False),
    ("年度", "year", 7, False),
    ("量化目标", "targets", 44, False),
    ("当前状态", "state", 12, False),
    *[(f"本年完成{CIRCLED[i]}", f"amount{i}", 11, True) for i in range(MAX_TARGETS)],
    ("完成百分比（定性任务）", "percent", 12, True),
    ("是否通过（区域达标）", "passed", 12, True),
    ("工作进展", "narrative", 48, True),
    ("存在问题（选填）", "problems", 36, True),
    ("下步打算（选填）", "next_steps", 36, True),
]
# The task sheet's text columns: checked against their model fields' limits, wrapped, and always editable.
TASK_TEXTS = ("narrative", "problems", "next_steps")


TEXT_LABELS = {
    "source": "数据来源",
    "note": "说明",
    "outlier_note": "异常值确认说明",
    "narrative": "工作进展",
    "problems": "存在问题",
    "next_steps": "下步打算",
}


def _length_checks(sheet: Any, columns: list[Any], model: Any, keys: tuple[str, ...], last_row: int) -> None:
    """Excel refuses text longer than the model field allows (the import's service check says the same)."""
    from openpyxl.worksheet.datavalidation import DataValidation

    if last_row < 2:
        return
    for key in keys:
        limit = workflow.field_limit(model, key)
        column = next(index for index, spec in enumerate(columns, 1) if spec[1] == key)
        letter = sheet.cell(row=1, column=column).column_letter
        check = DataValidation(type="textLength", operator="lessThanOrEqual", formula1=str(limit), allow_blank=True)
        check.errorTitle = "文字过长"
        check.error = f"{TEXT_LABELS[key]}最多 {limit} 字"
        check.add(f"{letter}2:{letter}{last_row}")
        sheet.add_data_validation(check)


def plain(value: Decimal | None) -> str:
    """A stored decimal as written (9.4000 → 9.4), blank for none."""
    return "" if value is None else f"{value.normalize():f}"


def build_template(
    *, user: User, plan: Plan, year: int, unit_id: int | None = None, region_id: int | None = None
) -> bytes:
    """An .xlsx with every indicator × region and task the user captures for the year, pre-filled."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    indicators_sheet = workbook.active
    indicators_sheet.title = INDICATOR_SHEET
    header_fill = PatternFill("solid", fgColor="1D4F91")
    editable_fill = PatternFill("solid", fgColor="FFFDE7")

    def header(sheet: Any, columns: list[tuple[str, str, int, bool]]) -> None:
        for index, (title, _key, _width, editable) in enumerate(columns, 1):
            cell = sheet.cell(
                row=1,
                column=index,
                value=title + ("*" if editable and _key in ("value", "source", "narrative") else ""),
            )
            cell.font = Font(bold=True, color="FFFFFF")
            cell.fill = header_fill
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        sheet.row_dimensions[1].height = 32  # two lines of header

    header(indicators_sheet, INDICATOR_COLUMNS)
    indicators = indicators_capturable_by(user).filter(plan=plan).select_related("plan").order_by("number")
    if unit_id is not None:
        indicators = indicators.filter(lead_unit_id=unit_id)
    region_qs = regions_capturable_by(user).filter(pk__in=plan.area_regions()).order_by("order")
    if region_id is not None:
        region_qs = region_qs.filter(pk=region_id)
    regions = list(region_qs)
    entries = {(v.indicator_id, v.region_id): v for v in IndicatorValue.objects.filter(indicator__plan=plan, year=year)}
    decomposed = {(t.indicator_id, t.region_id): t for t in IndicatorRegionTarget.objects.filter(indicator__plan=plan)}
    row = 2
    value_column = next(i for i, c in enumerate(INDICATOR_COLUMNS, 1) if c[1] == "value")
    for indicator in indicators:
        for region in regions:
            entry = entries.get((indicator.pk, region.pk))
            editable = entry if entry and entry.status in (EntryStatus.DRAFT, EntryStatus.RETURNED) else None
            plan_for = region_plan(indicator, region, decomposed.get((indicator.pk, region.pk)))
            previous = previous_approved(indicator, region, year)
            expected = plan_for.expected(indicator, year)
            places = indicator.decimal_places
            # 本年应达 is a computed point on the path: shown (as on the entry page) with at least 2 places.
            expected_places = max(places, 2)
            values = {
                "key": f"I{indicator.pk}-R{region.pk}",
                "indicator": f"{indicator.number}. {indicator.name}",
                "unit": indicator.unit,
                "region": region.name,
                "year": year,
                # Reference values as numbers (sortable, summable), shown with the indicator's decimal places.
                "baseline": number(plan_for.baseline),
                "target": number(plan_for.target),
                "previous": number(previous[1]) if previous else None,
                "expected": number(expected.quantize(Decimal(1).scaleb(-expected_places)))
                if expected is not None
                else None,
                "state": entry.get_status_display() if entry else "未填报",
                # Only an editable draft is pre-filled: a submitted or approved entry is not changed by a file.
                # A number in a General cell: what is typed later shows exactly as typed (no rounding by a format).
                "value": number(editable.value) if editable else None,
                "source": editable.source if editable else "",
                "note": editable.note if editable else "",
                "outlier_note": editable.outlier_note if editable else "",
            }
            formats = {
                "baseline": decimal_format(places),
                "target": decimal_format(places),
                "previous": decimal_format(places),
                "expected": decimal_format(expected_places),
            }
            for column, (_title, key, _width, is_input) in enumerate(INDICATOR_COLUMNS, 1):
                cell = indicators_sheet.cell(row=row, column=column, value=values[key])
                if key in formats:
                    cell.number_format = formats[key]
                if is_input:
                    cell.protection = Protection(locked=False)
                    cell.fill = editable_fill
            row += 1
        maximum = indicator.max_value
        letter = indicators_sheet.cell(row=1, column=value_column).column_letter
        if maximum is not None:
            validation = DataValidation(
                type="decimal", operator="between", formula1="0", formula2=plain(maximum), allow_blank=True
            )
        else:
            validation = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
        validation.error = "请输入不小于0的数字" + (f"，且不超过{plain(maximum)}" if maximum is not None else "")
        validation.errorTitle = "数值有误"
        first = row - len(regions)
        if len(regions):
            validation.add(f"{letter}{first}:{letter}{row - 1}")
            indicators_sheet.add_data_validation(validation)
    _length_checks(indicators_sheet, INDICATOR_COLUMNS, IndicatorValue, ("source", "note", "outlier_note"), row - 1)
    _finish(indicators_sheet, INDICATOR_COLUMNS)
    indicators_sheet.protection.sheet = True
    indicators_sheet.protection.formatColumns = False
    indicators_sheet.protection.autoFilter = False

    _task_sheet(
        workbook,
        user=user,
        plan=plan,
        year=year,
        unit_id=unit_id,
        region_id=region_id,
        header=header,
        editable_fill=editable_fill,
    )
    _help_sheet(workbook, plan=plan, year=year)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def _task_sheet(
    workbook: Any,
    *,
    user: User,
    plan: Plan,
    year: int,
    unit_id: int | None,
    region_id: int | None,
    header: Any,
    editable_fill: Any,
) -> None:
    from openpyxl.styles import Alignment, Protection
    from openpyxl.worksheet.datavalidation import DataValidation

    sheet = workbook.create_sheet(TASK_SHEET)
    header(sheet, TASK_COLUMNS)
    tasks = tasks_capturable_by(user).filter(plan=plan).prefetch_related("targets__regions").order_by("order")
    if unit_id is not None:
        tasks = tasks.filter(responsibilities__unit_id=unit_id).distinct()
    scope_regions = user_scope(user).regions
    progress = {
        (p.task_id, p.region_id): p
        for p in TaskProgress.objects.filter(task__plan=plan, year=year).prefetch_related("amounts")
    }
    passed_validation = DataValidation(type="list", formula1='"是,否"', allow_blank=True)
    sheet.add_data_validation(passed_validation)
    row = 2
    for task in tasks:
        milestone = task.milestone_target
        # A region filter of the plan's own region (the city) means the city-wide tasks.
        city_only = region_id is not None and region_id == plan.region_id
        regions: list[Region | None] = [None]
        if milestone is not None:
            if city_only:
                continue
            regions = [
                r
                for r in milestone.regions.all()
                if (not scope_regions or r.pk in scope_regions) and (region_id is None or r.pk == region_id)
            ]
        elif region_id is not None and not city_only:
            continue
        targets = task.quantity_targets
        for region in regions:
            entry = progress.get((task.pk, region.pk if region else None))
            editable_entry = entry if entry and entry.status in (EntryStatus.DRAFT, EntryStatus.RETURNED) else None
            amounts = {a.target_id: a.amount for a in editable_entry.amounts.all()} if editable_entry else {}
            description = "；".join(
                f"{CIRCLED[i]}{t.label}{t.display_value}{t.unit}{t.qualifier}（{t.get_kind_display()}）"
                for i, t in enumerate(targets)
            ) or ("区域达标：通过验收/评估" if milestone else "定性任务：填完成百分比")
            values: dict[str, Any] = {
                "key": f"T{task.pk}-R{region.pk if region else 0}",
                "task": f"{task.label} {task.title}",
                "region": region.name if region else "全市",
                "year": year,
                "targets": description,
                "state": entry.get_status_display() if entry else "未填报",
                "percent": number(editable_entry.percent) if editable_entry else None,
                "passed": {True: "是", False: "否"}.get(editable_entry.passed, "") if editable_entry else "",  # type: ignore[arg-type]
                "narrative": editable_entry.narrative if editable_entry else "",
                "problems": editable_entry.problems if editable_entry else "",
                "next_steps": editable_entry.next_steps if editable_entry else "",
            }
            for i in range(MAX_TARGETS):
                values[f"amount{i}"] = number(amounts.get(targets[i].pk)) if i < len(targets) else None
            for column, (_title, key, _width, editable) in enumerate(TASK_COLUMNS, 1):
                cell = sheet.cell(row=row, column=column, value=values[key])
                usable = editable and (
                    (key.startswith("amount") and int(key[-1]) < len(targets))
                    or (key == "percent" and task.is_qualitative)
                    or (key == "passed" and milestone is not None)
                    or key in TASK_TEXTS
                )
                if usable:
                    cell.protection = Protection(locked=False)
                    cell.fill = editable_fill
                if key in ("targets", "task", *TASK_TEXTS):
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
                if key == "passed" and milestone is not None:
                    passed_validation.add(cell.coordinate)
            row += 1
    _length_checks(sheet, TASK_COLUMNS, TaskProgress, TASK_TEXTS, row - 1)
    _finish(sheet, TASK_COLUMNS)
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False
    sheet.protection.autoFilter = False


# Columns of long text wrap at these widths; the others fit their longest text.
WRAPPED_WIDTHS = {"indicator": 40, "task": 40, "targets": 50, "narrative": 50, "problems": 40, "next_steps": 40}


def _finish(sheet: Any, columns: list[tuple[str, str, int, bool]]) -> None:
    """Widths fitted to the content (input columns keep room to type), frozen header and key, auto-filter."""
    floors = {index: float(width) for index, (_t, _key, width, editable) in enumerate(columns, 1) if editable}
    caps = {
        index: float(WRAPPED_WIDTHS[key]) for index, (_t, key, _w, _e) in enumerate(columns, 1) if key in WRAPPED_WIDTHS
    }
    fit_columns(sheet, header_row=1, header_lines=2, floors=floors, caps=caps)
    finish_table(sheet, header_row=1, freeze="B2")


def _help_sheet(workbook: Any, *, plan: Plan, year: int) -> None:
    from openpyxl.styles import Alignment, Font

    sheet = workbook.create_sheet(HELP_SHEET)
    sheet.column_dimensions["A"].width = 110
    lines = [
        (TEMPLATE_MARK, True),
        (f"规划：{plan.title}；填报年度：{year}年；截止日期：{deadline_for(plan, year):%Y年%m月%d日}", False),
        ("", False),
        (
            "一、只填黄色单元格。“指标填报”表填写“填报值”和“数据来源”（必填），需要时填写说明；数值不得超过指标规定的小数位数，百分比不超过100。",
            False,
        ),
        ("二、本年数值与上年已审核值相比，变动超过规划期基期到目标的全部差距时，必须填写“异常值确认说明”。", False),
        (
            "三、“任务填报”表：量化任务按①②③……填写各项目标的本年完成量（只填本年新增，累计由系统计算）；定性任务填写完成百分比（0—100）；"
            "区域达标任务选择“是/否”已通过验收或评估；每行都要填写“工作进展”，“存在问题”和“下步打算”选填。",
            False,
        ),
        ("四、留空的行不会导入。已提交审核或已通过的填报不能通过导入修改（需在系统中撤回或发起更正）。", False),
        (
            "五、上传后系统会整体检查：只要有一处错误，所有内容都不会写入，并列出每处错误所在的工作表、行、列和原因；"
            "检查通过后先显示预览，确认后才保存为草稿（仍需在系统中提交审核）。",
            False,
        ),
        ("六、请勿修改表头、“系统编号”列和工作表名称；不要另存为含宏的 .xlsm 文件。", False),
    ]
    for index, (text, bold) in enumerate(lines, 1):
        cell = sheet.cell(row=index, column=1, value=text)
        cell.alignment = Alignment(wrap_text=True, vertical="top")  # long lines wrap on screen and on paper
        if bold:
            cell.font = Font(bold=True, size=13)
