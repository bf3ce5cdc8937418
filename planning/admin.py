from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .delivery import webhook_deliveries_resend
from .lifecycle import plan_evaluation_finalise, plan_state_set
from .models import (
    Column,
    Initiative,
    NotificationPreference,
    Plan,
    PlanState,
    Responsibility,
    Task,
    TaskTarget,
    Unit,
    WebhookDelivery,
)
from .notifications import unit_webhook_clean
from .services import responsibility_save_manual
from .workflow import NotAllowed, TransitionError


class PlanActionForm(ActionForm):
    """The changelist's action bar with a reason (重新开放 needs one; the others record it when given)."""

    reason = forms.CharField(label=_("原因"), required=False)


def _plan_step(
    modeladmin: "admin.ModelAdmin[Plan]", request: HttpRequest, queryset: QuerySet[Plan], call: Callable[[Plan], Any]
) -> None:
    """Run one lifecycle service per chosen plan; each refusal is shown with the plan's name, in Chinese."""
    for plan in queryset:
        try:
            call(plan)
        except (NotAllowed, TransitionError) as exc:
            modeladmin.message_user(request, f"{plan.short_title}：{exc}", level=messages.ERROR)
        except ValidationError as exc:
            modeladmin.message_user(request, f"{plan.short_title}：{'；'.join(exc.messages)}", level=messages.ERROR)
        else:
            modeladmin.message_user(
                request, f"{plan.short_title}：{_('已完成')}（{plan.get_state_display()}）", level=messages.SUCCESS
            )


def _state_action(name: str, state: str, description: Any) -> Callable[..., None]:
    def action(modeladmin: "admin.ModelAdmin[Plan]", request: HttpRequest, queryset: QuerySet[Plan]) -> None:
        reason = request.POST.get("reason", "")
        _plan_step(
            modeladmin,
            request,
            queryset,
            lambda plan: plan_state_set(plan=plan, state=state, user=request.user, reason=reason),  # type: ignore[arg-type]
        )

    action.__name__ = name
    return admin.action(description=description)(action)


@admin.action(description=_("定稿终期评估（此后不再接受填报）"))
def plan_finalise_evaluation(
    modeladmin: "admin.ModelAdmin[Plan]", request: HttpRequest, queryset: QuerySet[Plan]
) -> None:
    _plan_step(
        modeladmin,
        request,
        queryset,
        lambda plan: plan_evaluation_finalise(plan=plan, user=request.user),  # type: ignore[arg-type]
    )


@admin.register(Plan)
class PlanAdmin(SimpleHistoryAdmin):
    action_form = PlanActionForm
    actions = [
        _state_action("plan_activate", PlanState.ACTIVE, _("开始跟踪（草稿 → 实施中）")),
        _state_action("plan_end", PlanState.ENDED, _("标记为已结束（实施中 → 已结束）")),
        plan_finalise_evaluation,
        _state_action("plan_archive", PlanState.ARCHIVED, _("归档（已结束且终期评估已定稿 → 已归档，只读）")),
        _state_action("plan_reopen", PlanState.ENDED, _("重新开放已归档的规划（须填写原因）")),
    ]
    list_filter = ["state"]
    list_display = [
        "title",
        "state",
        "evaluation_finalised_at",
        "issuing_body",
        "issued_on_text",
        "period_start_year",
        "period_end_year",
        "baseline_year",
        "source_document",
    ]
    search_fields = ["title", "short_title", "issuing_body"]
    # The state changes only through the actions above (planning.lifecycle), which check the order and keep a reason.
    readonly_fields = ["fixture_sha256", "state", "evaluation_finalised_at"]
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
        (_("状态"), {"fields": ["state", "evaluation_finalised_at"]}),
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


class UnitAdminForm(forms.ModelForm):
    """The unit's group robot: kind and http(s) address together, or neither (planning.notifications)."""

    # The model's field (its label, limit and help text); an address typed without a scheme is taken as https://,
    # as both robots' addresses are.
    webhook_url = Unit._meta.get_field("webhook_url").formfield(assume_scheme="https")

    class Meta:
        model = Unit
        fields = ["name", "order", "note", "webhook_kind", "webhook_url"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "webhook_url" in self.errors or "webhook_kind" in self.errors:
            return cleaned
        try:
            cleaned["webhook_kind"], cleaned["webhook_url"] = unit_webhook_clean(
                kind=cleaned.get("webhook_kind", ""), url=cleaned.get("webhook_url", "")
            )
        except ValidationError as exc:
            for field_name, messages_ in exc.message_dict.items():
                for message in messages_:
                    self.add_error(field_name, message)
        return cleaned


@admin.register(Unit)
class UnitAdmin(SimpleHistoryAdmin):
    form = UnitAdminForm
    list_display = ["name", "task_count", "webhook_kind", "note"]
    list_filter = ["webhook_kind"]
    search_fields = ["name"]
    fieldsets = [
        (None, {"fields": ["name", "order", "note"]}),
        (_("群机器人"), {"fields": ["webhook_kind", "webhook_url"]}),
    ]

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


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The group robots' delivery log: read only; an unsent message may be sent again."""

    list_display = ["created_at", "unit", "kind", "title", "state", "attempts", "last_error", "sent_at"]
    list_filter = ["state", "kind", ("unit", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["title", "unit__name"]
    list_select_related = ["unit"]
    readonly_fields = ["created_at", "unit", "kind", "title", "text", "state", "attempts", "last_error", "sent_at"]
    actions = ["resend"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("重新发送所选的未送达消息"), permissions=["view"])
    def resend(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        queued, sent = webhook_deliveries_resend(delivery_ids=queryset.values_list("pk", flat=True))
        message = _("已重新排队发送 %(queued)d 条消息。") % {"queued": queued}
        if sent:
            message += _("另有 %(sent)d 条已发送，未重复发送。") % {"sent": sent}
        self.message_user(request, message, level=messages.SUCCESS if queued else messages.WARNING)


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    """Who turned which kind of mail on or off (each person sets this on their 通知设置 page)."""

    list_display = ["user", "kind", "email"]
    list_filter = ["kind", "email"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
