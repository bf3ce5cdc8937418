"""Serializers of the indicators API; write serializers carry input only (the services check it)."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from functools import cache
from types import SimpleNamespace
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.statements import statement_rows
from indicators.models import Attribute, Flag, FlagKind, FlagState, Indicator, IndicatorStatus, IndicatorValue
from indicators.selectors import in_display_order
from planning.api.serializers import (
    ASSESSMENT_API_FIELDS,
    DISPLAY_STATUS_FIELD,
    ENTRY_FIELDS,
    WRITE_RESULT_FIELDS,
    AssessmentFields,
    IdField,
    NumberText,
    ReviewedEntrySerializer,
    StrictInput,
    StrictIntegerField,
    WriteResultFields,
)
from planning.assessment import ACHIEVED_EARLY, DISPLAY_LABELS, STORED_FIELDS, display_status
from planning.models import Task, Unit
from planning.workflow import field_limit
from regions.models import Region


class IndicatorSerializer(AssessmentFields, serializers.ModelSerializer):
    attribute_label = serializers.CharField(source="get_attribute_display", read_only=True)
    lead_unit_name = serializers.CharField(source="lead_unit.name", read_only=True, allow_null=True)

    class Meta:
        model = Indicator
        fields = [
            "id",
            "plan",
            "number",
            "name",
            "unit",
            "attribute",
            "attribute_label",
            "baseline_year",
            "baseline_value",
            "target_year",
            "target_value",
            "target_qualifier",
            "direction",
            "decimal_places",
            "is_additive",
            "lead_unit",
            "lead_unit_name",
            "source_document",
            *ASSESSMENT_API_FIELDS,
        ]


# What indicator_data reads: the indicator's columns, its lead unit's name, and the annotated assessment.
INDICATOR_COLUMNS = (
    "id",
    "plan_id",
    "number",
    "name",
    "unit",
    "attribute",
    "baseline_year",
    "baseline_value",
    "target_year",
    "target_value",
    "target_qualifier",
    "direction",
    "decimal_places",
    "is_additive",
    "lead_unit_id",
    "lead_unit__name",
    "source_document",
    "plan__period_end_year",
    *(f"assessment_{name}" for name in STORED_FIELDS if name not in ("baseline_value", "target_value")),
)


@cache
def _indicator_fields() -> dict[str, Any]:
    return dict(IndicatorSerializer().fields)


def indicator_data(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """What IndicatorSerializer(many=True).data holds, key for key (a test compares the two), from `.values()` rows
    of INDICATOR_COLUMNS: each value shown by the serializer's own field, without a model instance per row (the
    list is polled; serializing field by field cost more than reading it)."""
    fields = _indicator_fields()
    attributes = {key: str(label) for key, label in Attribute.choices}
    data = []
    for row in rows:
        status = row["assessment_status"]
        if status is not None:
            status = display_status(
                status, row["assessment_latest_year"], row["target_year"] or row["plan__period_end_year"]
            )
        values = {
            "plan": row["plan_id"],
            "lead_unit": row["lead_unit_id"],
            "lead_unit_name": row["lead_unit__name"],
            "attribute_label": attributes.get(row["attribute"], row["attribute"]),
            "status": status,
            "status_label": None if status is None else DISPLAY_LABELS[status],
        }
        item = {}
        for name, field in fields.items():
            if name in values:
                item[name] = values[name]
                continue
            value = row[field.source if field.source.startswith("assessment_") else name]
            item[name] = None if value is None else field.to_representation(value)
        data.append(item)
    return data


class RegionAssessmentSerializer(serializers.ModelSerializer):
    region_name = serializers.CharField(source="region.name", read_only=True)
    status = serializers.SerializerMethodField(
        help_text=f"进度状态代码（{ACHIEVED_EARLY} = {DISPLAY_LABELS[ACHIEVED_EARLY]}）"
    )
    status_label = serializers.SerializerMethodField()

    class Meta:
        model = IndicatorStatus
        fields = [
            "region",
            "region_name",
            "as_of_year",
            "status_label",
            *STORED_FIELDS,
        ]

    @extend_schema_field(DISPLAY_STATUS_FIELD)
    def get_status(self, obj: IndicatorStatus) -> str:
        return obj.display

    def get_status_label(self, obj: IndicatorStatus) -> str:
        return DISPLAY_LABELS[obj.display]


class SeriesPointSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    approved = serializers.DecimalField(
        max_digits=18, decimal_places=4, allow_null=True, help_text="该年度已审核数值（基期年为基期值）"
    )
    expected = serializers.DecimalField(
        max_digits=18, decimal_places=4, allow_null=True, help_text="按时间进度从基期匀速到目标的应达值"
    )


class IndicatorDetailSerializer(IndicatorSerializer):
    regions = serializers.SerializerMethodField(
        help_text="各区域（含全市）的同一判定，按区域顺序的一页（参数 page、page_size）"
    )
    regions_count = serializers.SerializerMethodField(help_text="各区域判定的总条数（所有页）")
    regions_next = serializers.SerializerMethodField(help_text="regions 下一页的地址（没有下一页为 null）")
    regions_previous = serializers.SerializerMethodField(help_text="regions 上一页的地址（第 1 页为 null）")
    series = serializers.SerializerMethodField(help_text="全市（或所选区域）逐年已审核值与应达值")

    class Meta(IndicatorSerializer.Meta):
        fields = [
            *IndicatorSerializer.Meta.fields,
            "regions",
            "regions_count",
            "regions_next",
            "regions_previous",
            "series",
        ]

    @extend_schema_field(RegionAssessmentSerializer(many=True))
    def get_regions(self, obj: Indicator) -> list[dict[str, Any]]:
        rows = self.context.get("regions", [])
        return RegionAssessmentSerializer(rows, many=True).data

    def get_regions_count(self, obj: Indicator) -> int:
        return int(self.context.get("regions_count", 0))

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_regions_next(self, obj: Indicator) -> str | None:
        return self.context.get("regions_next")

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_regions_previous(self, obj: Indicator) -> str | None:
        return self.context.get("regions_previous")

    def get_series(self, obj: Indicator) -> list[dict[str, Any]]:
        return SeriesPointSerializer(self.context.get("series", []), many=True).data


class IndicatorValueSerializer(ReviewedEntrySerializer):
    class Meta:
        model = IndicatorValue
        fields = [
            "id",
            "indicator",
            "region",
            "year",
            "value",
            "source",
            "note",
            "outlier_note",
            "approved_value",
            "is_demo",
            *ENTRY_FIELDS,
        ]


class IndicatorValueWriteSerializer(StrictInput):
    value = NumberText(max_length=40, help_text='数值，如 "95.6" 或 95.6（不超过指标规定的小数位数）')
    source = serializers.CharField(
        max_length=field_limit(IndicatorValue, "source"), allow_blank=True, required=False, help_text="数据来源"
    )
    note = serializers.CharField(
        max_length=field_limit(IndicatorValue, "note"), allow_blank=True, required=False, help_text="说明"
    )
    outlier_note = serializers.CharField(
        max_length=field_limit(IndicatorValue, "outlier_note"),
        allow_blank=True,
        required=False,
        help_text="变动超过规划期全部目标差距时必填的确认说明",
    )


class IndicatorValueCreateSerializer(IndicatorValueWriteSerializer):
    indicator = IdField(queryset=Indicator.objects.all(), help_text="指标 id")
    region = IdField(queryset=Region.objects.all(), help_text="区域 id（全市也是一个区域）")
    year = StrictIntegerField(help_text="年度，规划期内且不晚于今年")


class IndicatorValueUpdateSerializer(IndicatorValueWriteSerializer):
    """PUT and PATCH: only `version` is required; fields left out keep their stored values."""

    read_only_names = frozenset(IndicatorValueSerializer.Meta.fields)
    value = NumberText(max_length=40, required=False, help_text="数值；不提供则保留原值")
    version = StrictIntegerField(min_value=0, help_text="读取时的版本号；他人已修改时返回 409")


class IndicatorValueWriteResultSerializer(WriteResultFields, IndicatorValueSerializer):
    class Meta(IndicatorValueSerializer.Meta):
        fields = [*IndicatorValueSerializer.Meta.fields, *WRITE_RESULT_FIELDS]


class FlagSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    subject = serializers.CharField(read_only=True)
    lead_unit_name = serializers.CharField(source="lead_unit.name", read_only=True, allow_null=True)

    class Meta:
        model = Flag
        fields = [
            "id",
            "kind",
            "kind_label",
            "state",
            "state_label",
            "plan",
            "indicator",
            "task",
            "region",
            "year",
            "subject",
            "is_binding",
            "status",
            "reason",
            "lead_unit",
            "lead_unit_name",
            "raised_at",
            "resolved_at",
            "resolution",
        ]


_MOMENT = serializers.DateTimeField()


def flag_data(flags: Iterable[Any]) -> list[dict[str, Any]]:
    """What FlagSerializer(flags, many=True).data holds, key for key (a test compares the two), built directly: the
    status summary sends fifty flags on every poll, and serializing them field by field cost more than reading
    them. The flags (or flag_page's rows) come with their indicator, task, region and lead unit already read."""
    kinds = {key: str(label) for key, label in FlagKind.choices}
    states = {key: str(label) for key, label in FlagState.choices}
    zone = _MOMENT.default_timezone()  # as DateTimeField.to_representation (ISO 8601), the zone looked up once

    def moment(value: Any) -> str | None:
        if value is None:
            return None
        text = (value.astimezone(zone) if zone is not None else timezone.make_naive(value, datetime.UTC)).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return [
        {
            "id": flag.pk,
            "kind": flag.kind,
            "kind_label": kinds.get(flag.kind, flag.kind),
            "state": flag.state,
            "state_label": states.get(flag.state, flag.state),
            "plan": flag.plan_id,
            "indicator": flag.indicator_id,
            "task": flag.task_id,
            "region": flag.region_id,
            "year": flag.year,
            "subject": flag.subject,
            "is_binding": bool(flag.is_binding),
            "status": flag.status,
            "reason": flag.reason,
            "lead_unit": flag.lead_unit_id,
            "lead_unit_name": flag.lead_unit.name if flag.lead_unit is not None else None,
            "raised_at": moment(flag.raised_at),
            "resolved_at": moment(flag.resolved_at),
            "resolution": flag.resolution,
        }
        for flag in flags
    ]


class _FlagRow(SimpleNamespace):
    """A flag read as values, with what Flag.subject and in_display_order ask of a flag (one rule, not two)."""

    subject = Flag.subject


_FLAG_COLUMNS = (
    "id",
    "kind",
    "state",
    "plan_id",
    "indicator_id",
    "task_id",
    "region_id",
    "year",
    "is_binding",
    "status",
    "reason",
    "lead_unit_id",
    "raised_at",
    "resolved_at",
    "resolution",
    "region__name",
    "region__order",
)


def _flag_names(page: str, connection: BaseDatabaseWrapper) -> tuple[str, tuple[str, ...]]:
    """flag_page's statement: its page of flags (`page`, the values of _FLAG_COLUMNS) with the names shown beside."""
    qn = connection.ops.quote_name
    indicators, tasks, units = (qn(model._meta.db_table) for model in (Indicator, Task, Unit))
    sql = (
        f"SELECT page.*, i.{qn('name')}, i.{qn('number')}, t.{qn('label')}, t.{qn('title')}, t.{qn('order')}, "
        f"u.{qn('name')} FROM ({page}) page LEFT JOIN {indicators} i ON i.{qn('id')} = page.{qn('indicator_id')} "
        f"LEFT JOIN {tasks} t ON t.{qn('id')} = page.{qn('task_id')} "
        f"LEFT JOIN {units} u ON u.{qn('id')} = page.{qn('lead_unit_id')}"
    )
    return sql, ("indicator__name", "indicator__number", "task__label", "task__title", "task__order", "lead_unit__name")


def flag_page(
    flags: Callable[[], QuerySet[Flag]], limit: int, key: tuple[Any, ...] | None = None
) -> list[dict[str, Any]]:
    """The first `limit` of the flags `flags()` builds (in index order) as FlagSerializer gives them, in display
    order (in_display_order), read as values: a tenth of the work of fifty model instances with their relations.
    With a `key` that determines them (FlagList.key), the page is read with the statement kept for it
    (config.statements) and `flags` is not called again.

    The indicator, task and unit names are joined to the page after its LIMIT, not to every flag before it: the
    planner then weighs three joins instead of six, which on PostgreSQL took longer than running the query."""

    def page() -> QuerySet[Flag]:
        return flags().select_related(None).prefetch_related(None).values(*_FLAG_COLUMNS)[:limit]

    rows = statement_rows(Flag, ("flag_page", key, limit) if key is not None else None, page, around=_flag_names)
    shaped = []
    for row in rows:
        indicator = row.pop("indicator__name"), row.pop("indicator__number")
        region = row.pop("region__name"), row.pop("region__order")
        task = row.pop("task__label"), row.pop("task__title"), row.pop("task__order")
        unit = row.pop("lead_unit__name")
        shaped.append(
            _FlagRow(
                **row,
                pk=row["id"],
                indicator=SimpleNamespace(name=indicator[0], number=indicator[1]) if row["indicator_id"] else None,
                region=SimpleNamespace(name=region[0], order=region[1]) if row["region_id"] else None,
                task=SimpleNamespace(label=task[0], title=task[1], order=task[2]) if row["task_id"] else None,
                lead_unit=SimpleNamespace(name=unit) if row["lead_unit_id"] else None,
            )
        )
    return flag_data(in_display_order(shaped))  # type: ignore[arg-type]


class StatusCountSerializer(serializers.Serializer):
    status = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()


class FlagTotalsSerializer(serializers.Serializer):
    lag = serializers.IntegerField(help_text="进度预警")
    overdue = serializers.IntegerField(help_text="逾期未报")


class StatusSummarySerializer(serializers.Serializer):
    plan = serializers.IntegerField()
    year = serializers.IntegerField()
    region = serializers.IntegerField()
    indicators = StatusCountSerializer(many=True, help_text="主要指标按状态计数（所选区域）")
    tasks = StatusCountSerializer(many=True, help_text="任务按状态计数")
    flag_kind = serializers.ChoiceField(choices=FlagKind.choices, help_text="flagged 列出的预警类型（参数 kind）")
    flagged = FlagSerializer(many=True, help_text="该类未解除的预警（约束性优先，最多 50 条）")
    flagged_total = serializers.IntegerField(help_text="该类未解除的预警总数（flagged 的完整列表的条数）")
    flag_totals = FlagTotalsSerializer(help_text="同样筛选下每类未解除的预警总数")
