"""Reading an uploaded 填报模板: checked as a whole, every problem listed; applied all or nothing.

Upload safety: the size is capped before anything is read; the archive is inspected (macros refused,
uncompressed size and compression ratio capped against zip bombs); openpyxl reads in read-only mode and parses
XML through defusedxml (installed with the app), so entity-expansion bombs are refused; rows are capped.
Every value is checked by the same service functions as the forms, and nothing is written unless the whole
file is valid.
"""

from __future__ import annotations

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

from indicators.models import Indicator
from indicators.selectors import can_capture_cell
from indicators.services import (
    IndicatorValueInput,
    indicator_value_clean,
    indicator_value_create,
    indicator_value_update,
)
from indicators.values import INDICATOR_VALUE
from planning import workflow
from planning.entries import EntryKind
from planning.models import Plan, Task
from planning.progress import TASK_PROGRESS
from planning.selectors import task_progress_capturable_by, tasks_capturable_by, user_scope
from planning.services import (
    TaskProgressInput,
    task_progress_clean,
    task_progress_create,
    task_progress_update,
)
from planning.workflow import Channel
from regions.models import Region

from .template import (
    CIRCLED,
    HELP_SHEET,
    INDICATOR_COLUMNS,
    INDICATOR_SHEET,
    MAX_TARGETS,
    TASK_COLUMNS,
    TASK_SHEET,
    TEMPLATE_MARK,
    plain,
)


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
    sheet: str = ""  # the worksheet the row is on, named with the row number in the preview

    @property
    def where(self) -> str:
        return f"{self.sheet} 第{self.row}行"


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

    @property
    def has_work(self) -> bool:
        """Whether confirming would write anything: an identical re-upload is all "unchanged"."""
        return any(change.action != "unchanged" for change in self.changes)

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
                    "sheet": c.sheet,
                    "where": c.where,
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


def _planned_action(
    kind: EntryKind, entry: Any, cleaned: dict[str, Any], result: ImportPlan, sheet: str, number: int, column: str
) -> str | None:
    """What a row does to its entry: create, unchanged (the kind's own comparison) or update; None, with the problem
    recorded, when the entry is no longer editable (the workflow's table), since a file never changes it then."""
    if entry is None:
        return "create"
    if not kind.differs(entry, cleaned):
        return "unchanged"
    if entry.status not in workflow.EDITABLE:
        result.errors.append(
            ImportProblem(
                sheet,
                number,
                column,
                f"该填报{entry.get_status_display()}，不能通过导入修改（请在系统中撤回或发起更正）。",
            )
        )
        return None
    return "update"


def _row_year(result: ImportPlan, item: Any, row: dict[str, Any], sheet: str, number: int, what: str) -> int | None:
    """The checks every row starts with: a known item (the system key was not edited), of the file's one plan, in a
    year that plan can take. None (with the problem recorded) when the row cannot go on."""
    if item is None:
        result.errors.append(ImportProblem(sheet, number, "系统编号（勿改）", "系统编号无效：请勿修改这一列。"))
        return None
    if result.plan is None:
        result.plan = item.plan
    elif item.plan_id != result.plan.pk:
        result.errors.append(ImportProblem(sheet, number, what, "一个文件只能填报一个规划。"))
        return None
    return _year(row["year"], item.plan, sheet, number, result)


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
        year = _row_year(result, indicator if region is not None else None, row, name, number, "指标")
        if year is None or indicator is None or region is None:
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
        entry = INDICATOR_VALUE.existing(indicator, region, year)
        title = f"{indicator.number}. {indicator.name}"
        action = _planned_action(INDICATOR_VALUE, entry, cleaned, result, name, number, "填报值")
        if action is None:
            continue
        detail = _indicator_detail(indicator, action, entry, cleaned)
        result.changes.append(
            PlannedChange("indicator", action, title, region.name, number, indicator, region, entry, data, detail, name)
        )


INDICATOR_TEXTS = {"source": "数据来源", "note": "说明", "outlier_note": "异常值确认说明"}


def _indicator_detail(indicator: Indicator, action: str, entry: Any, cleaned: dict[str, Any]) -> str:
    """The value a row gives, with the one it replaces: "95.5% → 95.8%"; other changed fields named."""
    new = f"{plain(cleaned['value'])}{indicator.unit}"
    if action == "create":
        return f"（无） → {new}"
    if action == "unchanged":
        return new
    old = f"{plain(entry.value)}{indicator.unit}"
    texts = [label for key, label in INDICATOR_TEXTS.items() if key in cleaned and getattr(entry, key) != cleaned[key]]
    shown = new if old == new else f"{old} → {new}"
    return shown + (f"（{'、'.join(texts)}已修改）" if texts else "")


def _task_values(targets: list[Any], amounts: dict[int, Any], percent: Any, passed: bool | None) -> str:
    """A task row's figures as a person reads them: "①新建城镇公办幼儿园 3所；完成 60%；已通过"."""
    parts = [
        f"{CIRCLED[i]}{target.label} {plain(amounts[target.pk])}{target.unit}"
        for i, target in enumerate(targets)
        if amounts.get(target.pk) is not None
    ]
    if percent is not None:
        parts.append(f"完成 {plain(percent)}%")
    if passed is not None:
        parts.append("已通过验收/评估" if passed else "未通过验收/评估")
    return "；".join(parts)


TASK_TEXT_LABELS = {"narrative": "工作进展", "problems": "存在问题", "next_steps": "下步打算"}


def _task_detail(task: Task, action: str, entry: Any, cleaned: dict[str, Any]) -> str:
    targets = task.quantity_targets
    new = _task_values(targets, cleaned["amounts"], cleaned["percent"], cleaned["passed"])
    if not new:  # nothing but the narrative: show its beginning
        text = cleaned["narrative"]
        new = "工作进展：" + (text[:30] + "…" if len(text) > 30 else text)
    if action == "create":
        return f"（无） → {new}"
    if action == "unchanged":
        return new
    old_amounts = {a.target_id: a.amount for a in entry.amounts.all()}
    old = _task_values(targets, old_amounts, entry.percent, entry.passed) or "（无）"
    shown = new if old == new else f"{old} → {new}"
    texts = [label for key, label in TASK_TEXT_LABELS.items() if getattr(entry, key) != cleaned[key]]
    return shown + (f"（{'、'.join(texts)}已修改）" if texts else "")


def _read_tasks(sheet: Any, user: User, result: ImportPlan) -> None:
    name = sheet.title
    keys_of = ["percent", "passed", "narrative", "problems", "next_steps", *[f"amount{i}" for i in range(MAX_TARGETS)]]
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
        known = task if not (key and key[1] and region is None) else None
        year = _row_year(result, known, row, name, number, "任务")
        if year is None or task is None:
            continue
        if task.pk not in capturable or (region is not None and scope_regions and region.pk not in scope_regions):
            result.errors.append(ImportProblem(name, number, "任务", f"您没有填报“{task.title}”的权限。"))
            continue
        targets = task.quantity_targets
        passed_raw = {"是": True, "否": False}.get(row["passed"], row["passed"] or None)
        data = TaskProgressInput(
            narrative=row["narrative"],
            problems=row["problems"],
            next_steps=row["next_steps"],
            percent=row["percent"] or None,
            passed=passed_raw,
            amounts={t.pk: row[f"amount{i}"] for i, t in enumerate(targets)},
        )
        mapping = {
            "narrative": "工作进展",
            "problems": "存在问题（选填）",
            "next_steps": "下步打算（选填）",
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
        entry = TASK_PROGRESS.existing(task, region, year)
        title = f"{task.label} {task.title}"
        action = _planned_action(TASK_PROGRESS, entry, cleaned, result, name, number, "工作进展")
        if action is None:
            continue
        detail = _task_detail(task, action, entry, cleaned)
        result.changes.append(
            PlannedChange(
                "task",
                action,
                title,
                region.name if region else "全市",
                number,
                task,
                region,
                entry,
                data,
                detail,
                name,
            )
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
                        region=change.region_obj,  # indicator rows always have one
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
