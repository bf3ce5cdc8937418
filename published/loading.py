"""Loading fixtures/published_figures.yaml (公开数据) into PublishedFigure, idempotently.

Every entry is validated before anything is written; one bad entry rejects the whole file with a message naming
it. Rows are matched on `key`, saved only when a field differs, and rows whose key is no longer in the file are
deleted: a published figure is a copy of a public document, never data entered in the product.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from indicators.models import Indicator
from planning.loading import FixtureError, LoadReport, read_yaml
from planning.models import TaskTarget
from regions.models import Region

from .models import PublishedFigure, Qualifier

LABEL = "公开数据"
REQUIRED = ("key", "subject", "province", "measure", "value", "year", "quote", "source_document")
OPTIONAL = (
    "region",
    "unit",
    "qualifier",
    "period",
    "location",
    "indicator",
    "task_target",
    "definition_note",
    "source_title",
    "written",
)
YEAR_RANGE = range(2010, 2026)
WRITTEN_MULTIPLIERS = {"万": Decimal(10_000), "亿": Decimal(100_000_000)}


def written_value(written: str) -> Decimal:
    """The number a figure is written as in the source ("8.54万" -> 85400, "98.3%" -> 98.3)."""
    text = written.strip().rstrip("%")
    factor = Decimal(1)
    if text and text[-1] in WRITTEN_MULTIPLIERS:
        factor = WRITTEN_MULTIPLIERS[text[-1]]
        text = text[:-1]
    return Decimal(text) * factor


def _entry_fields(entry: Any, where: str, titles: dict[str, str]) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise FixtureError(f"{where}: 应为映射（mapping）")
    missing = [name for name in REQUIRED if entry.get(name) in (None, "")]
    unknown = sorted(set(entry) - set(REQUIRED) - set(OPTIONAL))
    if missing or unknown:
        raise FixtureError(f"{where}: 缺少字段 {missing}" if missing else f"{where}: 未知字段 {unknown}")
    try:
        value = Decimal(str(entry["value"]))
    except InvalidOperation as exc:
        raise FixtureError(f"{where}: 数值无效 {entry['value']!r}") from exc
    year = entry["year"]
    if not isinstance(year, int) or year not in YEAR_RANGE:
        raise FixtureError(f"{where}: 年份 {year!r} 不在 {YEAR_RANGE.start}–{YEAR_RANGE.stop - 1} 之内")
    qualifier = entry.get("qualifier") or ""
    if qualifier not in Qualifier.values:
        raise FixtureError(f"{where}: 限定语 {qualifier!r} 不在 {Qualifier.values} 之中")
    quote = str(entry["quote"])
    written = str(entry.get("written") or f"{value.normalize():f}")
    if written not in quote:
        raise FixtureError(f"{where}: 原文摘录中没有数字 {written!r}")
    if entry.get("written") and written_value(written) != value:
        raise FixtureError(f"{where}: 原文写法 {written!r} 与数值 {value} 不符")
    document = str(entry["source_document"])
    title = entry.get("source_title") or titles.get(document)
    if not title:
        raise FixtureError(f"{where}: 来源 {document} 没有标题（sources: 或 source_title）")

    region = None
    if entry.get("region"):
        region = Region.objects.filter(code=str(entry["region"])).first()
        if region is None:
            raise FixtureError(f"{where}: 区域代码 {entry['region']} 不存在")
    indicator = None
    if entry.get("indicator"):
        link = entry["indicator"]
        if not isinstance(link, dict) or not {"plan", "number"} <= set(link):
            raise FixtureError(f"{where}: indicator 应为 {{plan: 规划代码, number: 指标序号}}")
        indicator = Indicator.objects.filter(plan__code=link["plan"], number=link["number"]).first()
        if indicator is None:
            raise FixtureError(f"{where}: 规划 {link['plan']} 中没有第 {link['number']} 项指标")
    task_target = None
    if entry.get("task_target"):
        link = entry["task_target"]
        if not isinstance(link, dict) or not {"plan", "task"} <= set(link):
            raise FixtureError(f"{where}: task_target 应为 {{plan: 规划代码, task: 任务代码, order: 序号}}")
        task_target = TaskTarget.objects.filter(
            task__plan__code=link["plan"], task__code=str(link["task"]), order=link.get("order", 1)
        ).first()
        if task_target is None:
            raise FixtureError(f"{where}: 找不到任务量化目标 {link}")

    fields: dict[str, Any] = {
        "region": region,
        "subject": str(entry["subject"]),
        "province": str(entry["province"]),
        "measure": str(entry["measure"]),
        "value": value,
        "unit": str(entry.get("unit") or ""),
        "qualifier": qualifier,
        "year": year,
        "period": str(entry.get("period") or ""),
        "quote": quote,
        "source_document": document,
        "source_title": str(title),
        "location": str(entry.get("location") or ""),
        "indicator": indicator,
        "task_target": task_target,
        "definition_note": str(entry.get("definition_note") or ""),
    }
    candidate = PublishedFigure(key=str(entry["key"]), **fields)
    try:
        candidate.full_clean(exclude=["key"], validate_unique=False)
    except ValidationError as exc:
        raise FixtureError(f"{where}: {exc.message_dict}") from exc
    return fields


FOREIGN_KEYS = ("region", "indicator", "task_target")


def _current(figure: PublishedFigure, name: str) -> Any:
    return getattr(figure, f"{name}_id") if name in FOREIGN_KEYS else getattr(figure, name)


def _comparable(value: Any) -> Any:
    return value.pk if hasattr(value, "pk") else value


def published_figures_load(data: dict[str, Any], *, file_name: str, report: LoadReport) -> None:
    entries = data.get("figures")
    if not isinstance(entries, list):
        raise FixtureError(f"{file_name}: 缺少 figures 列表")
    titles = {str(k): str(v) for k, v in (data.get("sources") or {}).items()}
    validated: dict[str, dict[str, Any]] = {}
    for index, entry in enumerate(entries, start=1):
        key = entry.get("key") if isinstance(entry, dict) else None
        where = f"{file_name} 第 {index} 条（key={key}）"
        fields = _entry_fields(entry, where, titles)
        if str(key) in validated:
            raise FixtureError(f"{where}: key 重复")
        validated[str(key)] = fields

    existing = {figure.key: figure for figure in PublishedFigure.objects.all()}
    for key, fields in validated.items():
        figure = existing.get(key)
        if figure is None:
            PublishedFigure.objects.create(key=key, **fields)
            report.note(LABEL, "created")
            continue
        changed = [name for name, value in fields.items() if _current(figure, name) != _comparable(value)]
        if changed:
            for name in changed:
                setattr(figure, name, fields[name])
            figure.save(update_fields=changed)
            report.note(LABEL, "updated")
        else:
            report.note(LABEL, "unchanged")
    stale = [key for key in existing if key not in validated]
    if stale:
        PublishedFigure.objects.filter(key__in=stale).delete()
        for _key in stale:
            report.note(LABEL, "deleted")


def load_published_figures(path: Path, *, report: LoadReport | None = None) -> LoadReport:
    """Load one figures file; all-or-nothing (raises FixtureError naming the entry, having written nothing)."""
    report = report if report is not None else LoadReport()
    data = read_yaml(path)
    with transaction.atomic():
        published_figures_load(data, file_name=path.name, report=report)
    return report


FIXTURE_FILE = "published_figures.yaml"


def load_fixture_directory(directory: Path, *, report: LoadReport) -> None:
    """load_plan's hook (settings.FIXTURE_LOADERS_AFTER_PLANS): the figures file in the fixtures directory, if any."""
    path = directory / FIXTURE_FILE
    if path.exists():
        load_published_figures(path, report=report)
