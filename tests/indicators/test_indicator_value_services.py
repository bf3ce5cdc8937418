"""Indicator values through the service layer: transitions, bad input, history, conflicts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from indicators.models import IndicatorValue
from indicators.services import (
    IndicatorValueInput,
    indicator_value_approve,
    indicator_value_create,
    indicator_value_reopen,
    indicator_value_return,
    indicator_value_submit,
    indicator_value_update,
    indicator_value_withdraw,
)
from planning.entries import DuplicateEntry
from planning.models import EntryStatus
from planning.workflow import Channel, ConflictError, NotAllowed, NotInScope, TransitionError

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today_2026")]


def data(value: object = "95.6", source: str = "教育事业统计年报", **extra: str) -> IndicatorValueInput:
    return IndicatorValueInput(value=value, source=source, **extra)


def create(user, indicator, region, year=2023, **kwargs) -> IndicatorValue:  # type: ignore[no-untyped-def]
    return indicator_value_create(indicator=indicator, region=region, year=year, data=data(**kwargs), user=user)


def errors_of(call) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.message_dict


# --- the happy path, and history ------------------------------------------------------------------


def test_it_runs_draft_submit_approve(alice, carol, rate, city) -> None:  # type: ignore[no-untyped-def]
    entry = create(alice, rate, city)
    assert (entry.status, entry.version, entry.value) == (EntryStatus.DRAFT, 1, Decimal("95.6"))
    assert entry.approved_value is None

    entry = indicator_value_submit(value=entry, user=alice)
    assert entry.status == EntryStatus.SUBMITTED
    assert entry.submitted_by == alice

    entry = indicator_value_approve(value=entry, user=carol)
    assert entry.status == EntryStatus.APPROVED
    assert entry.approved_value == Decimal("95.6")
    assert entry.reviewed_by == carol
    assert entry.approved_at is not None


def test_every_change_has_a_history_row_naming_who_and_how(alice, carol, rate, city) -> None:  # type: ignore[no-untyped-def]
    entry = create(alice, rate, city)
    entry = indicator_value_update(
        entry=entry, version=entry.version, data=data("95.8"), user=alice, channel=Channel.API
    )
    entry = indicator_value_submit(value=entry, user=alice)
    indicator_value_approve(value=entry, user=carol)

    rows = list(entry.history.order_by("history_date", "history_id"))
    assert [(r.history_user.username, r.history_change_reason) for r in rows] == [
        ("alice", "表单：新建草稿"),
        ("alice", "接口：保存草稿"),
        ("alice", "表单：提交审核"),
        ("carol", "表单：审核通过"),
    ]
    assert [r.value for r in rows] == [Decimal("95.6"), Decimal("95.8"), Decimal("95.8"), Decimal("95.8")]
    assert [r.version for r in rows] == [1, 2, 3, 4]


def test_a_returned_entry_is_fixed_and_resubmitted(alice, carol, rate, city) -> None:  # type: ignore[no-untyped-def]
    entry = indicator_value_submit(value=create(alice, rate, city), user=alice)
    entry = indicator_value_return(value=entry, user=carol, comment="请核对统计口径")
    assert entry.status == EntryStatus.RETURNED
    assert entry.review_comment == "请核对统计口径"

    entry = indicator_value_update(entry=entry, version=entry.version, data=data("95.2"), user=alice)
    assert entry.status == EntryStatus.DRAFT
    entry = indicator_value_submit(value=entry, user=alice)
    entry = indicator_value_approve(value=entry, user=carol)
    assert entry.approved_value == Decimal("95.2")
    assert entry.review_comment == ""


def test_a_correction_keeps_the_approved_value_until_approved(alice, carol, rate, city) -> None:  # type: ignore[no-untyped-def]
    entry = indicator_value_approve(
        value=indicator_value_submit(value=create(alice, rate, city), user=alice), user=carol
    )
    entry = indicator_value_reopen(value=entry, user=alice)
    assert (entry.status, entry.revision) == (EntryStatus.DRAFT, 2)
    assert entry.is_correction

    entry = indicator_value_update(entry=entry, version=entry.version, data=data("95.9"), user=alice)
    entry = indicator_value_submit(value=entry, user=alice)
    assert entry.approved_value == Decimal("95.6")  # still the one in force

    entry = indicator_value_approve(value=entry, user=carol)
    assert entry.approved_value == Decimal("95.9")
    assert not entry.is_correction


def test_a_submitted_entry_can_be_withdrawn(alice, rate, city) -> None:  # type: ignore[no-untyped-def]
    entry = indicator_value_submit(value=create(alice, rate, city), user=alice)
    entry = indicator_value_withdraw(value=entry, user=alice)
    assert entry.status == EntryStatus.DRAFT


# --- forbidden transitions -------------------------------------------------------------------------


def test_approved_entries_are_locked(alice, carol, rate, city) -> None:  # type: ignore[no-untyped-def]
    entry = indicator_value_approve(
        value=indicator_value_submit(value=create(alice, rate, city), user=alice), user=carol
    )
    with pytest.raises(TransitionError, match="已审核通过并锁定"):
        indicator_value_update(entry=entry, version=entry.version, data=data("90"), user=alice)
    with pytest.raises(TransitionError):
        indicator_value_submit(value=entry, user=alice)
    with pytest.raises(TransitionError):
        indicator_value_approve(value=entry, user=carol)
    entry.refresh_from_db()
    assert entry.value == Decimal("95.6")


def test_submitted_entries_cannot_be_edited(alice, rate, city) -> None:  # type: ignore[no-untyped-def]
    entry = indicator_value_submit(value=create(alice, rate, city), user=alice)
    with pytest.raises(TransitionError, match="已提交待审核"):
        indicator_value_update(entry=entry, version=entry.version, data=data("90"), user=alice)


@pytest.mark.parametrize("action", ["approve", "return"])
def test_drafts_cannot_be_reviewed(alice, carol, rate, city, action) -> None:  # type: ignore[no-untyped-def]
    entry = create(alice, rate, city)
    review = {
        "approve": lambda: indicator_value_approve(value=entry, user=carol),
        "return": lambda: indicator_value_return(value=entry, user=carol, comment="x"),
    }[action]
    with pytest.raises(TransitionError):
        review()


def test_only_approved_entries_can_be_reopened(alice, rate, city) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TransitionError, match="只有已通过的填报可以发起更正"):
        indicator_value_reopen(value=create(alice, rate, city), user=alice)


def test_returning_needs_a_comment(alice, carol, rate, city) -> None:  # type: ignore[no-untyped-def]
    entry = indicator_value_submit(value=create(alice, rate, city), user=alice)
    assert errors_of(lambda: indicator_value_return(value=entry, user=carol, comment="  ")) == {
        "comment": ["退回时请填写审核意见，说明需要修改的地方。"]
    }


def test_nobody_approves_their_own_entry(erin, rate, city) -> None:  # type: ignore[no-untyped-def]
    entry = indicator_value_submit(value=create(erin, rate, city), user=erin)
    with pytest.raises(NotAllowed, match="不能审核本人创建、修改或提交的填报"):
        indicator_value_approve(value=entry, user=erin)
    with pytest.raises(NotAllowed):
        indicator_value_return(value=entry, user=erin, comment="自己退回")


# --- scope -----------------------------------------------------------------------------------------


def test_out_of_scope_capture_is_not_found(bob, rate, city, muchuan) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotInScope):
        create(bob, rate, city)
    assert create(bob, rate, muchuan).region == muchuan


def test_a_unit_without_the_indicator_cannot_capture_it(frank, rate, city) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotInScope):
        create(frank, rate, city)


def test_leaders_see_but_cannot_write(alice, leo, carol, rate, city) -> None:  # type: ignore[no-untyped-def]
    entry = create(alice, rate, city)
    with pytest.raises(NotAllowed):
        create(leo, rate, city, year=2022)
    with pytest.raises(NotAllowed):
        indicator_value_update(entry=entry, version=entry.version, data=data("90"), user=leo)
    with pytest.raises(NotAllowed):
        indicator_value_submit(value=entry, user=leo)
    entry = indicator_value_submit(value=entry, user=alice)
    with pytest.raises(NotAllowed):
        indicator_value_approve(value=entry, user=leo)


def test_a_reviewer_out_of_scope_gets_not_found(bob, dave, rate, muchuan) -> None:  # type: ignore[no-untyped-def]
    entry = indicator_value_submit(value=create(bob, rate, muchuan), user=bob)
    with pytest.raises(NotInScope):
        indicator_value_approve(value=entry, user=dave)


def test_a_county_entry_is_reviewed_by_the_unit_reviewer(bob, carol, rate, muchuan) -> None:  # type: ignore[no-untyped-def]
    entry = indicator_value_submit(value=create(bob, rate, muchuan), user=bob)
    assert indicator_value_approve(value=entry, user=carol).status == EntryStatus.APPROVED


# --- bad input: a clear Chinese error, nothing saved --------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("九十五", "“九十五”不是有效的数字。"),
        ("95..5", "“95..5”不是有效的数字。"),
        ("", "请填写数值。"),
        ("95.123", "数值最多保留 2 位小数。"),
        ("-1", "数值不能为负数。"),
        ("100.5", "数值不能超过 100。"),
        ("NaN", "“NaN”不是有效的数字。"),
        ("Infinity", "“Infinity”不是有效的数字。"),
    ],
)
def test_bad_values_are_refused(alice, rate, city, raw, message) -> None:  # type: ignore[no-untyped-def]
    assert errors_of(lambda: create(alice, rate, city, value=raw))["value"] == [message]
    assert not IndicatorValue.objects.exists()


@pytest.mark.parametrize(("raw", "stored"), [("95.5%", "95.5"), (" ９５．５ ", "95.5"), ("95.50", "95.5")])
def test_values_typed_the_usual_ways_are_read(alice, rate, city, raw, stored) -> None:  # type: ignore[no-untyped-def]
    assert create(alice, rate, city, value=raw).value == Decimal(stored)


def test_a_count_rejects_a_negative_value(alice, headcount, city) -> None:  # type: ignore[no-untyped-def]
    assert errors_of(lambda: create(alice, headcount, city, value="-0.5"))["value"] == ["数值不能为负数。"]


def test_a_source_is_required(alice, rate, city) -> None:  # type: ignore[no-untyped-def]
    assert errors_of(lambda: create(alice, rate, city, source=" "))["source"] == [
        "请填写数据来源，例如“教育事业统计年报”。"
    ]


def test_all_problems_are_reported_at_once(alice, rate, city) -> None:  # type: ignore[no-untyped-def]
    found = errors_of(lambda: create(alice, rate, city, value="abc", source=""))
    assert set(found) == {"value", "source"}


@pytest.mark.parametrize(
    ("year", "message"),
    [
        (2020, "年度应在规划期 2021—2025 年之内。"),
        (2026, "年度应在规划期 2021—2025 年之内。"),
        ("二〇二三", "年度应为整数，例如 2023。"),
    ],
)
def test_years_outside_the_plan_are_refused(alice, rate, city, year, message) -> None:  # type: ignore[no-untyped-def]
    assert errors_of(lambda: create(alice, rate, city, year=year))["year"] == [message]


def test_a_year_in_the_future_is_refused(alice, rate, city, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import datetime

    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: datetime.date(2023, 6, 1))
    assert errors_of(lambda: create(alice, rate, city, year=2024))["year"] == ["2024 年尚未开始，不能填报。"]
    assert create(alice, rate, city, year=2023).year == 2023


def test_a_second_entry_for_the_same_cell_is_a_duplicate(alice, rate, city) -> None:  # type: ignore[no-untyped-def]
    first = create(alice, rate, city)
    with pytest.raises(DuplicateEntry) as caught:
        create(alice, rate, city, value="96")
    assert caught.value.existing == first
    assert "已有填报（草稿），请打开已有填报修改" in caught.value.messages[0]
    first.refresh_from_db()
    assert first.value == Decimal("95.6")


def test_a_jump_larger_than_the_whole_plan_asks_for_a_note(alice, carol, rate, city) -> None:  # type: ignore[no-untyped-def]
    # Baseline 95 → target 96: a move of more than 1 point in a year needs explaining.
    found = errors_of(lambda: create(alice, rate, city, year=2021, value="97.5"))
    assert found["outlier_note"] == [
        "与 2020 年的 95 相比变动 2.5，超过规划期基期到目标的全部差距 1；如数值无误，请填写确认说明。"
    ]
    entry = create(alice, rate, city, year=2021, value="97.5", outlier_note="新建幼儿园集中投用")
    assert entry.outlier_note == "新建幼儿园集中投用"
    # The next year compares with the last approved value, not the baseline.
    indicator_value_approve(value=indicator_value_submit(value=entry, user=alice), user=carol)
    assert create(alice, rate, city, year=2022, value="97.8").value == Decimal("97.8")


# --- optimistic locking ----------------------------------------------------------------------------


def test_the_second_of_two_saves_from_the_same_version_conflicts(alice, erin, rate, city) -> None:  # type: ignore[no-untyped-def]
    entry = create(alice, rate, city)
    loaded_by_alice = IndicatorValue.objects.get(pk=entry.pk)
    loaded_by_erin = IndicatorValue.objects.get(pk=entry.pk)

    indicator_value_update(entry=loaded_by_erin, version=loaded_by_erin.version, data=data("95.7"), user=erin)
    with pytest.raises(ConflictError) as caught:
        indicator_value_update(entry=loaded_by_alice, version=loaded_by_alice.version, data=data("95.9"), user=alice)
    assert "已被他人修改" in str(caught.value)
    assert caught.value.current["version"] == 2
    entry.refresh_from_db()
    assert entry.value == Decimal("95.7")  # nothing silently overwritten


def test_a_stale_version_cannot_submit_either(alice, rate, city) -> None:  # type: ignore[no-untyped-def]
    entry = create(alice, rate, city)
    indicator_value_update(entry=entry, version=1, data=data("95.7"), user=alice)
    with pytest.raises(ConflictError):
        indicator_value_submit(value=entry, user=alice, version=1)
