"""Loading a plan's indicators from its fixture (see planning.loading for the conventions)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from planning.loading import (
    DEFAULT_LEAD_SOURCE,
    FixtureError,
    LoadReport,
    as_decimal,
    require,
    unit_named,
    upsert,
)
from planning.models import Column, Plan, ResponsibilityBasis, ResponsibilityRole, Task

from .models import Attribute, Direction, FlagCount, Indicator
from .summaries import flag_counts_rebuild

DIRECTIONS = {"higher": Direction.HIGHER_IS_BETTER, "lower": Direction.LOWER_IS_BETTER}
PERCENT_MAX = {"%": Decimal(100)}


def indicators_load(
    plan: Plan, data: Mapping[str, Any], *, file_name: str, report: LoadReport, reason: str | None = None
) -> None:
    """A plan workbook (exchange.plan_workbook) states more per indicator than a YAML fixture: its 专栏, lead unit
    with basis and source, note and predecessor; a key it gives wins over the fixture conventions."""
    reason = reason or f"load_plan {file_name}"
    meta = data["plan"]
    column = Column.objects.filter(plan=plan, number=1).first() if data.get("columns") else None
    default_lead = meta.get("default_lead_unit")
    seen = set()
    for entry in data.get("indicators", []):
        number = int(require(entry, "number", f"{file_name} indicators"))
        where = f"{file_name} 指标{number}"
        seen.add(number)
        attribute = require(entry, "attribute", where)
        if attribute not in Attribute.values:
            raise FixtureError(f"{where}: 未知属性 {attribute}")
        direction = require(entry, "direction", where)
        if direction not in DIRECTIONS:
            raise FixtureError(f"{where}: direction 应为 higher 或 lower")
        baseline = entry.get("baseline_value")
        lead_unit, lead_basis, lead_source = _lead_unit(plan, entry, default_lead, where)
        extra: dict[str, Any] = {}
        if "note" in entry:
            extra["note"] = entry["note"] or ""
        if "predecessor" in entry:
            extra["predecessor"] = predecessor_named(entry["predecessor"], plan, where)
        upsert(
            Indicator,
            lookup={"plan": plan, "number": number},
            values={
                **extra,
                "column": _column(plan, entry, column, where),
                "name": require(entry, "name", where),
                "unit": require(entry, "unit", where),
                "baseline_year": int(entry.get("baseline_year", plan.baseline_year)),
                "baseline_value": as_decimal(baseline, where) if baseline is not None else None,
                "baseline_source": entry.get("baseline_source", ""),
                "target_year": int(entry.get("target_year", plan.period_end_year)),
                "target_value": as_decimal(require(entry, "target_value", where), where),
                "target_qualifier": entry.get("target_qualifier", ""),
                "attribute": attribute,
                "direction": DIRECTIONS[direction],
                "decimal_places": int(require(entry, "decimal_places", where)),
                "max_value": (as_decimal(entry["max_value"], where) if entry["max_value"] is not None else None)
                if "max_value" in entry
                else PERCENT_MAX.get(entry.get("unit")),
                "is_additive": bool(entry.get("additive", False)),
                "lead_unit": lead_unit,
                "lead_unit_basis": lead_basis,
                "lead_unit_source": lead_source,
                "source_document": data["source"],
                "source_text": entry.get("source_text", ""),
            },
            report=report,
            reason=reason,
        )
    for stale in Indicator.objects.filter(plan=plan).exclude(number__in=seen):
        report.stale.append(f"{plan.code}: 指标“{stale}”在数据文件中已不存在，未删除，请管理员核实")
    if not FlagCount.objects.filter(plan=plan).exists():
        flag_counts_rebuild(plan.pk)  # a new plan is counted from the start (readers of a plan never counted scan)


def _column(plan: Plan, entry: Mapping[str, Any], default: Column | None, where: str) -> Column | None:
    if "column" not in entry:
        return default
    if entry["column"] is None:
        return None
    column = Column.objects.filter(plan=plan, number=int(entry["column"])).first()
    if column is None:
        raise FixtureError(f"{where}: 未知的专栏 {entry['column']}")
    return column


def predecessor_key(indicator: Indicator) -> str:
    """How a workbook names an indicator of another plan: "plan-code#number"."""
    return f"{indicator.plan.code}#{indicator.number}"


def predecessor_find(raw: str) -> Indicator | None:
    code, _sep, number = str(raw).strip().rpartition("#")
    if not code or not number.isdigit():
        return None
    return Indicator.objects.filter(plan__code=code, number=int(number)).select_related("plan").first()


def predecessor_named(raw: Any, plan: Plan, where: str) -> Indicator | None:
    if raw in (None, ""):
        return None
    found = predecessor_find(str(raw))
    if found is None or found.plan_id == plan.pk:
        raise FixtureError(f"{where}: 上一规划指标“{raw}”不存在（应为“规划代码#序号”，且属于另一规划）")
    return found


def _lead_unit(plan: Plan, entry: Mapping[str, Any], default_lead: str | None, where: str) -> tuple[Any, str, str]:
    if "lead_unit" in entry:
        # Stated outright (a plan workbook), with its basis and source as written.
        name = entry["lead_unit"]
        unit = unit_named(str(name), where) if name else None
        return unit, entry.get("lead_unit_basis") or ResponsibilityBasis.MANUAL, entry.get("lead_unit_source") or ""
    task_code = entry.get("lead_unit_from_task")
    if task_code:
        task = Task.objects.filter(plan=plan, code=task_code).first()
        if task is None:
            raise FixtureError(f"{where}: lead_unit_from_task {task_code} 不存在")
        lead = task.responsibilities.filter(role=ResponsibilityRole.LEAD).select_related("unit").first()
        if lead is None:
            raise FixtureError(f"{where}: 任务 {task_code} 没有牵头单位")
        cite = f"{task.source_document} {task.label} {task.title}"[:200]
        return lead.unit, ResponsibilityBasis.MAPPED, cite
    if default_lead:
        return unit_named(default_lead, where), ResponsibilityBasis.DEFAULT, DEFAULT_LEAD_SOURCE
    return None, ResponsibilityBasis.MANUAL, ""
