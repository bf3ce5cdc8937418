"""FilterSets of published figures, shared by the pages and the API."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from config.filters import IdChoiceFilter, YearFilter
from indicators.models import Indicator
from planning.models import TaskTarget

from .models import PublishedFigure


class PublishedFigureFilterSet(django_filters.FilterSet):
    subject = django_filters.CharFilter(label=_("对象（如：内江市）"))
    indicator = IdChoiceFilter(queryset=Indicator.objects.all(), label=_("对应规划指标"))
    task_target = IdChoiceFilter(queryset=TaskTarget.objects.all(), label=_("对应任务量化目标"))
    year = YearFilter(label=_("所属年份"))
    source_document = django_filters.CharFilter(label=_("来源文件"))

    class Meta:
        model = PublishedFigure
        fields = ["subject", "indicator", "task_target", "year", "source_document"]
