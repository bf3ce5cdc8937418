"""The status summary API (/api/v1/status/): the same summary the overview page shows (dashboards.selectors)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.caching import cached_response
from indicators.api.serializers import StatusSummarySerializer, flag_page
from indicators.api.views import REGION_PARAMETER, region_asked
from indicators.models import FlagKind
from planning.api.views import YEAR_PARAMETER
from planning.selectors import chosen_plan, chosen_year

from ..selectors import status_summary

FLAGGED_SHOWN = 50  # the rest are paginated on /api/v1/flags/


@extend_schema(
    summary="状态汇总",
    description="所选规划、年度、区域的指标和任务按状态计数，以及该区域（含下级）未解除的预警（约束性优先，最多 50 条；"
    "flagged_total 为其总数，flag_totals 为同样筛选下每类的总数；完整列表见 /api/v1/flags/?state=open&kind=…&plan=…）。"
    "kind、unit 与 /api/v1/flags/ 的同名参数相同，总览页的预警列表也按它们筛选。",
    parameters=[
        OpenApiParameter(
            "plan", OpenApiTypes.INT, description="规划 id（默认：规划期包含今年的规划；都不包含时为最近结束的规划）"
        ),
        YEAR_PARAMETER,
        REGION_PARAMETER,
        OpenApiParameter(
            "kind",
            OpenApiTypes.STR,
            enum=FlagKind.values,
            description="预警类型（默认 lag：进度预警；overdue：逾期未报）",
        ),
        OpenApiParameter("unit", OpenApiTypes.INT, description="牵头单位 id：只列该单位牵头事项的预警"),
    ],
    responses={200: StatusSummarySerializer},
)
class StatusView(APIView):
    def get(self, request: Request) -> Response:
        return cached_response(request, lambda: self.summary(request))

    def summary(self, request: Request) -> Response:
        user = request.user
        params = request.query_params
        plan = chosen_plan(params.get("plan"))
        year = chosen_year(params.get("year"), years=plan.years, default=plan.period_end_year, plan=plan)
        region = region_asked(user, plan, params.get("region"))
        summary = status_summary(
            user, plan, year, region, flag_filters={"kind": params.get("kind"), "unit": params.get("unit")}
        )

        def counts(rows: list[tuple[str, str, int]]) -> list[dict[str, Any]]:
            return [{"status": key, "label": label, "count": n} for key, label, n in rows]

        data = {
            "plan": plan.pk,
            "year": year,
            "region": region.pk,
            "indicators": counts(summary.indicator_counts),
            "tasks": counts(summary.task_counts),
            "flag_kind": summary.flags.kind,
            "flagged": flag_page(summary.flags.build, FLAGGED_SHOWN, key=summary.flags.key),
            "flagged_total": summary.flags.total,
            "flag_totals": summary.flags.totals,
        }
        return Response(data)
