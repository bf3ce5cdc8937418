"""The one style for numbers on every page (planning/templatetags/plan_tags.py)."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from django.template import Context, Template

from planning.templatetags import plan_tags

RATE = SimpleNamespace(decimal_places=2, direction=1, unit="%")
COUNT = SimpleNamespace(decimal_places=0, direction=1, unit="所")
LOWER_IS_BETTER = SimpleNamespace(decimal_places=1, direction=-1, unit="人")


def test_completion_and_ratio_are_whole_percents() -> None:
    assert plan_tags.percent(Decimal("0.7412")) == "74%"
    assert plan_tags.percent(Decimal("1.0550")) == "106%"
    assert plan_tags.percent(Decimal("-0.0500")) == "-5%"
    assert plan_tags.percent(None) == "—"


def test_forecasts_to_the_indicators_places_and_never_below_zero() -> None:
    assert plan_tags.forecast(Decimal("95.9667"), RATE) == "95.97"
    assert plan_tags.forecast(Decimal("12.5000"), COUNT) == "13"
    assert plan_tags.forecast(Decimal("96.0000"), RATE) == "96"
    assert plan_tags.forecast(Decimal("-0.1000"), COUNT) == "趋势下降"
    assert plan_tags.forecast(None, RATE) == "—"


def test_gap_says_what_is_left_or_how_far_the_target_is_passed() -> None:
    assert plan_tags.gap(SimpleNamespace(gap=Decimal("0.2200")), RATE) == "差 0.22 %"
    assert plan_tags.gap(SimpleNamespace(gap=Decimal("-0.1000")), RATE) == "已超出 0.1 %"
    assert plan_tags.gap(SimpleNamespace(gap=Decimal("0")), RATE) == "已达到目标"
    # Lower is better: a latest value under the target has passed it.
    assert plan_tags.gap(SimpleNamespace(gap=Decimal("0.5000")), LOWER_IS_BETTER) == "已超出 0.5 人"
    assert plan_tags.gap(None, RATE) == "—"


def test_revision_in_words_only_after_a_correction() -> None:
    assert plan_tags.revision(SimpleNamespace(revision=1)) == ""
    assert plan_tags.revision(SimpleNamespace(revision=3)) == "第 2 次更正"


def test_board_query_sends_each_filter_once() -> None:
    board = SimpleNamespace(
        query=lambda **changes: "&".join(f"{k}={v}" for k, v in {"plan": 1, "region": 2, **changes}.items())
    )
    rendered = Template("{% load plan_tags %}{% board_query board region=9 %}").render(Context({"board": board}))
    assert rendered == "plan=1&amp;region=9"  # escaped in the href, as every link on the page
