"""Every URL pattern and API endpoint × every role × in and out of scope.

What must hold, checked for every cell:
- nothing answers 500;
- anonymous users are sent to the login page (pages) or get 401 (API), except on the few public URLs;
- an object outside a user's view scope is 404 for every method: never a page, never a hint that it exists;
- a leader writes nothing anywhere, and no request outside scope writes anything (counted in the tables);
- the people who should read an object do get it (so the 404s are not just everything being refused).
A URL pattern added without an entry in ROUTES fails `test_every_url_pattern_is_in_the_matrix`.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.conftest import make_user

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

# Everyone the matrix asks, by role and scope (healthchecks' alice/bob/charlie, one more per role).
PEOPLE = {
    "anonymous": None,
    "nobody": (),  # logged in, no role
    "alice": ("填报员", {"units": ("市教育局",)}),  # captures 市教育局's indicators (all regions) and tasks
    "bob": ("填报员", {"regions": ("沐川县",)}),  # captures every indicator, 沐川县 only
    "jill": ("填报员", {"regions": ("夹江县",)}),  # the same for 夹江县: bob's out-of-scope twin
    "frank": ("填报员", {"units": ("市财政局",)}),  # leads no indicator; co-operates on some tasks
    "rita": ("审核员", {"regions": ("沐川县",)}),
    "dave": ("审核员", {"regions": ("夹江县",)}),
    "leo": ("领导", {}),
    "ada": ("管理员", {}),
}
WRITE_METHODS = ("POST", "PATCH", "PUT", "DELETE")


@dataclass
class World:
    users: dict[str, Any]
    objects: dict[str, Any]


@dataclass
class Route:
    url: Callable[[World], str]
    methods: tuple[str, ...] = ("GET",)
    public: bool = False
    # The object whose scope decides, and who must not even learn it exists (404 for every method).
    hidden_from: frozenset[str] = frozenset()
    # Who must be able to read it (GET → 200).
    readers: frozenset[str] = frozenset()
    # Who may use the write methods (everybody else must write nothing).
    writers: frozenset[str] = frozenset()
    # A valid request body, so a refusal is about who asks, not about bad input.
    data: Callable[[World], dict[str, Any]] | None = None


def build_world() -> World:
    from exchange.models import ImportBatch
    from indicators.models import Flag, IndicatorValueEvidence
    from indicators.services import IndicatorValueInput, indicator_value_create, indicator_value_submit
    from planning.models import Plan, Task, TaskProgressEvidence, Unit
    from planning.services import TaskProgressInput, task_progress_create
    from regions.models import Region
    from reports.models import Report

    users: dict[str, Any] = {}
    for name, spec in PEOPLE.items():
        if spec is None:
            users[name] = None
        elif spec == ():
            users[name] = make_user(name)
        else:
            role, scope = spec
            users[name] = make_user(name, role, **scope)
    users["ada"].is_staff = True
    users["ada"].save()

    plan = Plan.objects.get(code="leshan-edu-14fyp")
    rate = plan.indicators.get(number=2)  # 学前教育毛入园率, led by 市教育局
    muchuan, jiajiang = Region.objects.get(name="沐川县"), Region.objects.get(name="夹江县")
    value_m = indicator_value_create(
        indicator=rate,
        region=muchuan,
        year=2024,
        user=users["bob"],
        data=IndicatorValueInput(value="95.1", source="统计年报"),
        files=[SimpleUploadedFile("沐川.pdf", PDF)],
    )
    value_m = indicator_value_submit(value=value_m, user=users["bob"])
    value_j = indicator_value_create(
        indicator=rate,
        region=jiajiang,
        year=2024,
        user=users["jill"],
        data=IndicatorValueInput(value="95.2", source="统计年报"),
        files=[SimpleUploadedFile("夹江.pdf", PDF)],
    )
    value_j = indicator_value_submit(value=value_j, user=users["jill"])
    draft_j = indicator_value_create(
        indicator=rate,
        region=jiajiang,
        year=2022,
        user=users["jill"],
        data=IndicatorValueInput(value="95.0", source="统计年报"),
    )
    # A city-wide qualitative task of 市教育局 in which 市财政局 has no part.
    task = next(
        t
        for t in Task.objects.filter(plan=plan, responsibilities__unit__name="市教育局").order_by("order")
        if t.progress_kind == "qualitative" and not t.responsibilities.filter(unit__name="市财政局").exists()
    )
    progress = task_progress_create(
        task=task,
        year=2024,
        region=None,
        user=users["alice"],
        data=TaskProgressInput(narrative="推进中", percent="40"),
        files=[SimpleUploadedFile("进展.pdf", PDF)],
    )
    batch = ImportBatch.objects.create(
        user=users["alice"], file=SimpleUploadedFile("a.xlsx", b"x"), original_name="a.xlsx", state="invalid"
    )
    report = Report.objects.create(
        plan=plan,
        year=2024,
        kind="annual",
        state="done",
        file=SimpleUploadedFile("r.docx", b"x"),
        requested_by=users["leo"],
    )
    from django.utils import timezone

    flag = Flag.objects.create(
        kind="lag",
        key=f"test-{value_j.pk}",
        plan=plan,
        indicator=rate,
        region=jiajiang,
        year=2024,
        lead_unit=rate.lead_unit,
        reason="滞后",
        raised_at=timezone.now(),
    )
    from published.models import PublishedFigure

    # A Leshan (city-wide) figure of the rate: 市教育局's 填报员 captures that cell and may adopt it as a draft.
    published_figure = PublishedFigure.objects.create(
        region=plan.region,
        subject="乐山市",
        province="四川省",
        measure="学前教育毛入园率",
        value="95.6",
        unit="%",
        year=2023,
        quote="全市学前教育毛入园率达95.6%。",
        source_document="乐山市2023年教育工作总结",
        source_title="2023年乐山市教育工作总结",
        indicator=rate,
        key="matrix-published-figure",
    )
    from planning.notifications import notify

    # alice's own notification: hers to read, open and mark read; nobody else learns it exists.
    [notification] = notify(
        users=[users["alice"]], kind="approved", title="填报已通过", body="学前教育毛入园率", link="/values/"
    )
    return World(
        users=users,
        objects={
            "notification": notification,
            "published_figure": published_figure,
            "plan": plan,
            "rate": rate,
            "muchuan": muchuan,
            "jiajiang": jiajiang,
            "value_m": value_m,
            "value_j": value_j,
            "draft_j": draft_j,
            "evidence_m": IndicatorValueEvidence.objects.get(entry=value_m),
            "evidence_j": IndicatorValueEvidence.objects.get(entry=value_j),
            "task": task,
            "progress": progress,
            "progress_evidence": TaskProgressEvidence.objects.get(progress=progress),
            "batch": batch,
            "report": report,
            "flag": flag,
            "unit": Unit.objects.get(name="市教育局"),
            "initiative": plan.initiatives.first(),
            "column": plan.columns.first(),
        },
    )


EVERYONE = frozenset(PEOPLE) - {"anonymous"}
SIGNED_IN_WITH_ROLE = EVERYONE - {"nobody"}
# Who sees 夹江县's entry: its capturer and reviewer, 市教育局 (the indicator's lead unit), leaders, administrators.
VALUE_J_READERS = frozenset({"jill", "dave", "alice", "leo", "ada"})
VALUE_J_HIDDEN = frozenset({"bob", "rita", "frank", "nobody"})
PROGRESS_READERS = frozenset({"alice", "leo", "ada"})
PROGRESS_HIDDEN = frozenset({"frank", "nobody"})
IMPORT_HIDDEN = EVERYONE - {"alice", "ada"}


def o(name: str) -> Callable[[World], Any]:
    return lambda w: w.objects[name].pk


def new_value(w: World) -> dict[str, Any]:
    return {
        "indicator": w.objects["rate"].pk,
        "region": w.objects["jiajiang"].pk,
        "year": 2023,
        "value": "95.3",
        "source": "统计年报",
    }


def edit_value(w: World) -> dict[str, Any]:
    return {"version": w.objects["draft_j"].version, "value": "95.4", "source": "统计年报"}


def new_progress(w: World) -> dict[str, Any]:
    return {"task": w.objects["task"].pk, "year": 2023, "narrative": "推进中", "percent": "30"}


def edit_progress(w: World) -> dict[str, Any]:
    return {"version": w.objects["progress"].version, "narrative": "推进中", "percent": "50"}


def version_of(name: str) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"version": w.objects[name].version}


def action_url(endpoint: str, obj: str, path: str) -> Callable[[World], str]:
    return lambda w: f"/api/v1/{endpoint}/{w.objects[obj].pk}/{path}/"


def action_data(obj: str, path: str = "return") -> Callable[[World], dict[str, Any]]:
    """The current version, and for returning a reason (the API refuses fields an action does not take)."""
    if path == "return":
        return lambda w: {"version": w.objects[obj].version, "comment": "请补充佐证"}
    return lambda w: {"version": w.objects[obj].version}


ROUTES: dict[str, Route] = {
    # public
    "login": Route(lambda w: "/accounts/login/", public=True),
    "healthz": Route(lambda w: "/healthz", public=True),
    "favicon": Route(lambda w: "/favicon.ico", public=True),
    "schema": Route(lambda w: "/api/schema/", public=True),
    "api-docs": Route(lambda w: "/api/docs/", public=True),
    # 政务公开: the same read-only page for everyone, signed in or not (published/public.py).
    "public:plan-list": Route(lambda w: "/public/", public=True, readers=EVERYONE),
    "public:plan": Route(lambda w: f"/public/{w.objects['plan'].code}/", public=True, readers=EVERYONE),
    # Asking for a token is public; revoking one (DELETE) or all of one's own takes a token, so every session here
    # is refused (401) and nothing is written.
    "api:token": Route(lambda w: "/api/v1/auth/token/", methods=("POST", "DELETE"), public=True),
    "api:token-revoke-all": Route(lambda w: "/api/v1/auth/token/revoke-all/", methods=("POST",)),
    # pages for everyone signed in
    "home": Route(lambda w: "/"),
    "logout": Route(lambda w: "/accounts/logout/", methods=("POST",), writers=EVERYONE),
    "dashboards:overview": Route(lambda w: "/dashboard/", readers=SIGNED_IN_WITH_ROLE),
    "dashboards:regions": Route(lambda w: "/dashboard/regions/", readers=SIGNED_IN_WITH_ROLE),
    "dashboards:tasks": Route(lambda w: "/dashboard/tasks/", readers=SIGNED_IN_WITH_ROLE),
    "dashboards:units": Route(lambda w: "/dashboard/units/", readers=SIGNED_IN_WITH_ROLE),
    "dashboards:indicator": Route(
        lambda w: f"/dashboard/indicators/{o('rate')(w)}/",
        readers=frozenset({"alice", "bob", "jill", "rita", "dave", "leo", "ada"}),
        hidden_from=frozenset({"frank", "nobody"}),
    ),
    "dashboards:unit": Route(lambda w: f"/dashboard/units/{o('unit')(w)}/", readers=frozenset({"alice", "leo", "ada"})),
    # A task's page: the task is 市教育局's and city-wide, so county people and 市财政局 do not see it at all.
    "dashboards:task": Route(
        lambda w: f"/dashboard/tasks/{o('task')(w)}/",
        readers=PROGRESS_READERS,
        hidden_from=PROGRESS_HIDDEN | {"bob", "jill", "rita", "dave"},
    ),
    # Published figures (公开数据): public information, read by everyone with a role; a draft from a Leshan figure
    # only by whoever captures that indicator × region (alice, for 市教育局's rate city-wide).
    "published:benchmark": Route(lambda w: "/dashboard/benchmark/", readers=SIGNED_IN_WITH_ROLE),
    "published:figure-adopt": Route(
        lambda w: f"/published-figures/{o('published_figure')(w)}/adopt/",
        methods=("POST",),
        writers=frozenset({"alice"}),
        data=lambda w: {},
    ),
    "workbench:my-reporting": Route(lambda w: "/my/", readers=frozenset({"alice", "bob", "jill", "frank"})),
    "workbench:review": Route(lambda w: "/review/", readers=frozenset({"rita", "dave"})),
    "workbench:review-bulk-approve": Route(
        lambda w: "/review/approve/", methods=("POST",), writers=frozenset({"rita", "dave", "ada"})
    ),
    "indicators:value-list": Route(lambda w: "/values/", readers=SIGNED_IN_WITH_ROLE),
    "indicators:value-create": Route(
        lambda w: f"/values/new/{o('rate')(w)}/{o('jiajiang')(w)}/2023/",
        methods=("GET", "POST"),
        readers=frozenset({"jill", "alice"}),
        writers=frozenset({"jill", "alice"}),
        hidden_from=VALUE_J_HIDDEN,
        data=lambda w: {"value": "95.3", "source": "统计年报"},
    ),
    "indicators:value-detail": Route(
        lambda w: f"/values/{o('value_j')(w)}/", readers=VALUE_J_READERS, hidden_from=VALUE_J_HIDDEN
    ),
    "indicators:value-edit": Route(
        lambda w: f"/values/{o('draft_j')(w)}/edit/",
        methods=("GET", "POST"),
        readers=frozenset({"jill", "alice"}),
        writers=frozenset({"jill", "alice"}),
        hidden_from=VALUE_J_HIDDEN,
        data=edit_value,
    ),
    "indicators:value-evidence": Route(
        lambda w: f"/values/{o('value_j')(w)}/evidence/{o('evidence_j')(w)}/",
        readers=VALUE_J_READERS,
        hidden_from=VALUE_J_HIDDEN,
    ),
    "indicators:value-action": Route(
        lambda w: f"/values/{o('value_j')(w)}/approve/",
        methods=("POST",),
        writers=frozenset({"dave", "ada"}),
        hidden_from=VALUE_J_HIDDEN,
        data=version_of("value_j"),
    ),
    # Everyone's own notifications: reading and marking read is everybody's (leaders included); another person's
    # notification is a 404 to all but its owner.
    "workbench:notifications": Route(
        lambda w: "/notifications/", methods=("GET", "POST"), readers=SIGNED_IN_WITH_ROLE, writers=EVERYONE
    ),
    "workbench:notification-settings": Route(
        lambda w: "/notifications/settings/",
        methods=("GET", "POST"),
        readers=SIGNED_IN_WITH_ROLE,
        writers=EVERYONE,
        data=lambda w: {"email_warning": "on"},
    ),
    "workbench:notification-read": Route(
        lambda w: f"/notifications/{o('notification')(w)}/read/",
        methods=("POST",),
        writers=frozenset({"alice"}),
        hidden_from=EVERYONE - {"alice"},
    ),
    "workbench:notification-open": Route(
        lambda w: f"/notifications/{o('notification')(w)}/open/",
        methods=("POST",),
        writers=frozenset({"alice"}),
        hidden_from=EVERYONE - {"alice"},
    ),
    "exchange:excel": Route(lambda w: "/excel/", readers=frozenset({"alice", "bob", "jill", "frank", "ada"})),
    "exchange:excel-template": Route(lambda w: "/excel/template/?year=2024"),
    "exchange:excel-upload": Route(
        lambda w: "/excel/upload/", methods=("POST",), writers=frozenset({"alice", "bob", "jill", "frank", "ada"})
    ),
    "exchange:import-detail": Route(
        lambda w: f"/excel/imports/{o('batch')(w)}/", readers=frozenset({"alice"}), hidden_from=IMPORT_HIDDEN
    ),
    "exchange:import-confirm": Route(
        lambda w: f"/excel/imports/{o('batch')(w)}/confirm/",
        methods=("POST",),
        writers=frozenset({"alice"}),
        hidden_from=IMPORT_HIDDEN,
    ),
    "exchange:import-progress": Route(
        lambda w: f"/excel/imports/{o('batch')(w)}/progress/", readers=frozenset({"alice"}), hidden_from=IMPORT_HIDDEN
    ),
    "exchange:export-xlsx": Route(lambda w: "/excel/export.xlsx", readers=SIGNED_IN_WITH_ROLE),
    # 规划管理: administrators only (others 403); an upload's preview lives in the uploader's session, so an unknown
    # token is 404 for everyone, the administrator included.
    "exchange:plans-manage": Route(lambda w: "/plans/manage/", readers=frozenset({"ada"})),
    "exchange:plans-export": Route(lambda w: f"/plans/manage/{o('plan')(w)}/export.xlsx", readers=frozenset({"ada"})),
    "exchange:plans-upload": Route(lambda w: "/plans/manage/upload/", methods=("POST",), writers=frozenset({"ada"})),
    "exchange:plans-preview": Route(lambda w: f"/plans/manage/uploads/{'0' * 32}/"),
    "exchange:plans-confirm": Route(lambda w: f"/plans/manage/uploads/{'0' * 32}/confirm/", methods=("POST",)),
    "exchange:export-csv": Route(lambda w: "/excel/export.csv", readers=SIGNED_IN_WITH_ROLE),
    "reports:reports": Route(
        lambda w: "/reports/",
        methods=("GET", "POST"),
        readers=frozenset({"leo", "ada"}),
        writers=frozenset({"leo", "ada"}),
    ),
    "reports:report-download": Route(
        lambda w: f"/reports/{o('report')(w)}/download/", readers=frozenset({"leo", "ada"})
    ),
    # 删除演示数据 (under /admin/demo/): administrators only; everyone else, leaders included, is refused (403).
    "demo:remove": Route(
        lambda w: "/admin/demo/remove/", methods=("GET", "POST"), readers=frozenset({"ada"}), writers=frozenset({"ada"})
    ),
    "indicators:decomposition-list": Route(lambda w: "/decomposition/", readers=SIGNED_IN_WITH_ROLE),
    "indicators:decomposition-edit": Route(
        lambda w: f"/decomposition/{o('rate')(w)}/", methods=("GET", "POST"), writers=frozenset({"ada"})
    ),
    "planning:progress-list": Route(lambda w: "/tasks/progress/", readers=SIGNED_IN_WITH_ROLE),
    "planning:progress-create": Route(
        lambda w: f"/tasks/progress/new/{o('task')(w)}/2023/",
        methods=("GET", "POST"),
        readers=frozenset({"alice"}),
        writers=frozenset({"alice"}),
        hidden_from=PROGRESS_HIDDEN,
        data=lambda w: {"narrative": "推进中", "percent": "30"},
    ),
    "planning:progress-detail": Route(
        lambda w: f"/tasks/progress/{o('progress')(w)}/", readers=PROGRESS_READERS, hidden_from=PROGRESS_HIDDEN
    ),
    "planning:progress-edit": Route(
        lambda w: f"/tasks/progress/{o('progress')(w)}/edit/",
        methods=("GET", "POST"),
        readers=frozenset({"alice"}),
        writers=frozenset({"alice"}),
        hidden_from=PROGRESS_HIDDEN,
        data=edit_progress,
    ),
    "planning:progress-evidence": Route(
        lambda w: f"/tasks/progress/{o('progress')(w)}/evidence/{o('progress_evidence')(w)}/",
        readers=PROGRESS_READERS,
        hidden_from=PROGRESS_HIDDEN,
    ),
    "planning:progress-action": Route(
        lambda w: f"/tasks/progress/{o('progress')(w)}/submit/",
        methods=("POST",),
        writers=frozenset({"alice"}),
        hidden_from=PROGRESS_HIDDEN,
        data=version_of("progress"),
    ),
    # API
    "api:status": Route(lambda w: "/api/v1/status/", readers=SIGNED_IN_WITH_ROLE),
    "api:plan-list": Route(lambda w: "/api/v1/plans/", readers=SIGNED_IN_WITH_ROLE),
    "api:plan-detail": Route(lambda w: f"/api/v1/plans/{o('plan')(w)}/", readers=SIGNED_IN_WITH_ROLE),
    "api:initiative-list": Route(lambda w: "/api/v1/initiatives/", readers=SIGNED_IN_WITH_ROLE),
    "api:initiative-detail": Route(lambda w: f"/api/v1/initiatives/{o('initiative')(w)}/", readers=SIGNED_IN_WITH_ROLE),
    "api:column-list": Route(lambda w: "/api/v1/columns/", readers=SIGNED_IN_WITH_ROLE),
    "api:column-detail": Route(lambda w: f"/api/v1/columns/{o('column')(w)}/", readers=SIGNED_IN_WITH_ROLE),
    "api:task-list": Route(lambda w: "/api/v1/tasks/", readers=SIGNED_IN_WITH_ROLE),
    "api:task-detail": Route(
        lambda w: f"/api/v1/tasks/{o('task')(w)}/", readers=PROGRESS_READERS, hidden_from=PROGRESS_HIDDEN
    ),
    "api:unit-list": Route(lambda w: "/api/v1/units/", readers=SIGNED_IN_WITH_ROLE),
    "api:unit-detail": Route(lambda w: f"/api/v1/units/{o('unit')(w)}/", readers=SIGNED_IN_WITH_ROLE),
    "api:region-list": Route(lambda w: "/api/v1/regions/", readers=SIGNED_IN_WITH_ROLE),
    "api:region-detail": Route(lambda w: f"/api/v1/regions/{o('jiajiang')(w)}/", readers=SIGNED_IN_WITH_ROLE),
    "api:indicator-list": Route(lambda w: "/api/v1/indicators/", readers=SIGNED_IN_WITH_ROLE),
    "api:indicator-detail": Route(
        lambda w: f"/api/v1/indicators/{o('rate')(w)}/",
        readers=frozenset({"alice", "bob", "jill", "rita", "dave", "leo", "ada"}),
        hidden_from=frozenset({"frank", "nobody"}),
    ),
    "api:published-figure-list": Route(lambda w: "/api/v1/published-figures/", readers=SIGNED_IN_WITH_ROLE),
    "api:published-figure-detail": Route(
        lambda w: f"/api/v1/published-figures/{o('published_figure')(w)}/", readers=SIGNED_IN_WITH_ROLE
    ),
    "api:notification-list": Route(lambda w: "/api/v1/notifications/", readers=SIGNED_IN_WITH_ROLE),
    "api:notification-read": Route(
        lambda w: f"/api/v1/notifications/{o('notification')(w)}/read/",
        methods=("POST",),
        writers=frozenset({"alice"}),
        hidden_from=EVERYONE - {"alice"},
    ),
    "api:notification-read-all": Route(
        lambda w: "/api/v1/notifications/read-all/", methods=("POST",), writers=EVERYONE
    ),
    "api:flag-list": Route(lambda w: "/api/v1/flags/", readers=SIGNED_IN_WITH_ROLE),
    "api:flag-detail": Route(
        lambda w: f"/api/v1/flags/{o('flag')(w)}/", readers=VALUE_J_READERS, hidden_from=VALUE_J_HIDDEN
    ),
    "api:indicator-value-list": Route(
        lambda w: "/api/v1/indicator-values/",
        methods=("GET", "POST"),
        readers=SIGNED_IN_WITH_ROLE,
        writers=frozenset({"alice", "jill"}),
        data=new_value,
    ),
    "api:indicator-value-detail": Route(
        lambda w: f"/api/v1/indicator-values/{o('draft_j')(w)}/",
        methods=("GET", "PATCH", "PUT", "DELETE"),
        readers=VALUE_J_READERS,
        writers=frozenset({"jill", "alice"}),
        hidden_from=VALUE_J_HIDDEN,
        data=edit_value,
    ),
    **{
        f"api:indicator-value-{action}": Route(
            action_url("indicator-values", obj, path),
            methods=("POST",),
            writers=writers,
            hidden_from=VALUE_J_HIDDEN,
            data=action_data(obj, path),
        )
        for action, path, obj, writers in [
            ("approve", "approve", "value_j", frozenset({"dave", "ada"})),
            ("return-", "return", "value_j", frozenset({"dave", "ada"})),
            ("withdraw", "withdraw", "value_j", frozenset({"jill", "alice"})),
            ("reopen", "reopen", "value_j", frozenset({"dave", "ada"})),
            ("submit", "submit", "draft_j", frozenset({"jill", "alice"})),
            ("evidence", "evidence", "draft_j", frozenset({"jill", "alice"})),
        ]
    },
    "api:indicator-value-evidence-remove": Route(
        lambda w: f"/api/v1/indicator-values/{o('value_j')(w)}/evidence/{o('evidence_j')(w)}/",
        methods=("DELETE",),
        writers=frozenset(),  # value_j is submitted: its evidence can no longer be removed by anyone
        hidden_from=VALUE_J_HIDDEN,
        data=lambda w: {},
    ),
    "api:task-progress-evidence": Route(
        action_url("task-progress", "progress", "evidence"),
        methods=("POST",),
        writers=frozenset({"alice"}),
        hidden_from=PROGRESS_HIDDEN,
        data=action_data("progress", "evidence"),
    ),
    "api:task-progress-evidence-remove": Route(
        lambda w: f"/api/v1/task-progress/{o('progress')(w)}/evidence/{o('progress_evidence')(w)}/",
        methods=("DELETE",),
        writers=frozenset({"alice"}),
        hidden_from=PROGRESS_HIDDEN,
        data=lambda w: {},
    ),
    "api:task-progress-list": Route(
        lambda w: "/api/v1/task-progress/",
        methods=("GET", "POST"),
        readers=SIGNED_IN_WITH_ROLE,
        writers=frozenset({"alice"}),
        data=new_progress,
    ),
    "api:task-progress-detail": Route(
        lambda w: f"/api/v1/task-progress/{o('progress')(w)}/",
        methods=("GET", "PATCH", "PUT", "DELETE"),
        readers=PROGRESS_READERS,
        writers=frozenset({"alice"}),
        hidden_from=PROGRESS_HIDDEN,
        data=edit_progress,
    ),
    **{
        f"api:task-progress-{action}": Route(
            action_url("task-progress", "progress", path),
            methods=("POST",),
            writers=frozenset({"alice", "ada"}),
            hidden_from=PROGRESS_HIDDEN,
            data=action_data("progress", path),
        )
        for action, path in [
            ("approve", "approve"),
            ("return-", "return"),
            ("reopen", "reopen"),
            ("submit", "submit"),
            ("withdraw", "withdraw"),
        ]
    },
}


# Routes where a leader writes only what is theirs: their own notifications' read state and email choices.
OWN_NOTIFICATIONS = ("workbench:notifications", "workbench:notification-settings", "api:notification-read-all")


def url_pattern_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list[Any], namespace: str | None) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace and (f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace)
                if (inner or namespace) == "admin":
                    continue  # Django's admin: staff only, covered by its own permission tests
                walk(pattern.url_patterns, inner or namespace)
            elif isinstance(pattern, URLPattern):
                name = pattern.name or pattern.callback.__name__
                names.add(f"{namespace}:{name}" if namespace else name)

    walk(get_resolver().url_patterns, None)
    return names


def test_every_url_pattern_is_in_the_matrix() -> None:
    missing = url_pattern_names() - set(ROUTES)
    assert missing == set(), f"新增的 URL 未加入权限矩阵：{sorted(missing)}"
    assert set(ROUTES) - url_pattern_names() == set()


def write_fingerprint() -> tuple[int, ...]:
    """Row counts of every table people's actions write (history included): any write changes one."""
    tables = sorted(
        model._meta.db_table
        for model in apps.get_models()
        if model._meta.app_label in {"indicators", "planning", "regions", "knox"}
    )
    counts = []
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")
            counts.append(cursor.fetchone()[0])
    return tuple(counts)


def unattributed_history() -> int:
    """History rows of people's entries that do not say who made the change and through which door."""
    total = 0
    for model in apps.get_models():
        names = {f.name for f in model._meta.fields}
        if model._meta.app_label in {"indicators", "planning"} and {"history_user", "history_change_reason"} <= names:
            total += (
                model._default_manager.filter(history_user__isnull=True).count()
                + model._default_manager.exclude(
                    history_change_reason__regex=r"^(表单|接口|Excel导入|后台|系统)："
                ).count()
            )
    return total


def call(client: Client, method: str, url: str, data: dict[str, Any], *, api: bool) -> Any:
    if method == "GET":
        return client.get(url)
    if api:
        return getattr(client, method.lower())(url, data=data, content_type="application/json")
    return client.post(url, data=data)


def test_the_authorization_matrix(plan, figure) -> None:  # type: ignore[no-untyped-def]
    world = build_world()
    clients: dict[str, Client] = {}
    for name, user in world.users.items():
        client = Client(raise_request_exception=False)
        if user is not None:
            client.force_login(user)
        clients[name] = client

    results: dict[tuple[str, str, str], int] = {}
    problems: list[str] = []
    unattributed_before = unattributed_history()
    write_attempts = 0
    # Logging out ends the session the clients share, so it comes last.
    for route_name in sorted(ROUTES, key=lambda name: name == "logout"):
        route = ROUTES[route_name]
        url = route.url(world)
        api = url.startswith("/api/")
        for person in PEOPLE:
            for method in route.methods:
                before = write_fingerprint()
                with transaction.atomic():
                    response = call(clients[person], method, url, route.data(world) if route.data else {}, api=api)
                    wrote = write_fingerprint() != before
                    if wrote and unattributed_history() != unattributed_before:
                        problems.append(f"{route_name} {method} as {person}: a change without who and how in history")
                    transaction.set_rollback(True)  # each cell starts from the same world
                code = response.status_code
                results[(route_name, person, method)] = code
                cell = f"{route_name} {method} {url} as {person}: {code}"
                if code >= 500:
                    problems.append(f"{cell} (server error)")
                if person == "anonymous" and not route.public:
                    expected = 401 if api else 302
                    if code != expected or (code == 302 and "/accounts/login/" not in response["Location"]):
                        problems.append(f"{cell}, expected {expected} to the login")
                # 405 (a method the endpoint has for nobody) says nothing about the object either.
                if person in route.hidden_from and code not in (404, 405):
                    problems.append(f"{cell}, expected 404 (out of scope)")
                if method == "GET" and person in route.readers and code != 200:
                    problems.append(f"{cell}, expected 200 (a reader)")
                if method in WRITE_METHODS and person != "anonymous":
                    write_attempts += 1
                    if wrote and person not in route.writers:
                        problems.append(f"{cell} wrote to the database but may not")
                    # Leaders read; their only writes are logging out (of the API too), asking for a report and
                    # their own notifications (marking them read, choosing which to get by email).
                    if (
                        person == "leo"
                        and not route.public
                        and route_name not in ("logout", "api:token-revoke-all", "reports:reports", *OWN_NOTIFICATIONS)
                        and code
                        not in (
                            403,
                            404,
                            405,
                        )
                    ):
                        problems.append(f"{cell}: a leader may not write (expected 403)")
    if os.environ.get("MATRIX_PRINT"):
        for (route_name, person, method), code in sorted(results.items()):
            print(f"{route_name:34} {method:6} {person:10} {code}")
    assert problems == [], "\n".join(problems)
    figure(
        "权限矩阵",
        url_patterns=len(ROUTES),
        people=len(PEOPLE),
        cells=len(results),
        write_attempts=write_attempts,
        out_of_scope_cells=sum(1 for (r, p, m) in results if p in ROUTES[r].hidden_from),
        leaks=0,
        codes=dict(Counter(results.values())),
    )


def test_nobody_approves_their_own_entry_through_any_door(plan, figure) -> None:  # type: ignore[no-untyped-def]
    """erin both enters and reviews for 市教育局: her own entry waits for another reviewer, whichever way she asks."""
    from indicators.models import IndicatorValue
    from indicators.services import IndicatorValueInput, indicator_value_create, indicator_value_submit
    from regions.models import Region

    erin = make_user("erin", "填报员", "审核员", units=("市教育局",))
    entry = indicator_value_create(
        indicator=plan.indicators.get(number=2),
        region=Region.objects.get(code="511100"),
        year=2024,
        user=erin,
        data=IndicatorValueInput(value="95.5", source="统计年报"),
    )
    entry = indicator_value_submit(value=entry, user=erin)
    client = Client()
    client.force_login(erin)
    attempts = [
        client.post(f"/values/{entry.pk}/approve/", {"version": entry.version}),
        client.post("/review/approve/", {"selected": [f"iv-{entry.pk}"]}),
        client.post(
            f"/api/v1/indicator-values/{entry.pk}/approve/",
            {"version": entry.version},
            content_type="application/json",
        ),
    ]
    entry.refresh_from_db()
    assert entry.status == "submitted" and entry.reviewed_by is None
    assert attempts[0].status_code in (403, 409) and attempts[2].status_code in (403, 409)
    assert not IndicatorValue.history.filter(id=entry.pk, history_change_reason__contains="审核通过").exists()
    # and the review queue does not even offer it to her
    assert f"/values/{entry.pk}/" not in client.get("/review/").content.decode()
    figure("不能审核自己的填报", doors_tried=len(attempts), approved=0)
