"""What a client sends is stored as sent or refused with a Chinese 400 that says why: never cut, rounded onto another
row, re-read as another number, or versioned for nothing (issue: "Nothing silently changed").

Every write here is compared with what is stored afterwards; `make reliability` reports the rows that differ.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from indicators.models import IndicatorValue
from indicators.services import IndicatorValueInput, indicator_value_create, status_recompute_all
from planning.models import TaskProgress
from planning.services import TaskProgressInput, task_progress_create
from planning.workflow import field_limit
from tests.api.test_api import api

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today_2026")]

VALUES = "/api/v1/indicator-values/"
PROGRESS = "/api/v1/task-progress/"


class Ledger:
    """Each accepted write and what was stored: `silently_changed` counts rows that differ from what was sent."""

    def __init__(self) -> None:
        self.writes = 0
        self.refused = 0
        self.silently_changed: list[str] = []

    def stored(self, label: str, sent: Any, stored: Any) -> None:
        self.writes += 1
        if sent != stored:
            self.silently_changed.append(f"{label}: sent {sent!r}, stored {stored!r}")

    def refused_with(self, response: Any, *words: str) -> dict[str, Any]:
        self.refused += 1
        assert response.status_code == 400, (response.status_code, response.content[:300])
        body = response.json()
        text = str(body)
        for word in words:
            assert word in text, (word, body)
        return body


@pytest.fixture
def ledger(figure):  # type: ignore[no-untyped-def]
    book = Ledger()
    yield book
    figure(
        "输入原样保存或拒绝",
        writes_compared=book.writes,
        refused=book.refused,
        rows_silently_changed=len(book.silently_changed),
    )
    assert not book.silently_changed, book.silently_changed


def _create(client: Any, indicator: Any, region: Any, **fields: Any) -> Any:
    body = {"indicator": indicator.pk, "region": region.pk, "year": 2024, "value": "95.5", "source": "统计年报"}
    return client.post(VALUES, {**body, **fields}, format="json")


# --- limits have one home ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "label"), [("note", "说明"), ("outlier_note", "异常值确认说明"), ("source", "数据来源")]
)
def test_text_at_the_limit_is_kept_whole_and_longer_is_refused(ledger, alice, rate, city, field, label) -> None:  # type: ignore[no-untyped-def]
    limit = field_limit(IndicatorValue, field)
    client = api(alice)
    too_long = _create(client, rate, city, **{field: "长" * (limit + 1)})
    body = ledger.refused_with(too_long, str(limit))
    assert field in body
    assert not IndicatorValue.objects.exists()  # nothing cut and saved

    exact = _create(client, rate, city, **{field: "长" * limit})
    assert exact.status_code == 201, exact.json()
    ledger.stored(field, "长" * limit, getattr(IndicatorValue.objects.get(), field))


def test_the_service_refuses_what_the_form_and_excel_send_too_long(ledger, alice, rate, city) -> None:  # type: ignore[no-untyped-def]
    from django.core.exceptions import ValidationError

    limit = field_limit(IndicatorValue, "note")
    with pytest.raises(ValidationError) as refused:
        indicator_value_create(
            indicator=rate,
            region=city,
            year=2024,
            user=alice,
            data=IndicatorValueInput(value="95.5", source="年报", note="字" * (limit + 1)),
        )
    assert f"{limit} 字" in refused.value.message_dict["note"][0]
    ledger.refused += 1


def test_the_schema_states_the_limits_of_the_model(client) -> None:  # type: ignore[no-untyped-def]
    schema = client.get("/api/schema/", {"format": "json"}).json()
    components = schema["components"]["schemas"]
    create = components["IndicatorValueCreateRequest"]["properties"]
    for name in ("note", "outlier_note", "source"):
        assert create[name]["maxLength"] == field_limit(IndicatorValue, name), name
    progress = components["TaskProgressCreateRequest"]["properties"]
    assert progress["narrative"]["maxLength"] == field_limit(TaskProgress, "narrative")
    returned = components["ReturnRequest"]["properties"]
    assert returned["comment"]["maxLength"] == field_limit(TaskProgress, "review_comment")


def test_a_long_review_comment_is_refused_not_cut(ledger, alice, carol, rate, city) -> None:  # type: ignore[no-untyped-def]
    pk = _create(api(alice), rate, city).json()["id"]
    api(alice).post(f"{VALUES}{pk}/submit/", {}, format="json")
    limit = field_limit(IndicatorValue, "review_comment")
    ledger.refused_with(api(carol).post(f"{VALUES}{pk}/return/", {"comment": "改" * (limit + 1)}, format="json"))
    assert IndicatorValue.objects.get().status == "submitted"
    done = api(carol).post(f"{VALUES}{pk}/return/", {"comment": "改" * limit}, format="json")
    assert done.status_code == 200
    ledger.stored("review_comment", "改" * limit, IndicatorValue.objects.get().review_comment)


# --- ids are integers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "raw"),
    [("indicator", "{}.5"), ("indicator", "{}.0"), ("indicator", "true"), ("region", "{}.9"), ("region", '"abc"')],
)
def test_an_id_that_is_not_an_integer_is_refused(ledger, alice, rate, city, field, raw) -> None:  # type: ignore[no-untyped-def]
    ids = {"indicator": rate.pk, "region": city.pk}
    ids[field] = raw.format(ids[field])  # type: ignore[assignment]
    body = f'{{"indicator": {ids["indicator"]}, "region": {ids["region"]}, "year": 2024, "value": "95.5", "source": "年报"}}'
    ledger.refused_with(api(alice).post(VALUES, body, content_type="application/json"), field)
    assert not IndicatorValue.objects.exists()


def test_a_fractional_id_never_lands_on_another_row(ledger, alice, rate, city) -> None:  # type: ignore[no-untyped-def]
    raw = f'{{"indicator": {rate.pk}.5, "region": {city.pk}, "year": 2024, "value": "95.5", "source": "年报"}}'
    ledger.refused_with(api(alice).post(VALUES, raw, content_type="application/json"), "整数")
    raw = f'{{"indicator": {rate.pk}, "region": {city.pk}.9, "year": 2024, "value": "95.5", "source": "年报"}}'
    ledger.refused_with(api(alice).post(VALUES, raw, content_type="application/json"), "整数")
    assert not IndicatorValue.objects.exists()


# --- numbers are read as written --------------------------------------------------------------------------


def test_a_value_the_api_returned_can_be_sent_back(ledger, alice, rate, city) -> None:  # type: ignore[no-untyped-def]
    created = _create(api(alice), rate, city, value="95.49").json()
    assert created["value"] == "95.4900"  # four places on the way out…
    again = api(alice).patch(
        f"{VALUES}{created['id']}/", {"version": created["version"], "value": created["value"]}, format="json"
    )
    assert again.status_code == 200, again.json()  # …are not four decimal places on the way back in
    ledger.stored("value", Decimal("95.49"), IndicatorValue.objects.get().value)
    too_precise = api(alice).patch(f"{VALUES}{created['id']}/", {"version": 1, "value": "95.491"}, format="json")
    ledger.refused_with(too_precise, "2 位小数")


@pytest.mark.parametrize("typed", ["95,8", "９５，８", "1,20", "1,2345"])
def test_a_decimal_comma_is_refused_with_how_to_write_it(ledger, alice, rate, city, typed) -> None:  # type: ignore[no-untyped-def]
    ledger.refused_with(_create(api(alice), rate, city, value=typed), "小数点")
    assert not IndicatorValue.objects.exists()


def test_a_thousands_separator_is_read_as_one(ledger, alice, headcount, city) -> None:  # type: ignore[no-untyped-def]
    headcount.decimal_places = 0
    headcount.max_value = None
    headcount.save()
    created = _create(api(alice), headcount, city, value="1,200", outlier_note="按统计口径调整")
    assert created.status_code == 201, created.json()
    ledger.stored("value", Decimal("1200"), IndicatorValue.objects.get().value)


# --- an update that changes nothing writes nothing ---------------------------------------------------------


def test_a_patch_that_changes_nothing_keeps_the_version(ledger, alice, erin, rate, city) -> None:  # type: ignore[no-untyped-def]
    created = _create(api(alice), rate, city).json()
    pk, history = created["id"], IndicatorValue.history.count()
    only_version = api(alice).patch(f"{VALUES}{pk}/", {"version": 1}, format="json")
    assert only_version.status_code == 200
    assert (only_version.json()["version"], only_version.json()["changed"]) == (1, False)
    assert "未保存新版本" in only_version.json()["detail"]
    # What a GET returned, sent back whole: the read-only fields are ignored and said to be.
    echoed = api(alice).patch(f"{VALUES}{pk}/", created, format="json")
    assert echoed.status_code == 200, echoed.json()
    assert (echoed.json()["version"], echoed.json()["changed"]) == (1, False)
    assert "已忽略只读字段" in echoed.json()["detail"] and "status" in echoed.json()["detail"]
    assert IndicatorValue.history.count() == history
    # So another editor holding version 1 is not refused for nothing.
    theirs = api(erin).patch(f"{VALUES}{pk}/", {"version": 1, "value": "95.6"}, format="json")
    assert (theirs.status_code, theirs.json()["version"], theirs.json()["changed"]) == (200, 2, True)
    ledger.stored("value", Decimal("95.6"), IndicatorValue.objects.get().value)


def test_an_unknown_field_is_refused(ledger, alice, rate, city) -> None:  # type: ignore[no-untyped-def]
    pk = _create(api(alice), rate, city).json()["id"]
    body = ledger.refused_with(
        api(alice).patch(f"{VALUES}{pk}/", {"version": 1, "valeu": "96"}, format="json"), "没有这个字段"
    )
    assert "valeu" in body
    ledger.refused_with(_create(api(alice), rate, city, sorce="年报"), "没有这个字段")
    assert IndicatorValue.objects.get().version == 1


# --- task progress: partial updates keep what they do not name -------------------------------------------


@pytest.fixture
def quantitative(plan):  # type: ignore[no-untyped-def]
    """A task with two quantitative targets, led by 市教育局."""
    for task in plan.tasks.prefetch_related("targets", "responsibilities__unit").order_by("order"):
        led = any(r.role == "lead" and r.unit.name == "市教育局" for r in task.responsibilities.all())
        if led and len(task.quantity_targets) >= 2 and task.milestone_target is None:
            return task
    pytest.fail("no 市教育局 task with two quantitative targets in the seed plan")


def test_a_partial_update_keeps_the_amounts_it_does_not_name(ledger, alice, quantitative) -> None:  # type: ignore[no-untyped-def]
    first, second = quantitative.quantity_targets[:2]
    amounts = {t.pk: ("1" if t.decimal_places == 0 else "1.5") for t in quantitative.quantity_targets}
    progress = task_progress_create(
        task=quantitative,
        year=2024,
        region=None,
        user=alice,
        data=TaskProgressInput(narrative="推进中", amounts=amounts),
    )
    url = f"{PROGRESS}{progress.pk}/"
    # Without amounts: the stored ones (kept with four decimal places) are not re-checked into a refusal.
    narrative_only = api(alice).patch(url, {"version": progress.version, "narrative": "新的进展"}, format="json")
    assert narrative_only.status_code == 200, narrative_only.json()
    assert narrative_only.json()["changed"] is True
    # One target named: the others keep theirs.
    one = api(alice).patch(
        url,
        {"version": narrative_only.json()["version"], "amounts": [{"target": first.pk, "amount": "2"}]},
        format="json",
    )
    assert one.status_code == 200, one.json()
    stored = {row.target_id: row.amount for row in TaskProgress.objects.get(pk=progress.pk).amounts.all()}
    ledger.stored("amount", Decimal("2"), stored[first.pk])
    ledger.stored("amount kept", Decimal(amounts[second.pk]), stored[second.pk])
    ledger.stored("narrative", "新的进展", TaskProgress.objects.get(pk=progress.pk).narrative)


@pytest.mark.parametrize("item", [{"target": 1}, {"amount": "3"}, {}])
def test_an_amount_item_missing_a_key_is_a_400(ledger, alice, quantitative, item) -> None:  # type: ignore[no-untyped-def]
    amounts = {t.pk: "1" for t in quantitative.quantity_targets}
    progress = task_progress_create(
        task=quantitative, year=2024, region=None, user=alice, data=TaskProgressInput(narrative="推进", amounts=amounts)
    )
    response = api(alice).patch(
        f"{PROGRESS}{progress.pk}/", {"version": progress.version, "amounts": [item]}, format="json"
    )
    ledger.refused_with(response)


def test_an_amount_for_another_tasks_target_is_refused(ledger, alice, quantitative, plan) -> None:  # type: ignore[no-untyped-def]
    other = next(t for task in plan.tasks.exclude(pk=quantitative.pk) for t in task.quantity_targets)
    amounts = {t.pk: "1" for t in quantitative.quantity_targets}
    progress = task_progress_create(
        task=quantitative, year=2024, region=None, user=alice, data=TaskProgressInput(narrative="推进", amounts=amounts)
    )
    response = api(alice).patch(
        f"{PROGRESS}{progress.pk}/",
        {"version": progress.version, "amounts": [{"target": other.pk, "amount": "1"}]},
        format="json",
    )
    ledger.refused_with(response, "不属于该任务")


# --- the schema says what the server enforces ---------------------------------------------------------------


def test_the_schema_matches_what_the_server_enforces(client) -> None:  # type: ignore[no-untyped-def]
    schema = client.get("/api/schema/", {"format": "json"}).json()
    patch = schema["paths"]["/api/v1/indicator-values/{id}/"]["patch"]
    body_ref = patch["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert "version" in schema["components"]["schemas"][body_ref]["required"]
    listing = schema["paths"]["/api/v1/indicators/"]["get"]["parameters"]
    ordering = next(p for p in listing if p["name"] == "ordering")
    assert set(ordering["schema"]["enum"]) >= {"number", "-number"}
    status_enum = next(p for p in listing if p["name"] == "status")["schema"]["enum"]
    assert "achieved_early" in status_enum
    indicator = schema["components"]["schemas"]["Indicator"]["properties"]["status"]
    assert {"$ref": "#/components/schemas/DisplayStatusEnum"} in indicator["oneOf"]
    assert "achieved_early" in schema["components"]["schemas"]["DisplayStatusEnum"]["enum"]


def test_ordering_by_an_unknown_field_is_refused(leo) -> None:  # type: ignore[no-untyped-def]
    response = api(leo).get("/api/v1/indicators/", {"ordering": "password"})
    assert response.status_code == 400
    assert "排序" in response.json()["ordering"][0]
    assert api(leo).get("/api/v1/indicators/", {"ordering": "-number"}).status_code == 200


def test_the_status_filter_takes_the_codes_the_answer_gives(alice, carol, rate, city, leo) -> None:  # type: ignore[no-untyped-def]
    created = _create(api(alice), rate, city, year=2023, value="96").json()
    api(alice).post(f"{VALUES}{created['id']}/submit/", {}, format="json")
    assert api(carol).post(f"{VALUES}{created['id']}/approve/", {}, format="json").status_code == 200
    status_recompute_all()  # the test's transaction never commits, so the queued recompute runs here
    plan_id = rate.plan_id
    early = api(leo).get("/api/v1/indicators/", {"plan": plan_id, "status": "achieved_early"}).json()["results"]
    assert [(row["id"], row["status"], row["status_label"]) for row in early] == [
        (rate.pk, "achieved_early", "提前实现")
    ]
    assert api(leo).get("/api/v1/indicators/", {"plan": plan_id, "status": "achieved"}).json()["results"] == []


# --- years outside the plan -----------------------------------------------------------------------------------


@pytest.mark.parametrize("year", [99999, 2030, 2026, 2019, 0])
def test_an_entry_page_for_a_year_the_plan_does_not_cover_is_404(client, alice, rate, city, year) -> None:  # type: ignore[no-untyped-def]
    client.force_login(alice)
    assert client.get(reverse("indicators:value-create", args=[rate.pk, city.pk, year])).status_code == 404
    task = rate.plan.tasks.order_by("order").first()
    assert client.get(reverse("planning:progress-create", args=[task.pk, year])).status_code == 404


@pytest.mark.parametrize("year", ["99999", "1900", "2031", "0", "9" * 40])
def test_a_year_outside_the_plan_in_a_query_is_a_chinese_400(leo, rate, year) -> None:  # type: ignore[no-untyped-def]
    for url in ("/api/v1/status/", f"/api/v1/indicators/{rate.pk}/"):
        response = api(leo).get(url, {"year": year})
        assert response.status_code == 400, (url, response.status_code)
        assert "年度" in response.json()["year"][0]
    listed = api(leo).get("/api/v1/indicators/", {"plan": rate.plan_id, "year": year})
    assert listed.status_code == 400


def test_a_year_outside_the_plan_in_a_body_is_a_chinese_400(ledger, alice, rate, city) -> None:  # type: ignore[no-untyped-def]
    for year in (99999, 2019, 2030, 10**30):
        ledger.refused_with(_create(api(alice), rate, city, year=year), "年")
    assert not IndicatorValue.objects.exists()


@pytest.mark.parametrize("body", ["[1, 2]", '"x"', "3"])
def test_a_body_that_is_not_an_object_is_a_400(ledger, alice, body) -> None:  # type: ignore[no-untyped-def]
    ledger.refused_with(api(alice).post(VALUES, body, content_type="application/json"), "JSON 对象")


def test_an_amount_item_that_is_not_an_object_is_a_400(ledger, alice, quantitative) -> None:  # type: ignore[no-untyped-def]
    body = {"task": quantitative.pk, "year": 2024, "narrative": "推进", "amounts": [5]}
    ledger.refused_with(api(alice).post(PROGRESS, body, format="json"), "JSON 对象")


def test_a_figure_for_a_field_the_task_does_not_use_is_refused(ledger, alice, quantitative) -> None:  # type: ignore[no-untyped-def]
    amounts = [{"target": t.pk, "amount": "1"} for t in quantitative.quantity_targets]
    body = {"task": quantitative.pk, "year": 2024, "narrative": "推进", "amounts": amounts}
    ledger.refused_with(api(alice).post(PROGRESS, {**body, "percent": "50"}, format="json"), "不填完成百分比")
    ledger.refused_with(api(alice).post(PROGRESS, {**body, "passed": True}, format="json"), "不是区域达标任务")
    assert not TaskProgress.objects.exists()
    assert api(alice).post(PROGRESS, {**body, "percent": None}, format="json").status_code == 201
