"""A plan as a workbook, out and in: exact round trips, idempotent imports, every bad input named by cell."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import models

from exchange import plan_workbook as pw
from exchange.plan_workbook import build_plan_workbook, plan_import
from indicators.models import Indicator, IndicatorValue
from planning.models import Column, Initiative, Plan, PlanState, Responsibility, Task, TaskTarget, Unit

from .plan_examples import EXAMPLE_CODE, edited, example_workbook

SEEDS = ["leshan-edu-14fyp", "leshan-basic-edu-2021"]
# Lifecycle and bookkeeping, not plan content: a newly imported plan is a draft with its own code.
PLAN_SKIP = {"id", "code", "fixture_sha256", "state", "public_page", "evaluation_finalised_at"}


def natural(obj: Any) -> Any:
    """A related row by what names it across plans (so two plans' rows compare)."""
    if obj is None:
        return None
    if isinstance(obj, Initiative | Task):
        return obj.code
    if isinstance(obj, Column):
        return obj.number
    if isinstance(obj, Unit):
        return obj.name
    if isinstance(obj, Indicator):
        return f"{obj.plan.code}#{obj.number}"
    return obj.pk  # regions are shared


def fields_of(obj: models.Model, skip: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in obj._meta.concrete_fields:
        if f.name in skip or f.name in ("id", "plan"):
            continue
        out[f.name] = natural(getattr(obj, f.name)) if f.is_relation else getattr(obj, f.attname)
    return out


def snapshot(plan: Plan) -> dict[str, Any]:
    """Every field of every row of the plan, keyed by natural keys."""
    return {
        "plan": fields_of(plan, PLAN_SKIP),
        "initiatives": [fields_of(i, set()) for i in Initiative.objects.filter(plan=plan).order_by("order")],
        "columns": [fields_of(c, set()) for c in Column.objects.filter(plan=plan).order_by("number")],
        "tasks": [fields_of(t, set()) for t in Task.objects.filter(plan=plan).order_by("order")],
        "targets": [
            {**fields_of(t, {"task"}), "task": t.task.code, "regions": sorted(t.regions.values_list("pk", flat=True))}
            for t in TaskTarget.objects.filter(task__plan=plan).select_related("task").order_by("task__order", "order")
        ],
        "responsibilities": [
            {**fields_of(r, {"task"}), "task": r.task.code}
            for r in Responsibility.objects.filter(task__plan=plan)
            .select_related("task")
            .order_by("task__order", "order")
        ],
        "indicators": [fields_of(i, set()) for i in Indicator.objects.filter(plan=plan).order_by("number")],
    }


def cells(data: bytes) -> dict[str, list[list[Any]]]:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data), read_only=True)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in workbook.worksheets}


def plan_rows_count() -> tuple[int, ...]:
    return tuple(
        m.objects.count() for m in (Plan, Initiative, Column, Task, TaskTarget, Responsibility, Indicator, Unit)
    ) + tuple(m.history.count() for m in (Plan, Task, Indicator, Responsibility))


@pytest.mark.django_db
@pytest.mark.parametrize("code", SEEDS)
def test_export_then_import_under_a_new_code_gives_the_identical_plan(code: str) -> None:
    original = Plan.objects.get(code=code)
    data = build_plan_workbook(original)
    result = plan_import(data, file_name="x.xlsx", code="copy-of-seed")
    assert result.ok, result.lines()
    assert result.created_plan
    copy = Plan.objects.get(code="copy-of-seed")
    assert copy.state == PlanState.DRAFT
    before, after = snapshot(original), snapshot(copy)
    for key in before:
        assert after[key] == before[key], key
    assert len(after["tasks"]) == original.tasks.count() > 0 and len(after["indicators"]) > 0
    # Export again: the same cell values but for the code.
    again = cells(build_plan_workbook(copy))
    first = cells(data)
    again[pw.PLAN_SHEET][1][1] = first[pw.PLAN_SHEET][1][1]
    again[pw.HELP_SHEET][1] = first[pw.HELP_SHEET][1]
    assert again == first


@pytest.mark.django_db
def test_importing_the_same_workbook_twice_writes_nothing_the_second_time(plan: Plan) -> None:
    data = build_plan_workbook(plan)
    assert plan_import(data, file_name="x.xlsx", code="twice").written > 0
    counts = plan_rows_count()
    second = plan_import(data, file_name="x.xlsx", code="twice")
    assert second.ok and second.written == 0 and not second.created_plan
    assert plan_rows_count() == counts
    # and the seed plan itself, exported and imported back, is unchanged
    assert plan_import(data, file_name="x.xlsx").written == 0


@pytest.mark.django_db
def test_a_changed_cell_updates_only_that_row_with_history(plan: Plan) -> None:
    data = build_plan_workbook(plan)
    rows = cells(data)[pw.INDICATOR_SHEET]
    row = next(i for i, r in enumerate(rows, 1) if r[0] == 2)  # 学前教育毛入园率
    column = next(i for i, f in enumerate(pw.INDICATOR_FIELDS) if f.key == "target_value")
    letter = "ABCDEFGHIJKLMNOPQRSTU"[column]
    changed = edited(data, pw.INDICATOR_SHEET, f"{letter}{row}", 96.5)
    indicator = plan.indicators.get(number=2)
    history_before = Indicator.history.count()
    result = plan_import(changed, file_name="changed.xlsx")
    assert result.ok and result.written == 1
    assert {c["label"]: c["updated"] for c in result.counts()} == {
        "规划": 0,
        "重点举措": 0,
        "专栏": 0,
        "任务": 0,
        "任务量化目标": 0,
        "任务分工": 0,
        "指标": 1,
    }
    # The preview and the command say what changes, field by field.
    assert result.summary()["changes"] == ["指标“2. 学前教育毛入园率”：目标值 96 → 96.5"]
    assert "修改：指标“2. 学前教育毛入园率”：目标值 96 → 96.5" in result.lines()
    indicator.refresh_from_db()
    assert indicator.target_value == Decimal("96.5")
    assert Indicator.history.count() == history_before + 1
    latest = indicator.history.latest()
    assert latest.history_change_reason == "系统：import_plan changed.xlsx"
    assert latest.prev_record.target_value == Decimal("96")


@pytest.mark.django_db
@pytest.mark.parametrize("frozen", ["archived", "finalised"])
def test_an_archived_or_finalised_plan_is_not_changed_by_a_workbook(plan: Plan, frozen: str) -> None:
    import datetime

    data = build_plan_workbook(plan)
    rows = cells(data)[pw.INDICATOR_SHEET]
    row = next(i for i, r in enumerate(rows, 1) if r[0] == 2)
    column = next(i for i, f in enumerate(pw.INDICATOR_FIELDS) if f.key == "target_value")
    changed = edited(data, pw.INDICATOR_SHEET, f"{'ABCDEFGHIJKLMNOPQRSTU'[column]}{row}", 96.5)
    plan.evaluation_finalised_at = datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)
    plan.state = PlanState.ARCHIVED if frozen == "archived" else PlanState.ENDED
    plan.save()
    counts = plan_rows_count()
    result = plan_import(changed, file_name="changed.xlsx")
    assert not result.ok and result.written == 0
    assert "重新开放" in result.problems[0].message
    assert plan_rows_count() == counts
    assert plan.indicators.get(number=2).target_value == Decimal("96")


@pytest.mark.django_db
def test_a_dry_run_reports_the_counts_and_writes_nothing(plan: Plan) -> None:
    data = build_plan_workbook(plan)
    counts = plan_rows_count()
    result = plan_import(data, file_name="x.xlsx", code="dry", dry_run=True)
    assert result.ok and result.created_plan and result.written > 0
    assert {c["label"]: c["created"] for c in result.counts()}["任务"] == plan.tasks.count()
    assert plan_rows_count() == counts and not Plan.objects.filter(code="dry").exists()


# --- bad input --------------------------------------------------------------------------------------


def _seed_workbook() -> bytes:
    return build_plan_workbook(Plan.objects.get(code="leshan-edu-14fyp"))


def _drop_sheet(data: bytes, name: str) -> bytes:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data))
    del workbook[name]
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


BAD = {
    "missing sheet": (lambda d: _drop_sheet(d, "专栏"), ("专栏", 0, "—", "缺少工作表“专栏”。")),
    "wrong heading": (
        lambda d: edited(d, "指标", "B1", "名称"),
        ("指标", 1, "B列", "表头应为“指标名称”，实为“名称”。请勿增删或改动列。"),
    ),
    "text in a number cell": (
        lambda d: edited(d, "指标", "H3", "九十六"),
        ("指标", 3, "目标值", "“目标值”应为数字，不能是“九十六”。"),
    ),
    "unknown unit": (
        lambda d: edited(d, "任务分工", "B2", "市未知局"),
        ("任务分工", 2, "责任单位", "责任单位“市未知局”尚未登记（请管理员先在后台添加）。"),
    ),
    "unknown region": (
        lambda d: edited(d, "规划", "B12", "火星市"),
        ("规划", 12, "内容", "区域“火星市”不存在（区域须由管理员先在后台添加）。"),
    ),
    "unknown target region": (
        lambda d: edited(d, "量化目标", "J2", "沐川县、火星县"),
        ("量化目标", 2, "涉及区域", "区域“火星县”不存在（区域须由管理员先在后台添加）。"),
    ),
    "target year outside the period": (
        lambda d: edited(d, "量化目标", "H2", 2030),
        ("量化目标", 2, "目标年", "目标年 2030 不在规划期 2021—2025 年内。"),
    ),
    "indicator target year outside the period": (
        lambda d: edited(d, "指标", "G2", 2019),
        ("指标", 2, "目标年", "目标年 2019 不在规划期 2021—2025 年内。"),
    ),
    "duplicate numbers": (lambda d: edited(d, "指标", "A3", 1), ("指标", 3, "序号", "指标序号 1 重复。")),
    "duplicate task codes": (lambda d: edited(d, "任务", "A3", "C2.1"), ("任务", 3, "代码", "任务代码“C2.1”重复。")),
    "task pointing to a missing column": (
        lambda d: edited(d, "任务", "G2", 99),
        ("任务", 2, "专栏号", "专栏99在“专栏”表中不存在。"),
    ),
    "target of a missing task": (
        lambda d: edited(d, "量化目标", "A2", "C99.9"),
        ("量化目标", 2, "任务代码", "任务“C99.9”在“任务”表中不存在。"),
    ),
    "empty required cell": (lambda d: edited(d, "任务", "D2", None), ("任务", 2, "任务名称", "“任务名称”不能为空。")),
    "unknown choice": (
        lambda d: edited(d, "指标", "J2", "重要"),
        ("指标", 2, "属性", "“属性”应为约束性、预期性、未标注之一，不能是“重要”。"),
    ),
    "two leads": (
        lambda d: edited(d, "任务分工", "C3", "牵头单位"),
        ("任务分工", 3, "职责", "任务“C2.1”只能有一个牵头单位。"),
    ),
    "baseline year not before period": (
        lambda d: edited(d, "规划", "B11", 2021),
        ("规划", 11, "内容", "基期年应早于规划期起始年。"),
    ),
    "text too long": (
        lambda d: edited(d, "任务", "D2", "长" * 101),
        ("任务", 2, "任务名称", "“任务名称”最多 100 字，现有 101 字。"),
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(BAD))
def test_every_bad_input_is_named_by_sheet_row_and_column_and_writes_nothing(case: str, tmp_path: Path) -> None:
    change, expected = BAD[case]
    data = change(_seed_workbook())
    counts = plan_rows_count()
    result = plan_import(data, file_name="bad.xlsx", code="bad-copy")
    found = [(p.sheet, p.row, p.column, p.message) for p in result.problems]
    assert expected in found, found
    assert result.written == 0 and plan_rows_count() == counts
    assert not Plan.objects.filter(code="bad-copy").exists()
    # The command says the same and fails.
    path = tmp_path / "bad.xlsx"
    path.write_bytes(data)
    out = io.StringIO()
    with pytest.raises(CommandError, match="未写入任何数据"):
        call_command("import_plan", str(path), "--code", "bad-copy", stdout=out)
    sheet, row, column, message = expected
    line = f"{sheet} 第{row}行 {column}：{message}" if row else f"{sheet}：{message}"
    assert line in out.getvalue()
    assert plan_rows_count() == counts


@pytest.mark.django_db
def test_problems_on_several_sheets_are_all_listed(plan: Plan) -> None:
    data = edited(edited(_seed_workbook(), "指标", "H3", "abc"), "任务", "G2", 99)
    result = plan_import(data, file_name="bad.xlsx")
    assert {(p.sheet, p.row, p.column) for p in result.problems} == {("指标", 3, "目标值"), ("任务", 2, "专栏号")}


def _with_member(data: bytes, name: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, source.read(item.filename))
        target.writestr(name, content)
    return out.getvalue()


@pytest.mark.django_db
def test_files_that_are_not_plain_workbooks_are_refused(settings: Any) -> None:
    data = _seed_workbook()
    refused = {
        "not xlsx": (b"name,value\n1,2\n", "这不是 Excel（.xlsx）文件"),
        "formula": (edited(data, "指标", "H2", "=95+1"), "文件含有公式"),
        "macro": (_with_member(data, "xl/vbaProject.bin", b"\x00" * 64), "文件包含宏"),
    }
    counts = plan_rows_count()
    for what, (content, message) in refused.items():
        result = plan_import(content, file_name="f.xlsx", code="refused")
        assert len(result.problems) == 1 and message in result.problems[0].message, what
    settings.IMPORT_MAX_BYTES = 1024
    result = plan_import(data, file_name="f.xlsx", code="refused")
    assert "超过" in result.problems[0].message
    assert plan_rows_count() == counts


@pytest.mark.django_db
def test_the_command_refuses_a_file_too_large_before_reading_it(settings: Any, tmp_path: Path) -> None:
    settings.IMPORT_MAX_BYTES = 1024
    path = tmp_path / "big.xlsx"
    path.write_bytes(b"PK" + b"\x00" * 4096)
    with pytest.raises(CommandError, match="超过 0 MB 的上限"):
        call_command("import_plan", str(path))


@pytest.mark.django_db
def test_unknown_units_are_refused_with_their_list_unless_created() -> None:
    data = edited(edited(_seed_workbook(), "任务分工", "B2", "市未知局"), "指标", "O2", "市另一新局")
    result = plan_import(data, file_name="u.xlsx", code="units")
    assert result.unknown_units == ["市未知局", "市另一新局"] or result.unknown_units == ["市另一新局", "市未知局"]
    assert "未登记的责任单位：" in "\n".join(result.lines())
    assert not Unit.objects.filter(name="市未知局").exists()
    created = plan_import(data, file_name="u.xlsx", code="units", create_units=True)
    assert created.ok, created.lines()
    assert set(created.new_units) == {"市未知局", "市另一新局"}
    copy = Plan.objects.get(code="units")
    assert copy.indicators.get(number=1).lead_unit.name == "市另一新局"
    assert Unit.objects.get(name="市未知局").note == "导入规划工作簿时新增"


@pytest.mark.django_db
def test_the_commands_export_and_import(plan: Plan, tmp_path: Path) -> None:
    path = tmp_path / "plan.xlsx"
    out = io.StringIO()
    call_command("export_plan", "--plan", plan.code, str(path), stdout=out)
    assert path.read_bytes()[:2] == b"PK"
    with pytest.raises(CommandError, match="不存在"):
        call_command("export_plan", "--plan", "no-such-plan", str(path))
    out = io.StringIO()
    call_command("import_plan", str(path), "--dry-run", "--code", "via-command", stdout=out)
    assert "试运行" in out.getvalue() and not Plan.objects.filter(code="via-command").exists()
    call_command("import_plan", str(path), "--code", "via-command", stdout=out)
    assert Plan.objects.get(code="via-command").tasks.count() == plan.tasks.count()
    out = io.StringIO()
    call_command("import_plan", str(path), "--code", "via-command", stdout=out)
    assert "写入 0 行" in out.getvalue()


@pytest.mark.django_db
def test_the_workbook_offers_lists_and_instructions(plan: Plan) -> None:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(build_plan_workbook(plan)))
    assert workbook.sheetnames[:2] == [pw.HELP_SHEET, pw.PLAN_SHEET]
    assert workbook[pw.HELP_SHEET]["A1"].value == pw.WORKBOOK_MARK
    assert workbook[pw.LISTS_SHEET].sheet_state == "hidden"
    sheet = workbook[pw.INDICATOR_SHEET]
    assert [c.value for c in sheet[1]] == [f.title for f in pw.INDICATOR_FIELDS]
    lists = {str(next(iter(dv.sqref.ranges)).coord).split(":")[0]: dv for dv in sheet.data_validations.dataValidation}
    assert lists["J2"].type == "list" and "选项" in lists["J2"].formula1  # 属性
    assert lists["K2"].type == "list"  # 方向
    assert lists["O2"].type == "list" and lists["O2"].errorStyle == "warning"  # 牵头单位: new names warned
    assert lists["H2"].type == "decimal"  # 目标值
    options = workbook[pw.LISTS_SHEET]
    assert [c.value for c in options["A"]][1:4] == ["约束性", "预期性", "未标注"]
    assert "市教育局" in [c.value for c in options["G"]]
    plan_sheet = workbook[pw.PLAN_SHEET]
    assert [plan_sheet.cell(row=r, column=1).value for r in range(2, 5)] == ["代码", "规划名称", "简称"]


# --- a new plan, with predecessors -------------------------------------------------------------------


def _approved(indicator: Indicator, region: Any, year: int, value: str, user: Any) -> None:
    IndicatorValue.objects.create(
        indicator=indicator,
        region=region,
        year=year,
        value=value,
        approved_value=value,
        status="approved",
        source="示例",
        created_by=user,
        updated_by=user,
    )


@pytest.mark.django_db
def test_a_new_plan_takes_its_baselines_from_the_predecessors(plan: Plan, city: Any, alice: Any) -> None:
    _approved(plan.indicators.get(number=2), city, 2025, "96.2", alice)
    _approved(plan.indicators.get(number=7), city, 2025, "96.2", alice)
    preview = plan_import(example_workbook(), file_name="示例.xlsx", dry_run=True)
    assert preview.ok, preview.lines()
    by_row = {b["row"]: b for b in preview.baselines}
    assert by_row["2"]["proposed"] == "96.2" and by_row["2"]["used"] == "96.2" and by_row["2"]["workbook"] == ""
    assert "2025年已审核值" in by_row["2"]["source"]
    assert by_row["3"] == {
        "row": "3",
        "indicator": "2. 九年义务教育巩固率",
        "workbook": "96.5",
        "proposed": "96.2",
        "used": "96.5",
        "source": "工作簿（与上一规划已审核值不同）",
        "difference": "0.3",
    }
    result = plan_import(example_workbook(), file_name="示例.xlsx")
    assert result.ok and result.created_plan
    new = Plan.objects.get(code=EXAMPLE_CODE)
    assert new.title.startswith("示例") and new.state == PlanState.DRAFT
    first, second = new.indicators.order_by("number")
    assert first.predecessor == plan.indicators.get(number=2)
    assert first.baseline_value == Decimal("96.2") and "已审核值" in first.baseline_source
    assert second.baseline_value == Decimal("96.5") and second.baseline_source == "示例统计"
    assert new.tasks.get().responsibilities.count() == 2
    # Exported, the new plan names its predecessors the same way.
    rows = cells(build_plan_workbook(new))[pw.INDICATOR_SHEET]
    assert [r[-1] for r in rows[1:]] == ["leshan-edu-14fyp#2", "leshan-edu-14fyp#7"]


@pytest.mark.django_db
def test_a_predecessor_that_does_not_exist_is_named() -> None:
    data = edited(example_workbook(), "指标", "U2", "no-such-plan#2")
    result = plan_import(data, file_name="示例.xlsx")
    assert ("指标", 2, "上一规划指标") in {(p.sheet, p.row, p.column) for p in result.problems}
    assert not Plan.objects.filter(code=EXAMPLE_CODE).exists()


@pytest.mark.django_db
def test_a_predecessor_with_another_unit_is_not_the_same_measure(plan: Plan) -> None:
    # 学前教育毛入园率 (%) cannot continue 学前教育幼儿数 (万人).
    data = edited(example_workbook(), "指标", "U2", "leshan-edu-14fyp#1")
    result = plan_import(data, file_name="示例.xlsx")
    problems = [p for p in result.problems if (p.sheet, p.row, p.column) == ("指标", 2, "上一规划指标")]
    assert problems and "单位为“万人”" in problems[0].message and "不是同一指标" in problems[0].message
    assert not Plan.objects.filter(code=EXAMPLE_CODE).exists()
