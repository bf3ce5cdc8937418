"""The stored flag counts (FlagCount) against the flags themselves.

Random (seeded) sequences of everything that changes which flags are open where — raised, resolved, moved to
another lead unit or region, deleted one by one or with their unit, whole syncs — and after every step the stored
table equals the one counted from the open flags, and what the overview and /api/v1/status/ show for people of
every kind of view (everything, some units, an explicit set of regions, both, nothing) equals a count of the list.
The region tree is the Leshan plan's (city → counties) with towns under one county and a village under a town, so
the totals two levels down (and not three) are tested too.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboards.selectors import flag_list, open_flag_totals
from indicators.flags import _sync, sync_overdue_flags
from indicators.models import Flag, FlagCount, FlagKind, FlagState
from indicators.selectors import open_flags
from indicators.summaries import flag_counts_rebuild, flag_counts_refresh
from planning.models import Unit, UserScope
from regions.models import Region
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

SEEDS = [1, 2, 3, 4]
STEPS = 40


@pytest.fixture
def world(plan, city, muchuan):  # type: ignore[no-untyped-def]
    towns = [Region.objects.create(name=f"沐川{n}镇", kind="county", parent=muchuan, order=900 + n) for n in range(2)]
    village = Region.objects.create(name="沐川1镇某村", kind="county", parent=towns[0], order=950)
    elsewhere = Region.objects.create(name="外市", kind="city", order=990)
    units = list(Unit.objects.filter(name__in=["市教育局", "市财政局"]).order_by("name"))
    spare = Unit.objects.create(name="临时单位", order=999)
    both = make_user("bo", "填报员", units=("市教育局",), regions=("沐川县", "夹江县"))
    scattered = make_user("sc")  # views an explicit set: the city and one town, not the regions between
    UserScope.objects.filter(user=scattered).get().view_regions.set([city, towns[0]])
    people = {
        "everything": make_user("ev", "领导"),
        "units": make_user("un", "填报员", units=("市教育局",)),
        "regions": make_user("re", "填报员", regions=("沐川县",)),
        "both": both,
        "scattered": scattered,
        "nothing": make_user("no"),
    }
    area = list(plan.area_regions())
    return {
        "plan": plan,
        "regions": [*area, *towns, village, elsewhere],
        "shown": [*area, *towns],  # the regions a person may choose (checked) include the towns' subtree roots
        "units": [*units, spare, None],
        "indicators": list(plan.indicators.all()[:4]),
        "tasks": list(plan.tasks.all()[:3]),
        "people": people,
        "spare": spare,
    }


def stored_table(plan_id: int) -> dict[tuple[Any, ...], tuple[int, int]]:
    table: Counter[tuple[Any, ...]] = Counter()
    totals: Counter[tuple[Any, ...]] = Counter()
    for region, unit, kind, own, total in FlagCount.objects.filter(plan_id=plan_id).values_list(
        "region_id", "lead_unit_id", "kind", "own", "total"
    ):
        table[region, unit, kind] += own
        totals[region, unit, kind] += total
    return {key: (table[key], totals[key]) for key in table | totals if table[key] or totals[key]}


def counted_table(plan_id: int) -> dict[tuple[Any, ...], tuple[int, int]]:
    """The table as it should be, counted from the open flags: `total` over the region and two levels under it."""
    parents = dict(Region.objects.values_list("pk", "parent_id"))
    own: Counter[tuple[Any, ...]] = Counter()
    total: Counter[tuple[Any, ...]] = Counter()
    for region, unit, kind in Flag.objects.filter(plan_id=plan_id, state=FlagState.OPEN).values_list(
        "region_id", "lead_unit_id", "kind"
    ):
        own[region, unit, kind] += 1
        above = [region]
        if region is not None:
            parent = parents.get(region)
            above += [parent, parents.get(parent)] if parent is not None else []
        for counted_in in {a for a in above if a is not None or region is None}:
            total[counted_in, unit, kind] += 1
    return {key: (own[key], total[key]) for key in own | total}


def check(world: dict[str, Any], rng: random.Random, *, everything: bool = False) -> None:
    plan = world["plan"]
    assert stored_table(plan.pk) == counted_table(plan.pk)
    combos = [
        (person, region, unit)
        for person in world["people"].values()
        for region in world["shown"]
        for unit in world["units"]
    ]
    for person, region, unit in combos if everything else rng.sample(combos, 12):
        listed = open_flags(person, plan, region)
        if unit is not None:
            listed = listed.filter(lead_unit=unit)
        expected = {kind: listed.filter(kind=kind).count() for kind in FlagKind.values}
        got = open_flag_totals(person, plan, region, unit_id=unit.pk if unit is not None else None)
        assert got == expected, (person.username, region.name, unit)


def fields(world: dict[str, Any], rng: random.Random, kind: str) -> tuple[str, dict[str, Any]]:
    unit = rng.choice(world["units"])
    region = rng.choice(world["regions"])
    common = {"plan_id": world["plan"].pk, "lead_unit_id": unit.pk if unit else None, "reason": "测试"}
    if rng.random() < 0.7:
        indicator = rng.choice(world["indicators"])
        key = f"{kind}:indicator:{indicator.pk}:region:{region.pk}:{rng.randrange(10**6)}"
        return key, {**common, "indicator_id": indicator.pk, "region_id": region.pk, "year": 2024}
    task = rng.choice(world["tasks"])
    place = None if rng.random() < 0.6 else region
    key = f"{kind}:task:{task.pk}:region:{place.pk if place else 0}:{rng.randrange(10**6)}"
    return key, {**common, "task_id": task.pk, "region_id": place.pk if place else None, "year": 2024}


def open_of(plan: Any) -> list[Flag]:
    return list(Flag.objects.filter(plan=plan, state=FlagState.OPEN).order_by("pk"))


def step(world: dict[str, Any], rng: random.Random, capture: Any) -> str:
    plan, now = world["plan"], timezone.now()
    flags = open_of(plan)
    action = rng.choice(["raise", "raise", "resolve", "unit", "region", "delete", "bulk", "whole", "unit_gone"])
    if action != "raise" and not flags:
        action = "raise"
    flag = rng.choice(flags) if flags else None
    if action == "raise":
        kind = rng.choice(FlagKind.values)
        wanted = dict(fields(world, rng, kind) for _ in range(rng.randint(1, 4)))
        _sync(kind, wanted, Flag.objects.none(), now)
    elif action == "resolve":
        assert flag is not None
        _sync(flag.kind, {}, Flag.objects.filter(pk=flag.pk), now)
    elif action == "unit":  # a sync moves an open flag to its subject's new lead unit
        assert flag is not None
        other = rng.choice([u for u in world["units"] if (u.pk if u else None) != flag.lead_unit_id])
        keep = {"plan_id": flag.plan_id, "region_id": flag.region_id, "year": flag.year, "reason": flag.reason}
        _sync(flag.kind, {flag.key: {**keep, "lead_unit_id": other.pk if other else None}}, [flag], now)
    elif action == "region":  # saved one by one (as the admin would)
        assert flag is not None
        flag.region = rng.choice([r for r in world["regions"] if r.pk != flag.region_id])
        flag.save()
    elif action == "delete":
        with capture(execute=True):
            if rng.random() < 0.5:
                flag.delete()  # type: ignore[union-attr]
            else:
                Flag.objects.filter(pk__in=[f.pk for f in rng.sample(flags, min(3, len(flags)))]).delete()
    elif action == "bulk":  # a sync of many: some kept, the rest resolved, new ones raised
        kind = rng.choice(FlagKind.values)
        current = [f for f in flags if f.kind == kind]
        wanted = {
            f.key: {"plan_id": f.plan_id, "region_id": f.region_id, "lead_unit_id": f.lead_unit_id, "reason": "留"}
            for f in current
            if rng.random() < 0.6
        }
        wanted.update(fields(world, rng, kind) for _ in range(rng.randint(0, 6)))
        _sync(kind, wanted, Flag.objects.filter(plan=plan, state=FlagState.OPEN, kind=kind), now)
    elif action == "whole":  # a full sync: the plan counted again whole
        _sync(FlagKind.LAG, {}, Flag.objects.none(), now, recount=[plan.pk])
    elif action == "unit_gone":  # a unit deleted: its flags stay, of no unit
        spare = world["spare"]
        Flag.objects.filter(pk__in=[f.pk for f in flags[::3]]).update(lead_unit=spare)
        flag_counts_rebuild(plan.pk)  # (the update above is outside the services; the deletion below is tested)
        with capture(execute=True):
            spare.delete()
        world["spare"] = spare = Unit.objects.create(name="临时单位", order=999)
        world["units"] = [*world["units"][:2], spare, None]
    return action


@pytest.mark.parametrize("seed", SEEDS)
def test_the_stored_counts_are_the_counts_of_the_flags(
    world,  # type: ignore[no-untyped-def]
    seed: int,
    django_capture_on_commit_callbacks,
) -> None:
    rng = random.Random(seed)
    done: Counter[str] = Counter()
    for _ in range(STEPS):
        done[step(world, rng, django_capture_on_commit_callbacks)] += 1
        check(world, rng)
    check(world, rng, everything=True)
    assert len(done) >= 6, done  # the sequence did exercise most kinds of change
    assert open_of(world["plan"]), "some flags open at the end"


def test_the_real_syncs_keep_the_counts(world, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    """The nightly's overdue sync (hundreds of flags, a rebuild) and a transition's one-subject sync after it."""
    import datetime

    from indicators.flags import sync_overdue_subject

    plan = world["plan"]
    sync_overdue_flags(today=datetime.date(2026, 3, 15))
    assert Flag.objects.filter(plan=plan, state=FlagState.OPEN, kind=FlagKind.OVERDUE).count() > 500
    check(world, random.Random(0), everything=True)
    # One subject's flag resolved as its entry is reported (here: the year no longer overdue on an earlier day).
    indicator, region = world["indicators"][0], plan.region
    sync_overdue_subject(
        indicator=indicator, region_id=region.pk, year=2025, today=datetime.date(2025, 1, 1), now=timezone.now()
    )
    check(world, random.Random(0), everything=True)


def test_a_refresh_of_one_region_reads_a_few_rows(world) -> None:  # type: ignore[no-untyped-def]
    plan, rng = world["plan"], random.Random(7)
    _sync(FlagKind.LAG, dict(fields(world, rng, FlagKind.LAG) for _ in range(30)), Flag.objects.none(), timezone.now())
    county = world["shown"][3]
    with CaptureQueriesContext(connection) as captured:
        flag_counts_refresh(plan_id=plan.pk, region_ids=[county.pk])
    # The plan's flags are never counted whole: only the county's, by region (the flags' region index).
    counts = [q["sql"] for q in captured.captured_queries if 'FROM "indicators_flag"' in q["sql"]]
    assert len(counts) == 1 and "region_id" in counts[0] and '"region_id" IN' in counts[0], counts
    # Reads and writes of a few rows; transaction control and PostgreSQL's advisory lock aside.
    work = [
        q
        for q in captured.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "SELECT pg_advisory"))
    ]
    assert len(work) <= 7, [q["sql"][:80] for q in work]
    assert stored_table(plan.pk) == counted_table(plan.pk)


def test_never_counted_plans_are_counted_from_the_flags(world, leo, city) -> None:  # type: ignore[no-untyped-def]
    plan, rng = world["plan"], random.Random(3)
    _sync(FlagKind.LAG, dict(fields(world, rng, FlagKind.LAG) for _ in range(10)), Flag.objects.none(), timezone.now())
    expected = open_flags(leo, plan, city).filter(kind=FlagKind.LAG).count()
    FlagCount.objects.filter(plan=plan).delete()  # as before the first count (the table is new)
    assert open_flag_totals(leo, plan, city) is None
    assert flag_list(leo, plan, city).totals[FlagKind.LAG] == expected
    # The next change anywhere counts the plan whole, not just the region it touched.
    flag_counts_refresh(plan_id=plan.pk, region_ids=[world["regions"][2].pk])
    assert stored_table(plan.pk) == counted_table(plan.pk)
    assert open_flag_totals(leo, plan, city) == {
        kind: open_flags(leo, plan, city).filter(kind=kind).count() for kind in FlagKind.values
    }


def test_the_list_knows_its_number_without_counting(world, leo, city) -> None:  # type: ignore[no-untyped-def]
    from django.core.paginator import Paginator

    plan, rng = world["plan"], random.Random(5)
    _sync(FlagKind.LAG, dict(fields(world, rng, FlagKind.LAG) for _ in range(25)), Flag.objects.none(), timezone.now())
    listed = flag_list(leo, plan, city)
    with CaptureQueriesContext(connection) as captured:
        paginator = Paginator(listed.flags, 10)
        page = paginator.get_page(2)
        rows = list(page.object_list)
    assert paginator.count == listed.total == open_flags(leo, plan, city).filter(kind=FlagKind.LAG).count()
    assert len(rows) == 10
    assert not [q for q in captured.captured_queries if "COUNT(" in q["sql"]]
    # Anything made from the list counts for itself.
    assert (
        listed.flags.filter(region=city).count()
        == open_flags(leo, plan, city).filter(kind=FlagKind.LAG, region=city).count()
    )


def test_a_counted_plan_with_nothing_open_answers_from_its_row(world, leo, city) -> None:  # type: ignore[no-untyped-def]
    plan = world["plan"]
    assert FlagCount.objects.filter(plan=plan).exists()  # a loaded plan is counted from the start
    FlagCount.objects.filter(plan=plan).delete()  # as a plan from before the counts existed, until migrated
    assert open_flag_totals(leo, plan, city) is None  # never counted
    flag_counts_rebuild(plan.pk)
    with CaptureQueriesContext(connection) as captured:
        assert open_flag_totals(leo, plan, city) == dict.fromkeys(FlagKind.values, 0)
    assert len(captured.captured_queries) == 1
    # The row stays through changes of the flags of no region, up and down again.
    rng, now = random.Random(9), timezone.now()
    key, fields_of = fields(world, rng, FlagKind.LAG)
    fields_of.update(region_id=None, task_id=world["tasks"][0].pk, lead_unit_id=None)
    fields_of.pop("indicator_id", None)
    _sync(FlagKind.LAG, {key: fields_of}, Flag.objects.none(), now)
    assert open_flag_totals(leo, plan, city) == {"lag": 1, "overdue": 0}
    _sync(FlagKind.LAG, {}, Flag.objects.filter(key=key), now)
    with CaptureQueriesContext(connection) as captured:
        assert open_flag_totals(leo, plan, city) == dict.fromkeys(FlagKind.values, 0)
    assert len(captured.captured_queries) == 1
