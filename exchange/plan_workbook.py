"""A plan as a workbook, out and in: `export_plan`, `import_plan` and the 规划管理 page share this module.

The reader turns the sheets into the same dict a YAML fixture gives (planning.loading.plan_load and
indicators.loading.indicators_load are the one loader), after checking every cell: a problem is named by sheet,
row and column, and a workbook with any problem writes nothing. The import runs in one transaction; a dry run is
the same import rolled back, so its LoadReport counts are the preview.

Upload safety is the entry import's (exchange.reader.open_workbook: size cap, macros, zip bombs, defusedxml); a
plan workbook is data only, so a cell holding a formula is refused as well.
"""

from __future__ import annotations

import datetime
import io
import re
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import IntegrityError, models, transaction

from indicators.loading import indicators_load, predecessor_find, predecessor_key
from indicators.models import Attribute, Direction, Indicator, IndicatorValue
from indicators.tasks import recompute_plan
from planning.loading import FixtureError, LoadReport, plan_load
from planning.models import (
    Column,
    Initiative,
    Plan,
    PlanState,
    Responsibility,
    ResponsibilityBasis,
    ResponsibilityRole,
    TargetKind,
    Task,
    TaskTarget,
    Unit,
)
from planning.tasks import dispatch_on_commit
from planning.workflow import plan_frozen_because
from regions.models import Region

from .reader import ImportProblem, UnsafeFile, open_workbook
from .sheets import finish_table, fit_columns, number

WORKBOOK_MARK = "乐山教育规划目标跟踪系统规划工作簿 v1"
HELP_SHEET = "填写说明"
PLAN_SHEET = "规划"
INDICATOR_SHEET = "指标"
INITIATIVE_SHEET = "重点举措"
COLUMN_SHEET = "专栏"
TASK_SHEET = "任务"
TARGET_SHEET = "量化目标"
RESPONSIBILITY_SHEET = "任务分工"
LISTS_SHEET = "选项"
YES_NO = {"是": True, "否": False}
DIRECTION_LABELS = {str(Direction.HIGHER_IS_BETTER.label): "higher", str(Direction.LOWER_IS_BETTER.label): "lower"}
# Validation lists cover this many rows beyond the data, so rows an administrator adds are checked too.
SPARE_ROWS = 200


@dataclass(frozen=True)
class Field:
    """One column of a sheet (one row of the plan sheet): its heading, dict key, kind and model field."""

    title: str
    key: str
    kind: str = "text"  # text, int, decimal, choice, bool, date
    required: bool = False
    model: type[models.Model] | None = None
    name: str = ""  # the model field, for its length limit and digits
    choices: dict[str, str] | None = None  # label in the workbook -> stored value
    width: int = 12

    def limit(self) -> int | None:
        if self.model is None:
            return None
        return getattr(self.model._meta.get_field(self.name or self.key), "max_length", None)


def _labels(choices: type[models.Choices]) -> dict[str, str]:
    return {str(label): str(value) for value, label in choices.choices}


ATTRIBUTES = _labels(Attribute)
KINDS = _labels(TargetKind)
ROLES = _labels(ResponsibilityRole)
BASES = _labels(ResponsibilityBasis)

PLAN_FIELDS = [
    Field("代码", "code", required=True, model=Plan),
    Field("规划名称", "title", required=True, model=Plan),
    Field("简称", "short_title", required=True, model=Plan),
    Field("发文机关", "issuing_body", required=True, model=Plan),
    Field("发文机关说明", "issuing_body_note", model=Plan),
    Field("成文日期", "issued_on", "date"),
    Field("成文日期（原文）", "issued_on_text", model=Plan),
    Field("规划期起始年", "period_start_year", "int", required=True),
    Field("规划期末年", "period_end_year", "int", required=True),
    Field("基期年", "baseline_year", "int", required=True),
    Field("规划区域", "region", required=True),
    Field("来源文件", "source", required=True, model=Plan, name="source_document"),
    Field("说明", "note"),
    Field("滞后阈值（R 低于）", "lagging_below", "decimal", required=True, model=Plan),
    Field("需加快阈值（R 低于）", "watch_below", "decimal", required=True, model=Plan),
    Field("基本符合预期阈值（R 低于）", "on_track_below", "decimal", required=True, model=Plan),
]
INDICATOR_FIELDS = [
    Field("序号", "number", "int", required=True, width=6),
    Field("指标名称", "name", required=True, model=Indicator, width=30),
    Field("单位", "unit", required=True, model=Indicator, width=8),
    Field("基期年", "baseline_year", "int", required=True, width=8),
    Field("基期值", "baseline_value", "decimal", model=Indicator, width=10),
    Field("基期值来源", "baseline_source", model=Indicator, width=20),
    Field("目标年", "target_year", "int", required=True, width=8),
    Field("目标值", "target_value", "decimal", required=True, model=Indicator, width=10),
    Field("目标限定语", "target_qualifier", model=Indicator, width=8),
    Field("属性", "attribute", "choice", required=True, choices=ATTRIBUTES, width=8),
    Field("方向", "direction", "choice", required=True, choices=DIRECTION_LABELS, width=10),
    Field("小数位数", "decimal_places", "int", required=True, width=8),
    Field("填报上限", "max_value", "decimal", model=Indicator, width=8),
    Field("可跨区域加总", "additive", "bool", required=True, width=8),
    Field("牵头单位", "lead_unit", width=14),
    Field("牵头单位依据类型", "lead_unit_basis", "choice", required=True, choices=BASES, width=12),
    Field("牵头单位依据", "lead_unit_source", model=Indicator, width=24),
    Field("专栏号", "column", "int", width=6),
    Field("原文", "source_text", model=Indicator, width=30),
    Field("说明", "note", model=Indicator, width=20),
    Field("上一规划指标", "predecessor", width=18),
]
INITIATIVE_FIELDS = [
    Field("分组编号", "group_number", model=Initiative, width=8),
    Field("分组名称", "group_title", required=True, model=Initiative, width=30),
    Field("代码", "code", required=True, model=Initiative, width=8),
    Field("序号", "number", "int", width=6),
    Field("名称", "title", required=True, model=Initiative, width=36),
]
COLUMN_FIELDS = [
    Field("专栏号", "number", "int", required=True, width=8),
    Field("标题", "title", required=True, model=Column, width=40),
    Field("重点举措代码", "initiative", width=12),
]
TASK_FIELDS = [
    Field("代码", "code", required=True, model=Task, width=10),
    Field("编号", "label", required=True, model=Task, width=12),
    Field("序号", "number", "int", width=6),
    Field("任务名称", "title", required=True, model=Task, width=30),
    Field("任务内容", "text", required=True, width=60),
    Field("重点举措代码", "initiative", required=True, width=12),
    Field("专栏号", "column", "int", width=6),
]
TARGET_FIELDS = [
    Field("任务代码", "task", required=True, width=10),
    Field("目标类型", "kind", "choice", required=True, choices=KINDS, width=10),
    Field("目标内容", "label", required=True, model=TaskTarget, width=30),
    Field("目标值", "value", "decimal", required=True, model=TaskTarget, width=10),
    Field("目标上限", "value_max", "decimal", model=TaskTarget, width=10),
    Field("单位", "unit", required=True, model=TaskTarget, width=8),
    Field("限定语", "qualifier", model=TaskTarget, width=8),
    Field("目标年", "target_year", "int", required=True, width=8),
    Field("填报小数位数", "decimal_places", "int", required=True, width=8),
    Field("涉及区域", "regions", width=24),
    Field("原文", "source_text", required=True, model=TaskTarget, width=40),
]
RESPONSIBILITY_FIELDS = [
    Field("任务代码", "task", required=True, width=10),
    Field("责任单位", "unit", required=True, width=18),
    Field("职责", "role", "choice", required=True, choices=ROLES, width=10),
    Field("依据类型", "basis", "choice", required=True, choices=BASES, width=14),
    Field("依据", "source", model=Responsibility, width=40),
]
TABLES = [
    (INDICATOR_SHEET, INDICATOR_FIELDS),
    (INITIATIVE_SHEET, INITIATIVE_FIELDS),
    (COLUMN_SHEET, COLUMN_FIELDS),
    (TASK_SHEET, TASK_FIELDS),
    (TARGET_SHEET, TARGET_FIELDS),
    (RESPONSIBILITY_SHEET, RESPONSIBILITY_FIELDS),
]


def _plain(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}"


# --- out -----------------------------------------------------------------------------------------


def plan_rows(plan: Plan) -> dict[str, list[list[Any]]]:
    """Every sheet's rows (values as written to the cells), in the plan's order; the plan sheet as label/value."""
    region = plan.region
    meta: dict[str, Any] = {
        "code": plan.code,
        "title": plan.title,
        "short_title": plan.short_title,
        "issuing_body": plan.issuing_body,
        "issuing_body_note": plan.issuing_body_note,
        "issued_on": plan.issued_on.isoformat() if plan.issued_on else "",
        "issued_on_text": plan.issued_on_text,
        "period_start_year": plan.period_start_year,
        "period_end_year": plan.period_end_year,
        "baseline_year": plan.baseline_year,
        "region": region.name if region else "",
        "source": plan.source_document,
        "note": plan.note,
        "lagging_below": number(plan.lagging_below),
        "watch_below": number(plan.watch_below),
        "on_track_below": number(plan.on_track_below),
    }
    rows: dict[str, list[list[Any]]] = {PLAN_SHEET: [[f.title, meta[f.key]] for f in PLAN_FIELDS]}
    attribute_label = {v: k for k, v in ATTRIBUTES.items()}
    basis_label = {v: k for k, v in BASES.items()}
    rows[INDICATOR_SHEET] = [
        [
            i.number,
            i.name,
            i.unit,
            i.baseline_year,
            number(i.baseline_value),
            i.baseline_source,
            i.target_year,
            number(i.target_value),
            i.target_qualifier,
            attribute_label[i.attribute],
            str(Direction(i.direction).label),
            i.decimal_places,
            number(i.max_value),
            "是" if i.is_additive else "否",
            i.lead_unit.name if i.lead_unit else "",
            basis_label[i.lead_unit_basis],
            i.lead_unit_source,
            i.column.number if i.column else None,
            i.source_text,
            i.note,
            predecessor_key(i.predecessor) if i.predecessor else "",
        ]
        for i in Indicator.objects.filter(plan=plan)
        .select_related("lead_unit", "column", "predecessor__plan")
        .order_by("number")
    ]
    rows[INITIATIVE_SHEET] = [
        [i.group_number, i.group_title, i.code, i.number, i.title]
        for i in Initiative.objects.filter(plan=plan).order_by("order")
    ]
    rows[COLUMN_SHEET] = [
        [c.number, c.title, c.initiative.code if c.initiative else ""]
        for c in Column.objects.filter(plan=plan).select_related("initiative").order_by("number")
    ]
    tasks = list(
        Task.objects.filter(plan=plan)
        .select_related("initiative", "column")
        .prefetch_related("targets__regions")
        .order_by("order")
    )
    rows[TASK_SHEET] = [
        [t.code, t.label, t.number, t.title, t.text, t.initiative.code, t.column.number if t.column else None]
        for t in tasks
    ]
    kind_label = {v: k for k, v in KINDS.items()}
    rows[TARGET_SHEET] = [
        [
            t.code,
            kind_label[target.kind],
            target.label,
            number(target.value),
            number(target.value_max),
            target.unit,
            target.qualifier,
            target.target_year,
            target.decimal_places,
            "、".join(r.name for r in sorted(target.regions.all(), key=lambda r: (r.order, r.pk))),
            target.source_text,
        ]
        for t in tasks
        for target in sorted(t.targets.all(), key=lambda x: x.order)
    ]
    role_label = {v: k for k, v in ROLES.items()}
    rows[RESPONSIBILITY_SHEET] = [
        [r.task.code, r.unit.name, role_label[r.role], basis_label[r.basis], r.source]
        for r in Responsibility.objects.filter(task__plan=plan)
        .select_related("task", "unit")
        .order_by("task__order", "order", "pk")
    ]
    return rows


def build_plan_workbook(plan: Plan) -> bytes:
    """The plan as an .xlsx: instructions, the plan, its indicators and structure, with lists to pick from."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    rows = plan_rows(plan)
    workbook = Workbook()
    help_sheet = workbook.active
    help_sheet.title = HELP_SHEET
    header_fill = PatternFill("solid", fgColor="1D4F91")

    def heading(sheet: Any, titles: list[str]) -> None:
        for index, title in enumerate(titles, 1):
            cell = sheet.cell(row=1, column=index, value=title)
            cell.font = Font(bold=True, color="FFFFFF")
            cell.fill = header_fill
            cell.alignment = Alignment(wrap_text=True, vertical="center")

    # The lists: a hidden sheet, one column per list, referred to by the validations.
    units_used = sorted(
        {str(u) for u in Indicator.objects.values_list("unit", flat=True)}
        | {str(u) for u in TaskTarget.objects.values_list("unit", flat=True)}
    )
    lists: dict[str, list[str]] = {
        "attribute": list(ATTRIBUTES),
        "direction": list(DIRECTION_LABELS),
        "kind": list(KINDS),
        "role": list(ROLES),
        "basis": list(BASES),
        "yes_no": list(YES_NO),
        "unit": list(Unit.objects.order_by("order", "name").values_list("name", flat=True)),
        "region": list(Region.objects.order_by("order", "pk").values_list("name", flat=True)),
        "measure": units_used,
    }
    list_titles = {
        "attribute": "属性",
        "direction": "方向",
        "kind": "目标类型",
        "role": "职责",
        "basis": "依据类型",
        "yes_no": "是/否",
        "unit": "责任单位",
        "region": "区域",
        "measure": "计量单位",
    }
    list_ref: dict[str, str] = {}
    lists_sheet = workbook.create_sheet(LISTS_SHEET)
    for column, (key, values) in enumerate(lists.items(), 1):
        lists_sheet.cell(row=1, column=column, value=list_titles[key])
        for row, value in enumerate(values, 2):
            lists_sheet.cell(row=row, column=column, value=value)
        letter = lists_sheet.cell(row=1, column=column).column_letter
        list_ref[key] = f"'{LISTS_SHEET}'!${letter}$2:${letter}${max(len(values), 1) + 1}"
    lists_sheet.sheet_state = "hidden"

    def pick(sheet: Any, ref: str, cells: str, *, strict: bool = True, what: str = "") -> None:
        check = DataValidation(type="list", formula1=ref, allow_blank=True)
        check.errorTitle = "请从列表中选择"
        check.error = f"请从列表中选择{what}" + ("" if strict else "（新的名称须由管理员先在后台添加）")
        check.errorStyle = "stop" if strict else "warning"
        check.add(cells)
        sheet.add_data_validation(check)

    def numeric(sheet: Any, kind: str, cells: str) -> None:
        check = DataValidation(
            type="whole" if kind == "int" else "decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True
        )
        check.errorTitle = "应为数字"
        check.error = "请输入不小于0的" + ("整数" if kind == "int" else "数字")
        check.add(cells)
        sheet.add_data_validation(check)

    plan_sheet = workbook.create_sheet(PLAN_SHEET)
    heading(plan_sheet, ["项目", "内容"])
    for index, (label, value) in enumerate(rows[PLAN_SHEET], 2):
        plan_sheet.cell(row=index, column=1, value=label).font = Font(bold=True)
        plan_sheet.cell(row=index, column=2, value=value).alignment = Alignment(wrap_text=True, vertical="top")
        key = PLAN_FIELDS[index - 2].key
        if key == "region":
            pick(plan_sheet, list_ref["region"], f"B{index}", what="区域")
        elif PLAN_FIELDS[index - 2].kind in ("int", "decimal"):
            numeric(plan_sheet, PLAN_FIELDS[index - 2].kind, f"B{index}")
    plan_sheet.column_dimensions["A"].width = 28
    plan_sheet.column_dimensions["B"].width = 80
    plan_sheet.freeze_panes = "A2"

    picks = {
        "attribute": ("attribute", True, "属性"),
        "direction": ("direction", True, "方向"),
        "kind": ("kind", True, "目标类型"),
        "role": ("role", True, "职责"),
        "basis": ("basis", True, "依据类型"),
        "lead_unit_basis": ("basis", True, "依据类型"),
        "additive": ("yes_no", True, "是或否"),
        "unit": ("unit", False, "责任单位"),
        "lead_unit": ("unit", False, "责任单位"),
    }
    for sheet_name, fields in TABLES:
        sheet = workbook.create_sheet(sheet_name)
        heading(sheet, [f.title for f in fields])
        for row_index, values in enumerate(rows[sheet_name], 2):
            for column, value in enumerate(values, 1):
                sheet.cell(row=row_index, column=column, value=value)
        last = len(rows[sheet_name]) + 1 + SPARE_ROWS
        for column, spec in enumerate(fields, 1):
            letter = sheet.cell(row=1, column=column).column_letter
            cells = f"{letter}2:{letter}{last}"
            if spec.key in picks and not (sheet_name == INDICATOR_SHEET and spec.key == "unit"):
                list_key, strict, what = picks[spec.key]
                pick(sheet, list_ref[list_key], cells, strict=strict, what=what)
            elif spec.key == "unit":  # a measurement unit (%, 万人, 所): the ones in use, new ones allowed
                pick(sheet, list_ref["measure"], cells, strict=False, what="单位")
            elif spec.kind in ("int", "decimal"):
                numeric(sheet, spec.kind, cells)
        floors = {index: float(spec.width) for index, spec in enumerate(fields, 1)}
        caps = {index: float(max(spec.width, 40)) for index, spec in enumerate(fields, 1) if spec.width >= 30}
        fit_columns(sheet, header_row=1, header_lines=2, floors=floors, caps=caps)
        finish_table(sheet, header_row=1, freeze="B2")

    _help(help_sheet, plan)
    workbook.move_sheet(LISTS_SHEET, offset=len(workbook.sheetnames))
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def _help(sheet: Any, plan: Plan) -> None:
    from openpyxl.styles import Alignment, Font

    sheet.column_dimensions["A"].width = 110
    lines = [
        WORKBOOK_MARK,
        f"规划：{plan.title}（代码 {plan.code}）",
        "",
        "一、本工作簿是一个规划的全部内容：“规划”表为规划本身（代码、名称、发文机关、日期、规划期、基期年、区域、状态阈值），"
        "“指标”“重点举措”“专栏”“任务”“量化目标”“任务分工”各表一行一条。",
        "二、请勿修改工作表名称和表头；属性、方向、目标类型、职责、依据类型、是/否等请从下拉列表中选择。",
        "三、“规划区域”和“涉及区域”填写系统中已有的区域名称，多个区域用顿号（、）分隔；“责任单位”“牵头单位”填写系统中已登记的单位，"
        "新单位须由管理员先在后台添加。",
        "四、任务的“重点举措代码”“专栏号”须在“重点举措”“专栏”表中存在；量化目标和任务分工用“任务代码”指向任务；"
        "量化目标的“原文”须是任务内容中的原话，目标年须在规划期内；每个任务至多一个牵头单位。",
        "五、“上一规划指标”填写“规划代码#序号”（如“上一规划的代码#7”，规划代码见“规划管理”页面）：基期值留空时，系统按上一规划该指标在基期年的已审核值提出基期值，"
        "预览中列出每个基期值的来源及与工作簿数值的差异。",
        "六、上传后系统整体检查：只要有一处错误，所有内容都不会写入，并列出每处错误所在的工作表、行、列和原因；"
        "检查通过后先显示预览（新增、修改、未变的行数），确认后才写入。同一工作簿导入两次不会产生任何变化；新导入的规划为草稿状态。",
        "七、只填写数值和文字，不要使用公式；不要另存为含宏的 .xlsm 文件。",
    ]
    for index, text in enumerate(lines, 1):
        cell = sheet.cell(row=index, column=1, value=text)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if index == 1:
            cell.font = Font(bold=True, size=13)


# --- in ------------------------------------------------------------------------------------------

FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")


def refuse_formulas(data: bytes) -> None:
    """A plan workbook holds figures and text only: a formula's cached result is not a stated figure."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for member in archive.infolist():
            if not (member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml")):
                continue
            tail = b""
            with archive.open(member) as handle:
                while chunk := handle.read(1 << 16):
                    if FORMULA.search(tail + chunk):
                        raise UnsafeFile("文件含有公式。规划工作簿只接收数值和文字：请把公式单元格改为数值后再上传。")
                    tail = chunk[-16:]


@dataclass
class WorkbookRead:
    data: dict[str, Any] = field(default_factory=dict)
    problems: list[ImportProblem] = field(default_factory=list)
    unknown_units: list[str] = field(default_factory=list)
    baselines: list[dict[str, str]] = field(default_factory=list)

    def problem(self, sheet: str, row: int, column: str, message: str) -> None:
        self.problems.append(ImportProblem(sheet, row, column, message))


def _cell(spec: Field, raw: Any, sheet: str, row: int, read: WorkbookRead) -> Any:
    """A cell's value as the loader wants it, or None (with the problem recorded when it is not acceptable)."""
    if isinstance(raw, str):
        raw = raw.strip()
    if raw is None or raw == "":
        if spec.required:
            read.problem(sheet, row, spec.title, f"“{spec.title}”不能为空。")
        return None
    if spec.kind == "text":
        text = _as_text(raw)
        limit = spec.limit()
        if limit is not None and len(text) > limit:
            read.problem(sheet, row, spec.title, f"“{spec.title}”最多 {limit} 字，现有 {len(text)} 字。")
            return None
        return text
    if spec.kind == "int":
        value = _as_decimal(raw)
        if value is None or value != value.to_integral_value() or value < 0 or value > 32767:
            read.problem(sheet, row, spec.title, f"“{spec.title}”应为整数，不能是“{_as_text(raw)}”。")
            return None
        return int(value)
    if spec.kind == "decimal":
        value = _as_decimal(raw)
        if value is None:
            read.problem(sheet, row, spec.title, f"“{spec.title}”应为数字，不能是“{_as_text(raw)}”。")
            return None
        if value < 0:
            read.problem(sheet, row, spec.title, f"“{spec.title}”不能小于0。")
            return None
        if spec.model is not None:
            model_field = spec.model._meta.get_field(spec.name or spec.key)
            places = getattr(model_field, "decimal_places", 4)
            digits = getattr(model_field, "max_digits", 14)
            exponent = value.normalize().as_tuple().exponent
            if isinstance(exponent, int) and -exponent > places:
                read.problem(sheet, row, spec.title, f"“{spec.title}”最多 {places} 位小数。")
                return None
            if value >= Decimal(10) ** (digits - places):
                read.problem(sheet, row, spec.title, f"“{spec.title}”数值过大。")
                return None
        return value
    if spec.kind == "choice":
        text = _as_text(raw)
        choices = spec.choices or {}
        if text not in choices:
            read.problem(sheet, row, spec.title, f"“{spec.title}”应为{'、'.join(choices)}之一，不能是“{text}”。")
            return None
        return choices[text]
    if spec.kind == "bool":
        text = _as_text(raw)
        if text not in YES_NO:
            read.problem(sheet, row, spec.title, f"“{spec.title}”应为“是”或“否”，不能是“{text}”。")
            return None
        return YES_NO[text]
    # date
    if isinstance(raw, datetime.datetime):
        return raw.date()
    if isinstance(raw, datetime.date):
        return raw
    try:
        return datetime.date.fromisoformat(_as_text(raw))
    except ValueError:
        read.problem(sheet, row, spec.title, f"“{spec.title}”应为 YYYY-MM-DD 格式的日期，不能是“{_as_text(raw)}”。")
        return None


def _as_text(raw: Any) -> str:
    if isinstance(raw, float):
        return repr(raw).removesuffix(".0")
    return str(raw).strip()


def _as_decimal(raw: Any) -> Decimal | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return Decimal(repr(raw))  # the shortest text that gives back the float: 95.6, not 95.59999…
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _table(sheet: Any, fields: list[Field], read: WorkbookRead) -> list[tuple[int, dict[str, Any]]]:
    """The rows of a table sheet, each checked cell by cell; blank rows are skipped."""
    from django.conf import settings

    name = sheet.title
    rows = sheet.iter_rows(values_only=True)
    header = [_as_text(c) if c is not None else "" for c in (next(rows, None) or ())]
    header += [""] * (len(fields) - len(header))
    wrong = False
    for index, spec in enumerate(fields):
        if header[index] != spec.title:
            shown = f"“{header[index]}”" if header[index] else "空白"
            read.problem(name, 1, _letter(index), f"表头应为“{spec.title}”，实为{shown}。请勿增删或改动列。")
            wrong = True
    if wrong:
        return []
    found = []
    for number_, values in enumerate(rows, 2):
        if number_ - 1 > settings.IMPORT_MAX_ROWS:
            read.problem(name, number_, "—", f"行数超过 {settings.IMPORT_MAX_ROWS} 行的上限。")
            break
        padded = list(values) + [None] * (len(fields) - len(values))
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in padded):
            continue
        found.append(
            (number_, {spec.key: _cell(spec, padded[i], name, number_, read) for i, spec in enumerate(fields)})
        )
    return found


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(index + 1)}列"


def read_plan_workbook(workbook: Any, *, code: str | None = None, create_units: bool = False) -> WorkbookRead:
    """Check every sheet and build the loader's dict; `code` imports the workbook under another plan code."""
    read = WorkbookRead()
    sheets = {sheet.title: sheet for sheet in workbook.worksheets}
    help_sheet = sheets.get(HELP_SHEET)
    mark = next(help_sheet.iter_rows(max_row=1, values_only=True), (None,))[0] if help_sheet else None
    if mark != WORKBOOK_MARK:
        read.problem(
            HELP_SHEET, 1, "A列", "这不是本系统的规划工作簿（或说明页第一行已被改动）。请先导出一个规划作为样式。"
        )
        return read
    missing = [name for name in (PLAN_SHEET, *(n for n, _f in TABLES)) if name not in sheets]
    for name in missing:
        read.problem(name, 0, "—", f"缺少工作表“{name}”。")
    if missing:
        return read
    meta = _plan_sheet(sheets[PLAN_SHEET], read, code)
    tables = {name: _table(sheets[name], fields, read) for name, fields in TABLES}
    if meta is None:
        return read
    known_units = set(Unit.objects.values_list("name", flat=True))
    unknown: dict[str, None] = {}

    def unit_check(name: str | None, sheet: str, row: int, column: str) -> None:
        if name and name not in known_units:
            unknown[name] = None
            if not create_units:
                read.problem(sheet, row, column, f"责任单位“{name}”尚未登记（请管理员先在后台添加）。")

    initiatives = _initiatives(tables[INITIATIVE_SHEET], read)
    columns = _columns(tables[COLUMN_SHEET], initiatives, read)
    tasks = _tasks(tables[TASK_SHEET], initiatives, columns, read)
    _targets(tables[TARGET_SHEET], tasks, meta, read)
    _responsibilities(tables[RESPONSIBILITY_SHEET], tasks, unit_check, read)
    indicators = _indicators(tables[INDICATOR_SHEET], columns, meta, unit_check, read)
    read.unknown_units = list(unknown)
    read.data = {
        "source": meta.pop("source"),
        "plan": meta,
        "initiative_groups": _groups(initiatives),
        "columns": list(columns.values()),
        "tasks": list(tasks.values()),
        "indicators": indicators,
    }
    return read


def _plan_sheet(sheet: Any, read: WorkbookRead, code: str | None) -> dict[str, Any] | None:
    name = sheet.title
    rows = list(sheet.iter_rows(min_row=1, max_row=len(PLAN_FIELDS) + 1, max_col=2, values_only=True))
    rows += [(None, None)] * (len(PLAN_FIELDS) + 1 - len(rows))
    meta: dict[str, Any] = {}
    ok = True
    for index, spec in enumerate(PLAN_FIELDS):
        row = index + 2
        label = _as_text(rows[index + 1][0]) if rows[index + 1][0] is not None else ""
        if label != spec.title:
            read.problem(name, row, "项目", f"第{row}行的项目应为“{spec.title}”，实为“{label}”。请勿增删或改动行。")
            ok = False
            continue
        meta[spec.key] = _cell(spec, rows[index + 1][1], name, row, read)
    if not ok:
        return None
    row_of = {spec.key: index + 2 for index, spec in enumerate(PLAN_FIELDS)}
    if code:
        meta["code"] = code
    if meta.get("code"):
        try:
            validate_slug(meta["code"])
        except ValidationError:
            read.problem(name, row_of["code"], "内容", "代码只能由字母、数字、连字符和下划线组成。")
    start, end, base = meta.get("period_start_year"), meta.get("period_end_year"), meta.get("baseline_year")
    if start is not None and end is not None and start > end:
        read.problem(name, row_of["period_end_year"], "内容", "规划期末年不能早于起始年。")
    if start is not None and base is not None and base >= start:
        read.problem(name, row_of["baseline_year"], "内容", "基期年应早于规划期起始年。")
    low, mid, high = (meta.get(k) for k in ("lagging_below", "watch_below", "on_track_below"))
    if low is not None and mid is not None and high is not None and not low <= mid <= high:
        read.problem(name, row_of["watch_below"], "内容", "三个阈值应由小到大：滞后 ≤ 需加快 ≤ 基本符合预期。")
    region_name = meta.get("region")
    if region_name:
        matches = list(Region.objects.filter(name=region_name))
        if len(matches) != 1 or not matches[0].code:
            reason = "不存在" if not matches else "不唯一或没有行政区划代码"
            read.problem(name, row_of["region"], "内容", f"区域“{region_name}”{reason}（区域须由管理员先在后台添加）。")
        else:
            meta["region"] = matches[0].code
            meta["region_id"] = matches[0].pk
    meta["note"] = meta.get("note") or ""
    for key in ("issuing_body_note", "issued_on_text"):
        meta[key] = meta.get(key) or ""
    return meta


def _initiatives(rows: list[tuple[int, dict[str, Any]]], read: WorkbookRead) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for row, entry in rows:
        code = entry["code"]
        if code is None:
            continue
        if code in found:
            read.problem(INITIATIVE_SHEET, row, "代码", f"重点举措代码“{code}”重复。")
            continue
        found[code] = {**entry, "row": row}
    return found


def _groups(initiatives: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Consecutive rows of the same 分组 form one group, in the sheet's order."""
    groups: list[dict[str, Any]] = []
    for entry in initiatives.values():
        key = (entry["group_number"] or "", entry["group_title"])
        if not groups or (groups[-1]["number"], groups[-1]["title"]) != key:
            groups.append({"number": key[0], "title": key[1], "initiatives": []})
        groups[-1]["initiatives"].append({"code": entry["code"], "number": entry["number"], "title": entry["title"]})
    return groups


def _columns(
    rows: list[tuple[int, dict[str, Any]]], initiatives: dict[str, Any], read: WorkbookRead
) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    for row, entry in rows:
        number_ = entry["number"]
        if number_ is None:
            continue
        if number_ in found:
            read.problem(COLUMN_SHEET, row, "专栏号", f"专栏号 {number_} 重复。")
            continue
        if entry["initiative"] and entry["initiative"] not in initiatives:
            read.problem(COLUMN_SHEET, row, "重点举措代码", f"重点举措“{entry['initiative']}”在“重点举措”表中不存在。")
        found[number_] = {"number": number_, "title": entry["title"], "initiative": entry["initiative"] or None}
    return found


def _tasks(
    rows: list[tuple[int, dict[str, Any]]],
    initiatives: dict[str, Any],
    columns: dict[int, Any],
    read: WorkbookRead,
) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for row, entry in rows:
        code = entry["code"]
        if code is None:
            continue
        if code in found:
            read.problem(TASK_SHEET, row, "代码", f"任务代码“{code}”重复。")
            continue
        if entry["initiative"] and entry["initiative"] not in initiatives:
            read.problem(TASK_SHEET, row, "重点举措代码", f"重点举措“{entry['initiative']}”在“重点举措”表中不存在。")
        if entry["column"] is not None and entry["column"] not in columns:
            read.problem(TASK_SHEET, row, "专栏号", f"专栏{entry['column']}在“专栏”表中不存在。")
        found[code] = {
            "code": code,
            "initiative": entry["initiative"],
            "number": entry["number"],
            "label": entry["label"],
            "title": entry["title"],
            "text": entry["text"] or "",
            "column": entry["column"],
            "targets": [],
            "responsibilities": [],
        }
    return found


def _targets(
    rows: list[tuple[int, dict[str, Any]]], tasks: dict[str, Any], meta: dict[str, Any], read: WorkbookRead
) -> None:
    regions = {r.name for r in Region.objects.all()}
    start, end = meta.get("period_start_year"), meta.get("period_end_year")
    for row, entry in rows:
        task = tasks.get(entry["task"] or "")
        if entry["task"] and task is None:
            read.problem(TARGET_SHEET, row, "任务代码", f"任务“{entry['task']}”在“任务”表中不存在。")
        year = entry["target_year"]
        if year is not None and start is not None and end is not None and not start <= year <= end:
            read.problem(TARGET_SHEET, row, "目标年", f"目标年 {year} 不在规划期 {start}—{end} 年内。")
        if entry["value_max"] is not None and entry["value"] is not None and entry["value_max"] < entry["value"]:
            read.problem(TARGET_SHEET, row, "目标上限", "目标上限不能小于目标值。")
        if entry["decimal_places"] is not None and entry["decimal_places"] > 4:
            read.problem(TARGET_SHEET, row, "填报小数位数", "填报小数位数最多为 4。")
        names = [n.strip() for n in re.split(r"[、,，;；]", entry["regions"] or "") if n.strip()]
        for name in names:
            if name not in regions:
                read.problem(TARGET_SHEET, row, "涉及区域", f"区域“{name}”不存在（区域须由管理员先在后台添加）。")
        if task is not None and entry["source_text"] and entry["source_text"] not in task["text"]:
            read.problem(TARGET_SHEET, row, "原文", "“原文”应是该任务“任务内容”中的原话。")
        if task is not None:
            task["targets"].append(
                {
                    "kind": entry["kind"],
                    "label": entry["label"],
                    "value": entry["value"],
                    "value_max": entry["value_max"],
                    "unit": entry["unit"],
                    "qualifier": entry["qualifier"] or "",
                    "target_year": year,
                    "decimal_places": entry["decimal_places"],
                    "regions": names,
                    "source_text": entry["source_text"],
                }
            )


def _responsibilities(
    rows: list[tuple[int, dict[str, Any]]],
    tasks: dict[str, Any],
    unit_check: Callable[[str | None, str, int, str], None],
    read: WorkbookRead,
) -> None:
    seen: set[tuple[str, str]] = set()
    leads: set[str] = set()
    for row, entry in rows:
        task = tasks.get(entry["task"] or "")
        if entry["task"] and task is None:
            read.problem(RESPONSIBILITY_SHEET, row, "任务代码", f"任务“{entry['task']}”在“任务”表中不存在。")
        unit_check(entry["unit"], RESPONSIBILITY_SHEET, row, "责任单位")
        if task is None or entry["unit"] is None:
            continue
        if (task["code"], entry["unit"]) in seen:
            read.problem(
                RESPONSIBILITY_SHEET, row, "责任单位", f"任务“{task['code']}”的责任单位“{entry['unit']}”重复。"
            )
            continue
        seen.add((task["code"], entry["unit"]))
        if entry["role"] == ResponsibilityRole.LEAD:
            if task["code"] in leads:
                read.problem(RESPONSIBILITY_SHEET, row, "职责", f"任务“{task['code']}”只能有一个牵头单位。")
                continue
            leads.add(task["code"])
        task["responsibilities"].append(
            {"unit": entry["unit"], "role": entry["role"], "basis": entry["basis"], "source": entry["source"] or ""}
        )


def _indicators(
    rows: list[tuple[int, dict[str, Any]]],
    columns: dict[int, Any],
    meta: dict[str, Any],
    unit_check: Callable[[str | None, str, int, str], None],
    read: WorkbookRead,
) -> list[dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    start, end = meta.get("period_start_year"), meta.get("period_end_year")
    for row, entry in rows:
        number_ = entry["number"]
        if number_ is not None and number_ in found:
            read.problem(INDICATOR_SHEET, row, "序号", f"指标序号 {number_} 重复。")
            continue
        target_year, baseline_year = entry["target_year"], entry["baseline_year"]
        if target_year is not None and start is not None and end is not None and not start <= target_year <= end:
            read.problem(INDICATOR_SHEET, row, "目标年", f"目标年 {target_year} 不在规划期 {start}—{end} 年内。")
        if target_year is not None and baseline_year is not None and baseline_year >= target_year:
            read.problem(INDICATOR_SHEET, row, "基期年", "基期年应早于目标年。")
        if entry["decimal_places"] is not None and entry["decimal_places"] > 4:
            read.problem(INDICATOR_SHEET, row, "小数位数", "小数位数最多为 4。")
        if entry["column"] is not None and entry["column"] not in columns:
            read.problem(INDICATOR_SHEET, row, "专栏号", f"专栏{entry['column']}在“专栏”表中不存在。")
        unit_check(entry["lead_unit"], INDICATOR_SHEET, row, "牵头单位")
        if entry["predecessor"]:
            _predecessor(row, entry, meta, read)
        if number_ is None:
            continue
        entry = {key: value for key, value in entry.items() if key != "row"}
        entry["baseline_source"] = entry["baseline_source"] or ""
        for key in ("target_qualifier", "lead_unit_source", "source_text", "note", "predecessor"):
            entry[key] = entry[key] or ""
        found[number_] = entry
    return list(found.values())


def _predecessor(row: int, entry: dict[str, Any], meta: dict[str, Any], read: WorkbookRead) -> None:
    """Resolve 上一规划指标; propose the baseline from its approved value for the plan's region in the baseline year."""
    predecessor = predecessor_find(entry["predecessor"])
    if predecessor is None or predecessor.plan.code == meta.get("code"):
        read.problem(
            INDICATOR_SHEET,
            row,
            "上一规划指标",
            f"上一规划指标“{entry['predecessor']}”不存在：应为“规划代码#序号”，且属于另一规划。",
        )
        return
    if entry.get("unit") and predecessor.unit != entry["unit"]:
        # The same measure has the same unit: a 万人 count does not continue a % rate.
        read.problem(
            INDICATOR_SHEET,
            row,
            "上一规划指标",
            f"上一规划指标“{predecessor.plan.short_title}{predecessor.number}. {predecessor.name}”的单位为"
            f"“{predecessor.unit}”，与本指标的“{entry['unit']}”不同，不是同一指标。",
        )
        return
    year = entry["baseline_year"]
    region_id = meta.get("region_id")
    if region_id is None:
        return  # the plan's region is refused on the plan sheet already
    approved = (
        IndicatorValue.objects.filter(
            indicator=predecessor, region_id=region_id, year=year, approved_value__isnull=False
        )
        .values_list("approved_value", flat=True)
        .first()
    )
    given = entry["baseline_value"]
    label = f"{predecessor.plan.short_title}指标{predecessor.number}“{predecessor.name}”{year}年已审核值"
    note = {"row": str(row), "indicator": f"{entry['number']}. {entry['name']}", "workbook": _plain(given)}
    if approved is None:
        note.update(proposed="", used=_plain(given), source="工作簿（上一规划该年无已审核值）", difference="")
    elif given is None:
        entry["baseline_value"] = approved
        entry["baseline_source"] = entry["baseline_source"] or label[:200]
        note.update(proposed=_plain(approved), used=_plain(approved), source=label, difference="")
    else:
        differs = given != approved
        note.update(
            proposed=_plain(approved),
            used=_plain(given),
            source="工作簿" + ("（与上一规划已审核值不同）" if differs else "（与上一规划已审核值一致）"),
            difference=_plain(given - approved) if differs else "",
        )
    read.baselines.append(note)


@dataclass
class PlanImport:
    """What an import did (or, for a dry run, would do)."""

    file_name: str
    code: str = ""
    problems: list[ImportProblem] = field(default_factory=list)
    report: LoadReport | None = None
    created_plan: bool = False
    plan_id: int | None = None
    unknown_units: list[str] = field(default_factory=list)
    new_units: list[str] = field(default_factory=list)
    baselines: list[dict[str, str]] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def written(self) -> int:
        return self.report.written if self.report else 0

    def counts(self) -> list[dict[str, Any]]:
        if self.report is None:
            return []
        return [
            {"label": label, **{k: c[k] for k in ("created", "updated", "deleted", "unchanged")}}
            for label, c in self.report.counts.items()
        ]

    def summary(self) -> dict[str, Any]:
        """JSON for the preview page (problems capped: a thousand lines say enough)."""
        return {
            "file_name": self.file_name,
            "code": self.code,
            "ok": self.ok,
            "dry_run": self.dry_run,
            "created_plan": self.created_plan,
            "plan_id": self.plan_id,
            "written": self.written,
            "counts": self.counts(),
            "stale": self.report.stale if self.report else [],
            # Field by field what an update of an existing plan changes (capped like the problems).
            "changes": (self.report.changes[:1000] if self.report and not self.created_plan else []),
            "change_count": len(self.report.changes) if self.report and not self.created_plan else 0,
            "problems": [p.__dict__ for p in self.problems[:1000]],
            "problem_count": len(self.problems),
            "unknown_units": self.unknown_units,
            "new_units": self.new_units,
            "baselines": self.baselines,
        }

    def lines(self) -> list[str]:
        out = [
            f"{p.sheet} 第{p.row}行 {p.column}：{p.message}" if p.row else f"{p.sheet}：{p.message}"
            for p in self.problems
        ]
        if self.unknown_units and self.problems:
            out.append("未登记的责任单位：" + "、".join(self.unknown_units))
        if self.report is not None:
            out.extend(self.report.lines())
            if not self.created_plan:
                out.extend(f"修改：{change}" for change in self.report.changes)
        out.extend(f"新增责任单位：{name}" for name in self.new_units)
        for b in self.baselines:
            extra = f"，与上一规划已审核值相差 {b['difference']}" if b["difference"] else ""
            out.append(f"指标 {b['indicator']} 基期值 {b['used'] or '（空）'}：来源 {b['source']}{extra}")
        return out


class _DryRun(Exception):
    """Raised inside the import's transaction to roll a dry run back."""


def plan_import(
    data: bytes,
    *,
    file_name: str,
    code: str | None = None,
    create_units: bool = False,
    dry_run: bool = False,
    reason: str = "",
) -> PlanImport:
    """Check the workbook whole, then load it in one transaction; any problem writes nothing.

    `reason` goes into every history row ("系统：…" from the command, "后台：…" from the 规划管理 page)."""
    result = PlanImport(file_name=file_name, dry_run=dry_run)
    try:
        workbook = open_workbook(data)
        refuse_formulas(data)
    except UnsafeFile as exc:
        result.problems.append(ImportProblem("—", 0, "—", str(exc)))
        return result
    try:
        read = read_plan_workbook(workbook, code=code, create_units=create_units)
    finally:
        workbook.close()
    result.problems = read.problems
    result.unknown_units = read.unknown_units
    result.baselines = read.baselines
    if read.problems:
        return result
    meta = read.data["plan"]
    meta.pop("region_id", None)
    meta["state"] = PlanState.DRAFT  # used only when the plan is new
    result.code = meta["code"]
    reason = (reason or f"系统：import_plan {file_name}")[:100]
    report = LoadReport()
    try:
        with transaction.atomic():
            existing = Plan.objects.filter(code=result.code).first()
            frozen = plan_frozen_because(existing) if existing is not None else ""
            if frozen:
                # Nothing written yet: the transaction ends empty.
                result.problems.append(ImportProblem("规划", 0, "代码", f"规划“{result.code}”：{frozen}"))
                return result
            result.created_plan = existing is None
            for name in read.unknown_units:
                Unit.objects.create(name=name, order=_next_unit_order(), note="导入规划工作簿时新增")
                report.note(str(Unit._meta.verbose_name), "created")
            result.new_units = list(read.unknown_units)
            plan = plan_load(read.data, file_name=file_name, checksum=None, report=report, force=True, reason=reason)
            assert plan is not None  # checksum None: never skipped
            indicators_load(plan, read.data, file_name=file_name, report=report, reason=reason)
            result.plan_id = plan.pk
            result.report = report
            if dry_run:
                raise _DryRun
            if plan.state != PlanState.DRAFT and report.written:
                # A tracked plan whose targets or structure changed: its statuses follow (a draft has none yet).
                dispatch_on_commit(recompute_plan, plan.pk)
    except _DryRun:
        result.plan_id = result.plan_id if not result.created_plan else None
    except (FixtureError, ValidationError, IntegrityError) as exc:
        result.report = None
        result.new_units = []
        result.problems.append(ImportProblem("—", 0, "—", f"写入时发现问题，未写入任何数据：{exc}"))
    return result


def _next_unit_order() -> int:
    last = Unit.objects.order_by("-order").values_list("order", flat=True).first()
    return (last or 0) + 1


def counts_by_label(result: PlanImport) -> Counter[str]:
    """Rows written per label (for tests and the command's summary)."""
    total: Counter[str] = Counter()
    for row in result.counts():
        total[row["label"]] = row["created"] + row["updated"] + row["deleted"]
    return total
