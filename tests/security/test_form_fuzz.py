"""Hypothesis throws arbitrary text at the entry validators and the forms behind them: a clear Chinese message
or success every time, never a crash (the API gets the same from schemathesis)."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import make_user

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("FUZZ_RANDOM"),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Text people paste: numbers in every spelling, full-width digits, thousands separators, signs, exponents,
# units, control characters, very long strings.
NUMBERISH = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"[-+]?[0-9０-９]{0,12}([.,。][0-9]{0,8})?(e[-+]?[0-9]{1,4})?\s*(%|万人|所)?", fullmatch=True),
    st.sampled_from(["NaN", "Infinity", "-0", "1e999", "9" * 40, "95,5", "９５．５", "", " ", "\x00", "1_000"]),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.decimals(min_value=0, max_value=100, places=2).map(str),  # plausible figures, so some pass
)
TEXT = st.one_of(
    st.text(max_size=300),
    st.sampled_from(["", "\x00", "<script>alert(1)</script>", "x" * 5000, "统计年报", "教育事业统计"]),
)
YEAR = st.one_of(st.integers(-10, 10000).map(str), st.text(max_size=8))


def chinese(messages: dict[str, list[str]]) -> bool:
    return all(any("\u4e00" <= ch <= "\u9fff" for ch in m) for ms in messages.values() for m in ms)


def test_indicator_value_validation_never_crashes(plan, figure) -> None:  # type: ignore[no-untyped-def]
    from indicators.services import IndicatorValueInput, indicator_value_clean
    from planning.workflow import check_year
    from regions.models import Region

    city = Region.objects.get(code="511100")
    indicators = [plan.indicators.get(number=n) for n in (1, 2, 15)]  # 万人 (additive), % rate, 年 (years)
    tried = Counter[str]()

    @FUZZ
    @given(value=NUMBERISH, source=TEXT, note=TEXT, year=YEAR)
    def check(value: str, source: str, note: str, year: str) -> None:
        for indicator in indicators:
            tried["inputs"] += 1
            try:
                check_year(plan, year)
            except ValidationError as exc:
                assert chinese(exc.message_dict), exc.message_dict  # noqa: PT017
            try:
                indicator_value_clean(
                    indicator=indicator,
                    region=city,
                    year=2024,
                    data=IndicatorValueInput(value=value, source=source, note=note),
                )
            except ValidationError as exc:
                refused = exc.message_dict
            else:
                continue
            tried["refused"] += 1
            assert chinese(refused), refused

    check()
    figure("指标填报校验模糊测试", inputs=tried["inputs"], refused_with_chinese_message=tried["refused"], crashes=0)


def test_task_progress_validation_never_crashes(plan, figure) -> None:  # type: ignore[no-untyped-def]
    from planning.models import Task
    from planning.services import TaskProgressInput, task_progress_clean

    tasks = [Task.objects.get(plan=plan, code=code) for code in ("C2.1", "C14.2")]  # qualitative, quantitative
    tried = Counter[str]()

    @FUZZ
    @given(
        narrative=TEXT,
        percent=NUMBERISH,
        amount=NUMBERISH,
        passed=st.sampled_from(["", "yes", "no", "true", "2", "是"]),
    )
    def check(narrative: str, percent: str, amount: str, passed: str) -> None:
        for task in tasks:
            tried["inputs"] += 1
            amounts = {target.pk: amount for target in task.quantity_targets}
            try:
                task_progress_clean(
                    task=task,
                    region=None,
                    data=TaskProgressInput(narrative=narrative, percent=percent, passed=passed, amounts=amounts),
                )
            except ValidationError as exc:
                refused = exc.message_dict
            else:
                continue
            tried["refused"] += 1
            assert chinese(refused), refused

    check()
    figure("任务进展校验模糊测试", inputs=tried["inputs"], refused_with_chinese_message=tried["refused"], crashes=0)


def test_the_entry_form_answers_every_post_without_a_server_error(plan, figure) -> None:  # type: ignore[no-untyped-def]
    from regions.models import Region

    client = Client(raise_request_exception=False)
    client.force_login(make_user("fuzz", "填报员", units=("市教育局",)))
    url = f"/values/new/{plan.indicators.get(number=2).pk}/{Region.objects.get(code='511100').pk}/2024/"
    codes = Counter[int]()

    @FUZZ
    @given(value=NUMBERISH, source=TEXT, note=TEXT, version=st.one_of(st.text(max_size=6), st.integers().map(str)))
    def check(value: str, source: str, note: str, version: str) -> None:
        with transaction.atomic():
            data: dict[str, Any] = {"value": value, "source": source, "note": note, "version": version}
            response = client.post(url, data)
            transaction.set_rollback(True)  # a saved entry would turn the next example into a duplicate
        codes[response.status_code] += 1
        assert response.status_code in (200, 302, 400), response.status_code

    check()
    figure("填报表单模糊测试", posts=sum(codes.values()), codes=dict(codes), server_errors=0)
