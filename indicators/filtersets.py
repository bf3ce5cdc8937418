"""FilterSets shared by the HTML lists and the API, so URL parameters are the same on both sides."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from config.filters import DisplayStatusFilter, IdChoiceFilter, IdNumberFilter, YearFilter
from planning.models import AssessmentStatus, EntryStatus, Plan, Unit
from regions.models import Region

from .models import Attribute, Flag, FlagKind, FlagState, Indicator, IndicatorStatus, IndicatorValue


class IndicatorValueFilterSet(django_filters.FilterSet):
    plan = IdChoiceFilter(field_name="indicator__plan", queryset=Plan.objects.all(), label=_("规划"))
    indicator = IdChoiceFilter(queryset=Indicator.objects.all(), label=_("指标"))
    region = IdChoiceFilter(queryset=Region.objects.all(), label=_("区域"))
    year = YearFilter(label=_("年度"))
    status = django_filters.ChoiceFilter(choices=EntryStatus.choices, label=_("状态"))
    attribute = django_filters.ChoiceFilter(
        field_name="indicator__attribute", choices=Attribute.choices, label=_("属性")
    )
    unit = IdChoiceFilter(field_name="indicator__lead_unit", queryset=Unit.objects.all(), label=_("责任单位"))

    class Meta:
        model = IndicatorValue
        fields = ["plan", "indicator", "region", "year", "status", "attribute", "unit"]


class IndicatorStatusFilterSet(django_filters.FilterSet):
    """Dashboards and the API filter stored statuses with the same parameters."""

    plan = IdChoiceFilter(field_name="indicator__plan", queryset=Plan.objects.all(), label=_("规划"))
    year = YearFilter(field_name="as_of_year", label=_("年度"))
    region = IdChoiceFilter(queryset=Region.objects.all(), label=_("区域"))
    attribute = django_filters.ChoiceFilter(
        field_name="indicator__attribute", choices=Attribute.choices, label=_("属性")
    )
    status = django_filters.ChoiceFilter(choices=AssessmentStatus.choices, label=_("状态"))
    unit = IdChoiceFilter(field_name="indicator__lead_unit", queryset=Unit.objects.all(), label=_("责任单位"))

    class Meta:
        model = IndicatorStatus
        fields = ["plan", "year", "region", "attribute", "status", "unit"]


class FlagFilterSet(django_filters.FilterSet):
    plan = IdChoiceFilter(queryset=Plan.objects.all(), label=_("规划"))
    kind = django_filters.ChoiceFilter(choices=FlagKind.choices, label=_("类型"))
    state = django_filters.ChoiceFilter(choices=FlagState.choices, label=_("状态"))
    unit = IdChoiceFilter(field_name="lead_unit", queryset=Unit.objects.all(), label=_("责任单位"))
    region = IdChoiceFilter(queryset=Region.objects.all(), label=_("区域"))
    year = YearFilter(label=_("年度"))

    class Meta:
        model = Flag
        fields = ["plan", "kind", "state", "unit", "region", "year"]


class IndicatorFilterSet(django_filters.FilterSet):
    plan = IdChoiceFilter(queryset=Plan.objects.all(), label=_("规划"))
    attribute = django_filters.ChoiceFilter(choices=Attribute.choices, label=_("属性"))
    unit = IdChoiceFilter(field_name="lead_unit", queryset=Unit.objects.all(), label=_("牵头单位"))
    column = IdNumberFilter(field_name="column__number", label=_("专栏号"))
    status = DisplayStatusFilter(target_year_field="target_year", label=_("进度状态（所选区域、截至年度）"))
    region = IdNumberFilter(method="keep", label=_("判定所属区域"))
    year = YearFilter(method="keep", label=_("判定截至年度"))

    class Meta:
        model = Indicator
        fields = ["plan", "attribute", "unit", "column", "status", "region", "year"]

    def keep(self, queryset, name, value):
        return queryset  # region and year choose which assessment is annotated (see the view)
