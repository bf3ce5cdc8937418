"""FilterSets shared by the HTML lists and the API, so URL parameters are the same on both sides."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from config.filters import DisplayStatusFilter, IdChoiceFilter, IdNumberFilter, YearFilter
from regions.models import Region

from .models import (
    AssessmentStatus,
    Column,
    EntryStatus,
    Initiative,
    Notification,
    NotificationKind,
    Plan,
    Task,
    TaskProgress,
    TaskStatus,
    Unit,
)


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


class InitiativeFilterSet(django_filters.FilterSet):
    class Meta:
        model = Initiative
        fields = ["plan", "group_title"]


class UnitFilterSet(django_filters.FilterSet):
    plan = IdNumberFilter(method="filter_plan", label=_("规划（在该规划中承担任务的单位）"))

    class Meta:
        model = Unit
        fields = ["plan"]

    def filter_plan(self, queryset, name, value):
        return queryset.filter(responsibilities__task__plan=value).distinct()


class TaskFilterSet(django_filters.FilterSet):
    plan = IdChoiceFilter(queryset=Plan.objects.all(), label=_("规划"))
    column = IdNumberFilter(field_name="column__number", label=_("专栏号"))
    unit = IdChoiceFilter(
        field_name="responsibilities__unit", distinct=True, queryset=Unit.objects.all(), label=_("责任单位")
    )
    status = DisplayStatusFilter(target_year_field="plan__period_end_year", label=_("进度状态"))
    year = YearFilter(method="filter_noop", label=_("判定截至年度"))

    class Meta:
        model = Task
        fields = ["plan", "initiative", "column", "unit", "status", "year"]

    def filter_noop(self, queryset, name, value):
        return queryset  # the year chooses which assessment is annotated (see the view)


class NotificationFilterSet(django_filters.FilterSet):
    """The 通知 page and /api/v1/notifications/: read state and kind, the same words on both."""

    unread = django_filters.ChoiceFilter(
        choices=[("true", _("未读")), ("false", _("已读"))],
        method="filter_unread",
        empty_label=_("全部"),
        label=_("是否未读（true 只看未读，false 只看已读）"),
    )
    kind = django_filters.ChoiceFilter(choices=NotificationKind.choices, empty_label=_("全部类型"), label=_("类型"))

    class Meta:
        model = Notification
        fields = ["unread", "kind"]

    def filter_unread(self, queryset, name, value):
        return queryset.filter(read_at__isnull=value == "true")
