"""规划调整: an administrator changes a published target from a year on; assessments use it from that year, in SQL
as in the pure reference; pages and reports show the original and the adjusted target; the history keeps both."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from docx import Document

from indicators.models import IndicatorStatus, IndicatorValue, PendingSeriesRecompute, TargetAdjustment
from indicators.services import (
    IndicatorValueInput,
    indicator_target_adjust,
    indicator_target_adjustment_remove,
    indicator_value_approve,
    indicator_value_create,
    indicator_value_submit,
    status_recompute_all,
)
from planning.assessment import Thresholds, assess, target_as_of
from planning.models import PlanState
from planning.workflow import NotAllowed
from reports.collect import collect
from reports.document import build_docx

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today_2026")]

DOCUMENT = "《关于调整部分规划指标的通知》（乐教发〔2024〕12号）"


def adjust(user, indicator, value="95.8", year=2024, reason="中期评估后调整", document=DOCUMENT):  # type: ignore[no-untyped-def]
    return indicator_target_adjust(
        indicator=indicator, adjusted_value=value, effective_year=year, reason=reason, document=document, user=user
    )


@pytest.fixture
def series(alice, carol, rate, city, muchuan, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    """学前教育毛入园率 (95 → 96): 95.8 in 2023 and 95.9 in 2024, in the city and in 沐川县 (no own target)."""
    with django_capture_on_commit_callbacks(execute=True):
        for region in (city, muchuan):
            for year, value in ((2023, "95.8"), (2024, "95.9")):
                entry = indicator_value_create(
                    indicator=rate,
                    region=region,
                    year=year,
                    user=alice,
                    data=IndicatorValueInput(value=value, source="年报"),
                )
                indicator_value_approve(value=indicator_value_submit(value=entry, user=alice), user=carol)
    status_recompute_all()


def stored(rate, region, year) -> IndicatorStatus:  # type: ignore[no-untyped-def]
    return IndicatorStatus.objects.get(indicator=rate, region=region, as_of_year=year)


# --- the service ---------------------------------------------------------------------------------------------


def test_only_administrators_adjust_targets(alice, carol, leo, rate) -> None:  # type: ignore[no-untyped-def]
    for user in (alice, carol, leo):
        with pytest.raises(NotAllowed, match="只有管理员可以调整规划目标"):
            adjust(user, rate)
    assert not TargetAdjustment.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"year": 2020}, "effective_year", "起始年度应在规划期 2021—2025 年之内"),
        ({"year": "明年"}, "effective_year", "起始年度应为整数"),
        ({"value": "95,8"}, "adjusted_value", "逗号只能用作千位分隔符"),
        ({"value": "95.123"}, "adjusted_value", "调整后目标值最多保留 2 位小数"),
        ({"value": ""}, "adjusted_value", "请填写调整后目标值"),
        ({"reason": " "}, "reason", "请填写调整原因"),
        ({"document": ""}, "document", "请填写依据文件"),
        ({"document": "文" * 201}, "document", "依据文件最多 200 字"),
    ],
)
def test_bad_adjustments_are_refused_in_chinese(ada, rate, changes, field, message) -> None:  # type: ignore[no-untyped-def]
    kwargs = {"value": "95.8", "year": 2024, "reason": "调整", "document": DOCUMENT, **changes}
    with pytest.raises(ValidationError) as caught:
        adjust(ada, rate, **kwargs)
    assert any(message in m for m in caught.value.message_dict[field]), caught.value.message_dict
    assert not TargetAdjustment.objects.exists()


def test_an_archived_plan_takes_no_adjustment(ada, plan, rate) -> None:  # type: ignore[no-untyped-def]
    plan.state = PlanState.ARCHIVED
    plan.evaluation_finalised_at = datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)
    plan.save()
    rate.refresh_from_db()
    with pytest.raises(ValidationError, match="本规划已归档，只读"):
        adjust(ada, rate)


def test_the_history_keeps_the_original_and_both_adjustments(ada, rate) -> None:  # type: ignore[no-untyped-def]
    first = adjust(ada, rate, value="95.8")
    second = adjust(ada, rate, value="95.7", reason="再次调整")
    assert first.pk == second.pk  # one per indicator × year
    row = TargetAdjustment.objects.get()
    assert row.original_value == rate.target_value
    assert (str(row.adjusted_value.normalize()), row.reason) == ("95.7", "再次调整")
    history = list(
        row.history.order_by("history_date").values_list("adjusted_value", "history_user", "history_change_reason")
    )
    assert [str(h[0].normalize()) for h in history] == ["95.8", "95.7"]
    assert {h[1] for h in history} == {ada.pk}
    assert history[0][2] == "后台：调整目标"
    rate.refresh_from_db()
    assert rate.target_value == 96  # the indicator keeps its published target


def test_adjusting_requests_a_recompute_of_every_series(ada, plan, rate) -> None:  # type: ignore[no-untyped-def]
    adjust(ada, rate)
    requested = set(PendingSeriesRecompute.objects.filter(indicator=rate).values_list("region_id", flat=True))
    assert requested == set(plan.area_regions().values_list("pk", flat=True))


# --- the assessment --------------------------------------------------------------------------------------------


def test_the_assessment_uses_the_adjusted_target_from_its_year(
    ada, rate, city, muchuan, series, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    assert stored(rate, city, 2024).status != "achieved"  # 95.9 < 96
    with django_capture_on_commit_callbacks(execute=True):
        adjust(ada, rate, value="95.9", year=2024)
    for region in (city, muchuan):  # 沐川县 has no target of its own: it follows the city's
        before, after = stored(rate, region, 2023), stored(rate, region, 2024)
        assert before.target_value == 96 and before.status != "achieved"
        assert str(after.target_value.normalize()) == "95.9"
        assert after.status == "achieved"
        assert stored(rate, region, 2025).target_value == after.target_value


def test_the_sql_and_the_reference_agree_with_adjustments(ada, plan, rate, city, muchuan, series) -> None:  # type: ignore[no-untyped-def]
    adjust(ada, rate, value="95.85", year=2023)
    adjust(ada, rate, value="95.95", year=2025)
    status_recompute_all()
    adjustments = dict(TargetAdjustment.objects.filter(indicator=rate).values_list("effective_year", "adjusted_value"))
    observations = {2023: IndicatorValue.objects.get(indicator=rate, region=city, year=2023).approved_value}
    observations[2024] = IndicatorValue.objects.get(indicator=rate, region=city, year=2024).approved_value
    for year in plan.years:
        target = target_as_of(rate.target_value, adjustments, year)
        wanted = assess(
            baseline_year=rate.baseline_year,
            baseline=rate.baseline_value,
            target_year=rate.target_year,
            target=target,
            observations=observations,
            direction=rate.direction,
            as_of_year=year,
            thresholds=Thresholds(plan.lagging_below, plan.watch_below, plan.on_track_below),
        )
        row = stored(rate, city, year)
        assert (row.status, row.target_value, row.gap) == (wanted.status, target, wanted.gap), year
    assert [stored(rate, city, y).target_value for y in (2022, 2023, 2024, 2025)] == [
        96,
        adjustments[2023],
        adjustments[2023],
        adjustments[2025],
    ]


def test_target_as_of_is_the_latest_adjustment_in_force() -> None:
    adjustments = {2023: "1", 2025: "2"}
    assert [target_as_of("0", adjustments, y) for y in (2022, 2023, 2024, 2025, 2026)] == ["0", "1", "1", "2", "2"]
    assert target_as_of("0", {}, 2025) == "0"


def test_withdrawing_an_adjustment_restores_the_original(
    ada, rate, city, series, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        adjustment = adjust(ada, rate, value="95.9", year=2024)
    with django_capture_on_commit_callbacks(execute=True):
        indicator_target_adjustment_remove(adjustment=adjustment, user=ada)
    assert stored(rate, city, 2024).target_value == 96
    assert TargetAdjustment.history.filter(history_type="-").count() == 1


# --- pages and reports ---------------------------------------------------------------------------------------


def test_the_indicator_page_shows_the_original_and_the_adjusted_target(ada, leo, rate, city, series) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(leo)
    url = reverse("dashboards:indicator", args=[rate.pk])
    assert "规划调整" not in client.get(url).content.decode()
    adjust(ada, rate, value="95.9", year=2024)
    body = client.get(url).content.decode()
    assert f"规划调整：目标值 96（自2024年调整为 95.9，依据{DOCUMENT}）" in body


def test_the_overview_card_names_the_original_target_beside_the_adjusted_one(  # type: ignore[no-untyped-def]
    ada, leo, plan, rate, city, series, django_capture_on_commit_callbacks, django_assert_max_num_queries
) -> None:
    client = Client()
    client.force_login(leo)
    url = reverse("dashboards:overview")
    query = {"plan": plan.pk, "year": 2025}
    assert "原目标" not in client.get(url, query).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        adjust(ada, rate, value="95.9", year=2024)
    with django_assert_max_num_queries(40):
        body = client.get(url, query).content.decode()
    assert "2025年目标 95.9（原目标 96，自2024年调整）" in " ".join(body.split())


def test_reports_show_the_original_and_the_adjusted_target(
    ada, plan, rate, series, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        adjust(ada, rate, value="95.9", year=2024)
    table = Document(io.BytesIO(build_docx(collect(plan, 2024, "annual")))).tables[0]
    row = next(r for r in table.rows[1:] if r.cells[0].text == str(rate.number))
    assert row.cells[6].text == "96（调整为95.9）"
    earlier = Document(io.BytesIO(build_docx(collect(plan, 2023, "midterm")))).tables[0]
    row = next(r for r in earlier.rows[1:] if r.cells[0].text == str(rate.number))
    assert row.cells[6].text == "96"  # not yet in force in 2023


def test_the_admin_adds_an_adjustment_through_the_service(ada, rate) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(ada)
    url = reverse("admin:indicators_targetadjustment_add")
    form = {
        "indicator": rate.pk,
        "effective_year": 2030,
        "adjusted_value": "95.8",
        "reason": "调整",
        "document": DOCUMENT,
    }
    bad = client.post(url, form)
    assert bad.status_code == 200
    assert "起始年度应在规划期 2021—2025 年之内" in bad.content.decode()
    assert not TargetAdjustment.objects.exists()
    good = client.post(url, {**form, "effective_year": 2024})
    assert good.status_code == 302, good.content.decode()[:2000]
    row = TargetAdjustment.objects.get()
    assert (row.created_by, row.original_value, row.effective_year) == (ada, rate.target_value, 2024)
    assert PendingSeriesRecompute.objects.filter(indicator=rate).exists()
