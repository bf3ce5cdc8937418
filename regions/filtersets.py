from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from config.filters import IdChoiceFilter, IdNumberFilter

from .models import Region, RegionKind


class RegionFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=RegionKind.choices, label=_("类型"))
    parent = IdChoiceFilter(queryset=Region.objects.all(), label=_("上级区域"))
    plan = IdNumberFilter(method="filter_plan", label=_("规划（该规划覆盖的区域）"))

    class Meta:
        model = Region
        fields = ["kind", "parent", "plan"]

    def filter_plan(self, queryset, name, value):
        # Planning sits above regions: follow the reverse relation by name instead of importing it.
        root = Region.objects.filter(plans__pk=value).values("pk")
        return queryset.filter(Q(pk__in=root) | Q(parent__in=root) | Q(parent__parent__in=root))
