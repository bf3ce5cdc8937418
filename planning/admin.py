from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .models import Column, Initiative, Plan, Responsibility, Task, TaskTarget, Unit
from .services import responsibility_save_manual


@admin.register(Plan)
class PlanAdmin(SimpleHistoryAdmin):
    list_display = [
        "title",
        "issuing_body",
        "issued_on_text",
        "period_start_year",
        "period_end_year",
        "baseline_year",
        "source_document",
    ]
    search_fields = ["title", "short_title", "issuing_body"]
    readonly_fields = ["fixture_sha256"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "code",
                    "title",
                    "short_title",
                    "issuing_body",
                    "issuing_body_note",
                    "issued_on",
                    "issued_on_text",
                    "source_document",
                    "note",
                ]
            },
        ),
        (_("规划期"), {"fields": ["period_start_year", "period_end_year", "baseline_year"]}),
        (_("进度判定阈值"), {"fields": ["lagging_below", "watch_below", "on_track_below"]}),
        (_("数据载入"), {"fields": ["fixture_sha256"], "classes": ["collapse"]}),
    ]


@admin.register(Initiative)
class InitiativeAdmin(SimpleHistoryAdmin):
    list_display = ["title", "group_title", "label", "plan", "task_count"]
    list_filter = ["plan", "group_title"]
    search_fields = ["title", "group_title"]
    list_select_related = ["plan"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Initiative]:
        return super().get_queryset(request).annotate(task_count=Count("tasks"))

    @admin.display(description=_("任务数"), ordering="task_count")
    def task_count(self, obj: Any) -> int:
        return obj.task_count


@admin.register(Column)
class ColumnAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "initiative", "plan"]
    list_filter = ["plan"]
    search_fields = ["title"]
    list_select_related = ["initiative", "plan"]


class TaskTargetInline(admin.TabularInline):
    model = TaskTarget
    extra = 0
    fields = [
        "order",
        "kind",
        "label",
        "value",
        "value_max",
        "unit",
        "qualifier",
        "target_year",
        "source_text",
        "regions",
    ]
    filter_horizontal = ["regions"]


class ResponsibilityInline(admin.TabularInline):
    model = Responsibility
    extra = 0
    fields = ["unit", "role", "order", "basis", "source"]
    readonly_fields = ["basis", "source"]
    autocomplete_fields = ["unit"]


class HasTargetsFilter(admin.SimpleListFilter):
    title = _("量化目标")
    parameter_name = "quantitative"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("有量化目标")), ("no", _("定性任务"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Task]) -> QuerySet[Task]:
        if self.value() == "yes":
            return queryset.filter(targets__isnull=False).distinct()
        if self.value() == "no":
            return queryset.filter(targets__isnull=True)
        return queryset


@admin.register(Task)
class TaskAdmin(SimpleHistoryAdmin):
    list_display = ["label", "title", "initiative", "plan", "lead_unit"]
    list_filter = ["plan", "initiative__group_title", "initiative", HasTargetsFilter, "units"]
    search_fields = ["title", "text", "label"]
    list_select_related = ["plan", "initiative"]
    inlines = [TaskTargetInline, ResponsibilityInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Task]:
        return super().get_queryset(request).prefetch_related("responsibilities__unit")

    @admin.display(description=_("牵头单位"))
    def lead_unit(self, obj: Task) -> str:
        return ", ".join(r.unit.name for r in obj.responsibilities.all() if r.role == "lead")

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not Responsibility:
            super().save_formset(request, form, formset, change)
            return
        for obj in formset.deleted_objects:
            obj.delete()
        for obj in formset.save(commit=False):
            responsibility_save_manual(responsibility=obj, user=request.user)  # type: ignore[arg-type]  # admin: signed in


@admin.register(TaskTarget)
class TaskTargetAdmin(SimpleHistoryAdmin):
    list_display = ["task", "label", "display_value", "unit", "qualifier", "kind", "target_year"]
    list_filter = ["kind", "task__plan", "unit"]
    search_fields = ["label", "source_text", "task__title"]
    list_select_related = ["task"]
    filter_horizontal = ["regions"]

    @admin.display(description=_("目标值"))
    def display_value(self, obj: TaskTarget) -> str:
        return obj.display_value


@admin.register(Unit)
class UnitAdmin(SimpleHistoryAdmin):
    list_display = ["name", "task_count", "note"]
    search_fields = ["name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Unit]:
        return super().get_queryset(request).annotate(task_count=Count("responsibilities"))

    @admin.display(description=_("承担任务数"), ordering="task_count")
    def task_count(self, obj: Any) -> int:
        return obj.task_count


@admin.register(Responsibility)
class ResponsibilityAdmin(SimpleHistoryAdmin):
    list_display = ["task", "unit", "role", "basis", "source"]
    list_filter = ["role", "basis", "task__plan", "unit"]
    search_fields = ["task__title", "unit__name", "source"]
    list_select_related = ["task", "unit"]
    autocomplete_fields = ["unit"]
    readonly_fields = ["basis", "source"]

    def save_model(self, request: HttpRequest, obj: Responsibility, form: Any, change: bool) -> None:
        responsibility_save_manual(responsibility=obj, user=request.user)  # type: ignore[arg-type]  # admin: signed in
