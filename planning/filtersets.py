"""FilterSets shared by the HTML lists and the API, so URL parameters are the same on both sides."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from config.filters import IdChoiceFilter, YearFilter
from regions.models import Region

from .models import AssessmentStatus, Column, EntryStatus, Plan, Task, TaskProgress, TaskStatus, Unit


class TaskStatusFilterSet(django_filters.FilterSet):
    """The tasks dashboard and the API filter task statuses with the same parameters."""

    plan = IdChoiceFilter(field_name="task__plan", queryset=Plan.objects.all(), label=_("规划"))
    year = YearFilter(field_name="as_of_year", label=_("年度"))
    column = IdChoiceFilter(field_name="task__column", queryset=Column.objects.exclude(number=1), label=_("专栏"))
    status = django_filters.ChoiceFilter(choices=AssessmentStatus.choices, label=_("状态"))
    unit = IdChoiceFilter(
        field_name="task__responsibilities__unit", distinct=True, queryset=Unit.objects.all(), label=_("责任单位")
    )

    class Meta:
        model = TaskStatus
        fields = ["plan", "year", "column", "status", "unit"]


class TaskProgressFilterSet(django_filters.FilterSet):
    plan = IdChoiceFilter(field_name="task__plan", queryset=Plan.objects.all(), label=_("规划"))
    column = IdChoiceFilter(field_name="task__column", queryset=Column.objects.exclude(number=1), label=_("专栏"))
    unit = IdChoiceFilter(
        field_name="task__responsibilities__unit", distinct=True, queryset=Unit.objects.all(), label=_("责任单位")
    )
    region = IdChoiceFilter(queryset=Region.objects.all(), label=_("区域"))
    year = YearFilter(label=_("年度"))
    status = django_filters.ChoiceFilter(choices=EntryStatus.choices, label=_("状态"))
    task = IdChoiceFilter(queryset=Task.objects.all(), label=_("任务"))

    class Meta:
        model = TaskProgress
        fields = ["plan", "column", "unit", "region", "year", "status", "task"]
