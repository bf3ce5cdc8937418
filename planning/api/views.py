"""Planning API: plan structure (read) and task progress (read and write through the services)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.contrib.auth.models import User
from django.db.models import Max, Min, Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from config.filters import (
    ID_LOOKUP_REGEX,
    IdChoiceFilter,
    IdNumberFilter,
    YearFilter,
    display_status_condition,
    parse_id,
)
from planning import services
from planning.assessment import DISPLAY_STATUSES
from planning.filtersets import TaskProgressFilterSet
from planning.models import (
    Column,
    Initiative,
    Plan,
    Responsibility,
    Task,
    TaskProgress,
    Unit,
)
from planning.selectors import chosen_year, task_progress_visible_to, tasks_visible_to, tasks_with_assessment
from planning.workflow import UNSET, Channel

from .serializers import (
    ColumnSerializer,
    InitiativeSerializer,
    PlanSerializer,
    ReturnSerializer,
    TaskProgressCreateSerializer,
    TaskProgressSerializer,
    TaskProgressUpdateSerializer,
    TaskProgressWriteResultSerializer,
    TaskSerializer,
    TransitionSerializer,
    UnitSerializer,
    write_result,
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
    plan = Plan.objects.filter(pk=parse_id(request.query_params.get("plan")) or 0).first()
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


class InitiativeFilterSet(django_filters.FilterSet):
    class Meta:
        model = Initiative
        fields = ["plan", "group_title"]


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


class UnitFilterSet(django_filters.FilterSet):
    plan = IdNumberFilter(method="filter_plan", label=_("规划（在该规划中承担任务的单位）"))

    class Meta:
        model = Unit
        fields = ["plan"]

    def filter_plan(self, queryset, name, value):
        return queryset.filter(responsibilities__task__plan=value).distinct()


@extend_schema_view(list=extend_schema(summary="责任单位列表"), retrieve=extend_schema(summary="责任单位详情"))
class UnitViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = ID_LOOKUP_REGEX
    queryset = Unit.objects.order_by("order", "name")
    serializer_class = UnitSerializer
    filterset_class = UnitFilterSet
    ordering_fields = ["order", "name"]


class TaskFilterSet(django_filters.FilterSet):
    plan = IdChoiceFilter(queryset=Plan.objects.all(), label=_("规划"))
    column = IdNumberFilter(field_name="column__number", label=_("专栏号"))
    unit = IdChoiceFilter(
        field_name="responsibilities__unit", distinct=True, queryset=Unit.objects.all(), label=_("责任单位")
    )
    status = django_filters.ChoiceFilter(choices=DISPLAY_STATUSES, method="filter_status", label=_("进度状态"))
    year = YearFilter(method="filter_noop", label=_("判定截至年度"))

    class Meta:
        model = Task
        fields = ["plan", "initiative", "column", "unit", "status", "year"]

    def filter_noop(self, queryset, name, value):
        return queryset  # the year chooses which assessment is annotated (see the view)

    def filter_status(self, queryset, name, value):
        return queryset.filter(
            display_status_condition(
                value,
                status_field="assessment_status",
                latest_year_field="assessment_latest_year",
                target_year_field="plan__period_end_year",
            )
        )


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
    value={"task": 67, "year": 2023, "narrative": "新建城镇公办幼儿园3所", "amounts": [{"target": 45, "amount": "3"}]},
    request_only=True,
)


@extend_schema_view(
    list=extend_schema(summary="任务进展列表", description="您查看范围内的任务进展填报。"),
    retrieve=extend_schema(summary="任务进展详情"),
    create=extend_schema(
        summary="新建任务进展草稿",
        request=TaskProgressCreateSerializer,
        responses={201: TaskProgressSerializer},
        examples=[TASK_PROGRESS_EXAMPLE],
    ),
    update=extend_schema(
        summary="修改草稿（需提供 version；与 PATCH 相同，未提供的字段保留原值）",
        request=TaskProgressUpdateSerializer,
        responses={200: TaskProgressWriteResultSerializer},
    ),
    partial_update=extend_schema(
        summary="修改草稿的部分字段（需提供 version；未提供的字段和目标保留原值，内容不变时不产生新版本）",
        request=TaskProgressUpdateSerializer,
        responses={200: TaskProgressWriteResultSerializer},
    ),
)
class TaskProgressViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    lookup_value_regex = ID_LOOKUP_REGEX
    serializer_class = TaskProgressSerializer
    filterset_class = TaskProgressFilterSet
    ordering_fields = ["year", "updated_at"]
    ordering = ["-year", "task__order"]

    def get_queryset(self) -> QuerySet[TaskProgress]:
        return (
            task_progress_visible_to(api_user(self.request))
            .select_related("task__plan", "region", "created_by", "updated_by")
            .prefetch_related("amounts", "evidence")
        )

    def _input(self, data: dict[str, Any]) -> services.TaskProgressInput:
        """What the client sent; fields it left out stay UNSET (the service keeps their stored values)."""
        return services.TaskProgressInput(
            narrative=data.get("narrative", UNSET),
            percent=data.get("percent", UNSET),
            passed=data.get("passed", UNSET),
            amounts={row["target"]: row["amount"] for row in data.get("amounts", [])},
        )

    def _respond(self, progress: TaskProgress, code: int = status.HTTP_200_OK, **extra: Any) -> Response:
        fresh = self.get_queryset().get(pk=progress.pk)
        return Response({**TaskProgressSerializer(fresh).data, **extra}, status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = TaskProgressCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        progress = services.task_progress_create(
            task=data["task"],
            year=data["year"],
            region=data.get("region"),
            data=self._input(data),
            user=api_user(request),
            channel=Channel.API,
        )
        return self._respond(progress, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        progress = self.get_object()
        serializer = TaskProgressUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        saved = services.task_progress_update(
            progress=progress,
            version=data["version"],
            data=self._input(data),
            user=api_user(request),
            channel=Channel.API,
        )
        return self._respond(saved, **write_result(saved, serializer.ignored))

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, **kwargs)

    def _transition(self, request: Request, name: str, serializer_class: type = TransitionSerializer) -> Response:
        progress = self.get_object()
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        kwargs: dict[str, Any] = {
            "progress": progress,
            "user": api_user(request),
            "channel": Channel.API,
            "version": serializer.validated_data.get("version"),
        }
        if name == "return":
            kwargs["comment"] = serializer.validated_data.get("comment", "")
        service: Any = {
            "submit": services.task_progress_submit,
            "withdraw": services.task_progress_withdraw,
            "approve": services.task_progress_approve,
            "return": services.task_progress_return,
            "reopen": services.task_progress_reopen,
        }[name]
        return self._respond(service(**kwargs))

    @extend_schema(summary="提交审核", request=TransitionSerializer, responses={200: TaskProgressSerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "submit")

    @extend_schema(summary="撤回为草稿", request=TransitionSerializer, responses={200: TaskProgressSerializer})
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "withdraw")

    @extend_schema(summary="审核通过", request=TransitionSerializer, responses={200: TaskProgressSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "approve")

    @extend_schema(summary="退回修改（需填写意见）", request=ReturnSerializer, responses={200: TaskProgressSerializer})
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "return", ReturnSerializer)

    @extend_schema(
        summary="发起更正（已通过的填报）", request=TransitionSerializer, responses={200: TaskProgressSerializer}
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "reopen")
