"""Indicators API: indicators with their assessment, status summary, flags, and indicator values."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.filters import ID_LOOKUP_REGEX, parse_id
from indicators import services
from indicators.filtersets import FlagFilterSet, IndicatorFilterSet, IndicatorValueFilterSet
from indicators.models import Flag, Indicator, IndicatorValue, IndicatorValueEvidence
from indicators.selectors import (
    flags_visible_to,
    in_display_order,
    indicator_values_visible_to,
    indicators_visible_to,
    indicators_with_assessment,
    open_flags_in_order,
    statuses_visible_to,
)
from planning.api.serializers import ReturnSerializer, TransitionSerializer, write_result
from planning.api.views import YEAR_PARAMETER, api_user, list_year
from planning.assessment import count_display
from planning.caching import cached_response
from planning.models import Plan, TaskStatus
from planning.selectors import chosen_plan, chosen_region, chosen_year, default_plan, default_region, tasks_visible_to
from planning.services import evidence_add
from planning.workflow import UNSET, Channel
from regions.models import Region

from .serializers import (
    FlagSerializer,
    IndicatorDetailSerializer,
    IndicatorSerializer,
    IndicatorValueCreateSerializer,
    IndicatorValueSerializer,
    IndicatorValueUpdateSerializer,
    IndicatorValueWriteResultSerializer,
    StatusSummarySerializer,
)

REGION_PARAMETER = OpenApiParameter(
    "region",
    OpenApiTypes.INT,
    description="判定所属区域 id（默认规划的全市；不能查看全市的用户默认为其范围内的第一个区域）。"
    "不在您查看范围内的区域返回 404，不在规划范围内的返回 400。",
)


def list_region(request: Request) -> int | None:
    """The region whose assessment a list shows: the one asked for (in the person's view, else 404), else the person's
    default in the plan asked for (or the default plan); None means each item's own plan region."""
    user = api_user(request)
    plan = Plan.objects.filter(pk=parse_id(request.query_params.get("plan")) or 0).first() or default_plan()
    if plan is None:
        return None
    raw = request.query_params.get("region")
    if raw in (None, ""):
        region = default_region(user, plan)
        return None if region is None or region.pk == plan.region_id else region.pk
    return chosen_region(user, plan, raw).pk


@extend_schema_view(
    list=extend_schema(
        summary="主要指标列表（含最新进度判定）",
        description="每项指标都带有所选区域（默认全市）截至所选年度（默认规划期末年）的判定：status、status_label、"
        "latest_year、latest_value、gap、completion、expected_completion、ratio、forecast_value、forecast_meets_target。",
        parameters=[YEAR_PARAMETER, REGION_PARAMETER],
    ),
    retrieve=extend_schema(summary="指标详情（含各区域判定和逐年序列）", parameters=[YEAR_PARAMETER, REGION_PARAMETER]),
)
class IndicatorViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = ID_LOOKUP_REGEX
    filterset_class = IndicatorFilterSet
    ordering_fields = ["number", "assessment_ratio", "assessment_completion"]
    ordering = ["plan", "number"]

    def get_queryset(self) -> QuerySet[Indicator]:
        queryset = indicators_visible_to(api_user(self.request)).select_related("plan", "lead_unit")
        if self.action == "retrieve" or getattr(self, "swagger_fake_view", False):
            return queryset  # the schema generator asks for the model only
        return indicators_with_assessment(queryset, year=list_year(self.request), region_id=list_region(self.request))

    def get_serializer_class(self) -> type:
        return IndicatorDetailSerializer if self.action == "retrieve" else IndicatorSerializer

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # Polled by clients: served from the cache until a recompute changes a status (planning/caching.py).
        return cached_response(request, lambda: super(IndicatorViewSet, self).list(request, *args, **kwargs))

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        found = self.get_object()
        user = api_user(request)
        plan = found.plan
        year = chosen_year(request.query_params.get("year"), years=plan.years, default=plan.period_end_year, plan=plan)
        region = chosen_region(user, plan, request.query_params.get("region"))
        indicator = indicators_with_assessment(self.get_queryset(), year=year, region_id=region.pk).get(pk=found.pk)
        regions = list(
            statuses_visible_to(api_user(request))
            .filter(indicator=indicator, as_of_year=year)
            .select_related("region", "indicator")
            .order_by("region__order")
        )
        region_id = region.pk
        approved = dict(
            indicator_values_visible_to(api_user(request))
            .filter(indicator=indicator, region_id=region_id, approved_value__isnull=False)
            .values_list("year", "approved_value")
        )
        context = {
            **self.get_serializer_context(),
            "regions": regions,
            "series": yearly_series(indicator, region_id, approved),
        }
        return Response(IndicatorDetailSerializer(indicator, context=context).data)


def yearly_series(
    indicator: Indicator, region_id: int | None, approved: dict[int, Decimal | None]
) -> list[dict[str, Any]]:
    baseline: Decimal | None = indicator.baseline_value
    target: Decimal | None = indicator.target_value
    if region_id is not None and region_id != indicator.plan.region_id:
        from indicators.selectors import region_plan_for

        plan = region_plan_for(indicator, Region.objects.get(pk=region_id))
        baseline, target = plan.baseline, plan.target
    span = indicator.target_year - indicator.baseline_year
    points = []
    for year in range(indicator.baseline_year, indicator.target_year + 1):
        expected = (
            baseline + (target - baseline) * Decimal(year - indicator.baseline_year) / span
            if baseline is not None and target is not None
            else None
        )
        value = baseline if year == indicator.baseline_year else approved.get(year)
        points.append(
            {
                "year": year,
                "approved": value,
                "expected": expected.quantize(Decimal("0.0001")) if expected is not None else None,
            }
        )
    return points


FLAGGED_SHOWN = 50  # the rest are paginated on /api/v1/flags/


@extend_schema(
    summary="状态汇总",
    description="所选规划、年度、区域的指标和任务按状态计数，以及未解除的进度预警（约束性优先，最多 50 条；"
    "flagged_total 为总数，完整列表见 /api/v1/flags/?state=open&kind=lag&plan=…）。",
    parameters=[
        OpenApiParameter(
            "plan", OpenApiTypes.INT, description="规划 id（默认：规划期包含今年的规划；都不包含时为最近结束的规划）"
        ),
        YEAR_PARAMETER,
        REGION_PARAMETER,
    ],
    responses={200: StatusSummarySerializer},
)
class StatusView(APIView):
    def get(self, request: Request) -> Response:
        return cached_response(request, lambda: self.summary(request))

    def summary(self, request: Request) -> Response:
        user = api_user(request)
        params = request.query_params
        plan = chosen_plan(params.get("plan"))
        year = chosen_year(params.get("year"), years=plan.years, default=plan.period_end_year, plan=plan)
        region = chosen_region(user, plan, params.get("region"))
        region_id = region.pk
        indicators = indicators_with_assessment(
            indicators_visible_to(user).filter(plan=plan), year=year, region_id=region_id
        )
        task_rows = TaskStatus.objects.filter(
            task__in=tasks_visible_to(user).filter(plan=plan), as_of_year=year, target__isnull=True
        )
        flags = open_flags_in_order(user, plan, region)

        def counts(rows: Any) -> list[dict[str, Any]]:
            return [{"status": key, "label": label, "count": n} for key, label, n in count_display(rows)]

        data = {
            "plan": plan.pk,
            "year": year,
            "region": region_id,
            "indicators": counts(
                (status or "no_data", latest, target)
                for status, latest, target in indicators.values_list(  # type: ignore[misc]
                    "assessment_status", "assessment_latest_year", "target_year"
                )
            ),
            "tasks": counts(task_rows.values_list("status", "latest_year", "task__plan__period_end_year")),
            "flagged": FlagSerializer(in_display_order(flags[:FLAGGED_SHOWN]), many=True).data,
            "flagged_total": flags.count(),
        }
        return Response(data)


@extend_schema_view(
    list=extend_schema(summary="预警列表", description="进度预警与逾期未报，含牵头单位；可按单位、状态筛选。"),
    retrieve=extend_schema(summary="预警详情"),
)
class FlagViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = ID_LOOKUP_REGEX
    serializer_class = FlagSerializer
    filterset_class = FlagFilterSet
    ordering_fields = ["raised_at", "year"]
    ordering = ["-is_binding", "-raised_at"]

    def get_queryset(self) -> QuerySet[Flag]:
        return flags_visible_to(api_user(self.request)).select_related("indicator", "task", "region", "lead_unit")


def _value_input(data: dict[str, Any]) -> services.IndicatorValueInput:
    """What the client sent; fields it left out stay UNSET (the service keeps their stored values)."""
    return services.IndicatorValueInput(
        **{name: data.get(name, UNSET) for name in ("value", "source", "note", "outlier_note")}
    )


VALUE_EXAMPLE = OpenApiExample(
    "学前教育毛入园率（全市，2024年）",
    value={"indicator": 2, "region": 1, "year": 2024, "value": "95.8", "source": "2024年教育事业统计年报"},
    request_only=True,
)


@extend_schema_view(
    list=extend_schema(summary="指标数值列表", description="您查看范围内的指标填报。"),
    retrieve=extend_schema(summary="指标数值详情"),
    create=extend_schema(
        summary="新建指标数值草稿",
        request=IndicatorValueCreateSerializer,
        responses={201: IndicatorValueSerializer},
        examples=[VALUE_EXAMPLE],
    ),
    update=extend_schema(
        summary="修改草稿（需提供 version；与 PATCH 相同，未提供的字段保留原值）",
        request=IndicatorValueUpdateSerializer,
        responses={200: IndicatorValueWriteResultSerializer},
    ),
    partial_update=extend_schema(
        summary="修改草稿的部分字段（需提供 version；未提供的字段保留原值，内容不变时不产生新版本）",
        request=IndicatorValueUpdateSerializer,
        responses={200: IndicatorValueWriteResultSerializer},
    ),
)
class IndicatorValueViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    lookup_value_regex = ID_LOOKUP_REGEX
    serializer_class = IndicatorValueSerializer
    filterset_class = IndicatorValueFilterSet
    ordering_fields = ["year", "updated_at"]
    ordering = ["-year", "indicator__number", "region__order"]

    def get_queryset(self) -> QuerySet[IndicatorValue]:
        return (
            indicator_values_visible_to(api_user(self.request))
            .select_related("indicator", "region", "created_by", "updated_by")
            .prefetch_related("evidence")
        )

    def _respond(self, entry: IndicatorValue, code: int = status.HTTP_200_OK, **extra: Any) -> Response:
        return Response({**IndicatorValueSerializer(self.get_queryset().get(pk=entry.pk)).data, **extra}, status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = IndicatorValueCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        entry = services.indicator_value_create(
            indicator=data["indicator"],
            region=data["region"],
            year=data["year"],
            user=api_user(request),
            data=_value_input(data),
            channel=Channel.API,
        )
        return self._respond(entry, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        entry = self.get_object()
        serializer = IndicatorValueUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        saved = services.indicator_value_update(
            entry=entry, version=data["version"], user=api_user(request), channel=Channel.API, data=_value_input(data)
        )
        return self._respond(saved, **write_result(saved, serializer.ignored))

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, **kwargs)

    def _transition(self, request: Request, name: str) -> Response:
        entry = self.get_object()
        serializer = (ReturnSerializer if name == "return" else TransitionSerializer)(data=request.data)
        serializer.is_valid(raise_exception=True)
        kwargs: dict[str, Any] = {
            "value": entry,
            "user": api_user(request),
            "channel": Channel.API,
            "version": serializer.validated_data.get("version"),
        }
        if name == "return":
            kwargs["comment"] = serializer.validated_data.get("comment", "")
        service: Any = {
            "submit": services.indicator_value_submit,
            "withdraw": services.indicator_value_withdraw,
            "approve": services.indicator_value_approve,
            "return": services.indicator_value_return,
            "reopen": services.indicator_value_reopen,
        }[name]
        return self._respond(service(**kwargs))

    @extend_schema(summary="提交审核", request=TransitionSerializer, responses={200: IndicatorValueSerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "submit")

    @extend_schema(summary="撤回为草稿", request=TransitionSerializer, responses={200: IndicatorValueSerializer})
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "withdraw")

    @extend_schema(summary="审核通过", request=TransitionSerializer, responses={200: IndicatorValueSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "approve")

    @extend_schema(
        summary="退回修改（需填写意见）", request=ReturnSerializer, responses={200: IndicatorValueSerializer}
    )
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "return")

    @extend_schema(
        summary="发起更正（已通过的填报）", request=TransitionSerializer, responses={200: IndicatorValueSerializer}
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "reopen")

    @extend_schema(
        summary="上传佐证材料",
        description="multipart/form-data，字段名 files，可多个；PDF、图片或 Office 文档，单个不超过 10 MB。",
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}},
            }
        },
        responses={200: IndicatorValueSerializer},
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def evidence(self, request: Request, pk: str | None = None) -> Response:
        entry = self.get_object()
        services_update_check(entry, request)
        evidence_add(
            model=IndicatorValueEvidence,
            owner_field="entry",
            owner=entry,
            existing_count=entry.evidence.count(),
            files=request.FILES.getlist("files"),
            user=api_user(request),
            channel=Channel.API,
        )
        return self._respond(entry)


def services_update_check(entry: IndicatorValue, request: Request) -> None:
    """Evidence may be added by whoever may edit the entry, while it can be edited."""
    from indicators.selectors import indicator_values_capturable_by
    from planning import workflow

    if not indicator_values_capturable_by(api_user(request)).filter(pk=entry.pk).exists():
        raise workflow.NotAllowed(_("您没有修改该填报的权限。"))
    workflow.ensure_editable(entry)
