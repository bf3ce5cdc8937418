"""Kept statements (config/statements.py): the same rows as the queryset, now, from a statement compiled once."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config import statements
from config.statements import StatementMismatch, statement_objects, statement_rows
from indicators.models import IndicatorStatus
from planning.models import Plan
from regions.models import Region


def fresh_key() -> str:
    return uuid.uuid4().hex  # a key no other test has kept a statement under


@pytest.fixture
def statuses(plan, rate, muchuan, jiajiang):  # type: ignore[no-untyped-def]
    moment = timezone.now().replace(microsecond=123456)
    return [
        IndicatorStatus.objects.create(
            indicator=rate,
            region=region,
            as_of_year=2024,
            status="lagging",
            gap=Decimal("1.2345"),
            completion=Decimal("0.5"),
            changed_at=moment,
        )
        for region in (muchuan, jiajiang)
    ]


def status_rows() -> Any:
    return IndicatorStatus.objects.filter(as_of_year=2024).order_by("region__order", "pk")


def test_rows_are_what_the_queryset_gives_in_each_shape(statuses) -> None:  # type: ignore[no-untyped-def]
    shapes = [
        status_rows().values("pk", "gap", "completion", "changed_at", "region__name"),
        status_rows().values_list("pk", "gap", "changed_at"),
        status_rows().values_list("changed_at", flat=True),
        status_rows().values("region").annotate(doubled=F("gap") * 2),
    ]
    for queryset in shapes:
        key = fresh_key()
        first = statement_rows(IndicatorStatus, key, lambda q=queryset: q)  # compiled
        again = statement_rows(IndicatorStatus, key, lambda q=queryset: q)  # kept
        assert first == again == list(queryset)
    # Decimals and aware datetimes come back as the ORM gives them, also from SQLite's text columns.
    row = statement_rows(IndicatorStatus, fresh_key(), lambda: status_rows().values("gap", "changed_at"))[0]
    assert row == {"gap": Decimal("1.2345"), "changed_at": statuses[0].changed_at}


def test_a_kept_statement_is_run_without_building_the_queryset_and_reads_the_rows_of_now(statuses, settings) -> None:  # type: ignore[no-untyped-def]
    settings.STATEMENT_CHECK = False
    key, built = fresh_key(), []

    def build() -> Any:
        built.append(1)
        return status_rows().values_list("status", flat=True)

    assert statement_rows(IndicatorStatus, key, build) == ["lagging", "lagging"]
    IndicatorStatus.objects.filter(pk=statuses[0].pk).update(status="on_track")
    with CaptureQueriesContext(connection) as captured:
        assert sorted(statement_rows(IndicatorStatus, key, build)) == ["lagging", "on_track"]
    assert len(built) == 1 and len(captured.captured_queries) == 1


def test_a_key_that_does_not_determine_its_queryset_fails_under_the_check(statuses, muchuan, jiajiang) -> None:  # type: ignore[no-untyped-def]
    key = fresh_key()
    statement_rows(IndicatorStatus, key, lambda: status_rows().filter(region=muchuan).values_list("pk"))
    with pytest.raises(StatementMismatch):
        # The region is an input of the builder but not of the key: another region's rows would be answered.
        statement_rows(IndicatorStatus, key, lambda: status_rows().filter(region=jiajiang).values_list("pk"))


def test_instances_come_with_their_select_related_relations(plan) -> None:  # type: ignore[no-untyped-def]
    key, region_name = fresh_key(), Region.objects.get(pk=plan.region_id).name
    statement_objects(Plan, key, lambda: Plan.objects.select_related("region").filter(pk=plan.pk))
    with CaptureQueriesContext(connection) as captured:
        (found,) = statement_objects(Plan, key, lambda: Plan.objects.select_related("region").filter(pk=plan.pk))
        assert found.region.name == region_name  # read with the plan: no second query
    assert len(captured.captured_queries) == 1
    assert found == plan and found.title == plan.title and found._state.db == "default"
    assert not found._state.adding  # saved instances, as the ORM makes them
    with pytest.raises(TypeError):
        statement_rows(Plan, fresh_key(), lambda: Plan.objects.all())


def test_a_queryset_that_cannot_match_sends_nothing(db) -> None:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as captured:
        assert statement_rows(Region, fresh_key(), lambda: Region.objects.filter(pk__in=[]).values("pk")) == []
        assert statement_objects(Region, fresh_key(), lambda: Region.objects.filter(pk__in=[])) == []
    assert captured.captured_queries == []


def test_the_least_recently_used_statement_goes_beyond_the_limit(db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(statements, "STATEMENTS_KEPT", 2)
    keys = [fresh_key() for _ in range(3)]
    for key in keys:
        statement_rows(Region, key, lambda: Region.objects.values_list("pk", flat=True))
    kept = statements._kept(connection)
    assert keys[0] not in kept and keys[1] in kept and keys[2] in kept


def test_around_adds_columns_after_the_querysets_own(statuses) -> None:  # type: ignore[no-untyped-def]
    def with_name(page: str, conn: Any) -> tuple[str, tuple[str, ...]]:
        regions = conn.ops.quote_name(Region._meta.db_table)
        return f"SELECT page.*, r.name FROM ({page}) page JOIN {regions} r ON r.id = page.region_id", ("name",)

    rows = statement_rows(
        IndicatorStatus, fresh_key(), lambda: status_rows().values("region_id", "gap")[:1], around=with_name
    )
    first = status_rows().select_related("region")[0]
    assert rows == [{"region_id": first.region_id, "gap": Decimal("1.2345"), "name": first.region.name}]


def test_parts_read_in_one_statement_are_each_querysets_rows(statuses, plan) -> None:  # type: ignore[no-untyped-def]
    # Where the parts' columns overlap they agree in type (an id, then a text), as the statement's UNION asks.
    parts = [
        lambda: status_rows().values_list("region_id", "status", "changed_at", "gap"),  # converted on SQLite
        lambda: Region.objects.filter(pk__in=[]).values_list("pk"),  # matches nothing: not in the statement
        lambda: Plan.objects.filter(pk=plan.pk).values_list("pk", "code"),
    ]
    key = fresh_key()
    with CaptureQueriesContext(connection) as captured:
        first = statements.statement_parts(IndicatorStatus, key, parts)
    assert len(captured.captured_queries) == 1
    assert first == [list(build()) for build in parts]
    assert statements.statement_parts(IndicatorStatus, key, parts) == first  # kept


def test_parts_whose_columns_disagree_are_refused(statuses, plan) -> None:  # type: ignore[no-untyped-def]
    # SQLite would read the plan's year through the first part's datetime column: None instead of 2025.
    parts = [
        lambda: status_rows().values_list("region_id", "changed_at"),
        lambda: Plan.objects.filter(pk=plan.pk).values_list("pk", "period_end_year"),
    ]
    with pytest.raises(TypeError, match="column 2"):
        statements.statement_parts(IndicatorStatus, fresh_key(), parts)


@pytest.mark.postgres
def test_on_postgresql_the_kept_statements_are_prepared_and_nothing_else(plan) -> None:  # type: ignore[no-untyped-def]
    def prepared() -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            return [row[0] for row in cursor.fetchall()]

    key = fresh_key()
    for _ in range(3):
        statement_rows(Region, key, lambda: Region.objects.filter(pk=plan.region_id).values(kept_name=F("name")))
        # An ordinary query, run as often: never prepared, so never given a generic plan (settings.py says why).
        list(Region.objects.filter(pk=plan.region_id).values(ordinary_name=F("name")))
    assert any('"kept_name"' in sql for sql in prepared())
    assert not any('"ordinary_name"' in sql for sql in prepared())
