"""Loading the plan fixtures (fixtures/*.yaml) into the database, idempotently.

Rows are matched on natural keys (region code or name, plan code, initiative/task code, column number),
compared field by field and saved only when something differs, so loading twice writes nothing and an
edited fixture updates exactly the rows it changed. Rows the fixture no longer mentions are reported,
never deleted: progress entered against them must not disappear with a fixture edit.
"""

from __future__ import annotations

import datetime
import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

import yaml
from django.core.exceptions import ValidationError
from django.db import models

from regions.models import Region

from .lifecycle import state_for_new_plan
from .models import (
    Column,
    Initiative,
    Plan,
    Responsibility,
    ResponsibilityBasis,
    ResponsibilityRole,
    TargetKind,
    Task,
    TaskTarget,
    Unit,
)
from .templatetags.plan_tags import plain

DEFAULT_LEAD_SOURCE = "issuing body (default)"
THRESHOLDS = ("lagging_below", "watch_below", "on_track_below")
# Units whose amounts are reported with decimals; counts (所, 个, 名, 节, 门) are whole numbers.
FRACTIONAL_UNITS = {"%", "亿元", "万平方米", "万台（件、套）", "个百分点"}

M = TypeVar("M", bound=models.Model)


class FixtureError(Exception):
    """A fixture that cannot be loaded; the message names the file and the entry."""


@dataclass
class LoadReport:
    counts: dict[str, Counter[str]] = field(default_factory=dict)
    stale: list[str] = field(default_factory=list)
    skipped_plans: list[str] = field(default_factory=list)
    # What an update changes, field by field ("指标“2. 学前教育毛入园率”：目标值 96 → 96.5"), for previews.
    changes: list[str] = field(default_factory=list)

    def note(self, label: str, outcome: str) -> None:
        self.counts.setdefault(label, Counter())[outcome] += 1

    @property
    def written(self) -> int:
        return sum(c["created"] + c["updated"] + c["deleted"] for c in self.counts.values())

    def lines(self) -> list[str]:
        out = [
            f"{label}: 新增 {c['created']}，更新 {c['updated']}，删除 {c['deleted']}，未变 {c['unchanged']}"
            for label, c in self.counts.items()
        ]
        out.extend(f"已是最新，跳过：{code}" for code in self.skipped_plans)
        out.extend(f"注意：{s}" for s in self.stale)
        return out


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise FixtureError(f"{path.name}: 无法读取：{exc}") from exc
    if not isinstance(data, dict):
        raise FixtureError(f"{path.name}: 顶层应为映射（mapping）")
    return data


def fixtures_checksum(paths: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def upsert(
    model: type[M],
    *,
    lookup: Mapping[str, Any],
    values: Mapping[str, Any],
    report: LoadReport,
    reason: str,
) -> M:
    """Create or update one row; save only the fields that differ (no history row when nothing did)."""
    label = str(model._meta.verbose_name)
    obj = model._default_manager.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **values)
        outcome = "created"
        changed: list[str] | None = None
    else:
        changed = [name for name, value in values.items() if getattr(obj, name) != value]
        if not changed:
            report.note(label, "unchanged")
            return obj
        for name in changed:
            report.changes.append(
                f"{label}“{obj}”：{getattr(model._meta.get_field(name), 'verbose_name', name)} "
                f"{_shown(getattr(obj, name))} → {_shown(values[name])}"
            )
            setattr(obj, name, values[name])
        outcome = "updated"
    try:
        # Field validation gives fixture authors readable messages; uniqueness is the database's job
        # (checking every constraint per row would triple the queries of a full load).
        obj.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise FixtureError(f"{label} {dict(lookup)}: {exc.message_dict}") from exc
    obj._change_reason = reason  # type: ignore[attr-defined]  # read by django-simple-history
    if changed is None:
        obj.save()
    else:
        obj.save(update_fields=changed)
    report.note(label, outcome)
    return obj


def _shown(value: Any) -> str:
    """A field value as a preview states it: decimals as written, nothing as —, texts cut at 40 characters."""
    if value is None or value == "":
        return "—"
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    text = str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def as_decimal(value: Any, where: str) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise FixtureError(f"{where}: “{value}” 不是数字") from exc


def require(entry: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in entry or entry[key] in (None, ""):
        raise FixtureError(f"{where}: 缺少 {key}")
    return entry[key]


# --- regions and units -------------------------------------------------------------------------


def regions_load(data: Mapping[str, Any], *, report: LoadReport, reason: str) -> None:
    source = str(data.get("source", ""))
    order = 0

    def load(entries: list[Mapping[str, Any]], parent: Region | None) -> None:
        nonlocal order
        for entry in entries:
            order += 1
            name = require(entry, "name", "regions.yaml")
            code = entry.get("code") or None
            lookup: dict[str, Any] = {"code": code} if code else {"parent": parent, "name": name, "code": None}
            values: dict[str, Any] = {
                "kind": require(entry, "kind", f"regions.yaml {name}"),
                "order": order,
                "source": source,
            }
            if code:
                values.update(name=name, parent=parent)
            region = upsert(Region, lookup=lookup, values=values, report=report, reason=reason)
            load(entry.get("children", []), region)

    load(data.get("regions", []), None)


def units_load(data: Mapping[str, Any], *, report: LoadReport, reason: str) -> None:
    for order, entry in enumerate(data.get("units", []), 1):
        name = require(entry, "name", "units.yaml")
        upsert(
            Unit,
            lookup={"name": name},
            values={"order": order, "note": entry.get("note", "")},
            report=report,
            reason=reason,
        )


# --- plans -----------------------------------------------------------------------------------


def unit_named(name: str, where: str) -> Unit:
    try:
        return Unit.objects.get(name=name)
    except Unit.DoesNotExist:
        raise FixtureError(f"{where}: 责任单位“{name}”不在 units.yaml 中") from None


def plan_load(
    data: Mapping[str, Any],
    *,
    file_name: str,
    checksum: str | None,
    report: LoadReport,
    force: bool = False,
    reason: str | None = None,
) -> Plan | None:
    """Load one plan's structure; returns None when the same fixtures were loaded before (and not forced).

    A plan workbook (exchange.plan_workbook) loads through here too, with checksum None: it leaves the fixture
    checksum alone, so `load_plan` still knows whether the YAML changed.
    """
    meta = require(data, "plan", file_name)
    source = require(data, "source", file_name)
    code = require(meta, "code", f"{file_name} plan")
    existing = Plan.objects.filter(code=code).first()
    if checksum is not None and existing is not None and existing.fixture_sha256 == checksum and not force:
        report.skipped_plans.append(code)
        return None
    reason = reason or f"load_plan {file_name}"
    plan_values = {
        key: meta.get(key, "")
        for key in ("title", "short_title", "issuing_body", "issuing_body_note", "issued_on_text", "note")
    }
    plan_values.update(
        issued_on=meta.get("issued_on") or None,
        period_start_year=require(meta, "period_start_year", file_name),
        period_end_year=require(meta, "period_end_year", file_name),
        baseline_year=require(meta, "baseline_year", file_name),
        source_document=source,
    )
    if checksum is not None:
        plan_values["fixture_sha256"] = checksum
    # Status thresholds: a workbook states them; a YAML fixture leaves the model's defaults (or an admin's edit).
    for key in THRESHOLDS:
        if meta.get(key) is not None:
            plan_values[key] = as_decimal(meta[key], f"{file_name} {key}")
    if plan_values["issued_on"] is not None:
        plan_values["issued_on"] = _as_date(plan_values["issued_on"], file_name)
    region_code = require(meta, "region", file_name)
    plan_values["region"] = Region.objects.filter(code=str(region_code)).first()
    if plan_values["region"] is None:
        raise FixtureError(f"{file_name}: 规划区域 {region_code} 不在 regions.yaml 中")
    if existing is None:
        # The state is set on creation only: a reload never undoes an administrator's 归档 or 重新开放.
        # A plan workbook's new plan says 草稿 (meta "state"): an administrator starts tracking it.
        plan_values["state"] = meta.get("state") or state_for_new_plan(
            plan_values["period_start_year"], plan_values["period_end_year"]
        )
    plan = upsert(Plan, lookup={"code": code}, values=plan_values, report=report, reason=reason)

    initiatives = _initiatives_load(plan, data, report=report, reason=reason, file_name=file_name)
    columns = _columns_load(plan, data, initiatives, report=report, reason=reason, file_name=file_name)
    tasks = _tasks_load(
        plan, data, initiatives, columns, source=source, report=report, reason=reason, file_name=file_name
    )
    _responsibilities_load(
        plan,
        data,
        tasks,
        initiatives,
        meta=meta,
        source=source,
        report=report,
        reason=reason,
        file_name=file_name,
    )
    return plan


def _as_date(value: Any, where: str) -> datetime.date:
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError as exc:
        raise FixtureError(f"{where}: issued_on “{value}” 不是 YYYY-MM-DD 日期") from exc


def _initiatives_load(
    plan: Plan, data: Mapping[str, Any], *, report: LoadReport, reason: str, file_name: str
) -> dict[str, Initiative]:
    found: dict[str, Initiative] = {}
    order = 0
    for group_order, group in enumerate(data.get("initiative_groups", []), 1):
        for entry in group.get("initiatives", []):
            order += 1
            code = str(require(entry, "code", f"{file_name} initiatives"))
            found[code] = upsert(
                Initiative,
                lookup={"plan": plan, "code": code},
                values={
                    "group_order": group_order,
                    "group_number": group.get("number", ""),
                    "group_title": require(group, "title", f"{file_name} initiative group"),
                    "number": entry.get("number"),
                    "title": require(entry, "title", f"{file_name} initiative {code}"),
                    "order": order,
                },
                report=report,
                reason=reason,
            )
    _report_stale(Initiative.objects.filter(plan=plan).exclude(code__in=found), report, plan)
    return found


def _columns_load(
    plan: Plan,
    data: Mapping[str, Any],
    initiatives: Mapping[str, Initiative],
    *,
    report: LoadReport,
    reason: str,
    file_name: str,
) -> dict[int, Column]:
    found: dict[int, Column] = {}
    for entry in data.get("columns", []):
        number = int(require(entry, "number", f"{file_name} columns"))
        initiative_code = entry.get("initiative")
        if initiative_code is not None and str(initiative_code) not in initiatives:
            raise FixtureError(f"{file_name} 专栏{number}: 未知的重点举措 {initiative_code}")
        found[number] = upsert(
            Column,
            lookup={"plan": plan, "number": number},
            values={
                "title": require(entry, "title", f"{file_name} 专栏{number}"),
                "initiative": initiatives[str(initiative_code)] if initiative_code is not None else None,
            },
            report=report,
            reason=reason,
        )
    _report_stale(Column.objects.filter(plan=plan).exclude(number__in=found), report, plan)
    return found


def _task_entries(data: Mapping[str, Any]) -> Iterable[tuple[Mapping[str, Any], int | None, str | None]]:
    """Tasks listed under columns (plan 1) or directly under the plan (plan 2)."""
    for column in data.get("columns", []):
        for entry in column.get("tasks", []):
            yield entry, int(column["number"]), str(column.get("initiative"))
    for entry in data.get("tasks", []):
        yield entry, None, None


def _tasks_load(
    plan: Plan,
    data: Mapping[str, Any],
    initiatives: Mapping[str, Initiative],
    columns: Mapping[int, Column],
    *,
    source: str,
    report: LoadReport,
    reason: str,
    file_name: str,
) -> dict[str, Task]:
    found: dict[str, Task] = {}
    for order, (entry, column_number, column_initiative) in enumerate(_task_entries(data), 1):
        code = str(require(entry, "code", f"{file_name} tasks"))
        where = f"{file_name} 任务 {code}"
        if code in found:
            raise FixtureError(f"{where}: 代码重复")
        number = entry.get("number")
        if column_number is not None:
            column: Column | None = columns[column_number]
            initiative_code = str(column_initiative)
            label = f"专栏{column_number}-{number}" if number else f"专栏{column_number}"
        else:
            # A task listed directly under the plan may still name its 专栏 (a plan workbook does).
            column = None
            if entry.get("column") is not None:
                column = columns.get(int(entry["column"]))
                if column is None:
                    raise FixtureError(f"{where}: 未知的专栏 {entry['column']}")
            initiative_code = str(require(entry, "initiative", where))
            label = str(require(entry, "label", where))
        if initiative_code not in initiatives:
            raise FixtureError(f"{where}: 未知的重点举措 {initiative_code}")
        task = upsert(
            Task,
            lookup={"plan": plan, "code": code},
            values={
                "initiative": initiatives[initiative_code],
                "column": column,
                "number": number,
                "label": label,
                "title": require(entry, "title", where),
                "text": require(entry, "text", where),
                "order": order,
                "source_document": source,
            },
            report=report,
            reason=reason,
        )
        found[code] = task
        _targets_load(plan, task, entry.get("targets", []), report=report, reason=reason, where=where)
    _report_stale(Task.objects.filter(plan=plan).exclude(code__in=found), report, plan)
    return found


def _targets_load(
    plan: Plan,
    task: Task,
    entries: list[Mapping[str, Any]],
    *,
    report: LoadReport,
    reason: str,
    where: str,
) -> None:
    city_regions = {r.name: r for r in Region.objects.all()} if any(e.get("regions") for e in entries) else {}
    for order, entry in enumerate(entries, 1):
        here = f"{where} 目标{order}"
        kind = require(entry, "kind", here)
        if kind not in TargetKind.values:
            raise FixtureError(f"{here}: 未知的目标类型 {kind}")
        source_text = str(require(entry, "source_text", here))
        if source_text not in task.text:
            raise FixtureError(f"{here}: source_text 不是任务原文的一部分")
        value_max = entry.get("value_max")
        target = upsert(
            TaskTarget,
            lookup={"task": task, "order": order},
            values={
                "kind": kind,
                "label": require(entry, "label", here),
                "value": as_decimal(require(entry, "value", here), here),
                "value_max": as_decimal(value_max, here) if value_max is not None else None,
                "unit": require(entry, "unit", here),
                "qualifier": entry.get("qualifier", ""),
                "target_year": int(entry.get("target_year", plan.period_end_year)),
                "decimal_places": int(entry.get("decimal_places", 2 if entry.get("unit") in FRACTIONAL_UNITS else 0)),
                "source_text": source_text,
            },
            report=report,
            reason=reason,
        )
        names = entry.get("regions", [])
        missing = [n for n in names if n not in city_regions]
        if missing:
            raise FixtureError(f"{here}: 未知区域 {missing}")
        wanted = {city_regions[n].pk for n in names}
        if set(target.regions.values_list("pk", flat=True)) != wanted:
            target.regions.set(wanted)
            report.note(str(TaskTarget._meta.verbose_name) + "·区域", "updated")
    stale = TaskTarget.objects.filter(task=task, order__gt=len(entries))
    _report_stale(stale, report, plan)


def _responsibilities_load(
    plan: Plan,
    data: Mapping[str, Any],
    tasks: Mapping[str, Task],
    initiatives: Mapping[str, Initiative],
    *,
    meta: Mapping[str, Any],
    source: str,
    report: LoadReport,
    reason: str,
    file_name: str,
) -> None:
    """Each task's units: stated in the fixture, else mapped from another plan's task, else the default."""
    mapping = data.get("responsibility_mapping") or {}
    by_initiative: dict[str, tuple[Task, str]] = {}
    by_task: dict[str, tuple[Task, str]] = {}
    if mapping:
        other_code = require(mapping, "plan", f"{file_name} responsibility_mapping")
        other = Plan.objects.filter(code=other_code).first()
        if other is None:
            raise FixtureError(f"{file_name}: responsibility_mapping 引用的规划 {other_code} 尚未载入")
        other_tasks = {t.code: t for t in Task.objects.filter(plan=other).select_related("initiative")}
        for rule_key, target in (("initiatives", by_initiative), ("tasks", by_task)):
            key = rule_key[:-1]
            for rule in mapping.get(rule_key, []):
                from_code = require(rule, "from_task", f"{file_name} responsibility_mapping")
                if from_code not in other_tasks:
                    raise FixtureError(f"{file_name}: responsibility_mapping 引用的任务 {from_code} 不存在")
                subject = str(require(rule, key, f"{file_name} responsibility_mapping"))
                if subject not in (initiatives if key == "initiative" else tasks):
                    raise FixtureError(f"{file_name}: responsibility_mapping 中的 {key} {subject} 不存在")
                target[subject] = (other_tasks[from_code], str(rule.get("basis", "")))

    default_lead = meta.get("default_lead_unit")
    entries = {str(e["code"]): e for e, _, _ in _task_entries(data)}
    for code, task in tasks.items():
        entry = entries[code]
        wanted: list[tuple[Unit, str, str, str]] = []  # unit, role, basis, source
        if "responsibilities" in entry:
            # Stated row by row (a plan workbook): the list is the whole truth, administrators' rows included.
            where = f"{file_name} 任务 {code}"
            wanted.extend(
                (
                    unit_named(str(require(row, "unit", where)), where),
                    str(require(row, "role", where)),
                    str(row.get("basis") or ResponsibilityBasis.MANUAL),
                    str(row.get("source") or ""),
                )
                for row in entry["responsibilities"]
            )
            _sync_responsibilities(task, wanted, report=report, reason=reason, authoritative=True)
            continue
        if entry.get("lead_unit"):
            where = f"{file_name} 任务 {code}"
            cite = f"{source} {task.label}"
            wanted.append(
                (
                    unit_named(entry["lead_unit"], where),
                    ResponsibilityRole.LEAD,
                    ResponsibilityBasis.STATED,
                    cite,
                )
            )
            wanted.extend(
                (unit_named(name, where), ResponsibilityRole.CO, ResponsibilityBasis.STATED, cite)
                for name in entry.get("co_units", [])
            )
        elif code in by_task or task.initiative.code in by_initiative:
            other_task, basis = by_task.get(code) or by_initiative[task.initiative.code]
            cite = f"{other_task.source_document} {other_task.label} {other_task.title}（{basis}）"[:200]
            wanted.extend(
                (r.unit, r.role, ResponsibilityBasis.MAPPED, cite)
                for r in other_task.responsibilities.select_related("unit").order_by("order")
            )
        elif default_lead:
            wanted.append(
                (
                    unit_named(default_lead, file_name),
                    ResponsibilityRole.LEAD,
                    ResponsibilityBasis.DEFAULT,
                    DEFAULT_LEAD_SOURCE,
                )
            )
        _sync_responsibilities(task, wanted, report=report, reason=reason)


def _sync_responsibilities(
    task: Task,
    wanted: list[tuple[Unit, str, str, str]],
    *,
    report: LoadReport,
    reason: str,
    authoritative: bool = False,
) -> None:
    """Make the fixture-derived rows of a task match `wanted`; rows an administrator set stay.

    `authoritative`: the rows come from a plan workbook an administrator imports, which states every row,
    so administrators' rows are matched (and removed) like the others.
    """
    label = str(Responsibility._meta.verbose_name)
    existing = {r.unit_id: r for r in task.responsibilities.all()}
    wanted_units = {unit.pk for unit, *_ in wanted}
    kept = "" if authoritative else ResponsibilityBasis.MANUAL
    for unit_id, old in list(existing.items()):
        if old.basis != kept and unit_id not in wanted_units:
            old._change_reason = reason  # type: ignore[attr-defined]
            old.delete()
            del existing[unit_id]
            report.note(label, "deleted")
    for order, (unit, role, basis, source) in enumerate(wanted, 1):
        current = existing.get(unit.pk)
        if current is not None and current.basis == kept:
            continue  # an administrator's decision about this unit wins over the fixture
        if role == ResponsibilityRole.LEAD:
            # One lead per task (a constraint): a manual lead set by an administrator stays; a lead
            # from an older fixture version is demoted before the new one is written.
            clash = next(
                (r for r in existing.values() if r.role == ResponsibilityRole.LEAD and r.unit_id != unit.pk),
                None,
            )
            if clash is not None:
                if clash.basis == kept:
                    report.stale.append(
                        f"{task}: 管理员指定的牵头单位 {clash.unit} 保留，数据文件中的牵头单位 {unit} 未写入"
                    )
                    continue
                clash.role = ResponsibilityRole.CO
                clash._change_reason = reason  # type: ignore[attr-defined]
                clash.save(update_fields=["role"])
        values = {"role": role, "order": order, "basis": basis, "source": source}
        if current is not None and all(getattr(current, k) == v for k, v in values.items()):
            report.note(label, "unchanged")
            continue
        existing[unit.pk] = upsert(
            Responsibility, lookup={"task": task, "unit": unit}, values=values, report=report, reason=reason
        )


def _report_stale(queryset: models.QuerySet[Any], report: LoadReport, plan: Plan) -> None:
    for obj in queryset:
        report.stale.append(f"{plan.code}: {obj._meta.verbose_name}“{obj}”在数据文件中已不存在，未删除，请管理员核实")
