"""Serializers of the planning API. Write serializers only carry what the client sent: the checks and their
Chinese messages are the services' (the same as the forms')."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from planning.models import (
    AssessmentStatus,
    Column,
    EntryStatus,
    Initiative,
    Plan,
    Responsibility,
    Task,
    TaskProgress,
    TaskTarget,
    TaskTargetValue,
    Unit,
)
from regions.models import Region

STATUS_LABELS = dict(AssessmentStatus.choices)


@extend_schema_field({"oneOf": [{"type": "number"}, {"type": "string"}], "example": "95.6"})
class NumberText(serializers.CharField):
    """A number as the client sent it (JSON number or string); the services parse and check it."""

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, Decimal | int) and not isinstance(data, bool):
            data = f"{data:f}" if isinstance(data, Decimal) else str(data)
        return super().to_internal_value(data)


class PlanSerializer(serializers.ModelSerializer):
    class Meta:
        model = Plan
        fields = [
            "id",
            "code",
            "title",
            "short_title",
            "issuing_body",
            "issuing_body_note",
            "issued_on",
            "issued_on_text",
            "period_start_year",
            "period_end_year",
            "baseline_year",
            "source_document",
            "region",
            "lagging_below",
            "watch_below",
            "on_track_below",
            "note",
        ]


class InitiativeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Initiative
        fields = ["id", "plan", "code", "group_number", "group_title", "number", "title", "order"]


class ColumnSerializer(serializers.ModelSerializer):
    class Meta:
        model = Column
        fields = ["id", "plan", "number", "title", "initiative"]


class UnitSerializer(serializers.ModelSerializer):
    class Meta:
        model = Unit
        fields = ["id", "name", "note"]


class TaskTargetSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = TaskTarget
        fields = [
            "id",
            "order",
            "kind",
            "kind_label",
            "label",
            "value",
            "value_max",
            "unit",
            "qualifier",
            "target_year",
            "decimal_places",
            "source_text",
            "regions",
        ]


class ResponsibilitySerializer(serializers.ModelSerializer):
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    role_label = serializers.CharField(source="get_role_display", read_only=True)
    basis_label = serializers.CharField(source="get_basis_display", read_only=True)

    class Meta:
        model = Responsibility
        fields = ["unit", "unit_name", "role", "role_label", "basis", "basis_label", "source"]


class AssessmentFields(serializers.Serializer):
    """The latest stored assessment, flattened onto the item (annotated by the view)."""

    status = serializers.ChoiceField(
        choices=AssessmentStatus.choices,
        source="assessment_status",
        read_only=True,
        allow_null=True,
        help_text="进度状态代码",
    )
    status_label = serializers.SerializerMethodField(help_text="进度状态（中文）")
    latest_year = serializers.IntegerField(source="assessment_latest_year", read_only=True, allow_null=True)
    latest_value = serializers.DecimalField(
        source="assessment_latest_value", max_digits=18, decimal_places=4, read_only=True, allow_null=True
    )
    gap = serializers.DecimalField(
        source="assessment_gap",
        max_digits=18,
        decimal_places=4,
        read_only=True,
        allow_null=True,
        help_text="目标值减最新值",
    )
    completion = serializers.DecimalField(
        source="assessment_completion",
        max_digits=24,
        decimal_places=4,
        read_only=True,
        allow_null=True,
        help_text="完成度（基期到目标已走的比例）",
    )
    expected_completion = serializers.DecimalField(
        source="assessment_expected_completion",
        max_digits=8,
        decimal_places=4,
        read_only=True,
        allow_null=True,
        help_text="按时间应完成的比例（时间过半、任务过半）",
    )
    ratio = serializers.DecimalField(
        source="assessment_ratio",
        max_digits=24,
        decimal_places=4,
        read_only=True,
        allow_null=True,
        help_text="完成度 ÷ 应完成度",
    )
    forecast_value = serializers.DecimalField(
        source="assessment_forecast_value",
        max_digits=24,
        decimal_places=4,
        read_only=True,
        allow_null=True,
        help_text="按最小二乘趋势预测的目标年数值",
    )
    forecast_meets_target = serializers.BooleanField(
        source="assessment_forecast_meets_target", read_only=True, allow_null=True
    )

    def get_status_label(self, obj: Any) -> str | None:
        status = getattr(obj, "assessment_status", None)
        if status is None:
            return None
        latest = obj.assessment_latest_year
        if status == AssessmentStatus.ACHIEVED and latest is not None and latest < self._target_year(obj):
            return "提前实现"
        return str(STATUS_LABELS[status])

    def _target_year(self, obj: Any) -> int:
        return int(getattr(obj, "target_year", None) or obj.plan.period_end_year)


class TaskSerializer(AssessmentFields, serializers.ModelSerializer):
    targets = TaskTargetSerializer(many=True, read_only=True)
    responsibilities = ResponsibilitySerializer(many=True, read_only=True)
    kind = serializers.CharField(
        source="progress_kind", read_only=True, help_text="quantitative 量化 / milestone 区域达标 / qualitative 定性"
    )

    class Meta:
        model = Task
        fields = [
            "id",
            "plan",
            "initiative",
            "column",
            "code",
            "label",
            "number",
            "title",
            "text",
            "kind",
            "targets",
            "responsibilities",
            "status",
            "status_label",
            "latest_year",
            "latest_value",
            "gap",
            "completion",
            "expected_completion",
            "ratio",
            "forecast_value",
            "forecast_meets_target",
        ]


# --- task progress -------------------------------------------------------------------------------


class TaskTargetValueSerializer(serializers.ModelSerializer):
    class Meta:
        model = TaskTargetValue
        fields = ["target", "amount", "approved_amount"]


class EvidenceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="original_name")
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    uploaded_at = serializers.DateTimeField()


class TaskProgressSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    amounts = TaskTargetValueSerializer(many=True, read_only=True)
    evidence = EvidenceSerializer(many=True, read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    updated_by = serializers.CharField(source="updated_by.username", read_only=True)

    class Meta:
        model = TaskProgress
        fields = [
            "id",
            "task",
            "year",
            "region",
            "status",
            "status_label",
            "version",
            "revision",
            "narrative",
            "percent",
            "passed",
            "amounts",
            "approved_percent",
            "approved_passed",
            "review_comment",
            "created_by",
            "updated_by",
            "created_at",
            "updated_at",
            "submitted_at",
            "approved_at",
            "evidence",
        ]


class AmountInputSerializer(serializers.Serializer):
    target = serializers.IntegerField(help_text="量化目标 id（见任务的 targets）")
    amount = NumberText(max_length=40, help_text='本年完成量，如 "3" 或 3')


class TaskProgressWriteSerializer(serializers.Serializer):
    narrative = serializers.CharField(required=False, allow_blank=True, max_length=20000, help_text="本年度工作进展")
    percent = NumberText(
        required=False, allow_blank=True, allow_null=True, max_length=40, help_text="定性任务的完成百分比（0—100）"
    )
    passed = serializers.BooleanField(required=False, allow_null=True, help_text="区域达标任务：是否已通过验收/评估")
    amounts = AmountInputSerializer(many=True, required=False, help_text="量化任务各目标的本年完成量")


class TaskProgressCreateSerializer(TaskProgressWriteSerializer):
    task = serializers.PrimaryKeyRelatedField(queryset=Task.objects.all(), help_text="任务 id")
    year = serializers.IntegerField(help_text="年度，规划期内且不晚于今年")
    region = serializers.PrimaryKeyRelatedField(
        queryset=Region.objects.all(), required=False, allow_null=True, help_text="区域 id（仅区域达标任务）"
    )


class TaskProgressUpdateSerializer(TaskProgressWriteSerializer):
    version = serializers.IntegerField(help_text="读取时的版本号；他人已修改时返回 409")


class TransitionSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        required=False, help_text="读取时的版本号（可选；提供时核对，避免误操作他人刚修改的填报）"
    )


class ReturnSerializer(TransitionSerializer):
    comment = serializers.CharField(allow_blank=True, max_length=2000, help_text="退回意见（必填）")


ENTRY_STATUS_CHOICES = EntryStatus.choices
