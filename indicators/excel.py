"""Excel in and out: the 填报模板, checking an uploaded file as a whole, and the status export.

Upload safety: the size is capped before anything is read; the archive is inspected (macros refused,
uncompressed size and compression ratio capped against zip bombs); openpyxl reads in read-only mode and parses
XML through defusedxml (installed with the app), so entity-expansion bombs are refused; rows are capped.
Every value is checked by the same service functions as the forms, and nothing is written unless the whole
file is valid.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from planning import workflow
from planning.assessment import DISPLAY_LABELS, display_status
from planning.models import EntryStatus, Plan, Task, TaskProgress
from planning.selectors import deadline_for, task_progress_capturable_by, tasks_capturable_by, user_scope
from planning.services import (
    TaskProgressInput,
    task_progress_clean,
    task_progress_create,
    task_progress_update,
)
from planning.workflow import Channel
from regions.models import Region

from .models import Indicator, IndicatorStatus, IndicatorValue
from .selectors import (
    can_capture_cell,
    indicators_capturable_by,
    previous_approved,
    region_plan,
    regions_capturable_by,
)
from .services import IndicatorValueInput, indicator_value_clean, indicator_value_create, indicator_value_update

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
]

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


TEXT_LABELS = {"source": "数据来源", "note": "说明", "outlier_note": "异常值确认说明", "narrative": "工作进展"}


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


def _plain(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}"


# --- the template ---------------------------------------------------------------------------------


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
        for index, (title, _key, width, editable) in enumerate(columns, 1):
            cell = sheet.cell(
                row=1,
                column=index,
                value=title + ("*" if editable and _key in ("value", "source", "narrative") else ""),
            )
            cell.font = Font(bold=True, color="FFFFFF")
            cell.fill = header_fill
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            sheet.column_dimensions[cell.column_letter].width = width
        sheet.freeze_panes = "B2"
        sheet.row_dimensions[1].height = 32

    header(indicators_sheet, INDICATOR_COLUMNS)
    indicators = indicators_capturable_by(user).filter(plan=plan).select_related("plan").order_by("number")
    if unit_id is not None:
        indicators = indicators.filter(lead_unit_id=unit_id)
    region_qs = regions_capturable_by(user).filter(pk__in=plan.area_regions()).order_by("order")
    if region_id is not None:
        region_qs = region_qs.filter(pk=region_id)
    regions = list(region_qs)
    entries = {(v.indicator_id, v.region_id): v for v in IndicatorValue.objects.filter(indicator__plan=plan, year=year)}
    from .models import IndicatorRegionTarget

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
            values = {
                "key": f"I{indicator.pk}-R{region.pk}",
                "indicator": f"{indicator.number}. {indicator.name}",
                "unit": indicator.unit,
                "region": region.name,
                "year": year,
                "baseline": _plain(plan_for.baseline),
                "target": _plain(plan_for.target),
                "previous": _plain(previous[1]) if previous else "",
                "expected": _plain(expected.quantize(Decimal("0.01"))) if expected is not None else "",
                "state": entry.get_status_display() if entry else "未填报",
                # Only an editable draft is pre-filled: a submitted or approved entry is not changed by a file.
                "value": _plain(editable.value) if editable else "",
                "source": editable.source if editable else "",
                "note": editable.note if editable else "",
                "outlier_note": editable.outlier_note if editable else "",
            }
            for column, (_title, key, _width, is_input) in enumerate(INDICATOR_COLUMNS, 1):
                cell = indicators_sheet.cell(row=row, column=column, value=values[key])
                if is_input:
                    cell.protection = Protection(locked=False)
                    cell.fill = editable_fill
            row += 1
        maximum = indicator.max_value
        letter = indicators_sheet.cell(row=1, column=value_column).column_letter
        if maximum is not None:
            validation = DataValidation(
                type="decimal", operator="between", formula1="0", formula2=_plain(maximum), allow_blank=True
            )
        else:
            validation = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
        validation.error = "请输入不小于0的数字" + (f"，且不超过{_plain(maximum)}" if maximum is not None else "")
        validation.errorTitle = "数值有误"
        first = row - len(regions)
        if len(regions):
            validation.add(f"{letter}{first}:{letter}{row - 1}")
            indicators_sheet.add_data_validation(validation)
    _length_checks(indicators_sheet, INDICATOR_COLUMNS, IndicatorValue, ("source", "note", "outlier_note"), row - 1)
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
                "percent": _plain(editable_entry.percent) if editable_entry else "",
                "passed": {True: "是", False: "否"}.get(editable_entry.passed, "") if editable_entry else "",  # type: ignore[arg-type]
                "narrative": editable_entry.narrative if editable_entry else "",
            }
            for i in range(MAX_TARGETS):
                values[f"amount{i}"] = _plain(amounts.get(targets[i].pk)) if i < len(targets) else ""
            for column, (_title, key, _width, editable) in enumerate(TASK_COLUMNS, 1):
                cell = sheet.cell(row=row, column=column, value=values[key])
                usable = editable and (
                    (key.startswith("amount") and int(key[-1]) < len(targets))
                    or (key == "percent" and task.is_qualitative)
                    or (key == "passed" and milestone is not None)
                    or key == "narrative"
                )
                if usable:
                    cell.protection = Protection(locked=False)
                    cell.fill = editable_fill
                if key in ("targets", "narrative", "task"):
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
                if key == "passed" and milestone is not None:
                    passed_validation.add(cell.coordinate)
            row += 1
    _length_checks(sheet, TASK_COLUMNS, TaskProgress, ("narrative",), row - 1)
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False


def _help_sheet(workbook: Any, *, plan: Plan, year: int) -> None:
    from openpyxl.styles import Font

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
            "区域达标任务选择“是/否”已通过验收或评估；每行都要填写“工作进展”。",
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
        if bold:
            cell.font = Font(bold=True, size=13)


# --- reading an upload ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportProblem:
    sheet: str
    row: int
    column: str
    message: str


@dataclass
class PlannedChange:
    kind: str  # "indicator" or "task"
    action: str  # "create", "update", "unchanged"
    title: str
    region: str
    row: int
    target: Any  # Indicator or Task
    region_obj: Region | None
    entry: Any  # existing IndicatorValue / TaskProgress or None
    data: Any  # IndicatorValueInput or TaskProgressInput
    details: str = ""


@dataclass
class ImportPlan:
    plan: Plan | None = None
    year: int | None = None
    changes: list[PlannedChange] = field(default_factory=list)
    errors: list[ImportProblem] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counts = {"create": 0, "update": 0, "unchanged": 0}
        for change in self.changes:
            counts[change.action] += 1
        return counts

    def summary(self) -> dict[str, Any]:
        return {
            "counts": self.counts,
            "changes": [
                {
                    "kind": c.kind,
                    "action": c.action,
                    "title": c.title,
                    "region": c.region,
                    "row": c.row,
                    "details": c.details,
                }
                for c in self.changes
            ],
            "errors": [e.__dict__ for e in self.errors],
        }


class UnsafeFile(Exception):
    """The file is not a workbook we will open (too big, macros, a bomb, not xlsx)."""


def check_archive(data: bytes) -> None:
    limit = settings.IMPORT_MAX_BYTES
    if len(data) > limit:
        raise UnsafeFile(f"文件为 {len(data) / 1024 / 1024:.1f} MB，超过 {limit // 1024 // 1024} MB 的上限。")
    if not data.startswith(b"PK\x03\x04"):
        raise UnsafeFile("这不是 Excel（.xlsx）文件。请使用系统下载的模板，另存为 .xlsx 格式后上传。")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            names = {m.filename for m in members}
            content_types = archive.read("[Content_Types].xml") if "[Content_Types].xml" in names else b""
            # A workbook's XML never declares a DTD; one that does is an entity-expansion attack.
            declares_dtd = any(
                _head(archive, member) for member in members if member.filename.endswith((".xml", ".rels", ".vml"))
            )
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError):
        raise UnsafeFile("文件已损坏，无法读取。请重新下载模板填写后上传。") from None
    if declares_dtd:
        raise UnsafeFile("文件含有不安全的 XML 内容（DTD 或实体声明），不予接收。")
    if any(name.lower().endswith("vbaproject.bin") for name in names) or b"macroEnabled" in content_types:
        raise UnsafeFile("文件包含宏（.xlsm），出于安全原因不予接收。请另存为不含宏的 .xlsx 文件后上传。")
    total = sum(m.file_size for m in members)
    if total > settings.IMPORT_MAX_UNCOMPRESSED_BYTES or any(
        m.compress_size and m.file_size / m.compress_size > 200 for m in members
    ):
        raise UnsafeFile("文件解压后异常庞大（疑似压缩炸弹），不予接收。")
    if "xl/workbook.xml" not in names:
        raise UnsafeFile("这不是 Excel（.xlsx）工作簿。")


def _head(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bool:
    with archive.open(member) as handle:
        head = handle.read(4096)
    return b"<!DOCTYPE" in head or b"<!ENTITY" in head


def open_workbook(data: bytes) -> Any:
    from openpyxl import load_workbook
    from openpyxl.xml import DEFUSEDXML

    if not DEFUSEDXML:  # pragma: no cover - defusedxml is a dependency; refuse rather than parse unsafely
        raise UnsafeFile("服务器缺少安全的 XML 解析组件（defusedxml），暂不能导入。")
    check_archive(data)
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception as exc:  # openpyxl and defusedxml raise many kinds; all mean "not a workbook we read"
        raise UnsafeFile(
            f"无法读取该文件（{type(exc).__name__}）：文件可能已损坏、被加密或含有不安全的内容。"
        ) from None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        # Excel stores 95.6 as a binary float; repr gives the shortest form that round-trips (95.6).
        return repr(value).rstrip("0").rstrip(".") if "e" not in repr(value) else str(Decimal(repr(value)))
    return str(value).strip()


def _rows(
    sheet: Any, columns: list[tuple[str, str, int, bool]], errors: list[ImportProblem]
) -> Iterable[tuple[int, dict[str, str]]]:
    rows = sheet.iter_rows(values_only=True)
    first = next(rows, None)
    expected = [title for title, *_ in columns]
    got = [str(c).rstrip("*").strip() if c is not None else "" for c in (first or ())][: len(expected)]
    if got != expected:
        errors.append(ImportProblem(sheet.title, 1, "表头", "表头与模板不符，请使用系统下载的模板，不要增删或改动列。"))
        return
    for number, values in enumerate(rows, 2):
        if number - 1 > settings.IMPORT_MAX_ROWS:
            errors.append(ImportProblem(sheet.title, number, "—", f"行数超过 {settings.IMPORT_MAX_ROWS} 行的上限。"))
            return
        padded = list(values) + [None] * (len(columns) - len(values))
        yield number, {key: _text(padded[index]) for index, (_t, key, _w, _e) in enumerate(columns)}


def _field_errors(error: ValidationError, sheet: str, row: int, mapping: dict[str, str]) -> list[ImportProblem]:
    found: list[ImportProblem] = []
    for name, messages in error.message_dict.items():
        column = mapping.get(name, "—")
        found.extend(ImportProblem(sheet, row, column, message) for message in messages)
    return found


def read_upload(data: bytes, *, user: User) -> ImportPlan:
    """Check the whole file; every problem is reported, and the changes it would make are listed."""
    result = ImportPlan()
    try:
        workbook = open_workbook(data)
    except UnsafeFile as exc:
        result.errors.append(ImportProblem("—", 0, "—", str(exc)))
        return result
    try:
        sheets = {sheet.title: sheet for sheet in workbook.worksheets}
        help_sheet = sheets.get(HELP_SHEET)
        mark = next(help_sheet.iter_rows(max_row=1, values_only=True), (None,))[0] if help_sheet else None
        if mark != TEMPLATE_MARK or INDICATOR_SHEET not in sheets or TASK_SHEET not in sheets:
            result.errors.append(
                ImportProblem(
                    "—", 0, "—", "这不是本系统的填报模板（或已被改动）。请先下载填报模板，在模板中填写后上传。"
                )
            )
            return result
        _read_indicators(sheets[INDICATOR_SHEET], user, result)
        _read_tasks(sheets[TASK_SHEET], user, result)
    finally:
        workbook.close()
    if not result.changes and not result.errors:
        result.errors.append(ImportProblem("—", 0, "—", "文件中没有填写任何内容。"))
    return result


def _parse_key(key: str, prefix: str) -> tuple[int, int] | None:
    try:
        left, right = key.split("-")
        if left[0] != prefix or right[0] != "R":
            return None
        return int(left[1:]), int(right[1:])
    except (ValueError, IndexError):
        return None


def _year(raw: str, plan: Plan, sheet: str, row: int, result: ImportPlan) -> int | None:
    try:
        year = workflow.check_year(plan, raw)
    except ValidationError as exc:
        result.errors.extend(_field_errors(exc, sheet, row, {"year": "年度"}))
        return None
    if result.year is None:
        result.year = year
    elif year != result.year:
        result.errors.append(ImportProblem(sheet, row, "年度", "一个文件只能填报一个年度。"))
        return None
    return year


def _read_indicators(sheet: Any, user: User, result: ImportPlan) -> None:
    name = sheet.title
    rows = [
        (n, r)
        for n, r in _rows(sheet, INDICATOR_COLUMNS, result.errors)
        if any(r[k] for k in ("value", "source", "note", "outlier_note"))
    ]
    if not rows:
        return
    keys = [_parse_key(r["key"], "I") for _n, r in rows]
    indicators = Indicator.objects.select_related("plan").in_bulk({k[0] for k in keys if k})
    regions = Region.objects.in_bulk({k[1] for k in keys if k})
    mapping = {"value": "填报值", "source": "数据来源", "outlier_note": "异常值确认说明", "year": "年度"}
    for (number, row), key in zip(rows, keys, strict=True):
        indicator = indicators.get(key[0]) if key else None
        region = regions.get(key[1]) if key else None
        if indicator is None or region is None:
            result.errors.append(ImportProblem(name, number, "系统编号（勿改）", "系统编号无效：请勿修改这一列。"))
            continue
        if result.plan is None:
            result.plan = indicator.plan
        elif indicator.plan_id != result.plan.pk:
            result.errors.append(ImportProblem(name, number, "指标", "一个文件只能填报一个规划。"))
            continue
        year = _year(row["year"], indicator.plan, name, number, result)
        if year is None:
            continue
        if not can_capture_cell(user, indicator, region):
            result.errors.append(
                ImportProblem(name, number, "指标", f"您没有填报“{indicator.name}”（{region.name}）的权限。")
            )
            continue
        data = IndicatorValueInput(
            value=row["value"], source=row["source"], note=row["note"], outlier_note=row["outlier_note"]
        )
        try:
            cleaned = indicator_value_clean(indicator=indicator, region=region, year=year, data=data)
        except ValidationError as exc:
            result.errors.extend(_field_errors(exc, name, number, mapping))
            continue
        entry = IndicatorValue.objects.filter(indicator=indicator, region=region, year=year).first()
        title = f"{indicator.number}. {indicator.name}"
        if entry is None:
            action = "create"
        elif all(getattr(entry, k) == v for k, v in cleaned.items()):
            action = "unchanged"
        elif entry.status in (EntryStatus.SUBMITTED, EntryStatus.APPROVED):
            result.errors.append(
                ImportProblem(
                    name,
                    number,
                    "填报值",
                    f"该填报{entry.get_status_display()}，不能通过导入修改（请在系统中撤回或发起更正）。",
                )
            )
            continue
        else:
            action = "update"
        detail = f"{_plain(entry.value) if entry else '（无）'} → {_plain(cleaned['value'])}"
        result.changes.append(
            PlannedChange("indicator", action, title, region.name, number, indicator, region, entry, data, detail)
        )


def _read_tasks(sheet: Any, user: User, result: ImportPlan) -> None:
    name = sheet.title
    keys_of = ["percent", "passed", "narrative", *[f"amount{i}" for i in range(MAX_TARGETS)]]
    rows = [(n, r) for n, r in _rows(sheet, TASK_COLUMNS, result.errors) if any(r[k] for k in keys_of)]
    if not rows:
        return
    keys = [_parse_key(r["key"], "T") for _n, r in rows]
    tasks = Task.objects.select_related("plan").prefetch_related("targets__regions").in_bulk({k[0] for k in keys if k})
    regions = Region.objects.in_bulk({k[1] for k in keys if k and k[1]})
    capturable = set(tasks_capturable_by(user).filter(pk__in=list(tasks)).values_list("pk", flat=True))
    scope_regions = user_scope(user).regions
    for (number, row), key in zip(rows, keys, strict=True):
        task = tasks.get(key[0]) if key else None
        region = regions.get(key[1]) if key and key[1] else None
        if task is None or (key and key[1] and region is None):
            result.errors.append(ImportProblem(name, number, "系统编号（勿改）", "系统编号无效：请勿修改这一列。"))
            continue
        if result.plan is None:
            result.plan = task.plan
        elif task.plan_id != result.plan.pk:
            result.errors.append(ImportProblem(name, number, "任务", "一个文件只能填报一个规划。"))
            continue
        year = _year(row["year"], task.plan, name, number, result)
        if year is None:
            continue
        if task.pk not in capturable or (region is not None and scope_regions and region.pk not in scope_regions):
            result.errors.append(ImportProblem(name, number, "任务", f"您没有填报“{task.title}”的权限。"))
            continue
        targets = task.quantity_targets
        passed_raw = {"是": True, "否": False}.get(row["passed"], row["passed"] or None)
        data = TaskProgressInput(
            narrative=row["narrative"],
            percent=row["percent"] or None,
            passed=passed_raw,
            amounts={t.pk: row[f"amount{i}"] for i, t in enumerate(targets)},
        )
        mapping = {
            "narrative": "工作进展",
            "percent": "完成百分比（定性任务）",
            "passed": "是否通过（区域达标）",
            "region": "区域",
            **{f"amount_{t.pk}": f"本年完成{CIRCLED[i]}" for i, t in enumerate(targets)},
        }
        try:
            cleaned = task_progress_clean(task=task, region=region, data=data)
        except ValidationError as exc:
            result.errors.extend(_field_errors(exc, name, number, mapping))
            continue
        entry = TaskProgress.objects.filter(task=task, year=year, region=region).prefetch_related("amounts").first()
        title = f"{task.label} {task.title}"
        if entry is None:
            action = "create"
        elif (entry.narrative, entry.percent, entry.passed) == (
            cleaned["narrative"],
            cleaned["percent"],
            cleaned["passed"],
        ) and {a.target_id: a.amount for a in entry.amounts.all()} == cleaned["amounts"]:
            action = "unchanged"
        elif entry.status in (EntryStatus.SUBMITTED, EntryStatus.APPROVED):
            result.errors.append(
                ImportProblem(
                    name,
                    number,
                    "工作进展",
                    f"该填报{entry.get_status_display()}，不能通过导入修改（请在系统中撤回或发起更正）。",
                )
            )
            continue
        else:
            action = "update"
        result.changes.append(
            PlannedChange("task", action, title, region.name if region else "全市", number, task, region, entry, data)
        )


# --- applying it ----------------------------------------------------------------------------------


def apply_import(plan: ImportPlan, *, user: User, progress: Any = None) -> dict[str, int]:
    """Write every change as drafts in one transaction (history: Excel导入); any failure writes nothing."""
    if plan.errors:
        raise ValidationError("文件有错误，未导入。")
    done = {"create": 0, "update": 0, "unchanged": 0}
    with transaction.atomic():
        for index, change in enumerate(plan.changes, 1):
            if change.action == "unchanged":
                done["unchanged"] += 1
            elif change.kind == "indicator":
                if change.action == "create":
                    indicator_value_create(
                        indicator=change.target,
                        region=change.region_obj,  # type: ignore[arg-type]  # indicator rows always have one
                        year=plan.year,
                        data=change.data,
                        user=user,
                        channel=Channel.EXCEL,
                    )
                else:
                    indicator_value_update(
                        entry=change.entry,
                        version=change.entry.version,
                        data=change.data,
                        user=user,
                        channel=Channel.EXCEL,
                    )
                done[change.action] += 1
            else:
                if change.action == "create":
                    task_progress_create(
                        task=change.target,
                        year=plan.year,
                        region=change.region_obj,
                        data=change.data,
                        user=user,
                        channel=Channel.EXCEL,
                    )
                else:
                    if not task_progress_capturable_by(user).filter(pk=change.entry.pk).exists():
                        raise workflow.NotAllowed("您没有修改该填报的权限。")
                    task_progress_update(
                        progress=change.entry,
                        version=change.entry.version,
                        data=change.data,
                        user=user,
                        channel=Channel.EXCEL,
                    )
                done[change.action] += 1
            if progress is not None:
                progress(index, len(plan.changes))
    return done


# --- export ----------------------------------------------------------------------------------------


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
        _plain(getattr(status, "baseline_value", None)),
        _plain(getattr(status, "latest_value", None)),
        getattr(status, "latest_year", None) or "",
        _plain(getattr(status, "target_value", None)),
        _pct(getattr(status, "completion", None)),
        _pct(getattr(status, "expected_completion", None)),
        _plain(getattr(status, "ratio", None)),
        row["label"],
        _plain(getattr(status, "forecast_value", None)),
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
