"""Reads of the plan and of task progress, scoped to what a user may see or capture.

A user's scope is a set of units and/or regions (UserScope). Capture: rows of indicators/tasks their
units lead, in their regions (both conditions when both are set). View: the same with co-operating
units and the extra view units/regions added. Leaders and administrators view everything. Lists and
detail pages both use these querysets, so an out-of-scope object is a 404, never a leak.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from django.contrib.auth.models import AnonymousUser, Group, User
from django.core.exceptions import ValidationError
from django.db import connection, models, router
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FilteredRelation,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from config.filters import parse_id, parse_year
from config.statements import prepared_rows, statement_objects
from regions.models import Region

from .assessment import STORED_FIELDS
from .models import (
    EntryStatus,
    Notification,
    NotificationKind,
    NotificationPreference,
    Plan,
    PlanState,
    ReportingDeadline,
    Responsibility,
    ResponsibilityRole,
    ReviewedEntry,
    Role,
    TargetKind,
    Task,
    TaskProgress,
    TaskProgressEvidence,
    TaskTarget,
    TaskTargetValue,
    Unit,
    UserScope,
)
from .roles import cache_roles, prime_roles, user_roles, views_everything
from .workflow import EDIT_ACTIONS, NotInScope, exclude_own

AnyUser = User | AnonymousUser
M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class Scope:
    units: frozenset[int]
    regions: frozenset[int]
    view_units: frozenset[int]
    view_regions: frozenset[int]
    everything: bool

    @property
    def captures_anything(self) -> bool:
        return bool(self.units or self.regions)


NO_SCOPE = Scope(frozenset(), frozenset(), frozenset(), frozenset(), everything=False)


def user_scope(user: AnyUser) -> Scope:
    """The user's units and regions, read in one query and cached on the user for the request."""
    if not user.is_authenticated:
        return NO_SCOPE
    cached = getattr(user, "_cached_scope", None)
    if cached is not None:
        return cached
    prime_scopes([user])
    return getattr(user, "_cached_scope")  # noqa: B009  # set just above


_SCOPE_KINDS = ("units", "regions", "view_units", "view_regions")
_SCOPES_PER_STATEMENT = 1000  # each person is a parameter in each of five parts; SQLite allows 32,766 in all


@cache  # on every request: the text depends only on the number of people and the models
def _scope_statement(people: int, *, with_roles: bool) -> str:
    """One statement reading `people` persons' four scope sets and their group names (their roles): every page and
    API call needs both, and the four-part ORM union cost more to build than to run. Tables and columns are the
    models' own (UserScope's many-to-many tables, User.groups)."""
    user_in = "IN (" + ", ".join(["%s"] * people) + ")"
    qn = connection.ops.quote_name
    scope_table = qn(UserScope._meta.db_table)
    parts = []
    for kind in _SCOPE_KINDS:
        field = UserScope._meta.get_field(kind)
        assert isinstance(field, models.ManyToManyField)
        through, owner, target = _m2m_table(field)
        parts.append(
            f"SELECT s.user_id, '{kind}', t.{target}, CAST(NULL AS VARCHAR(150)) "
            f"FROM {through} t JOIN {scope_table} s ON s.id = t.{owner} WHERE s.user_id {user_in}"
        )
    if with_roles:
        groups = User._meta.get_field("groups")
        assert isinstance(groups, models.ManyToManyField)
        through, owner, target = _m2m_table(groups)
        parts.append(
            f"SELECT ug.{owner}, 'role', NULL, g.name FROM {through} ug "
            f"JOIN {qn(Group._meta.db_table)} g ON g.id = ug.{target} WHERE ug.{owner} {user_in}"
        )
    return " UNION ALL ".join(parts)


def _m2m_table(field: models.ManyToManyField[Any, Any]) -> tuple[str, str, str]:
    """A many-to-many field's table, its column of the owning row and its column of the related row."""
    through = field.remote_field.through
    assert through is not None  # set once the models are loaded
    qn = connection.ops.quote_name
    return qn(through._meta.db_table), qn(field.m2m_column_name()), qn(field.m2m_reverse_name())


def prime_scopes(users: Iterable[User]) -> None:
    """Read the scopes (and the roles, where not read yet) of many people in one query and cache them on each, as
    user_scope and user_roles do for one."""
    pending = {user.pk: user for user in users if getattr(user, "_cached_scope", None) is None}
    if not pending:
        return
    ids = list(pending)
    found: dict[int, dict[str, set[Any]]] = {pk: {name: set() for name in (*_SCOPE_KINDS, "role")} for pk in pending}
    scopes_from = router.db_for_read(UserScope) or "default"
    # Roles come with the scopes, unless scopes are read from a replica: users and their groups stay on the
    # primary (config/db_router.py), so a role taken away is never seen on a lagging copy.
    with_roles = (router.db_for_read(User) or "default") == scopes_from
    if not with_roles:
        prime_roles(pending.values())
    for start in range(0, len(ids), _SCOPES_PER_STATEMENT):
        chunk = ids[start : start + _SCOPES_PER_STATEMENT]
        parts = len(_SCOPE_KINDS) + (1 if with_roles else 0)
        sql = _scope_statement(len(chunk), with_roles=with_roles)
        for user_id, kind, pk, group_name in prepared_rows(scopes_from, sql, chunk * parts):
            found[user_id][kind].add(pk if kind != "role" else group_name)
    for user_id, user in pending.items():
        rows = found[user_id]
        if getattr(user, "_cached_roles", None) is None:
            cache_roles(user, rows["role"])
        scope = Scope(
            units=frozenset(rows["units"]),
            regions=frozenset(rows["regions"]),
            view_units=frozenset(rows["units"] | rows["view_units"]),
            view_regions=frozenset(rows["regions"] | rows["view_regions"]),
            everything=views_everything(user),
        )
        setattr(user, "_cached_scope", scope)  # noqa: B010  # per-request cache on the user object


def can_capture(user: AnyUser) -> bool:
    return Role.ENTRY in user_roles(user) and user_scope(user).captures_anything


def can_review(user: AnyUser) -> bool:
    return Role.REVIEWER in user_roles(user) and user_scope(user).captures_anything


# --- tasks -------------------------------------------------------------------------------------


def _units_match(units: frozenset[int], *, lead_only: bool, task_ref: str) -> Exists:
    rows = Responsibility.objects.filter(task=OuterRef(task_ref), unit__in=units)
    if lead_only:
        rows = rows.filter(role=ResponsibilityRole.LEAD)
    return Exists(rows)


def _milestone_in(regions: frozenset[int], task_ref: str) -> Exists:
    return Exists(TaskTarget.objects.filter(task=OuterRef(task_ref), kind=TargetKind.MILESTONE, regions__in=regions))


def tasks_capturable_by(user: AnyUser) -> QuerySet[Task]:
    """Tasks the user may report on: led by their units; with regions set, only region milestones there."""
    scope = user_scope(user)
    if Role.ENTRY not in user_roles(user) or not scope.captures_anything:
        return Task.objects.none()
    return _tasks_in(scope.units, scope.regions, lead_only=True)


def tasks_reviewable_by(user: AnyUser) -> QuerySet[Task]:
    scope = user_scope(user)
    if Role.REVIEWER not in user_roles(user) or not scope.captures_anything:
        return Task.objects.none()
    return _tasks_in(scope.units, scope.regions, lead_only=True)


def _tasks_in(units: frozenset[int], regions: frozenset[int], *, lead_only: bool) -> QuerySet[Task]:
    condition = Q()
    if units:
        condition &= Q(_units_match(units, lead_only=lead_only, task_ref="pk"))
    if regions:
        condition &= Q(_milestone_in(regions, task_ref="pk"))
    return Task.objects.filter(condition)


def tasks_visible_to(user: AnyUser) -> QuerySet[Task]:
    scope = user_scope(user)
    if scope.everything:
        return Task.objects.all()
    if not (scope.view_units or scope.view_regions):
        return Task.objects.none()
    return _tasks_in(scope.view_units, scope.view_regions, lead_only=False)


def _progress_condition(units: frozenset[int], regions: frozenset[int], *, lead_only: bool) -> Q:
    condition = Q()
    if units:
        condition &= Q(_units_match(units, lead_only=lead_only, task_ref="task"))
    if regions:
        condition &= Q(region__in=regions)
    return condition


def task_progress_visible_to(user: AnyUser) -> QuerySet[TaskProgress]:
    scope = user_scope(user)
    if scope.everything:
        return TaskProgress.objects.all()
    if not (scope.view_units or scope.view_regions):
        return TaskProgress.objects.none()
    return TaskProgress.objects.filter(_progress_condition(scope.view_units, scope.view_regions, lead_only=False))


def task_progress_capturable_by(user: AnyUser) -> QuerySet[TaskProgress]:
    scope = user_scope(user)
    if Role.ENTRY not in user_roles(user) or not scope.captures_anything:
        return TaskProgress.objects.none()
    return TaskProgress.objects.filter(_progress_condition(scope.units, scope.regions, lead_only=True))


def task_progress_review_scope(user: AnyUser) -> QuerySet[TaskProgress]:
    """Entries a reviewer is responsible for (including their own, which they may still not approve)."""
    scope = user_scope(user)
    if Role.REVIEWER not in user_roles(user) or not scope.captures_anything:
        return TaskProgress.objects.none()
    return TaskProgress.objects.filter(_progress_condition(scope.units, scope.regions, lead_only=True))


def task_progress_reviewable_by(user: AnyUser) -> QuerySet[TaskProgress]:
    """The review queue: submitted entries in scope that someone else created and submitted."""
    return exclude_own(task_progress_review_scope(user).filter(status=EntryStatus.SUBMITTED), user)


def same_region_last_year(rows: QuerySet[Any], field: str, region: str) -> Case:
    """`field` of the row in `rows` (already narrowed to the outer row's item and last year) for the outer row's
    region; a city-level row has no region, and NULL = NULL is never true in SQL, so it is matched apart."""
    return Case(
        When(
            **{f"{region}__isnull": True},
            then=Subquery(rows.filter(**{f"{region}__isnull": True}).values(field)[:1]),
        ),
        default=Subquery(rows.filter(**{region: OuterRef(region)}).values(field)[:1]),
    )


def task_progress_for_review(queryset: QuerySet[TaskProgress]) -> QuerySet[TaskProgress]:
    """What the review queue shows beside each entry, read with the rows rather than per row: last year's
    approved percent and verdict for the same task and region, each amount's approved amount of last year, and
    the number of evidence files."""
    last_year = TaskProgress.objects.filter(task=OuterRef("task"), year=OuterRef("year") - 1)
    amounts_last_year = TaskTargetValue.objects.filter(
        target=OuterRef("target"), progress__year=OuterRef("progress__year") - 1
    )
    amounts = TaskTargetValue.objects.select_related("target").annotate(
        last_year_amount=same_region_last_year(amounts_last_year, "approved_amount", "progress__region")
    )
    evidence = (
        TaskProgressEvidence.objects.filter(progress=OuterRef("pk"))
        .order_by()
        .values("progress")
        .annotate(n=Count("pk"))
    )
    return (
        queryset.select_related("task", "region", "submitted_by")
        .annotate(
            last_year_percent=same_region_last_year(last_year, "approved_percent", "region"),
            last_year_passed=same_region_last_year(last_year, "approved_passed", "region"),
            # A subquery, not Count(): no GROUP BY over the joined rows and the annotated subqueries.
            evidence_count=Coalesce(Subquery(evidence.values("n")), 0),
        )
        .prefetch_related(Prefetch("amounts", queryset=amounts))
    )


# --- the plan, region and year a request asks about ---------------------------------------------------
# One mechanism for pages and API: a region outside the person's view scope is a 404 (NotInScope), a year outside
# the plan period a 400 (ValidationError); a request that names neither gets one the person may see.


def default_plan(plans: QuerySet[Plan] | None = None) -> Plan | None:
    """The plan pages and API show when none is asked for, chosen here only: the one whose period covers this year
    (several: the one with most indicators), else the one that ended most recently (ties: most indicators), else
    the next to start. Drafts (草稿: imported, not tracked yet) only when there is nothing else."""
    candidates = list(
        (plans if plans is not None else Plan.objects.all())
        .exclude(region__isnull=True)
        .annotate(indicator_count=Count("indicators"))
        .order_by("pk")
    )
    tracked = [p for p in candidates if p.state != PlanState.DRAFT]
    candidates = tracked or candidates
    this_year = timezone.localdate().year

    def size(plan: Plan) -> int:
        return int(getattr(plan, "indicator_count", 0))

    current = [p for p in candidates if p.period_start_year <= this_year <= p.period_end_year]
    if current:
        return max(current, key=lambda p: (size(p), -p.pk))
    ended = [p for p in candidates if p.period_end_year < this_year]
    if ended:
        return max(ended, key=lambda p: (p.period_end_year, size(p), -p.pk))
    return min(candidates, key=lambda p: (p.period_start_year, -size(p), p.pk), default=None)


def plan_with_id(pk: int | None) -> Plan | None:
    """The plan (with its region) of this id, read by a kept statement (config/statements.py): the dashboards and
    the API ask for it on every call. No id, no plan (and no query)."""
    if pk is None:
        return None
    found = statement_objects(Plan, ("plan_with_id", pk), lambda: Plan.objects.select_related("region").filter(pk=pk))
    return found[0] if found else None


def chosen_plan(raw: Any, plans: QuerySet[Plan] | None = None) -> Plan:
    """The plan a request names (`?plan=<id>`), else the default plan; an unknown id is a 404."""
    # With its region: the dashboards and the API show the plan's own region unless asked for another.
    candidates = (plans if plans is not None else Plan.objects.exclude(region__isnull=True)).select_related("region")
    if raw in (None, ""):
        plan = default_plan(candidates)
    else:
        plan_id = parse_id(raw)
        if plan_id is None:
            raise ValidationError({"plan": [_("规划应为整数 id。")]})
        if plans is None:  # what every call of the dashboards and the API asks
            plan = plan_with_id(plan_id)
            plan = plan if plan is not None and plan.region_id is not None else None
        else:
            plan = candidates.filter(pk=plan_id).first()
    if plan is None:
        raise NotInScope()
    return plan


def _sees_every_region(scope: Scope) -> bool:
    # A unit's people see their unit's rows in every region, unless regions narrow their view.
    return scope.everything or bool(scope.view_units and not scope.view_regions)


def regions_visible_to(user: AnyUser) -> QuerySet[Region]:
    scope = user_scope(user)
    if _sees_every_region(scope):
        return Region.objects.all()
    return Region.objects.filter(pk__in=scope.view_regions)


def region_in_view(user: AnyUser, region_id: int) -> bool:
    """Whether regions_visible_to(user) holds this region, answered from the scope without a query."""
    scope = user_scope(user)
    return _sees_every_region(scope) or region_id in scope.view_regions


def plan_regions_visible_to(user: AnyUser, plan: Plan) -> QuerySet[Region]:
    """The plan's regions (its own and those under it) that the person may see, in the plan's order."""
    return regions_visible_to(user).filter(pk__in=plan.area_regions()).order_by("order")


def default_region(user: AnyUser, plan: Plan) -> Region | None:
    """The plan's own region when the person may see it, else the first of the plan's regions they may see."""
    # One query: the plan's own region first when visible, then the others in the plan's order.
    own_first = Case(When(pk=plan.region_id or 0, then=Value(0)), default=Value(1))
    return plan_regions_visible_to(user, plan).order_by(own_first, "order").first()


def chosen_region(user: AnyUser, plan: Plan, raw: Any) -> Region:
    """The region a request names (`?region=<id>`), else the person's default; outside their view → NotInScope."""
    if raw in (None, ""):
        region = default_region(user, plan)
        if region is None:
            raise NotInScope()
        return region
    region_id = parse_id(raw)
    if region_id is None:
        raise ValidationError({"region": [_("区域应为整数 id。")]})
    region = regions_visible_to(user).filter(pk=region_id).first()
    if region is None:
        raise NotInScope()
    if not plan.area_regions().filter(pk=region.pk).exists():
        raise ValidationError({"region": [_("%(region)s不在该规划的区域范围内。") % {"region": region.name}]})
    return region


def chosen_in(queryset: QuerySet[M], raw: Any, *, field: str, label: str) -> M | None:
    """An optional filter's object (`?indicator=<id>`, `?task=<id>`): none given → None; not an id → a Chinese
    ValidationError (400); outside `queryset`, the person's view scope → NotInScope (404), as chosen_region."""
    if raw in (None, ""):
        return None
    pk = parse_id(raw)
    if pk is None:
        raise ValidationError({field: [_("%(label)s应为整数 id。") % {"label": label}]})
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise NotInScope()
    return found


def chosen_year(raw: Any, *, years: Iterable[int], default: int, plan: Plan | None = None) -> int:
    """The year a request names (`?year=`), else `default`; a year outside `years` is a 400 in Chinese."""
    if raw in (None, ""):
        return default
    allowed = list(years)
    year = parse_year(raw)
    if year is None or year not in allowed:
        if plan is not None and allowed and year is not None and plan.period_start_year <= year <= plan.period_end_year:
            message = _("%(year)s 年尚不能选择（可选：%(first)s—%(last)s 年）。")
        elif plan is not None:
            message = _("年度应在规划期 %(start)s—%(end)s 年之内。")
        else:
            message = _("年度应在 %(first)s—%(last)s 年之内。")
        raise ValidationError(
            {
                "year": [
                    message
                    % {
                        "year": str(raw)[:10],
                        "first": allowed[0] if allowed else "—",
                        "last": allowed[-1] if allowed else "—",
                        "start": plan.period_start_year if plan else "",
                        "end": plan.period_end_year if plan else "",
                    }
                ]
            }
        )
    return year


# --- who hears of an entry (planning.notifications) -------------------------------------------------


def task_lead_unit(task_id: int) -> Unit | None:
    """The unit that leads the task (its 牵头单位), if any."""
    return Unit.objects.filter(
        responsibilities__task_id=task_id, responsibilities__role=ResponsibilityRole.LEAD
    ).first()


def entry_authors(entry: ReviewedEntry, *, revision: int | None = None, also: Iterable[int | None] = ()) -> list[User]:
    """The people who wrote an entry, in one query: its creator, its last submitter, and whoever saved a draft of
    the revision (the current one unless named), plus the ids in `also`.

    The editors come from the history rows, as for the four-eyes rule: `updated_by` names whoever acted last,
    which after a transition is the actor, not the author.
    """
    history = type(entry).history.model  # type: ignore[attr-defined]
    editors = history.objects.filter(
        Q(history_change_reason__endswith=EDIT_ACTIONS[0]) | Q(history_change_reason__endswith=EDIT_ACTIONS[1]),
        id=entry.pk,
        revision=entry.revision if revision is None else revision,
        history_user__isnull=False,
    ).values("history_user_id")
    ids = [pk for pk in (entry.created_by_id, entry.submitted_by_id, *also) if pk is not None]
    return list(User.objects.filter(Q(pk__in=ids) | Q(pk__in=editors)).order_by("pk"))


def entry_reviewers(review_scope: Callable[[User], QuerySet[Any]], entry: ReviewedEntry) -> list[User]:
    """The active 审核员 who may review the entry: it is in their review scope and not their own (four eyes).

    Reviewers are few: all of them, their roles and their scopes are read in three queries, then one query each.
    """
    candidates = list(User.objects.filter(is_active=True, groups__name=Role.REVIEWER.value).distinct().order_by("pk"))
    prime_roles(candidates)
    prime_scopes(candidates)
    return [user for user in candidates if exclude_own(review_scope(user).filter(pk=entry.pk), user).exists()]


# --- reporting calendar ----------------------------------------------------------------------------


def deadline_for(plan: Plan, year: int) -> datetime.date:
    """The administrator's date for this year, else 31 January of the next year."""
    row = ReportingDeadline.objects.filter(plan=plan, year=year).values_list("due_on", flat=True).first()
    return row or datetime.date(year + 1, 1, 31)


def reportable_years(plan: Plan, today: datetime.date) -> list[int]:
    """Plan years that have begun (a year in the future cannot be reported)."""
    return [year for year in plan.years if year <= today.year]


def default_report_year(plan: Plan, today: datetime.date) -> int:
    """The year people are reporting now: last year while its deadline is near, else the latest begun year."""
    years = reportable_years(plan, today)
    if not years:
        return plan.period_start_year
    previous = today.year - 1
    return previous if previous in years else years[-1]


# --- history ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryChange:
    field: str
    old: str
    new: str


@dataclass(frozen=True)
class HistoryRow:
    when: datetime.datetime
    who: str
    how: str
    changes: list[HistoryChange]


def _display(value: object) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if hasattr(value, "normalize"):
        return f"{value.normalize():f}"
    return str(value)


EVIDENCE_ACTIONS = {"+": "上传佐证材料", "-": "删除佐证材料"}


def _who(user: Any) -> str:
    return (user.get_full_name() or user.get_username()) if user else "系统"


def evidence_history(entry: Any, evidence_model: type[models.Model], owner: str) -> list[HistoryRow]:
    """Uploads and removals of an entry's evidence files, oldest first, in one query (their history rows are
    tagged by the evidence services; an untagged one is named by its kind)."""
    records = (
        evidence_model.history.filter(**{f"{owner}_id": entry.pk}, history_type__in=tuple(EVIDENCE_ACTIONS))  # type: ignore[attr-defined]
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    rows = []
    for record in records:
        uploaded = record.history_type == "+"
        name = record.original_name
        rows.append(
            HistoryRow(
                when=record.history_date,
                who=_who(record.history_user),
                how=record.history_change_reason or EVIDENCE_ACTIONS[record.history_type],
                changes=[HistoryChange(field="佐证材料", old="—" if uploaded else name, new=name if uploaded else "—")],
            )
        )
    return rows


def entry_history(
    entry: object,
    *,
    fields: list[str],
    choices: dict[str, dict[Any, Any]] | None = None,
    evidence: tuple[type[models.Model], str] | None = None,
) -> list[HistoryRow]:
    """Who changed what, when and how, old → new, newest first (from django-simple-history). With `evidence` (the
    kind's evidence model and its key to the entry) the uploads and removals of evidence files are merged in."""
    choices = choices or {}
    records = list(entry.history.select_related("history_user").order_by("history_date", "history_id"))  # type: ignore[attr-defined]
    model = type(entry)
    rows = []
    previous = None
    for record in records:
        changes = []
        for name in fields:
            new: Any = getattr(record, name)
            old: Any = getattr(previous, name) if previous is not None else None
            if previous is not None and old == new:
                continue
            if previous is None and new in (None, ""):
                continue
            mapping = choices.get(name, {})
            changes.append(
                HistoryChange(
                    field=str(model._meta.get_field(name).verbose_name),  # type: ignore[attr-defined]
                    old=mapping.get(old, _display(old)) if previous is not None else "—",
                    new=mapping.get(new, _display(new)),
                )
            )
        rows.append(
            HistoryRow(
                when=record.history_date,
                who=_who(record.history_user),
                how=record.history_change_reason or "",
                changes=changes,
            )
        )
        previous = record
    if evidence is not None:
        rows.extend(evidence_history(entry, *evidence))
        rows.sort(key=lambda row: row.when)  # stable: rows written at the same instant keep their order
    rows.reverse()
    return rows


# --- the latest stored assessment, flattened onto items for the API ------------------------------

ASSESSMENT_FIELDS = STORED_FIELDS


@dataclass(frozen=True)
class AnnotatedAssessment:
    """The `assessment_*` annotations of an item as one object (status "no_data" when never computed)."""

    status: str
    latest_year: int | None
    latest_value: Any
    baseline_value: Any
    target_value: Any
    gap: Any
    completion: Any
    expected_completion: Any
    ratio: Any
    forecast_value: Any
    forecast_meets_target: bool | None

    @classmethod
    def of(cls, item: object) -> AnnotatedAssessment:
        values: dict[str, Any] = {name: getattr(item, f"assessment_{name}", None) for name in ASSESSMENT_FIELDS}
        values["status"] = values["status"] or "no_data"
        return cls(**values)


def with_assessment(queryset: QuerySet[Any], relation: str, condition: Q) -> QuerySet[Any]:
    """Annotate `assessment_<field>` from one stored assessment row per item (a single LEFT JOIN)."""
    annotated = queryset.annotate(assessment_row=FilteredRelation(relation, condition=condition))
    return annotated.annotate(**{f"assessment_{name}": F(f"assessment_row__{name}") for name in ASSESSMENT_FIELDS})


def tasks_with_assessment(queryset: QuerySet[Task], year: int | None = None) -> QuerySet[Task]:
    """The task as a whole, as of `year` (default: the plan's last year, i.e. all approved progress)."""
    as_of = year if year is not None else F("plan__period_end_year")
    return with_assessment(queryset, "statuses", Q(statuses__target__isnull=True, statuses__as_of_year=as_of))


def notifications_of(user: AnyUser) -> QuerySet[Notification]:
    """A person's own notifications, newest first; nobody sees another's (their ids are a 404)."""
    if not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")


def notification_email_choices(user: AnyUser) -> dict[str, bool]:
    """Whether the person gets each kind by email: on unless they turned it off (no row means on)."""
    chosen = dict.fromkeys(NotificationKind.values, True)
    if user.is_authenticated:
        chosen.update(NotificationPreference.objects.filter(user=user).values_list("kind", "email"))
    return chosen
