"""Stored counts of open flags (FlagCount), kept exact by every write of a flag and read instead of counting.

A row holds the open flags of one plan × region × lead unit × kind: `own` those of the region itself, `total`
those of it and of the regions one and two levels under it — the regions `indicators.selectors.in_region` takes
(rows of no region are the plan's task flags without one: own = total). So the counts of the overview and
/api/v1/status/ are a few rows at any scale, where counting the open flags meant reading a hundred thousand.

Writes: the flag syncs (indicators.flags._sync) refresh the regions whose flags they changed, in their own
transaction; a flag saved or deleted one by one (admin, a deleted indicator, task or region) refreshes its regions
too; the full syncs rebuild whole plans, which also repairs whatever an edit outside the services (SQL) left.
Refreshes of one plan take turns (an advisory lock on PostgreSQL), so two pieces of the full recompute running at
once cannot both move the plan's region's row from what each saw before the other committed.

Read by dashboards.selectors.open_flag_totals, in the person's view.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Q
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver

from planning.models import Plan, Unit
from regions.models import Region

from .models import Flag, FlagCount, FlagKind, FlagState

# More changed regions than this in one plan: one rebuild of the plan is cheaper than the regions one by one.
REBUILD_ABOVE_REGIONS = 500
_LOCK_CLASS = 16_016  # pg_advisory_xact_lock(class, plan): the refreshes of one plan's counts

Key = tuple[int | None, int | None, str]  # region, lead unit, kind


def _lock(plan_id: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_CLASS, plan_id % 2**31])


def _open_counts(plan_id: int, where: Q) -> dict[Key, int]:
    rows = (
        Flag.objects.filter(where, plan_id=plan_id, state=FlagState.OPEN)
        .values_list("region_id", "lead_unit_id", "kind")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {(region, unit, kind): n for region, unit, kind, n in rows}


def _chains(regions: Q) -> dict[int, tuple[int, ...]]:
    """Each region with the regions whose `total` counts it: itself, its parent and its parent's parent."""
    rows = Region.objects.filter(regions).values_list("pk", "parent_id", "parent__parent_id")
    return {pk: tuple(r for r in (pk, parent, grand) if r is not None) for pk, parent, grand in rows}


# The row of the plan's task flags of no region and no unit, kept even at zero: a counted plan always has a row,
# so a plan with no row was never counted (its readers count the flags instead), and its region's answer is a row.
COUNTED: Key = (None, None, FlagKind.LAG)


def _write(plan_id: int, rows: dict[Key, list[int]]) -> None:
    FlagCount.objects.bulk_create(
        [
            FlagCount(plan_id=plan_id, region_id=region, lead_unit_id=unit, kind=kind, own=own, total=total)
            for (region, unit, kind), (own, total) in rows.items()
            if own or total or (region, unit, kind) == COUNTED
        ],
        batch_size=1000,
    )


def flag_counts_rebuild(plan_id: int) -> None:
    """The plan's counts from its open flags, all regions: the full syncs, and a plan never counted before."""
    with transaction.atomic():
        _lock(plan_id)
        FlagCount.objects.filter(plan_id=plan_id).delete()
        own = _open_counts(plan_id, Q())
        chains = _chains(Q(pk__in=Flag.objects.filter(plan_id=plan_id, state=FlagState.OPEN).values("region_id")))
        rows: dict[Key, list[int]] = defaultdict(lambda: [0, 0])
        rows.setdefault(COUNTED, [0, 0])
        for (region, unit, kind), n in own.items():
            rows[region, unit, kind][0] += n
            for counted_in in _counted_in(region, chains):
                rows[counted_in, unit, kind][1] += n
        _write(plan_id, rows)


def _counted_in(region: int | None, chains: dict[int, tuple[int, ...]]) -> tuple[int | None, ...]:
    return (None,) if region is None else chains.get(region, (region,))


def flag_counts_refresh(*, plan_id: int, region_ids: Iterable[int | None] | None = None) -> None:
    """The plan's counts after its flags changed in these regions (None in them: flags of no region; all when
    None): their own rows from the flags, and the totals of them and the two levels above by the difference."""
    if region_ids is None:
        flag_counts_rebuild(plan_id)
        return
    changed = set(region_ids)
    if not changed:
        return
    ids = sorted(r for r in changed if r is not None)
    if len(ids) > REBUILD_ABOVE_REGIONS:
        flag_counts_rebuild(plan_id)
        return
    with transaction.atomic():
        _lock(plan_id)
        if not FlagCount.objects.filter(plan_id=plan_id).exists():
            # Never counted: a rebuild starts it right (not only the regions that changed now).
            flag_counts_rebuild(plan_id)
            return
        chains = _chains(Q(pk__in=ids))
        if len(chains) < len(ids):
            flag_counts_rebuild(plan_id)  # a region deleted with its flags: its place above it is no longer known
            return
        no_region = None in changed
        where = Q(region_id__in=ids) | Q(region__isnull=True) if no_region else Q(region_id__in=ids)
        new_own = _open_counts(plan_id, where)
        affected = {a for chain in chains.values() for a in chain}
        stored = FlagCount.objects.filter(plan_id=plan_id).filter(
            Q(region_id__in=affected) | Q(region__isnull=True) if no_region else Q(region_id__in=affected)
        )
        rows: dict[Key, list[int]] = defaultdict(lambda: [0, 0])
        keys_of: dict[int | None, set[tuple[int | None, str]]] = defaultdict(set)
        for at, unit, kind, own, total in stored.values_list("region_id", "lead_unit_id", "kind", "own", "total"):
            rows[at, unit, kind][0] += own
            rows[at, unit, kind][1] += total
            keys_of[at].add((unit, kind))
        for key in new_own:
            keys_of[key[0]].add((key[1], key[2]))
        # Each changed region's own count is read again from the flags; the totals that count it move by as much.
        regions: list[int | None] = [*ids, *([None] if no_region else [])]
        for region in regions:
            for unit_id, kind_of in keys_of[region]:
                delta = new_own.get((region, unit_id, kind_of), 0) - rows[region, unit_id, kind_of][0]
                if delta:
                    rows[region, unit_id, kind_of][0] += delta
                    for counted_in in _counted_in(region, chains):
                        rows[counted_in, unit_id, kind_of][1] += delta
        if no_region:
            rows.setdefault(COUNTED, [0, 0])  # deleted with the rows of no region below, and written again
        if any(own < 0 or total < 0 for own, total in rows.values()):
            flag_counts_rebuild(plan_id)  # the stored counts had drifted (flags changed outside the services)
            return
        stored.delete()
        _write(plan_id, rows)


# --- flags saved or deleted one at a time ---------------------------------------------------------------------


@receiver(pre_save, sender=Flag, dispatch_uid="indicators.flag_counts.pre_save")
def _flag_saving(sender: Any, instance: Flag, raw: bool = False, **kwargs: Any) -> None:
    if not raw and instance.pk is not None:
        # Where it was counted before, should the save move it to another region (or plan).
        instance._counted_at = Flag.objects.filter(pk=instance.pk).values_list("plan_id", "region_id").first()  # type: ignore[attr-defined]


@receiver(post_save, sender=Flag, dispatch_uid="indicators.flag_counts.post_save")
def _flag_saved(sender: Any, instance: Flag, raw: bool = False, **kwargs: Any) -> None:
    if raw:
        return
    touched: dict[int, set[int | None]] = defaultdict(set)
    touched[instance.plan_id].add(instance.region_id)
    before = getattr(instance, "_counted_at", None)
    if before is not None:
        touched[before[0]].add(before[1])
    for plan_id, regions in touched.items():
        flag_counts_refresh(plan_id=plan_id, region_ids=regions)


# Deletions cascade (an indicator, task or region deleted with its flags): each deleted flag is noted here, and the
# regions noted are refreshed once, right after the deletion commits, instead of once per flag.
_noted = threading.local()


def _pending() -> dict[int, set[int | None] | None]:
    if not hasattr(_noted, "plans"):
        _noted.plans = {}
    plans: dict[int, set[int | None] | None] = _noted.plans
    return plans


def _note(plan_id: int, region_id: int | None, *, whole: bool = False) -> None:
    pending = _pending()
    if whole:
        pending[plan_id] = None
    elif plan_id not in pending:
        pending[plan_id] = {region_id}
    elif (regions := pending[plan_id]) is not None:
        regions.add(region_id)
    transaction.on_commit(_refresh_noted)


def _refresh_noted() -> None:
    pending = _pending()
    if not pending:
        return
    noted = dict(pending)
    pending.clear()
    for plan_id in Plan.objects.filter(pk__in=list(noted)).values_list("pk", flat=True):
        flag_counts_refresh(plan_id=plan_id, region_ids=noted[plan_id])


@receiver(post_delete, sender=Flag, dispatch_uid="indicators.flag_counts.post_delete")
def _flag_deleted(sender: Any, instance: Flag, origin: Any = None, **kwargs: Any) -> None:
    if isinstance(origin, Plan) or getattr(origin, "model", None) is Plan:
        return  # the plan's counts go with it
    _note(instance.plan_id, instance.region_id)


@receiver(pre_delete, sender=Unit, dispatch_uid="indicators.flag_counts.unit_pre_delete")
def _unit_deleting(sender: Any, instance: Unit, **kwargs: Any) -> None:
    # Its flags stay, of no unit (SET_NULL, no signal), and its count rows go: the plans it had flags in are
    # counted again.
    for plan_id in Flag.objects.filter(lead_unit=instance).values_list("plan_id", flat=True).distinct():
        _note(plan_id, None, whole=True)
