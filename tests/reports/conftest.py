"""Shared by the report tests: a little approved progress, and LibreOffice where the layout is checked."""

from __future__ import annotations

import os
import shutil

import pytest

from indicators.services import (
    IndicatorValueInput,
    indicator_value_approve,
    indicator_value_create,
    indicator_value_submit,
    status_recompute_all,
)

LIBREOFFICE = "未安装 LibreOffice 或 poppler-utils（apt-get install libreoffice-writer-nogui poppler-utils）"


@pytest.fixture
def soffice() -> str:
    """The LibreOffice binary. Skipped where it is missing, except with REQUIRE_SERVICES=1 (CI installs it through
    `make system-deps`): there a missing LibreOffice fails the test."""
    binary = shutil.which("soffice") or shutil.which("libreoffice")
    if binary is None or shutil.which("pdftotext") is None:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"REQUIRE_SERVICES=1 但{LIBREOFFICE}")
        pytest.skip(LIBREOFFICE)
    return binary


@pytest.fixture
def some_progress(alice, carol, plan, city, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    values = {2: "95.6", 7: "95.3", 12: "56.5"}
    with django_capture_on_commit_callbacks(execute=True):
        for number, value in values.items():
            entry = indicator_value_create(
                indicator=plan.indicators.get(number=number),
                region=city,
                year=2023,
                user=alice,
                data=IndicatorValueInput(value=value, source="年报", note="据年报"),
            )
            indicator_value_approve(value=indicator_value_submit(value=entry, user=alice), user=carol)
    status_recompute_all()
