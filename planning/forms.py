"""Forms only carry what a person typed; checks live in the services so the API gives the same messages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import NotificationKind, Task, TaskProgress
from .progress import TaskProgressInput
from .workflow import field_limit


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several evidence files in one input; their checks are the services' (type sniffing, size)."""

    widget = MultipleFileInput

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if not data:
            return []
        items = data if isinstance(data, list | tuple) else [data]
        return [item for item in items if item]


class EntryFormMixin:
    """Map a service's ValidationError onto the form's fields (unknown keys go to the form itself)."""

    def add_service_errors(self, error: ValidationError) -> None:
        form: forms.Form = self  # type: ignore[assignment]
        for name, messages in error.message_dict.items():
            target = name if name in form.fields else None
            for message in messages:
                form.add_error(target, message)


class TaskProgressForm(EntryFormMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    narrative = forms.CharField(
        label=_("本年度工作进展"),
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        max_length=field_limit(TaskProgress, "narrative"),
        help_text=_("做了什么、完成到什么程度"),
    )
    problems = forms.CharField(
        label=_("存在问题"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=field_limit(TaskProgress, "problems"),
        help_text=_("选填：推进中遇到的困难和不足"),
    )
    next_steps = forms.CharField(
        label=_("下步打算"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=field_limit(TaskProgress, "next_steps"),
        help_text=_("选填：下一步的工作安排和措施"),
    )
    percent = forms.CharField(
        label=_("完成百分比（%）"), required=False, widget=forms.TextInput(attrs={"inputmode": "decimal"})
    )
    passed = forms.ChoiceField(
        label=_("是否已通过验收/评估"),
        choices=[("", "—"), ("yes", _("已通过")), ("no", _("尚未通过"))],
        required=False,
    )
    evidence = MultipleFileField(label=_("佐证材料"), help_text=_("PDF、图片或 Office 文档，单个不超过 10 MB"))

    def __init__(self, *args: Any, task: Task, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.task = task
        kind = task.progress_kind
        if kind != "qualitative":
            del self.fields["percent"]
        if kind != "milestone":
            del self.fields["passed"]
        for target in task.quantity_targets:
            self.fields[f"amount_{target.pk}"] = forms.CharField(
                label=target.label,
                required=False,
                widget=forms.TextInput(attrs={"inputmode": "decimal"}),
                help_text=target.unit,
            )

    def amount_fields(self) -> list[tuple[Any, forms.BoundField]]:
        return [(t, self[f"amount_{t.pk}"]) for t in self.task.quantity_targets]

    def service_input(self) -> TaskProgressInput:
        data = self.cleaned_data
        return TaskProgressInput(
            narrative=data.get("narrative", ""),
            problems=data.get("problems", ""),
            next_steps=data.get("next_steps", ""),
            percent=data.get("percent"),
            passed={"yes": True, "no": False}.get(data.get("passed") or ""),
            amounts={t.pk: data.get(f"amount_{t.pk}") for t in self.task.quantity_targets},
        )


class ReturnForm(forms.Form):
    comment = forms.CharField(
        label=_("退回意见"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=field_limit(TaskProgress, "review_comment"),
    )


class NotificationPreferencesForm(forms.Form):
    """One checkbox per kind of notification: 邮件通知 on or off (the page shows the person's current choice)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind, label in NotificationKind.choices:
            self.fields[f"email_{kind}"] = forms.BooleanField(label=label, required=False)

    def email_by_kind(self) -> dict[str, bool]:
        return {kind: bool(self.cleaned_data.get(f"email_{kind}")) for kind in NotificationKind.values}

    @classmethod
    def initial_from(cls, email_by_kind: dict[str, bool]) -> dict[str, bool]:
        return {f"email_{kind}": on for kind, on in email_by_kind.items()}
