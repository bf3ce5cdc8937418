"""Serializers of the planning API. Write serializers only carry what the client sent: the checks and their
Chinese messages are the services' (the same as the forms')."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.filters import parse_digits, parse_id
from planning.assessment import DISPLAY_LABELS, DISPLAY_STATUSES, STORED_FIELDS, display_status
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
from planning.workflow import field_limit
from regions.models import Region

STATUS_LABELS = dict(AssessmentStatus.choices)
NOT_AN_ID = "应为整数 id（如 12），不能是小数、布尔值或文本。"


def _is_integer(data: Any) -> bool:
    """A JSON integer (or its digits as text); 1.5, 3.0, true and "3.9" are not ids."""
    if isinstance(data, bool):
        return False
    if isinstance(data, int):
        return True
    return isinstance(data, str) and parse_id(data) is not None


class StrictIntegerField(serializers.IntegerField):
    """An integer that is never truncated: DRF's own accepts 3.0 and would take int() of other numbers."""

    default_error_messages = {"invalid": "应为整数。"}

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not (isinstance(data, int) or (isinstance(data, str) and _digits(data))):
            self.fail("invalid")
        return super().to_internal_value(data)


def _digits(text: str) -> bool:
    body = text.strip()
    return parse_digits(body.removeprefix("-"), max_digits=18) is not None


class IdField(serializers.PrimaryKeyRelatedField):
    """A related object's id: an integer, never a number that would be rounded onto another row."""

    default_error_messages = {
        "incorrect_type": NOT_AN_ID,
        "does_not_exist": "id 为 {pk_value} 的对象不存在。",
    }

    def to_internal_value(self, data: Any) -> Any:
        if not _is_integer(data):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(int(data))


class StrictInput(serializers.Serializer):
    """A request body with nothing silently dropped: names the resource does not have are a 400.

    Read-only names of the resource (`read_only_names`, e.g. what a GET returned) are accepted and ignored, and the
    answer says they were (`ignored` after validation).
    """

    read_only_names: frozenset[str] = frozenset()
    ignored: list[str]

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, Mapping):
            raise serializers.ValidationError(
                {"non_field_errors": [f"请求内容应为 JSON 对象（{{…}}），而不是 {type(data).__name__}。"]}
            )
        sent = set(data)
        unknown = sorted(sent - set(self.fields) - self.read_only_names)
        if unknown:
            raise serializers.ValidationError(
                {
                    name: ["没有这个字段（可提交的字段：{}）。".format("、".join(self.writable_names()))]
                    for name in unknown
                }
            )
        self.ignored = sorted((sent - set(self.fields)) & self.read_only_names)
        return super().to_internal_value({k: v for k, v in data.items() if k in self.fields})

    def writable_names(self) -> list[str]:
        return [name for name, f in self.fields.items() if not f.read_only]


CHANGED_HELP = "是否保存了新版本（内容与当前版本相同时为 false，版本号不变）"
DETAIL_HELP = "说明（中文）：保存为第几版，或为何未保存新版本、忽略了哪些只读字段"


def write_result(entry: Any, ignored: list[str]) -> dict[str, Any]:
    changed = getattr(entry, "changed", True)
    parts = [f"已保存为第 {entry.version} 版。" if changed else f"内容与当前第 {entry.version} 版相同，未保存新版本。"]
    if ignored:
        parts.append("已忽略只读字段：{}。".format("、".join(ignored)))
    return {"changed": changed, "detail": "".join(parts)}


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
            # 草稿 / 实施中 / 已结束 / 已归档 (planning.lifecycle) and when the final evaluation was finalised.
            "state",
            "evaluation_finalised_at",
        ]
        read_only_fields = ["state", "evaluation_finalised_at"]


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


def _assessed(name: str, digits: int, help_text: str = "") -> serializers.DecimalField:
    """A number of the stored assessment, flattened onto the item as `assessment_<name>` by the selectors."""
    return serializers.DecimalField(
        source=f"assessment_{name}",
        max_digits=digits,
        decimal_places=4,
        read_only=True,
        allow_null=True,
        help_text=help_text,
    )


# The assessment as every item of the API shows it (the stored fields, with the status as shown and its label).
ASSESSMENT_API_FIELDS = [
    "status",
    "status_label",
    *(name for name in STORED_FIELDS if name not in ("status", "baseline_value", "target_value")),
]


DISPLAY_STATUS_FIELD = serializers.ChoiceField(choices=DISPLAY_STATUSES, allow_null=True, help_text="进度状态代码")


class AssessmentFields(serializers.Serializer):
    """The latest stored assessment, flattened onto the item (annotated by the view).

    `status` uses the display vocabulary of planning.assessment (achieved_early: reached before the target year), the same codes the
    `status` filter takes; null when never computed.
    """

    status = serializers.SerializerMethodField(help_text="进度状态代码（与 status 筛选参数相同的取值）")
    status_label = serializers.SerializerMethodField(help_text="进度状态（中文）")
    latest_year = serializers.IntegerField(source="assessment_latest_year", read_only=True, allow_null=True)
    latest_value = _assessed("latest_value", 18)
    gap = _assessed("gap", 18, "目标值减最新值")
    completion = _assessed("completion", 24, "完成度（基期到目标已走的比例）")
    expected_completion = _assessed("expected_completion", 8, "按时间应完成的比例（时间过半、任务过半）")
    ratio = _assessed("ratio", 24, "完成度 ÷ 应完成度")
    forecast_value = _assessed("forecast_value", 24, "按最小二乘趋势预测的目标年数值")
    forecast_meets_target = serializers.BooleanField(
        source="assessment_forecast_meets_target", read_only=True, allow_null=True
    )

    @extend_schema_field(DISPLAY_STATUS_FIELD)
    def get_status(self, obj: Any) -> str | None:
        status = getattr(obj, "assessment_status", None)
        if status is None:
            return None
        return display_status(status, obj.assessment_latest_year, self._target_year(obj))

    def get_status_label(self, obj: Any) -> str | None:
        status = self.get_status(obj)
        return None if status is None else DISPLAY_LABELS[status]

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
            *ASSESSMENT_API_FIELDS,
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


class ReviewedEntrySerializer(serializers.ModelSerializer):
    """What every kind of reviewed entry shows: its workflow state, who and when, and its evidence."""

    status_label = serializers.CharField(source="get_status_display", read_only=True)
    evidence = EvidenceSerializer(many=True, read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    updated_by = serializers.CharField(source="updated_by.username", read_only=True)


# The workflow fields of every entry, after the kind's own (the order clients see).
ENTRY_FIELDS = [
    "status",
    "status_label",
    "version",
    "revision",
    "review_comment",
    "created_by",
    "updated_by",
    "created_at",
    "updated_at",
    "submitted_at",
    "approved_at",
    "evidence",
]


class TaskProgressSerializer(ReviewedEntrySerializer):
    amounts = TaskTargetValueSerializer(many=True, read_only=True)

    class Meta:
        model = TaskProgress
        fields = [
            "id",
            "task",
            "year",
            "region",
            "narrative",
            "problems",
            "next_steps",
            "percent",
            "passed",
            "amounts",
            "approved_percent",
            "approved_passed",
            *ENTRY_FIELDS,
        ]


class AmountInputSerializer(StrictInput):
    target = StrictIntegerField(help_text="量化目标 id（见任务的 targets）")
    amount = NumberText(max_length=40, help_text='本年完成量，如 "3" 或 3')


class TaskProgressWriteSerializer(StrictInput):
    narrative = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=field_limit(TaskProgress, "narrative"),
        help_text="本年度工作进展",
    )
    problems = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=field_limit(TaskProgress, "problems"),
        help_text="存在问题（选填）",
    )
    next_steps = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=field_limit(TaskProgress, "next_steps"),
        help_text="下步打算（选填）",
    )
    percent = NumberText(
        required=False, allow_blank=True, allow_null=True, max_length=40, help_text="定性任务的完成百分比（0—100）"
    )
    passed = serializers.BooleanField(required=False, allow_null=True, help_text="区域达标任务：是否已通过验收/评估")
    amounts = AmountInputSerializer(
        many=True, required=False, help_text="量化任务各目标的本年完成量；修改时未列出的目标保留原值"
    )

    def validate_amounts(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        targets = [row["target"] for row in rows]
        repeated = sorted({t for t in targets if targets.count(t) > 1})
        if repeated:
            raise serializers.ValidationError(
                "量化目标 {} 出现了不止一次。".format("、".join(str(t) for t in repeated))
            )
        return rows


class TaskProgressCreateSerializer(TaskProgressWriteSerializer):
    task = IdField(queryset=Task.objects.all(), help_text="任务 id")
    year = StrictIntegerField(help_text="年度，规划期内且不晚于今年")
    region = IdField(
        queryset=Region.objects.all(), required=False, allow_null=True, help_text="区域 id（仅区域达标任务）"
    )


class TaskProgressUpdateSerializer(TaskProgressWriteSerializer):
    """PUT and PATCH: only `version` is required; fields left out keep their stored values."""

    read_only_names = frozenset(TaskProgressSerializer.Meta.fields)
    version = StrictIntegerField(min_value=0, help_text="读取时的版本号；他人已修改时返回 409")


class WriteResultFields(serializers.Serializer):
    """What an update's answer adds to the entry it returns (planning.api.serializers.write_result fills them)."""

    changed = serializers.BooleanField(read_only=True, help_text=CHANGED_HELP)
    detail = serializers.CharField(read_only=True, help_text=DETAIL_HELP)


WRITE_RESULT_FIELDS = ["changed", "detail"]


class TaskProgressWriteResultSerializer(WriteResultFields, TaskProgressSerializer):
    class Meta(TaskProgressSerializer.Meta):
        fields = [*TaskProgressSerializer.Meta.fields, *WRITE_RESULT_FIELDS]


class TransitionSerializer(StrictInput):
    version = StrictIntegerField(
        min_value=0, required=False, help_text="读取时的版本号（可选；提供时核对，避免误操作他人刚修改的填报）"
    )


class ReturnSerializer(TransitionSerializer):
    comment = serializers.CharField(
        allow_blank=True, max_length=field_limit(TaskProgress, "review_comment"), help_text="退回意见（必填）"
    )


ENTRY_STATUS_CHOICES = EntryStatus.choices
