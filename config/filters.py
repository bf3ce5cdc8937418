"""Filters and URL pieces that never send an out-of-range number to the database.

A client may put any digits in a URL. Ids are at most 18 digits and years are four; anything else is a
clear 400 (filters) or a 404 (paths) instead of a database error.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import django_filters
import django_filters.constants
from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Q
from django.urls import register_converter
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter

from planning import assessment

MAX_ID_DIGITS = 18


def parse_digits(raw: Any, *, max_digits: int = MAX_ID_DIGITS) -> int | None:
    """A non-negative integer written in ASCII digits, or None.

    str.isdigit() alone also accepts characters such as "²" that int() refuses, and int() refuses very long
    digit strings, so both are checked here rather than at each call.
    """
    text = str(raw or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= max_digits else None


def parse_id(raw: Any) -> int | None:
    """An id from a query string, or None when it is not a plausible id."""
    return parse_digits(raw)


def parse_year(raw: Any) -> int | None:
    """A four-digit year from a query string or form, or None."""
    return parse_digits(raw, max_digits=4)


SEARCH_MAX_CHARS = 50


def parse_search(raw: Any, *, field: str = "q") -> str:
    """A page's search box (`?q=`): runs of spaces made one; too long or with control characters → a Chinese
    ValidationError (a 400 through config.views.request_choices), never a database error."""
    text = " ".join(str(raw or "").split())
    if len(text) > SEARCH_MAX_CHARS:
        raise DjangoValidationError({field: [f"搜索词不能超过 {SEARCH_MAX_CHARS} 个字。"]})
    if any(unicodedata.category(char).startswith("C") for char in text):
        raise DjangoValidationError({field: ["搜索词含有无法识别的字符。"]})
    return text


class IdModelChoiceField(forms.ModelChoiceField):
    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        if parse_id(value) is None:
            raise DjangoValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class IdChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = IdModelChoiceField


class YearField(forms.IntegerField):
    default_error_messages = {
        "invalid": "年度应为四位数字，例如 2023。",
        "min_value": "年度不能早于 %(limit_value)s 年。",
        "max_value": "年度不能晚于 %(limit_value)s 年。",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1900)
        kwargs.setdefault("max_value", 2200)
        super().__init__(*args, **kwargs)


class YearFilter(django_filters.NumberFilter):
    field_class = YearField


class IdNumberField(forms.IntegerField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", 10**MAX_ID_DIGITS - 1)
        super().__init__(*args, **kwargs)


class IdNumberFilter(django_filters.NumberFilter):
    """A number that is compared with an id or a small count column (e.g. 专栏号)."""

    field_class = IdNumberField


class IdConverter:
    """`<id:pk>` in URL patterns: 1 to 18 digits."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


ID_LOOKUP_REGEX = "[0-9]{1,18}"


# Registered on import: the URL modules that use `<id:…>` import this module first.
register_converter(IdConverter, "id")


def display_status_condition(status: str, *, status_field: str, latest_year_field: str, target_year_field: str) -> Q:
    """Rows whose shown status (planning.assessment.display_status) is `status`: reached early and reached are one
    stored status split by the year it was reached, and "no data" includes items never computed."""
    if status == assessment.ACHIEVED_EARLY:
        return Q(**{status_field: assessment.ACHIEVED, f"{latest_year_field}__lt": F(target_year_field)})
    if status == assessment.ACHIEVED:
        return Q(**{status_field: assessment.ACHIEVED}) & ~Q(**{f"{latest_year_field}__lt": F(target_year_field)})
    if status == assessment.NO_DATA:
        return Q(**{status_field: assessment.NO_DATA}) | Q(**{f"{status_field}__isnull": True})
    return Q(**{status_field: status})


class DisplayStatusFilter(django_filters.ChoiceFilter):
    """`status` in the shown vocabulary (planning.assessment.DISPLAY_STATUSES) over an annotated assessment."""

    def __init__(self, *args: Any, target_year_field: str, **kwargs: Any) -> None:
        kwargs.setdefault("choices", assessment.DISPLAY_STATUSES)
        super().__init__(*args, **kwargs)
        self.target_year_field = target_year_field

    def filter(self, qs: Any, value: Any) -> Any:
        if value in django_filters.constants.EMPTY_VALUES:
            return qs
        condition = display_status_condition(
            value,
            status_field="assessment_status",
            latest_year_field="assessment_latest_year",
            target_year_field=self.target_year_field,
        )
        return qs.filter(condition)


class StrictOrderingFilter(OrderingFilter):
    """`ordering` with the allowed fields listed in the schema, and an unknown field a 400 (not silently ignored)."""

    def get_ordering(self, request: Any, queryset: Any, view: Any) -> Any:
        params = request.query_params.get(self.ordering_param)
        if params:
            fields = [param.strip() for param in params.split(",") if param.strip()]
            allowed = {name for name, _label in self.get_valid_fields(queryset, view, {"request": request})}
            invalid = [f for f in fields if f.lstrip("-") not in allowed]
            if len(fields) > 1:
                raise ValidationError({self.ordering_param: ["一次只能按一个字段排序。"]})
            if invalid:
                raise ValidationError(
                    {
                        self.ordering_param: [
                            "不能按 {} 排序；可用：{}（前加 - 为倒序）。".format(
                                "、".join(invalid), "、".join(sorted(allowed))
                            )
                        ]
                    }
                )
        ordering = list(super().get_ordering(request, queryset, view) or [])
        # A unique last key: rows that tie (flags raised together share raised_at) keep one order across pages.
        if ordering and ordering[-1].lstrip("-") not in ("pk", "id"):
            ordering.append("pk")
        return ordering

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        fields = list(getattr(view, "ordering_fields", None) or [])
        parameters = super().get_schema_operation_parameters(view)
        if fields:
            choices = [value for name in fields for value in (name, f"-{name}")]
            for parameter in parameters:
                parameter["description"] = "排序字段（一个），前加 - 为倒序。可用：" + "、".join(choices)
                parameter["schema"] = {"type": "string", "enum": choices}
        return parameters
