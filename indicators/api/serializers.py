"""Serializers of the indicators API; write serializers carry input only (the services check it)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from indicators.models import Flag, FlagKind, Indicator, IndicatorStatus, IndicatorValue
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
from planning.assessment import ACHIEVED_EARLY, DISPLAY_LABELS, STORED_FIELDS
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
    regions = serializers.SerializerMethodField(help_text="各区域（含全市）的同一判定")
    series = serializers.SerializerMethodField(help_text="全市（或所选区域）逐年已审核值与应达值")

    class Meta(IndicatorSerializer.Meta):
        fields = [*IndicatorSerializer.Meta.fields, "regions", "series"]

    def get_regions(self, obj: Indicator) -> list[dict[str, Any]]:
        rows = self.context.get("regions", [])
        return RegionAssessmentSerializer(rows, many=True).data

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
