"""Nothing outside a person's view scope influences what any answer contains (non-interference).

The authorization matrix checks status codes; this checks bodies. For every GET page and API endpoint of the
matrix (its ROUTES, with the query parameters people use: regions, the other plan, another year, filters) and
every person, the answer is fetched in a base world; then data the person may not see is added through the
product's own services (values entered, submitted and approved by people who may; a region decomposition by an
administrator; statuses and flags recomputed) and the answer is fetched again. The two must be equal after
normalising only what legitimately differs between two renders of the same data:

- the masked CSRF token in forms (`csrfmiddlewaretoken`), a fresh random mask on every render;
- .xlsx files are compared by sheet names and cell values: the zip container carries its write time
  (docProps/core.xml), so two exports of the same data differ byte for byte; and the status export says when it
  was made ("导出于 2026-03-15 10:42", exchange/export.py), the wall clock's minute, not data;
- JSON lists of objects with ids are compared in id order: the API orders some lists by keys that are not unique,
  and PostgreSQL returns such ties in any order (see `by_id`).

A difference is checked again after the perturbation is rolled back: an answer that differs from itself in the
same world is reported as unstable (it could hide a leak), not as a leak; an error page (5xx) in either world is
reported too (it would hide what the answer says). Every leak is listed, not only the first, as
(person, URL, excerpt of the difference); JSON is compared one `path: value` line per field, so the excerpt
names the field.

What is out of scope, by person (`today` pinned to 2026-03-15), each added at once in one perturbed world:
- bob, jill (填报员) and rita, dave (审核员) of 沐川县 / 夹江县 — values in the city itself (the plan's region,
  511100) and in 市中区: approved values of several indicators of both plans for 2021–2024 (some far behind, so
  lag flags are raised), one submitted and one draft value, a 市中区 decomposition target, and one more city
  approval whose recompute is still queued (as while Redis is down); task progress they cannot see: a draft in
  市中区 of a region-milestone task (专栏15-2), a submitted entry in 五通桥区 of the milestone task 夹江县 shares
  (专栏8-1: jill and dave see the task, not other regions' entries), approved and submitted progress of
  city-wide tasks (专栏12-1/12-2 of 市教育厅, two of 市教育局's). Region-milestone progress is not approved in
  other regions: a task's own assessment (TaskStatus) is part of the task, which a person sees whole or not at all.
  nobody (no role) and anonymous get the same world.
- frank (填报员 of 市财政局, which leads no indicator: he sees no indicator value at all) — the same values, and
  progress of city-wide tasks in which 市财政局 has no part (one approved, one submitted).
- alice (填报员 of 市教育局, every region) — the fixtures have no indicator that another unit leads (all 23
  indicators of both plans are led by 市教育局), so no indicator data is out of her scope and that perturbation
  is skipped; 市教育厅's tasks (专栏12-1, 12-2) are out of it, and get approved and submitted progress.
- leo (领导) sees everything, but an answer about one region (`?region=` of 沐川县 or 夹江县: status summary,
  overview, lists filtered by region) must not change with the city's and 市中区's values either.
Each perturbation must visibly change what leo gets, so the check cannot pass vacuously.
"""

from __future__ import annotations

import difflib
import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.test import Client

from tests.conftest import make_user
from tests.security.test_authorization_matrix import PEOPLE, ROUTES, World, build_world

REGION_SCOPED = ("bob", "jill", "rita", "dave")
CSRF_IN_FORM = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")')
EXPORTED_AT = re.compile(r"导出于 \d{4}-\d{2}-\d{2} \d{2}:\d{2}")


# --- what an answer says -------------------------------------------------------------------------------------


def xlsx_text(content: bytes) -> str:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content), data_only=False)
    lines = []
    for sheet in workbook.worksheets:
        lines.append(f"## {sheet.title}")
        for row in sheet.iter_rows(values_only=True):
            lines.append("\t".join("" if value is None else str(value) for value in row))
    return EXPORTED_AT.sub("导出于 …", "\n".join(lines))


def by_id(data: Any) -> Any:
    """Lists of objects with ids, in id order: several list endpoints order by keys that are not unique (flags by
    -is_binding, -raised_at; values by -year, indicator number, region order, which repeat across plans; task
    progress by -year, task order), and PostgreSQL returns ties in any order. Which items a page holds is still
    compared; lists longer than a page may still differ in that (reported as unstable)."""
    if isinstance(data, dict):
        return {key: by_id(item) for key, item in data.items()}
    if isinstance(data, list):
        items = [by_id(item) for item in data]
        if items and all(isinstance(item, dict) and isinstance(item.get("id"), int) for item in items):
            items.sort(key=lambda item: item["id"])
        return items
    return data


def json_lines(data: Any, path: str = "") -> Iterator[str]:
    """One `path: value` line per leaf, so a difference names its field (results[id=9].completion: …)."""
    if isinstance(data, dict):
        for key in sorted(data):
            yield from json_lines(data[key], f"{path}.{key}" if path else key)
    elif isinstance(data, list):
        if not data:
            yield f"{path}: []"
        for index, item in enumerate(data):
            name = next(
                (f"{k}={item[k]}" for k in ("id", "status", "region", "year") if isinstance(item, dict) and k in item),
                index,
            )
            yield from json_lines(item, f"{path}[{name}]")
    else:
        yield f"{path}: {json.dumps(data, ensure_ascii=False)}"


def body_of(response: Any) -> str:
    """Status, redirect target, type and content of an answer, as comparable text."""
    content_type = response.get("Content-Type", "")
    head = [f"HTTP {response.status_code}", f"Content-Type: {content_type}"]
    for header in ("Location", "Content-Disposition"):
        if response.has_header(header):
            head.append(f"{header}: {response[header]}")
    # Not response.close(): the test client has closed it (streaming ones once read), with Django's
    # close_old_connections disconnected; closing again would close PostgreSQL's connection mid-test.
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if "spreadsheetml" in content_type:
        text = xlsx_text(content)
    elif "json" in content_type:
        try:
            text = "\n".join(json_lines(by_id(json.loads(content))))
        except ValueError:
            text = content.decode("utf-8", "replace")
    elif content_type.startswith("text/"):
        text = CSRF_IN_FORM.sub(r"\1…\2", content.decode("utf-8", "replace"))
    else:
        text = f"<{len(content)} bytes> " + content.hex()[:4000]
    return "\n".join(head) + "\n\n" + text


def excerpt(before: str, after: str, *, shown_lines: int = 6, width: int = 100) -> str:
    """The first changed lines (a long line cut around its first changed character), and how many changed."""

    def cut(line: str, at: int) -> str:
        line = line.strip()
        if len(line) <= width:
            return line
        begin = max(at - width // 3, 0)
        return ("…" if begin else "") + line[begin : begin + width] + "…"

    old_lines, new_lines = before.splitlines(), after.splitlines()
    shown: list[str] = []
    changed = 0
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        olds, news = old_lines[i1:i2], new_lines[j1:j2]
        changed += max(len(olds), len(news))
        for k in range(max(len(olds), len(news))):
            old = olds[k].strip() if k < len(olds) else None
            new = news[k].strip() if k < len(news) else None
            at = 0
            if old is not None and new is not None:
                at = next(
                    (n for n, (a, b) in enumerate(zip(old, new, strict=False)) if a != b), min(len(old), len(new))
                )
            if len(shown) < shown_lines:
                shown += [f"- {cut(old, at)}"] if old is not None else []
                shown += [f"+ {cut(new, at)}"] if new is not None else []
    return " | ".join(shown) + (f"  〔共 {changed} 行不同〕" if changed * 2 > len(shown) else "")


# --- the URLs people ask -------------------------------------------------------------------------------------


def get_urls(world: World) -> dict[str, list[str]]:
    """Every GET route of the matrix, and each with the query parameters people use; by route name.

    Region parameters name the regions where a perturbation can surface: those it changes (乐山市, 市中区,
    五通桥区) and the people's own (沐川县, 夹江县). A parameter naming a region nothing was changed in cannot show
    a difference, whatever the view does with it (test_a_region_outside_scope_is_404_not_its_data asks every
    region of the plan of the two endpoints that take one).
    """
    from regions.models import Region

    plan = world.objects["plan"]
    other_plan = plan.__class__.objects.get(code="leshan-basic-edu-2021")
    regions = list(
        Region.objects.filter(name__in=("乐山市", "市中区", "五通桥区", "沐川县", "夹江县"))
        .order_by("order")
        .values_list("pk", flat=True)
    )
    rate = world.objects["rate"].pk
    by_region = [f"region={r}" for r in regions]
    plans_years = [f"plan={other_plan.pk}", f"plan={plan.pk}&year=2023"]
    variants: dict[str, list[str]] = {
        "dashboards:overview": by_region + plans_years,
        "dashboards:regions": [*plans_years, f"indicator={rate}&year=2024"],
        "dashboards:tasks": plans_years,
        "dashboards:units": plans_years,
        "dashboards:indicator": [*by_region, "year=2023"],
        "dashboards:unit": plans_years,
        "workbench:my-reporting": [*plans_years, "q=学前&overdue=1", "status=missing", f"indicator={rate}"],
        "workbench:review": ["kind=indicator", "kind=task", "q=学前", f"indicator={rate}"],
        "indicators:value-list": [*by_region, f"plan={other_plan.pk}", "status=approved"],
        "exchange:excel-template": [f"region={r}" for r in regions],  # the route's URL already has ?year=
        "exchange:export-xlsx": plans_years,
        "exchange:export-csv": plans_years,
        "indicators:decomposition-list": [f"plan={other_plan.pk}"],
        "planning:progress-list": [*by_region, "status=submitted"],
        "api:status": by_region + plans_years,
        "api:indicator-list": by_region + plans_years,
        "api:indicator-detail": [*by_region, "year=2023"],
        # Filtered to fit one page: the list's order is not total (see by_id), so a longer one is not comparable.
        "api:flag-list": [
            f"region={r}&kind={kind}" for r in regions for kind in ("lag", f"overdue&year=2024&plan={plan.pk}")
        ]
        + ["state=open&kind=lag"],
        "api:indicator-value-list": [*by_region, f"plan={other_plan.pk}", "status=approved"],
        "api:task-progress-list": [*by_region, "status=submitted"],
        "api:task-list": plans_years,
        "workbench:notifications": ["unread=true", "kind=approved"],
        "api:notification-list": ["unread=true", "kind=approved"],
    }
    urls: dict[str, list[str]] = {}
    for name, route in ROUTES.items():
        # The 政务公开 pages publish the plan region's approved figures to everyone by design, so approved data in
        # any region changes them: there is no scope to keep (tests/published/test_public.py checks what they omit).
        if "GET" not in route.methods or name.startswith("public:"):
            continue
        url = route.url(world)
        joiner = "&" if "?" in url else "?"
        urls[name] = [url, *(f"{url}{joiner}{query}" for query in variants.get(name, []))]
    return urls


def urls_for(person: str, urls: dict[str, list[str]]) -> list[str]:
    """Public pages (login, schema, API docs…) are the same for everyone: asked as anonymous only."""
    return [url for name, group in urls.items() for url in group if person == "anonymous" or not ROUTES[name].public]


# --- the worlds ----------------------------------------------------------------------------------------------


@dataclass
class Helpers:
    """People who enter and review the out-of-scope data (not among the people asked)."""

    carol: Any  # 审核员 of 市教育局 (alice enters, carol approves)
    tina: Any  # 填报员 of 市教育厅
    tom: Any  # 审核员 of 市教育厅


def value(
    indicator: Any, region: Any, year: int, number: str, user: Any, *, then: str = "", reviewer: Any = None
) -> Any:
    from indicators.services import (
        IndicatorValueInput,
        indicator_value_approve,
        indicator_value_create,
        indicator_value_submit,
    )

    entry = indicator_value_create(
        indicator=indicator,
        region=region,
        year=year,
        user=user,
        data=IndicatorValueInput(value=number, source="统计年报", outlier_note="已核实"),
    )
    if then in ("submit", "approve"):
        entry = indicator_value_submit(value=entry, user=user)
    if then == "approve":
        entry = indicator_value_approve(value=entry, user=reviewer)
    return entry


def progress(task: Any, year: int, user: Any, *, region: Any = None, then: str = "", reviewer: Any = None) -> Any:
    from planning.services import (
        TaskProgressInput,
        task_progress_approve,
        task_progress_create,
        task_progress_submit,
    )

    data = TaskProgressInput(
        narrative=f"范围外进展 {task.label} {year}",
        percent="37" if task.is_qualitative else None,
        passed="yes" if task.milestone_target is not None else None,
        amounts={target.pk: "3" for target in task.quantity_targets},
    )
    entry = task_progress_create(task=task, year=year, region=region, user=user, data=data)
    if then in ("submit", "approve"):
        entry = task_progress_submit(progress=entry, user=user)
    if then == "approve":
        entry = task_progress_approve(progress=entry, user=reviewer)
    return entry


def recompute() -> None:
    from indicators.flags import send_flag_digests, sync_overdue_flags
    from indicators.services import status_recompute_all

    status_recompute_all()
    sync_overdue_flags()
    # The base world's people have heard of its flags, as after a nightly run; a change then tells only the people
    # who may see what changed.
    send_flag_digests()


def base_world() -> tuple[World, Helpers]:
    """The matrix's world, plus approved in-scope data so the answers are not empty, statuses computed."""
    from regions.models import Region

    world = build_world()
    helpers = Helpers(
        carol=make_user("carol", "审核员", units=("市教育局",)),
        tina=make_user("tina", "填报员", units=("市教育厅",)),
        tom=make_user("tom", "审核员", units=("市教育厅",)),
    )
    users, plan = world.users, world.objects["plan"]
    muchuan, jiajiang = world.objects["muchuan"], world.objects["jiajiang"]
    city = Region.objects.get(code="511100")
    for number, (m, j) in {2: ("95.3", "94.6"), 7: ("95.5", "95.1"), 1: ("0.42", "0.55")}.items():
        indicator = plan.indicators.get(number=number)
        value(indicator, muchuan, 2023, m, users["bob"], then="approve", reviewer=users["rita"])
        value(indicator, jiajiang, 2023, j, users["jill"], then="approve", reviewer=users["dave"])
    value(plan.indicators.get(number=9), city, 2022, "95.6", users["alice"], then="approve", reviewer=helpers.carol)
    recompute()
    return world, helpers


def regional_values(world: World, helpers: Helpers) -> None:
    """Values in the city and 市中区 (both plans), and a 市中区 decomposition target."""
    from indicators.services import indicator_region_target_set
    from planning.models import Plan
    from regions.models import Region

    alice, ada, carol = world.users["alice"], world.users["ada"], helpers.carol
    plan = world.objects["plan"]
    city, shizhong = Region.objects.get(code="511100"), Region.objects.get(name="市中区")
    numbers = {  # indicator number → value per year; some far behind the path, so lag flags are raised
        1: ("9.41", "9.38", "9.07", "8.93"),  # 学前教育幼儿数, 万人 9.4 → 9.6 (additive)
        2: ("93.71", "93.62", "93.53", "93.44"),  # 学前教育毛入园率 95 → 96: regressing
        7: ("94.11", "93.22", "92.33", "91.44"),  # 九年义务教育巩固率 (约束性) 95 → 96: regressing
        9: ("96.17", "96.28", "96.39", "96.5"),  # 高中阶段毛入学率 95 → 96: achieved early
    }
    for number, series in numbers.items():
        indicator = plan.indicators.get(number=number)
        for year, number_text in zip((2021, 2022, 2023, 2024), series, strict=True):
            if (number, year) == (9, 2022):
                continue  # the base world's city value
            value(indicator, city, year, number_text, alice, then="approve", reviewer=carol)
        value(indicator, shizhong, 2024, series[-1].replace("9", "8", 1), alice, then="approve", reviewer=carol)
    value(plan.indicators.get(number=3), shizhong, 2025, "47.77", alice, then="submit")
    value(plan.indicators.get(number=4), city, 2025, "85.55", alice)
    other = Plan.objects.get(code="leshan-basic-edu-2021")
    value(other.indicators.get(number=7), city, 2023, "93.93", alice, then="approve", reviewer=carol)
    value(other.indicators.get(number=5), shizhong, 2024, "91.91", alice, then="approve", reviewer=carol)
    # On the matrix's indicator (学前教育毛入园率), whose detail and decomposition pages are among the routes.
    indicator_region_target_set(
        indicator=world.objects["rate"], region=shizhong, baseline="93.1", target="97.3", user=ada
    )


def tasks_without_finance(world: World, helpers: Helpers) -> None:
    """City-wide tasks of 市教育局 in which 市财政局 (frank) has no part: one approved, one submitted."""
    from planning.models import Task

    alice, plan = world.users["alice"], world.objects["plan"]
    tasks = [
        t
        for t in Task.objects.filter(plan=plan, responsibilities__unit__name="市教育局").order_by("order")
        if not t.responsibilities.filter(unit__name="市财政局").exists()
        and t.milestone_target is None
        and t.pk != world.objects["task"].pk
    ]
    progress(tasks[0], 2024, alice, then="approve", reviewer=helpers.carol)
    progress(tasks[1], 2025, alice, then="submit")


def other_regions_tasks(world: World, helpers: Helpers) -> None:
    """Region-milestone task progress in regions other than 沐川县 and 夹江县 (not approved: see the top)."""
    from planning.models import Task
    from regions.models import Region

    alice, plan = world.users["alice"], world.objects["plan"]
    smart = Task.objects.get(plan=plan, label="专栏15-2")  # milestone: 市中区, 沙湾区, 峨眉山市
    balanced = Task.objects.get(plan=plan, label="专栏8-1")  # milestone: 五通桥区, 金口河区, 夹江县, 峨眉山市
    progress(smart, 2024, alice, region=Region.objects.get(name="市中区"))
    progress(balanced, 2024, alice, region=Region.objects.get(name="五通桥区"), then="submit")


def other_units_tasks(world: World, helpers: Helpers) -> None:
    """Approved and submitted progress of 市教育厅's tasks (专栏12-1, 12-2), in which 市教育局 has no part."""
    from planning.models import Task

    plan = world.objects["plan"]
    first, second = (Task.objects.get(plan=plan, label=label) for label in ("专栏12-1", "专栏12-2"))
    assert not first.responsibilities.filter(unit__name="市教育局").exists()
    progress(first, 2023, helpers.tina, then="approve", reviewer=helpers.tom)
    progress(first, 2024, helpers.tina, then="approve", reviewer=helpers.tom)
    progress(second, 2025, helpers.tina, then="submit")


def region_bound_urls(world: World) -> list[str]:
    """Answers about one region that leo asks: another region's data must not change them either.

    The status summary (its `flagged` is the region's open flags), the overview (cards, counts, flags and the
    "待重新计算" notice for the chosen region), and lists filtered by region. Not the indicator pages, whose region
    table lists every region by design, nor the exports, which have every region in view.
    """
    plan = world.objects["plan"].pk
    urls = []
    for region in (world.objects["muchuan"].pk, world.objects["jiajiang"].pk):
        urls += [
            f"/api/v1/status/?region={region}",
            f"/dashboard/?region={region}",
            f"/api/v1/indicators/?region={region}",
            f"/api/v1/indicator-values/?region={region}",
            f"/api/v1/flags/?region={region}&kind=lag",
            f"/api/v1/flags/?region={region}&kind=overdue&year=2024&plan={plan}",
            f"/values/?region={region}",
        ]
    return urls


def approved_while_recompute_pending(world: World, helpers: Helpers) -> None:
    """One more city value approved after the recompute: its recompute is still queued (as while Redis is down,
    or for the seconds before the worker runs), a state every page must handle without telling anyone about it."""
    from regions.models import Region

    city = Region.objects.get(code="511100")
    value(world.objects["rate"], city, 2025, "90.01", world.users["alice"], then="approve", reviewer=helpers.carol)


@dataclass(frozen=True)
class Perturbation:
    """Everything out of scope for some people, added at once (one re-fetch per person)."""

    name: str
    people: tuple[str, ...]  # to whom all of it is out of scope
    parts: tuple[Callable[[World, Helpers], None], ...]
    witnesses: tuple[str, ...]  # leo's answers that must change: the perturbation is real
    after_recompute: tuple[Callable[[World, Helpers], None], ...] = ()

    def apply(self, world: World, helpers: Helpers) -> None:
        for part in self.parts:
            part(world, helpers)
        recompute()
        for part in self.after_recompute:
            part(world, helpers)


PERTURBATIONS = (
    Perturbation(
        "区域数据与任务",
        (*REGION_SCOPED, "nobody", "anonymous"),
        (regional_values, tasks_without_finance, other_regions_tasks, other_units_tasks),
        ("/api/v1/status/", "/api/v1/indicator-values/", "/decomposition/", "/api/v1/task-progress/"),
        (approved_while_recompute_pending,),
    ),
    Perturbation(
        "区域数据与无财政局参与的任务",
        ("frank",),
        (regional_values, tasks_without_finance),
        ("/api/v1/status/", "/api/v1/indicator-values/", "/decomposition/", "/dashboard/tasks/"),
        (approved_while_recompute_pending,),
    ),
    Perturbation("其他单位任务", ("alice",), (other_units_tasks,), ("/api/v1/task-progress/", "/dashboard/tasks/")),
    # leo sees everything; asked about 沐川县 or 夹江县, nothing of the city or 市中区 may change the answer.
    Perturbation("其他区域数据（按区域查询）", ("leo",), (regional_values,), ("/api/v1/status/",)),
)


# --- the checks ----------------------------------------------------------------------------------------------


def signed_in_clients(world: World) -> dict[str, Client]:
    clients = {}
    for name, user in world.users.items():
        client = Client(raise_request_exception=False)
        if user is not None:
            client.force_login(user)
        clients[name] = client
    return clients


@contextmanager
def quiet_requests() -> Iterator[None]:
    """Refusals (403/404) are expected by the hundred; their logged tracebacks cost a sixth of the run."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def test_a_region_outside_scope_is_404_not_its_data(plan, today_2026) -> None:  # type: ignore[no-untyped-def]
    """/api/v1/indicators/{id}/?region= and /api/v1/status/?region= with a region the person may not see."""
    from regions.models import Region

    rate = plan.indicators.get(number=2)
    refused: list[str] = []
    for name in REGION_SCOPED:
        role, scope = PEOPLE[name]
        user = make_user(name, role, **scope)
        client = Client(raise_request_exception=False)
        client.force_login(user)
        own = set(Region.objects.filter(name__in=scope["regions"]).values_list("pk", flat=True))
        for path in (f"/api/v1/indicators/{rate.pk}/", "/api/v1/status/"):
            answered: list[str] = []
            with quiet_requests():
                for region in plan.area_regions().exclude(pk__in=own).order_by("order"):
                    code = client.get(f"{path}?region={region.pk}").status_code
                    if code != 404:
                        answered.append(f"{region.name}({region.pk})→{code}")
                # their own region does answer
                assert client.get(f"{path}?region={min(own)}").status_code == 200, (name, path)
            if answered:
                refused.append(
                    f"({name}, {path}?region=…, {len(answered)} 个范围外区域未返回 404: {'、'.join(answered)})"
                )
    assert refused == [], "范围外区域应返回 404：\n" + "\n".join(refused)


def test_nothing_out_of_scope_changes_any_answer(plan, today_2026, figure) -> None:  # type: ignore[no-untyped-def]
    world, helpers = base_world()
    clients = signed_in_clients(world)
    urls = get_urls(world)
    asked = {name: urls_for(name, urls) for p in PERTURBATIONS for name in p.people}
    asked["leo"] = region_bound_urls(world)
    witnesses = sorted({url for p in PERTURBATIONS for url in p.witnesses})
    compared = 0
    leaks: list[tuple[str, str, str, str]] = []
    unstable: list[str] = []
    vacuous: list[str] = []
    with quiet_requests():
        base = {name: {url: body_of(clients[name].get(url)) for url in asked[name]} for name in asked}
        base["leo"].update({url: body_of(clients["leo"].get(url)) for url in witnesses})
        # An error page in both worlds would compare equal and hide whatever the answer would have said.
        errors = [f"({name}, {url})" for name in base for url, body in base[name].items() if body.startswith("HTTP 5")]
        for perturbation in PERTURBATIONS:
            candidates: list[tuple[str, str, str]] = []
            with transaction.atomic():
                perturbation.apply(world, helpers)
                for name in perturbation.people:
                    for url in asked[name]:
                        after = body_of(clients[name].get(url))
                        compared += 1
                        if after.startswith("HTTP 5"):
                            errors.append(f"[{perturbation.name}] ({name}, {url})")
                        if after != base[name][url]:
                            candidates.append((name, url, after))
                for url in perturbation.witnesses:
                    if body_of(clients["leo"].get(url)) == base["leo"][url]:
                        vacuous.append(f"{perturbation.name}: leo 的 {url} 没有变化")
                transaction.set_rollback(True)
            for name, url, after in candidates:
                again = body_of(clients[name].get(url))  # the base world once more
                if again != base[name][url]:
                    unstable.append(f"({name}, {url}): {excerpt(base[name][url], again)}")
                else:
                    leaks.append((perturbation.name, name, url, excerpt(base[name][url], after)))
    figure(
        "范围：应答内容",
        bodies_checked=compared,
        urls=len({url for group in asked.values() for url in group}),
        people=len(asked),
        perturbations=len(PERTURBATIONS),
        leaks=len(leaks),
    )
    sections = {
        f"{len(leaks)} 个应答受范围外数据影响（改动、人员、地址、差异）": [
            f"[{p}] ({name}, {url}): {diff}" for p, name, url, diff in leaks
        ],
        "同一数据两次请求的应答不同，无法比较（可能掩盖泄露）": unstable,
        "服务器错误，无法比较应答内容": errors,
        "范围外改动没有改变领导看到的内容，检查无效": vacuous,
    }
    report = "\n\n".join(f"{title}：\n" + "\n".join(lines) for title, lines in sections.items() if lines)
    assert not report, report
