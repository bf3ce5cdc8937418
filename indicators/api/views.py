"""Indicators API: indicators with their assessment, status summary, flags, and indicator values."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.core.paginator import Page
from django.core.paginator import Paginator as DjangoPaginator
from django.db.models import QuerySet
from django_filters.utils import translate_validation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from config.api import Pagination
from config.caching import cached_response
from config.filters import ID_LOOKUP_REGEX, parse_digits, parse_id
from config.statements import statement_rows
from indicators import services
from indicators.filtersets import FlagFilterSet, IndicatorFilterSet, IndicatorValueFilterSet
from indicators.models import Flag, Indicator, IndicatorStatus
from indicators.selectors import (
    flags_visible_to,
    indicator_values_visible_to,
    indicators_visible_to,
    indicators_with_assessment,
    region_plan_for,
    statuses_visible_to,
)
from indicators.values import INDICATOR_VALUE
from planning.api.entries import ReviewedEntryViewSet, entry_schema
from planning.api.views import YEAR_PARAMETER, api_user, list_year
from planning.assessment import expected_value
from planning.models import Plan
from planning.selectors import (
    chosen_region,
    chosen_year,
    default_plan,
    default_region,
    plan_with_id,
    region_in_view,
    user_scope,
)
from planning.workflow import UNSET
from regions.models import Region

from .serializers import (
    INDICATOR_COLUMNS,
    FlagSerializer,
    IndicatorDetailSerializer,
    IndicatorSerializer,
    IndicatorValueCreateSerializer,
    IndicatorValueSerializer,
    IndicatorValueUpdateSerializer,
    IndicatorValueWriteResultSerializer,
    indicator_data,
)

REGION_PARAMETER = OpenApiParameter(
    "region",
    OpenApiTypes.INT,
    description="判定所属区域 id（默认规划的全市；不能查看全市的用户默认为其范围内的第一个区域）。"
    "不在您查看范围内的区域返回 404，不在规划范围内的返回 400。",
)


class ShortFirstPage(DjangoPaginator):
    """A first page shorter than a page holds every row, so its rows say how many there are: no COUNT for the
    lists clients poll (a plan's indicators with one status are fewer than a page)."""

    def page(self, number: Any) -> Page:
        if "count" in self.__dict__ or str(number) != "1":
            return super().page(number)
        rows = list(self.object_list[: self.per_page])
        if len(rows) < self.per_page:
            self.__dict__["count"] = len(rows)  # the cached_property's value
        else:
            self.validate_number(1)
        return Page(rows, 1, self)


class ShortListPagination(Pagination):
    django_paginator_class = ShortFirstPage


def sees_own_region(user: Any, plan: Plan) -> bool:
    """Whether the person may see the plan's own region (as default_region would choose it first), answered from
    their scope: default_region looks through every region of the plan, thousands at national scale."""
    return plan.region_id is not None and region_in_view(user, plan.region_id)


def region_asked(user: Any, plan: Plan, raw: Any) -> Region:
    """chosen_region, with its commonest answer (nothing asked for, the plan's own region in view) found first."""
    if raw in (None, "") and sees_own_region(user, plan):
        assert plan.region is not None  # sees_own_region: the plan has a region
        return plan.region  # read with the plan where chosen_plan read it
    return chosen_region(user, plan, raw)


REGION_PAGE_PARAMETERS = [
    OpenApiParameter(
        "page", OpenApiTypes.INT, description="regions 的页码，从 1 开始（默认 1）；不是正整数或超出页数为 400"
    ),
    OpenApiParameter(
        "page_size",
        OpenApiTypes.INT,
        description=f"regions 每页条数（默认 {Pagination.page_size}，最多 {Pagination.max_page_size}）",
    ),
]


@dataclass
class RegionPage:
    rows: list[IndicatorStatus]
    count: int
    next: str | None
    previous: str | None


def region_page(request: Request, rows: QuerySet[IndicatorStatus]) -> RegionPage:
    """One page of an indicator's regions, as its page on the dashboards pages them (a country has thousands): the
    API's own page size (`page_size`, as every list), a page number that is not one of the pages a 400."""
    size = Pagination().get_page_size(request)
    raw = request.query_params.get("page")
    number = 1 if raw in (None, "") else parse_digits(raw, max_digits=9)
    if number is None or number < 1:
        raise ValidationError({"page": ["页码应为正整数，例如 1。"]})
    count = rows.count()
    pages = max(1, -(-count // size))
    if number > pages:
        raise ValidationError({"page": [f"页码超出范围：各区域判定共 {pages} 页（每页 {size} 条）。"]})
    url = request.build_absolute_uri()
    previous = None
    if number > 1:
        previous = remove_query_param(url, "page") if number == 2 else replace_query_param(url, "page", number - 1)
    return RegionPage(
        rows=list(rows[(number - 1) * size : number * size]),
        count=count,
        next=replace_query_param(url, "page", number + 1) if number < pages else None,
        previous=previous,
    )


def list_region(request: Request) -> int | None:
    """The region whose assessment a list shows: the one asked for (in the person's view, else 404), else the person's
    default in the plan asked for (or the default plan); None means each item's own plan region."""
    user = api_user(request)
    plan = plan_with_id(parse_id(request.query_params.get("plan"))) or default_plan()
    if plan is None:
        return None
    raw = request.query_params.get("region")
    if raw in (None, ""):
        if sees_own_region(user, plan):
            return None
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
    retrieve=extend_schema(
        summary="指标详情（含各区域判定和逐年序列）",
        description="regions 按区域顺序分页（与列表接口相同的 page、page_size），"
        "regions_count 为各区域判定的总条数，regions_next、regions_previous 为前后页的地址。",
        parameters=[YEAR_PARAMETER, REGION_PARAMETER, *REGION_PAGE_PARAMETERS],
    ),
)
class IndicatorViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = ID_LOOKUP_REGEX
    pagination_class = ShortListPagination
    filterset_class = IndicatorFilterSet
    ordering_fields = ["number", "assessment_ratio", "assessment_completion"]
    ordering = ["plan", "number"]

    def get_queryset(self) -> QuerySet[Indicator]:
        queryset = indicators_visible_to(api_user(self.request)).select_related("plan", "lead_unit")
        if self.action == "retrieve" or getattr(self, "swagger_fake_view", False):
            return queryset  # the schema generator asks for the model only
        year, region_id = self.assessed_at
        return indicators_with_assessment(queryset, year=year, region_id=region_id)

    @cached_property
    def assessed_at(self) -> tuple[int | None, int | None]:
        """The year and region a list's assessments are for (list_year, list_region), read once per request."""
        return list_year(self.request), list_region(self.request)

    def get_serializer_class(self) -> type:
        return IndicatorDetailSerializer if self.action == "retrieve" else IndicatorSerializer

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # Polled by clients: served from the cache until a recompute changes a status (config/caching.py).
        return cached_response(request, lambda: self.listed(request))

    def listed(self, request: Request) -> Response:
        """ListModelMixin.list, reading values and showing them as the serializer does (indicator_data).

        The first page, what clients poll, is read by a statement kept under everything it is built from: the
        person's scope, the year and region assessed, and every query parameter (config/statements.py). The
        parameters are still checked on every call, in the order the ordinary way checks them (year and region
        first, then the FilterSet's), and a full first page also counts the rest, as the paginator does."""
        if request.query_params.get("page") not in (None, "", "1") or self.paginator is None:
            queryset = self.filter_queryset(self.get_queryset())
            page = self.paginate_queryset(queryset.values(*INDICATOR_COLUMNS))
            return self.get_paginated_response(indicator_data(page or []))
        assessed_at = self.assessed_at
        self.check_filters(request)
        size = self.paginator.get_page_size(request)
        key = (
            "indicator_list",
            user_scope(api_user(request)),
            *assessed_at,
            size,
            tuple(sorted((name, tuple(values)) for name, values in request.query_params.lists())),
        )
        rows = statement_rows(Indicator, key, lambda: self.listed_queryset()[:size])
        count, following = len(rows), None
        if count == size:  # more may follow: counted as the paginator counts
            count = self.listed_queryset().count()
            if count > size:
                following = replace_query_param(request.build_absolute_uri(), self.paginator.page_query_param, 2)
        return Response({"count": count, "next": following, "previous": None, "results": indicator_data(rows)})

    def listed_queryset(self) -> QuerySet[Any]:
        return self.filter_queryset(self.get_queryset()).values(*INDICATOR_COLUMNS)

    def check_filters(self, request: Request) -> None:
        """The FilterSet's checks of the query parameters, as DjangoFilterBackend makes them (a 400 naming each)."""
        filterset = self.filterset_class(request.query_params, queryset=Indicator.objects.none(), request=request)
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        found = self.get_object()
        user = api_user(request)
        plan = found.plan
        year = chosen_year(request.query_params.get("year"), years=plan.years, default=plan.period_end_year, plan=plan)
        region = region_asked(user, plan, request.query_params.get("region"))
        indicator = indicators_with_assessment(self.get_queryset(), year=year, region_id=region.pk).get(pk=found.pk)
        regions = region_page(
            request,
            statuses_visible_to(api_user(request))
            .filter(indicator=indicator, as_of_year=year)
            .select_related("region", "indicator")
            .order_by("region__order", "region_id"),
        )
        region_id = region.pk
        approved = dict(
            indicator_values_visible_to(api_user(request))
            .filter(indicator=indicator, region_id=region_id, approved_value__isnull=False)
            .values_list("year", "approved_value")
        )
        context = {
            **self.get_serializer_context(),
            "regions": regions.rows,
            "regions_count": regions.count,
            "regions_next": regions.next,
            "regions_previous": regions.previous,
            "series": yearly_series(indicator, region_id, approved),
        }
        return Response(IndicatorDetailSerializer(indicator, context=context).data)


def yearly_series(
    indicator: Indicator, region_id: int | None, approved: dict[int, Decimal | None]
) -> list[dict[str, Any]]:
    baseline: Decimal | None = indicator.baseline_value
    target: Decimal | None = indicator.target_value
    if region_id is not None and region_id != indicator.plan.region_id:
        plan = region_plan_for(indicator, Region.objects.get(pk=region_id))
        baseline, target = plan.baseline, plan.target
    points = []
    for year in range(indicator.baseline_year, indicator.target_year + 1):
        expected = expected_value(
            baseline, target, baseline_year=indicator.baseline_year, target_year=indicator.target_year, year=year
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


@entry_schema(
    noun="指标数值",
    read=IndicatorValueSerializer,
    create=IndicatorValueCreateSerializer,
    update=IndicatorValueUpdateSerializer,
    result=IndicatorValueWriteResultSerializer,
    example=VALUE_EXAMPLE,
)
class IndicatorValueViewSet(ReviewedEntryViewSet):
    kind = INDICATOR_VALUE
    serializer_class = IndicatorValueSerializer
    create_serializer_class = IndicatorValueCreateSerializer
    update_serializer_class = IndicatorValueUpdateSerializer
    item_field = "indicator"
    filterset_class = IndicatorValueFilterSet
    ordering_fields = ["year", "updated_at"]
    ordering = ["-year", "indicator__number", "region__order"]
    read_select_related = ("indicator", "region")

    def to_input(self, data: dict[str, Any]) -> services.IndicatorValueInput:
        return _value_input(data)
