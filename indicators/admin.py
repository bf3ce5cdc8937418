from decimal import Decimal

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .models import Indicator


@admin.register(Indicator)
class IndicatorAdmin(SimpleHistoryAdmin):
    list_display = [
        "number",
        "name",
        "unit",
        "baseline",
        "target",
        "attribute",
        "lead_unit",
        "plan_short_title",
    ]
    list_display_links = ["number", "name"]
    list_filter = ["plan", "attribute", "is_additive", "unit"]
    search_fields = ["name"]
    list_select_related = ["plan", "lead_unit"]
    readonly_fields = ["lead_unit_basis", "lead_unit_source"]
    fieldsets = [
        (None, {"fields": ["plan", "column", "number", "name", "unit", "attribute", "direction"]}),
        (
            "基期与目标",
            {
                "fields": [
                    "baseline_year",
                    "baseline_value",
                    "baseline_source",
                    "target_year",
                    "target_value",
                    "target_qualifier",
                ]
            },
        ),
        ("填报设置", {"fields": ["decimal_places", "is_additive"]}),
        ("责任", {"fields": ["lead_unit", "lead_unit_basis", "lead_unit_source"]}),
        ("来源", {"fields": ["source_document", "source_text", "note"]}),
    ]

    @admin.display(description=_("基期值"), ordering="baseline_value")
    def baseline(self, obj: Indicator) -> str:
        return plain(obj.baseline_value) if obj.baseline_value is not None else "—"

    @admin.display(description=_("目标值"), ordering="target_value")
    def target(self, obj: Indicator) -> str:
        return plain(obj.target_value) + obj.target_qualifier

    @admin.display(description=_("规划"), ordering="plan__short_title")
    def plan_short_title(self, obj: Indicator) -> str:
        return obj.plan.short_title


def plain(value: Decimal) -> str:
    """A plan figure as printed: 9.4000 → 9.4, 95.0000 → 95."""
    return f"{value.normalize():f}"
