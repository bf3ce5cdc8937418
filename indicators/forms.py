from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from planning.forms import EntryFormMixin, MultipleFileField
from planning.workflow import field_limit

from .models import IndicatorValue
from .values import IndicatorValueInput


class IndicatorValueForm(EntryFormMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    value = forms.CharField(
        label=_("数值"), required=False, widget=forms.TextInput(attrs={"inputmode": "decimal", "autofocus": True})
    )
    # Lengths are the model's (one home); the service refuses longer text with the same message.
    source = forms.CharField(
        label=_("数据来源"),
        required=False,
        max_length=field_limit(IndicatorValue, "source"),
        help_text=_("如：教育事业统计年报、统计公报"),
    )
    note = forms.CharField(
        label=_("说明"),
        required=False,
        max_length=field_limit(IndicatorValue, "note"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    outlier_note = forms.CharField(
        label=_("异常值确认说明"),
        required=False,
        max_length=field_limit(IndicatorValue, "outlier_note"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("数值变动超过规划期全部目标差距时必填"),
    )
    evidence = MultipleFileField(label=_("佐证材料"), help_text=_("PDF、图片或 Office 文档，单个不超过 10 MB"))

    def service_input(self) -> IndicatorValueInput:
        return IndicatorValueInput(
            **{k: self.cleaned_data.get(k, "") for k in ("value", "source", "note", "outlier_note")}
        )
