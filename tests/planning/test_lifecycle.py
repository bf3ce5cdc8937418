"""A plan's life (草稿 → 实施中 → 已结束 → 已归档): the transitions, who may make them, and which entries each
state accepts — through the services, the API and the Excel reader alike."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from indicators.models import IndicatorValue
from indicators.services import (
    IndicatorValueInput,
    indicator_value_create,
    indicator_value_submit,
    indicator_value_update,
    status_recompute_finish,
)
from planning.lifecycle import plan_evaluation_finalise, plan_state_set, plans_end_due
from planning.models import Plan, PlanState
from planning.selectors import default_plan
from planning.workflow import NotAllowed, TransitionError, check_year

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today_2026")]

REFUSED = {
    PlanState.DRAFT: "尚未开始跟踪",
    PlanState.ARCHIVED: "本规划已归档，只读",
    "finalised": "终期评估已定稿",
}


def set_state(plan: Plan, state: str, *, finalised: bool = False) -> Plan:
    """Put the plan in a state directly (the transitions themselves are tested through the service)."""
    plan.state = state
    plan.evaluation_finalised_at = datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC) if finalised else None
    plan.save()
    return plan


def new_value(user, rate, city, year=2024) -> IndicatorValue:  # type: ignore[no-untyped-def]
    data = IndicatorValueInput(value="95.6", source="教育事业统计年报")
    return indicator_value_create(indicator=rate, region=city, year=year, data=data, user=user)


# --- transitions ---------------------------------------------------------------------------------------


def test_the_seed_plans_are_loaded_as_ended_after_their_period(plan) -> None:  # type: ignore[no-untyped-def]
    # Loaded once per test database, on a real date after 2025.
    assert plan.state == PlanState.ENDED
    assert plan.evaluation_finalised_at is None


def test_a_plan_runs_through_its_life_with_history(ada, plan) -> None:  # type: ignore[no-untyped-def]
    set_state(plan, PlanState.DRAFT)
    plan = plan_state_set(plan=plan, state=PlanState.ACTIVE, user=ada, reason="")
    assert plan.state == PlanState.ACTIVE
    plan = plan_state_set(plan=plan, state=PlanState.ENDED, user=ada)
    with pytest.raises(TransitionError, match="终期评估定稿后才能归档"):
        plan_state_set(plan=plan, state=PlanState.ARCHIVED, user=ada)
    plan = plan_evaluation_finalise(plan=plan, user=ada)
    assert plan.evaluation_finalised_at is not None
    plan = plan_state_set(plan=plan, state=PlanState.ARCHIVED, user=ada)
    assert Plan.objects.get(pk=plan.pk).state == PlanState.ARCHIVED
    with pytest.raises(ValidationError, match="须说明原因"):
        plan_state_set(plan=plan, state=PlanState.ENDED, user=ada, reason="  ")
    plan = plan_state_set(plan=plan, state=PlanState.ENDED, user=ada, reason="更正2025年数据")
    assert plan.state == PlanState.ENDED
    assert plan.evaluation_finalised_at is None  # reopened for corrections
    reasons = list(plan.history.order_by("-history_date").values_list("history_change_reason", "history_user"))
    assert reasons[0] == ("后台：重新开放（更正2025年数据）", ada.pk)
    assert ("后台：终期评估定稿", ada.pk) in reasons
    assert ("后台：归档", ada.pk) in reasons
    assert ("后台：开始跟踪", ada.pk) in reasons


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (PlanState.DRAFT, PlanState.ENDED),
        (PlanState.DRAFT, PlanState.ARCHIVED),
        (PlanState.ACTIVE, PlanState.ARCHIVED),
        (PlanState.ACTIVE, PlanState.DRAFT),
        (PlanState.ENDED, PlanState.ACTIVE),
        (PlanState.ARCHIVED, PlanState.ACTIVE),
    ],
)
def test_other_transitions_are_refused_in_chinese(ada, plan, start, target) -> None:  # type: ignore[no-untyped-def]
    set_state(plan, start, finalised=start == PlanState.ARCHIVED)
    with pytest.raises(TransitionError, match="规划不能从"):
        plan_state_set(plan=plan, state=target, user=ada, reason="x")
    assert Plan.objects.get(pk=plan.pk).state == start


def test_only_administrators_change_a_plan_state(alice, carol, leo, plan) -> None:  # type: ignore[no-untyped-def]
    for user in (alice, carol, leo):
        with pytest.raises(NotAllowed, match="只有管理员"):
            plan_state_set(plan=plan, state=PlanState.ARCHIVED, user=user)
        with pytest.raises(NotAllowed, match="只有管理员"):
            plan_evaluation_finalise(plan=plan, user=user)
    assert Plan.objects.get(pk=plan.pk).evaluation_finalised_at is None


def test_a_plan_is_not_ended_by_hand_before_its_period_is_over(ada, plan) -> None:  # type: ignore[no-untyped-def]
    set_state(plan, PlanState.ACTIVE)
    Plan.objects.filter(pk=plan.pk).update(period_end_year=2026)
    plan.refresh_from_db()
    with pytest.raises(TransitionError, match="2026 年才结束"):
        plan_state_set(plan=plan, state=PlanState.ENDED, user=ada)


def test_the_nightly_step_ends_plans_whose_period_is_over(plan) -> None:  # type: ignore[no-untyped-def]
    set_state(plan, PlanState.ACTIVE)
    other = Plan.objects.exclude(pk=plan.pk).first()
    assert other is not None
    set_state(other, PlanState.DRAFT)  # a draft is not tracked: never ended by the clock
    assert plans_end_due(today=datetime.date(2025, 12, 31)) == 0
    assert plans_end_due(today=datetime.date(2026, 1, 1)) == 1
    plan.refresh_from_db()
    assert plan.state == PlanState.ENDED
    assert plan.history.first().history_change_reason == "系统：规划期已满，自动结束"
    assert Plan.objects.get(pk=other.pk).state == PlanState.DRAFT
    set_state(plan, PlanState.ACTIVE)
    summary = status_recompute_finish(started=datetime.datetime.now(datetime.UTC), chunks=[])
    assert summary["plans_ended"] == 1


def test_reloading_the_fixtures_keeps_the_state(ada, plan) -> None:  # type: ignore[no-untyped-def]
    from indicators.management.commands.load_plan import load_all

    plan_evaluation_finalise(plan=plan, user=ada)
    plan_state_set(plan=plan, state=PlanState.ARCHIVED, user=ada)
    load_all(Path(settings.PLAN_FIXTURES_DIR), force=True)
    plan.refresh_from_db()
    assert plan.state == PlanState.ARCHIVED
    assert plan.evaluation_finalised_at is not None


@pytest.mark.parametrize(("today", "state"), [(datetime.date(2024, 5, 1), "active"), (None, "ended")])
def test_a_new_plan_from_the_fixtures_is_tracked_by_date(plan, monkeypatch, today, state) -> None:  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from planning.loading import LoadReport, plan_load, read_yaml

    if today is not None:
        monkeypatch.setattr(timezone, "localdate", lambda *a, **k: today)
    data = read_yaml(Path(settings.PLAN_FIXTURES_DIR) / "plan_leshan_edu_14fyp.yaml")
    data["plan"]["code"] = "copy-of-14fyp"
    copy = plan_load(data, file_name="copy.yaml", checksum="x", report=LoadReport())
    assert copy is not None
    assert copy.state == state


# --- entries per state --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "finalised", "refused"),
    [
        (PlanState.ACTIVE, False, ""),
        (PlanState.ENDED, False, ""),
        (PlanState.DRAFT, False, REFUSED[PlanState.DRAFT]),
        (PlanState.ENDED, True, REFUSED["finalised"]),
        (PlanState.ARCHIVED, True, REFUSED[PlanState.ARCHIVED]),
    ],
)
def test_new_entries_per_state(alice, plan, rate, city, state, finalised, refused) -> None:  # type: ignore[no-untyped-def]
    set_state(plan, state, finalised=finalised)
    rate.refresh_from_db()
    if not refused:
        assert new_value(alice, rate, city).pk
        return
    with pytest.raises(ValidationError) as caught:
        new_value(alice, rate, city)
    assert refused in caught.value.message_dict["year"][0]
    assert not IndicatorValue.objects.filter(indicator=rate).exists()
    # The Excel reader asks the same rule (planning.workflow.check_year).
    with pytest.raises(ValidationError, match=refused):
        check_year(plan, 2024)


def test_an_existing_entry_is_frozen_when_the_plan_is_archived(alice, plan, rate, city) -> None:  # type: ignore[no-untyped-def]
    entry = new_value(alice, rate, city)
    set_state(plan, PlanState.ARCHIVED, finalised=True)
    entry.refresh_from_db()
    with pytest.raises(ValidationError, match=REFUSED[PlanState.ARCHIVED]):
        indicator_value_update(entry=entry, version=entry.version, data=IndicatorValueInput(value="96"), user=alice)
    with pytest.raises(ValidationError, match=REFUSED[PlanState.ARCHIVED]):
        indicator_value_submit(value=entry, user=alice)
    entry.refresh_from_db()
    assert (entry.value, entry.status, entry.version) == (Decimal("95.6"), "draft", 1)


def test_the_api_refuses_entries_of_a_closed_plan(alice, plan, rate, city) -> None:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(alice)
    entry = new_value(alice, rate, city, year=2023)
    set_state(plan, PlanState.ENDED, finalised=True)
    created = client.post(
        "/api/v1/indicator-values/",
        {"indicator": rate.pk, "region": city.pk, "year": 2024, "value": 95.8, "source": "统计年报"},
        format="json",
    )
    assert created.status_code == 400
    assert REFUSED["finalised"] in created.content.decode()
    patched = client.patch(f"/api/v1/indicator-values/{entry.pk}/", {"version": 1, "value": "95.9"}, format="json")
    assert patched.status_code == 400
    assert REFUSED["finalised"] in patched.content.decode()
    submitted = client.post(f"/api/v1/indicator-values/{entry.pk}/submit/", {"version": 1}, format="json")
    assert submitted.status_code == 400
    assert IndicatorValue.objects.get(pk=entry.pk).version == 1


def test_the_entry_page_shows_the_state_and_offers_no_buttons(alice, plan, rate, city) -> None:  # type: ignore[no-untyped-def]
    entry = new_value(alice, rate, city)
    client = Client()
    client.force_login(alice)
    url = reverse("indicators:value-detail", args=[entry.pk])
    open_page = client.get(url).content.decode()
    assert "plan-state-ended" in open_page
    assert "提交审核" in open_page
    set_state(plan, PlanState.ARCHIVED, finalised=True)
    page = client.get(url).content.decode()
    assert "plan-state-archived" in page
    assert "已归档" in page
    assert "本规划已归档，只读" in page
    assert "提交审核" not in page


def test_the_dashboards_show_the_state_next_to_the_selector(leo, plan) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(leo)
    set_state(plan, PlanState.ARCHIVED, finalised=True)
    for name in ("overview", "regions", "tasks", "units"):
        body = client.get(reverse(f"dashboards:{name}"), {"plan": plan.pk}).content.decode()
        assert 'id="f-plan"' in body, name
        assert "plan-state-archived" in body, name
        assert "本规划已归档，只读" in body, name
    indicator = plan.indicators.first()
    body = client.get(reverse("dashboards:indicator", args=[indicator.pk]), {"plan": plan.pk}).content.decode()
    assert "plan-state-archived" in body


def test_the_default_plan_is_never_a_draft_when_another_is_tracked(plan) -> None:  # type: ignore[no-untyped-def]
    other = Plan.objects.exclude(pk=plan.pk).exclude(region__isnull=True).first()
    assert other is not None
    chosen = default_plan()
    assert chosen is not None
    set_state(chosen, PlanState.DRAFT)
    assert default_plan() != chosen


def test_the_admin_actions_call_the_service(ada, plan) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(ada)
    url = reverse("admin:planning_plan_changelist")
    set_state(plan, PlanState.ARCHIVED, finalised=True)
    refused = client.post(url, {"action": "plan_reopen", "_selected_action": [plan.pk], "reason": ""}, follow=True)
    assert "重新开放已归档的规划须说明原因" in refused.content.decode()
    assert Plan.objects.get(pk=plan.pk).state == PlanState.ARCHIVED
    client.post(url, {"action": "plan_reopen", "_selected_action": [plan.pk], "reason": "更正数据"})
    plan.refresh_from_db()
    assert (plan.state, plan.evaluation_finalised_at) == (PlanState.ENDED, None)
    assert plan.history.first().history_change_reason == "后台：重新开放（更正数据）"


def test_the_api_states_the_plan_state(leo, plan) -> None:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(leo)
    set_state(plan, PlanState.ARCHIVED, finalised=True)
    body = client.get(f"/api/v1/plans/{plan.pk}/").json()
    assert body["state"] == "archived"
    assert body["evaluation_finalised_at"].startswith("2026-03-01")


def test_starting_to_track_a_draft_computes_its_statuses(ada, plan, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    from indicators.models import IndicatorStatus
    from planning.models import TaskStatus

    set_state(plan, PlanState.DRAFT)
    IndicatorStatus.objects.filter(indicator__plan=plan).delete()
    TaskStatus.objects.filter(task__plan=plan).delete()
    with django_capture_on_commit_callbacks(execute=True):
        plan_state_set(plan=plan, state=PlanState.ACTIVE, user=ada)
    # Every indicator has an assessment for the plan's region as of each year, every task one as well.
    expected = plan.indicators.count() * len(plan.years)
    assert IndicatorStatus.objects.filter(indicator__plan=plan, region=plan.region).count() == expected
    assert TaskStatus.objects.filter(task__plan=plan).exists()


def test_every_other_page_of_the_plan_shows_its_state(ada, alice, plan) -> None:  # type: ignore[no-untyped-def]
    set_state(plan, PlanState.ARCHIVED, finalised=True)
    task = plan.tasks.first()
    indicator = plan.indicators.first()
    admin_client, entry_client = Client(), Client()
    admin_client.force_login(ada)
    entry_client.force_login(alice)
    pages = [
        (admin_client, reverse("dashboards:task", args=[task.pk]), {}),
        (entry_client, reverse("workbench:my-reporting"), {"plan": plan.pk, "year": 2025}),
        (admin_client, reverse("indicators:decomposition-list"), {"plan": plan.pk}),
        (admin_client, reverse("indicators:decomposition-edit", args=[indicator.pk]), {}),
        (entry_client, reverse("exchange:excel"), {"plan": plan.pk}),
    ]
    for client, url, query in pages:
        response = client.get(url, query)
        assert response.status_code == 200, url
        assert "plan-state-archived" in response.content.decode(), url
