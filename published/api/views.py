"""Published figures API: what published documents said about Leshan and its peers, quoted with their sources."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from config.filters import ID_LOOKUP_REGEX
from planning.api.views import api_user
from published.filtersets import PublishedFigureFilterSet
from published.models import PublishedFigure
from published.selectors import published_figures_visible_to

from .serializers import PublishedFigureSerializer


@extend_schema_view(
    list=extend_schema(
        summary="公开数据列表",
        description="公开文件中关于乐山及对标城市的数字，附原文摘录和来源。公开数据不是已审核的填报，不影响任何进度判定。"
        "可按对象（subject）、对应指标、对应任务量化目标、年份、来源文件筛选。",
    ),
    retrieve=extend_schema(summary="公开数据详情"),
)
class PublishedFigureViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = ID_LOOKUP_REGEX
    serializer_class = PublishedFigureSerializer
    filterset_class = PublishedFigureFilterSet
    ordering_fields = ["year", "subject", "value"]
    ordering = ["province", "subject", "year", "measure"]

    def get_queryset(self) -> QuerySet[PublishedFigure]:
        return published_figures_visible_to(api_user(self.request))
