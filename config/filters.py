"""Filters and URL pieces that never send an out-of-range number to the database.

A client may put any digits in a URL. Ids are at most 18 digits and years are four; anything else is a
clear 400 (filters) or a 404 (paths) instead of a database error.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.urls import register_converter

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


class IdModelChoiceField(forms.ModelChoiceField):
    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        if parse_id(value) is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class IdChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = IdModelChoiceField


class YearField(forms.IntegerField):
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
