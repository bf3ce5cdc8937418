"""Planning API: plan structure (read) and task progress (read and write through the services)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db.models import Max, Min, Prefetch, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.request import Request

from config.filters import (
    ID_LOOKUP_REGEX,
    parse_id,
)
from planning.api.entries import ReviewedEntryViewSet, entry_schema
from planning.filtersets import InitiativeFilterSet, TaskFilterSet, TaskProgressFilterSet, UnitFilterSet
from planning.models import (
    Column,
    Initiative,
    Plan,
    Responsibility,
    Task,
    Unit,
)
from planning.progress import TASK_PROGRESS, TaskProgressInput
from planning.selectors import chosen_year, plan_with_id, tasks_visible_to, tasks_with_assessment
from planning.workflow import UNSET

from .serializers import (
    ColumnSerializer,
    InitiativeSerializer,
    PlanSerializer,
    TaskProgressCreateSerializer,
    TaskProgressSerializer,
    TaskProgressUpdateSerializer,
    TaskProgressWriteResultSerializer,
    TaskSerializer,
    UnitSerializer,
)

YEAR_PARAMETER = OpenApiParameter(
    "year", OpenApiTypes.INT, description="判定截至年度（默认规划期末年，即依据全部已审核数据）"
)


def api_user(request: Request) -> User:
    return request.user


def list_year(request: Request) -> int | None:
    """`?year=` of a list: within the period of the plan asked for (`?plan=`), or of any plan; None when not given."""
    raw = request.query_params.get("year")
    if raw in (None, ""):
        return None
    plan = plan_with_id(parse_id(request.query_params.get("plan")))
    if plan is not None:
        return chosen_year(raw, years=plan.years, default=plan.period_end_year, plan=plan)
    span = Plan.objects.aggregate(first=Min("period_start_year"), last=Max("period_end_year"))
    years = range(span["first"], span["last"] + 1) if span["first"] is not None else range(0)
    return chosen_year(raw, years=years, default=0)


@extend_schema_view(list=extend_schema(summary="规划列表"), retrieve=extend_schema(summary="规划详情"))
class PlanViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = ID_LOOKUP_REGEX
    queryset = Plan.objects.order_by("-period_end_year", "code")
    serializer_class = PlanSerializer
    filterset_fields = ["code"]
    ordering_fields = ["period_end_year", "code"]


@extend_schema_view(
    list=extend_schema(summary="重点举措列表", description="如五大提质行动、六大争先计划、七大提升工程下的各项举措。"),
    retrieve=extend_schema(summary="重点举措详情"),
)
class InitiativeViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = ID_LOOKUP_REGEX
    queryset = Initiative.objects.order_by("plan", "order")
    serializer_class = InitiativeSerializer
    filterset_class = InitiativeFilterSet
    ordering_fields = ["order", "code"]


@extend_schema_view(list=extend_schema(summary="专栏列表"), retrieve=extend_schema(summary="专栏详情"))
class ColumnViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = ID_LOOKUP_REGEX
    queryset = Column.objects.order_by("plan", "number")
    serializer_class = ColumnSerializer
    filterset_fields = ["plan", "initiative"]
    ordering_fields = ["number"]


@extend_schema_view(list=extend_schema(summary="责任单位列表"), retrieve=extend_schema(summary="责任单位详情"))
class UnitViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = ID_LOOKUP_REGEX
    queryset = Unit.objects.order_by("order", "name")
    serializer_class = UnitSerializer
    filterset_class = UnitFilterSet
    ordering_fields = ["order", "name"]


@extend_schema_view(
    list=extend_schema(
        summary="任务列表", description="各专栏任务及其量化目标、责任单位和最新进度判定。", parameters=[YEAR_PARAMETER]
    ),
    retrieve=extend_schema(summary="任务详情", parameters=[YEAR_PARAMETER]),
)
class TaskViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = ID_LOOKUP_REGEX
    serializer_class = TaskSerializer
    filterset_class = TaskFilterSet
    ordering_fields = ["order", "code"]
    ordering = ["plan", "order"]

    def get_queryset(self) -> QuerySet[Task]:
        queryset = (
            tasks_visible_to(api_user(self.request))
            .select_related("plan")
            .prefetch_related(
                "targets__regions",
                Prefetch("responsibilities", queryset=Responsibility.objects.select_related("unit").order_by("order")),
            )
        )
        return tasks_with_assessment(queryset, list_year(self.request))


TASK_PROGRESS_EXAMPLE = OpenApiExample(
    "新建城镇公办幼儿园（专栏14-2）",
    value={
        "task": 67,
        "year": 2023,
        "narrative": "新建城镇公办幼儿园3所",
        "problems": "部分项目用地手续办理较慢",
        "next_steps": "加快推进剩余项目开工建设",
        "amounts": [{"target": 45, "amount": "3"}],
    },
    request_only=True,
)


@entry_schema(
    noun="任务进展",
    read=TaskProgressSerializer,
    create=TaskProgressCreateSerializer,
    update=TaskProgressUpdateSerializer,
    result=TaskProgressWriteResultSerializer,
    example=TASK_PROGRESS_EXAMPLE,
)
class TaskProgressViewSet(ReviewedEntryViewSet):
    kind = TASK_PROGRESS
    serializer_class = TaskProgressSerializer
    create_serializer_class = TaskProgressCreateSerializer
    update_serializer_class = TaskProgressUpdateSerializer
    item_field = "task"
    filterset_class = TaskProgressFilterSet
    ordering_fields = ["year", "updated_at"]
    ordering = ["-year", "task__order"]
    read_select_related = ("task__plan", "region")
    read_prefetch_related = ("amounts", "evidence")

    def to_input(self, data: dict[str, Any]) -> TaskProgressInput:
        """What the client sent; fields it left out stay UNSET (the service keeps their stored values)."""
        return TaskProgressInput(
            narrative=data.get("narrative", UNSET),
            problems=data.get("problems", UNSET),
            next_steps=data.get("next_steps", UNSET),
            percent=data.get("percent", UNSET),
            passed=data.get("passed", UNSET),
            amounts={row["target"]: row["amount"] for row in data.get("amounts", [])},
        )
