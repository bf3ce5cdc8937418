from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .models import Indicator, TargetAdjustment
from .services import indicator_target_adjust, indicator_target_adjustment_clean, indicator_target_adjustment_remove


class TargetAdjustmentInline(admin.TabularInline):
    """The indicator's 规划调整, read-only here: they are added on their own page, through the service."""

    model = TargetAdjustment
    extra = 0
    max_num = 0
    can_delete = False
    fields = ["effective_year", "original_value", "adjusted_value", "reason", "document", "created_by", "created_at"]
    readonly_fields = [
        "effective_year",
        "original_value",
        "adjusted_value",
        "reason",
        "document",
        "created_by",
        "created_at",
    ]


class TargetAdjustmentForm(forms.ModelForm):
    class Meta:
        model = TargetAdjustment
        fields = ["indicator", "effective_year", "adjusted_value", "reason", "document"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        indicator = cleaned.get("indicator")
        if indicator is not None and not self.errors:
            try:
                cleaned.update(
                    indicator_target_adjustment_clean(
                        indicator=indicator,
                        adjusted_value=self.data.get("adjusted_value", ""),
                        effective_year=cleaned.get("effective_year"),
                        reason=cleaned.get("reason", ""),
                        document=cleaned.get("document", ""),
                    )
                )
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    self.add_error(None if field not in self.fields else field, messages)
        return cleaned

    def validate_unique(self) -> None:
        """A second adjustment for the same year replaces the first (the service; the history keeps both)."""


@admin.register(TargetAdjustment)
class TargetAdjustmentAdmin(SimpleHistoryAdmin):
    """规划调整: saving and deleting go through indicators.services (administrators only, recompute requested)."""

    form = TargetAdjustmentForm
    list_display = ["indicator", "effective_year", "original_value", "adjusted_value", "document", "created_by"]
    list_filter = ["indicator__plan", "effective_year"]
    list_select_related = ["indicator", "created_by"]
    search_fields = ["indicator__name", "reason", "document"]
    autocomplete_fields = ["indicator"]

    def save_model(self, request: HttpRequest, obj: TargetAdjustment, form: Any, change: bool) -> None:
        saved = indicator_target_adjust(
            indicator=form.cleaned_data["indicator"],
            adjusted_value=form.cleaned_data["adjusted_value"],
            effective_year=form.cleaned_data["effective_year"],
            reason=form.cleaned_data["reason"],
            document=form.cleaned_data["document"],
            user=request.user,  # type: ignore[arg-type]
        )
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: TargetAdjustment) -> None:
        indicator_target_adjustment_remove(adjustment=obj, user=request.user)  # type: ignore[arg-type]

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[TargetAdjustment]) -> None:
        for adjustment in queryset:
            self.delete_model(request, adjustment)


@admin.register(Indicator)
class IndicatorAdmin(SimpleHistoryAdmin):
    inlines = [TargetAdjustmentInline]
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
