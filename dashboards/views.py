"""Leader dashboards: 总览, 指标详情, 区域, 专栏任务, 责任单位.

They read stored statuses only (never recompute on view) in a fixed number of queries, whatever the number of
indicators, regions or years. Filters are the API's FilterSets; the URL keeps them so a link can be sent.
Charts are Apache ECharts (installed from npm) fed by JSON in the page, drawn by static/js/charts.js.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, NamedTuple
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import BooleanField, Count, ExpressionWrapper, Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from config.filters import parse_id
from config.views import request_choices
from indicators.charts import trajectory_chart
from indicators.filtersets import IndicatorFilterSet
from indicators.models import Attribute, FlagKind, Indicator
from indicators.selectors import (
    flags_in_order,
    flags_visible_to,
    in_display_order,
    indicator_values_visible_to,
    indicators_visible_to,
    indicators_with_assessment,
    open_flags,
    recompute_pending_count,
    recompute_pending_regions,
    status_card,
    statuses_visible_to,
    target_adjustments_of,
    target_text,
)
from planning.assessment import DISPLAY_LABELS, DISPLAY_RANK, DISPLAY_STATUSES, display_status
from planning.models import Plan, Responsibility, ResponsibilityRole, TaskStatus, Unit
from planning.selectors import (
    AnnotatedAssessment,
    chosen_plan,
    chosen_region,
    chosen_year,
    default_report_year,
    plan_regions_visible_to,
    tasks_visible_to,
)
from published.models import PublishedFigure
from published.selectors import adoptable_ids, figures_for_indicator
from regions.models import Region

from .selectors import status_summary, task_page

FILTER_KEYS = ["plan", "year", "region", "attribute", "status", "unit"]
# A city has a dozen regions; a province or the country thousands. Pages that list regions show them a page at a
# time, so their cost and size stay the same at any scale.
MATRIX_REGIONS_PER_PAGE = 20
DETAIL_REGIONS_PER_PAGE = 100
RANKING_SHOWN = 30  # the top and the bottom of a ranking longer than twice this
FLAGS_PER_PAGE = 30  # the overview's list of open flags, a page at a time
UNIT_FLAGS_PER_PAGE = 50  # each list of a unit's open flags
FLAG_HISTORY_SHOWN = 20  # an indicator page's flags of its region, open first; the page says how many in all


def region_page(request: HttpRequest, regions: list[RegionChoice], per_page: int) -> Page:
    return Paginator(regions, per_page).get_page(parse_id(request.GET.get("page")) or 1)


class RegionChoice(NamedTuple):
    """A region as the dashboards list it (filters, links, table rows)."""

    pk: int
    name: str
    kind: str
    parent_id: int | None
    order: int


@dataclass
class Dashboard:
    """The chosen plan, year and region plus the other filters, as read from the URL."""

    plan: Plan
    year: int
    region: Region
    attribute: str
    status: str
    unit: Unit | None
    plans: list[Plan]
    years: list[int]
    regions: list[RegionChoice]
    units: list[Unit]

    def region_options(self) -> SafeString:
        """The region filter's options as one string: a province or the country has thousands of regions, and
        a template loop over them took most of a page's time (docs/benchmarks.md)."""
        chosen = self.region.pk
        return mark_safe(  # names are escaped; ids are integers
            "".join(
                f'<option value="{region.pk}"{" selected" if region.pk == chosen else ""}>{escape(region.name)}</option>'
                for region in self.regions
            )
        )

    def query(self, **changes: Any) -> str:
        values = {
            "plan": self.plan.pk,
            "year": self.year,
            "region": self.region.pk,
            "attribute": self.attribute,
            "status": self.status,
            "unit": self.unit.pk if self.unit else "",
        }
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})


def dashboard_filters(request: HttpRequest) -> Dashboard:
    """Plan, year and region from the URL through the same scoped selectors as the API: a region the person may not
    see is a 404, a year outside the plan a 400; when the URL names none, the defaults are ones the person may see."""
    plans = list(Plan.objects.exclude(region__isnull=True).order_by("-period_end_year", "code"))
    with request_choices():
        plan = chosen_plan(request.GET.get("plan"))
        years = list(plan.years)
        default_year = min(default_report_year(plan, timezone.localdate()), plan.period_end_year)
        year = chosen_year(request.GET.get("year"), years=years, default=default_year, plan=plan)
        chosen = chosen_region(request.user, plan, request.GET.get("region"))
    # Plain tuples: a national plan has thousands of regions, and model instances (and the collector passes
    # they cause) took a large share of every dashboard's time.
    regions = [
        RegionChoice(*row)
        for row in plan_regions_visible_to(request.user, plan).values_list("id", "name", "kind", "parent_id", "order")
    ]
    region = chosen
    attribute = request.GET.get("attribute", "")
    status = request.GET.get("status", "")
    units = list(Unit.objects.order_by("order", "name"))
    unit_param = request.GET.get("unit", "")
    unit = next((u for u in units if str(u.pk) == unit_param), None)
    return Dashboard(
        plan=plan,
        year=year,
        region=region,
        attribute=attribute if attribute in Attribute.values else "",
        status=status if status in DISPLAY_LABELS else "",
        unit=unit,
        plans=plans,
        years=years,
        regions=regions,
        units=units,
    )


def board_indicator_queryset(request: HttpRequest, board: Dashboard) -> QuerySet[Indicator]:
    """The plan's indicators in view, filtered by the board's attribute and unit with the API's FilterSet."""
    params = {"plan": board.plan.pk, "attribute": board.attribute, "unit": board.unit.pk if board.unit else ""}
    queryset = indicators_visible_to(request.user).select_related("plan", "lead_unit")
    return IndicatorFilterSet({k: v for k, v in params.items() if v != ""}, queryset=queryset).qs


def board_indicators(request: HttpRequest, board: Dashboard, *, assessed: bool = True) -> list[Indicator]:
    """The board's indicators, each with its assessment for the board's region and year.

    Starting from the indicators (not the stored rows) keeps an indicator that was never computed on the page,
    as 未填报.
    """
    queryset = board_indicator_queryset(request, board)
    if assessed:
        queryset = indicators_with_assessment(queryset, year=board.year, region_id=board.region.pk)
    # The adjustments, for "原目标 X" beside a target in force that an adjustment set (plan_tags.target_adjusted).
    return list(queryset.prefetch_related("target_adjustments").order_by("number"))


def _chart_counts(counts: list[tuple[str, str, int]]) -> dict[str, Any]:
    return {
        "keys": [k for k, _, _ in counts],
        "labels": [label for _, label, _ in counts],
        "values": [n for _, _, n in counts],
    }


def base_context(board: Dashboard, section: str) -> dict[str, Any]:
    return {
        "board": board,
        "section": section,
        "status_choices": DISPLAY_STATUSES,
        "attribute_choices": Attribute.choices,
        # For the printed page's line of filters (the form itself is not printed).
        "attribute_label": dict(Attribute.choices).get(board.attribute, ""),
        "status_label": DISPLAY_LABELS.get(board.status, ""),
    }


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    board = dashboard_filters(request)
    indicators = board_indicators(request, board)
    cards = [status_card(i, AnnotatedAssessment.of(i)) for i in indicators]
    # The warning list follows the board's region and unit (chosen_region: out of view → 404) and its own `kind`;
    # an unknown kind is ignored, as the board's other display filters are.
    kind = request.GET.get("kind", "")
    flag_filters = {"kind": kind if kind in FlagKind.values else "", "unit": board.unit.pk if board.unit else ""}
    summary = status_summary(
        request.user, board.plan, board.year, board.region, assessed=indicators, flag_filters=flag_filters
    )
    if board.status:
        cards = [c for c in cards if c.display == board.status]
    flags = summary.flags
    flag_page = Paginator(flags.flags, FLAGS_PER_PAGE).get_page(parse_id(request.GET.get("page")) or 1)
    context = {
        **base_context(board, "overview"),
        "cards": cards,
        "counts": summary.indicator_counts,
        "task_counts": summary.task_counts,
        "charts": {"indicators": _chart_counts(summary.indicator_counts), "tasks": _chart_counts(summary.task_counts)},
        "flag_list": flags,
        "flag_page": flag_page,
        "flags": in_display_order(flag_page.object_list),
        "other_kind": FlagKind.OVERDUE if flags.kind == FlagKind.LAG else FlagKind.LAG,
        "recompute_pending": recompute_pending_count(request.user, board.plan, board.region),
    }
    return render(request, "dashboards/overview.html", context)


@login_required
def indicator_detail(request: HttpRequest, pk: int) -> HttpResponse:
    board = dashboard_filters(request)
    indicator = get_object_or_404(indicators_visible_to(request.user).select_related("plan", "lead_unit"), pk=pk)
    if indicator.plan_id != board.plan.pk:
        board.plan = indicator.plan
    page = region_page(request, board.regions, DETAIL_REGIONS_PER_PAGE)
    shown = {region.pk for region in page.object_list} | {board.region.pk}
    rows = list(
        statuses_visible_to(request.user).filter(indicator=indicator, as_of_year=board.year, region_id__in=shown)
    )
    by_region = {row.region_id: row for row in rows}
    region_row = by_region.get(board.region.pk)
    trend = list(
        statuses_visible_to(request.user).filter(indicator=indicator, region=board.region).order_by("as_of_year")
    )
    entries = list(
        indicator_values_visible_to(request.user)
        .filter(indicator=indicator, region=board.region)
        .select_related("updated_by", "reviewed_by")
        .annotate(evidence_count=Count("evidence"))
        .order_by("year")
    )
    approved = {e.year: e.approved_value for e in entries if e.approved_value is not None}
    # The series' flags, open ones first; a long history says how many it leaves out.
    flag_history = flags_visible_to(request.user).filter(indicator=indicator, region=board.region)
    flags = list(flag_history.order_by("state", "-raised_at", "-pk")[:FLAG_HISTORY_SHOWN])
    flag_total = len(flags) if len(flags) < FLAG_HISTORY_SHOWN else flag_history.count()
    # 公开报道: Leshan's and the peers' published figures for this indicator; a separate series, never a status.
    figures = figures_for_indicator(request.user, indicator)
    chart = trajectory_chart(
        indicator,
        baseline=getattr(region_row, "baseline_value", None) if region_row is not None else indicator.baseline_value,
        target=getattr(region_row, "target_value", None) if region_row is not None else indicator.target_value,
        approved=approved,
        forecast_from=region_row,
    )
    chart["series"].extend(published_series(chart["years"], figures, board.region))
    adjustments = target_adjustments_of([indicator.pk]).get(indicator.pk, [])
    context = {
        **base_context(board, "indicator"),
        "indicator": indicator,
        "region_row": region_row,
        "region_card": status_card(indicator, region_row),
        "rows": [
            (region, by_region.get(region.pk), status_card(indicator, by_region.get(region.pk)))
            for region in page.object_list
        ],
        "page": page,
        "trend": [
            (row, DISPLAY_LABELS[display_status(row.status, row.latest_year, indicator.target_year)]) for row in trend
        ],
        "entries": entries,
        "flags": flags,
        "flag_total": flag_total,
        "chart": chart,
        "recompute_pending": recompute_pending_regions(request.user, indicator),
        # 规划调整: the original and the adjusted target, as the reports state them.
        "target_adjusted": target_text(indicator, adjustments) if adjustments else "",
        "figures": figures,
        "adoptable": adoptable_ids(request.user, figures),
    }
    return render(request, "dashboards/indicator_detail.html", context)


def published_series(years: list[str], figures: list[PublishedFigure], region: Region) -> list[dict[str, Any]]:
    """公开报道 on the trajectory chart: the chosen region's own figures as one series (kind "published"), each peer
    city's as another (kind "peer"); years outside the chart's are in the list below it only."""
    shown: dict[tuple[str, str], dict[str, float]] = {}
    for figure in figures:
        if figure.region_id is not None and figure.region_id != region.pk:
            continue  # another of the plan's regions: its own page shows it
        key = ("published", "公开报道") if figure.is_leshan else ("peer", f"公开报道 · {figure.subject}")
        shown.setdefault(key, {}).setdefault(str(figure.year), float(figure.value))
    return [
        {"name": name, "data": [values.get(year) for year in years], "kind": kind}
        for (kind, name), values in shown.items()
        if any(year in values for year in years)
    ]


# The matrix's table cells: a status badge each, class and short text only (a national plan's page has 1,400 of them).
# charts.js turns each into a link from the page's one link pattern; without JavaScript the row's region and the
# column's indicator link on (the region's overview lists every indicator there, the indicator's page every region).
MATRIX_CELLS = {
    key: f'<td><span class="badge status-{key}">{escape(label)}</span></td>' for key, label in DISPLAY_STATUSES
}
# The heat map's status codes are the statuses' ranks (worst low); its payload lists their keys and labels once.
MATRIX_CODES = sorted(DISPLAY_RANK, key=DISPLAY_RANK.__getitem__)
RANKING_FIELDS = (
    "status",
    "latest_year",
    "latest_value",
    "baseline_value",
    "target_value",
    "ratio",
    "completion",
    "expected_completion",
)
_REGION_SLOT = "REGIONSLOT"  # urlencode leaves it as it is; replaced by "{region}"


def matrix_link(board: Dashboard) -> str:
    """The one link of every matrix cell, an indicator's detail for a region: "{indicator}" and "{region}" are filled
    in (by charts.js in the browser, by `fill_link` for the table's headings), so the page carries no link per cell."""
    head, _, tail = reverse("dashboards:indicator", args=[0]).rpartition("/0/")
    return f"{head}/{{indicator}}/{tail}?" + board.query(region=_REGION_SLOT).replace(_REGION_SLOT, "{region}")


def fill_link(link: str, indicator_id: int, region_id: int) -> str:
    return link.replace("{indicator}", str(indicator_id)).replace("{region}", str(region_id))


@login_required
def region_matrix(request: HttpRequest) -> HttpResponse:
    board = dashboard_filters(request)
    page = region_page(request, board.regions, MATRIX_REGIONS_PER_PAGE)
    regions = list(page.object_list)
    # Only what the matrix uses of an indicator: its names, and the target year that display_status needs.
    indicators = list(
        board_indicator_queryset(request, board)
        .select_related(None)
        .only("number", "name", "unit", "target_year")
        .order_by("number")
    )
    # Plain tuples, unordered (the model's ordering would join the plans and regions): a page has 1,400 cells.
    cells = {
        (indicator_id, region_id): (status, latest_year)
        for indicator_id, region_id, status, latest_year in statuses_visible_to(request.user)
        .filter(indicator__in=[i.pk for i in indicators], region_id__in=[r.pk for r in regions], as_of_year=board.year)
        .order_by()
        .values_list("indicator_id", "region_id", "status", "latest_year")
    }
    link = matrix_link(board)
    overview = reverse("dashboards:overview")
    target_years = [(indicator.pk, indicator.target_year) for indicator in indicators]
    codes: list[list[int | None]] = []  # the heat map's: one status code per indicator, a row per region
    table = []
    for region in regions:
        row_codes: list[int | None] = []
        line: list[str] = []
        for indicator_id, target_year in target_years:
            cell = cells.get((indicator_id, region.pk))
            display = display_status(cell[0], cell[1], target_year) if cell else "no_data"
            if board.status and display != board.status:
                row_codes.append(None)
                line.append("<td></td>")
            else:
                row_codes.append(DISPLAY_RANK[display])
                line.append(MATRIX_CELLS[display])
        codes.append(row_codes)
        # The cells were escaped once, in MATRIX_CELLS.
        table.append((region, f"{overview}?{board.query(region=region.pk)}", mark_safe("".join(line))))
    wanted = request.GET.get("indicator", "")
    chosen = next((i for i in indicators if str(i.pk) == wanted), indicators[0] if indicators else None)
    context = {
        **base_context(board, "regions"),
        "indicators": indicators,
        "columns": [(i, fill_link(link, i.pk, board.region.pk)) for i in indicators],
        "table": table,
        "chosen": chosen,
        "ranking_shown": RANKING_SHOWN,
        "page": page,
        "chart": {
            # Full names: the chart wraps them (static/js/charts.js) and shows them whole on hover.
            "x": [f"{i.number}. {i.name}" for i in indicators],
            "names": [f"{i.number}. {i.name}（{i.unit}）" for i in indicators],
            "y": [r.name for r in regions],
            "indicators": [i.pk for i in indicators],
            "regions": [r.pk for r in regions],
            "statuses": MATRIX_CODES,
            "labels": [DISPLAY_LABELS[key] for key in MATRIX_CODES],
            "codes": codes,
            "link": link,
        },
        **(region_ranking(request, board, chosen, link) if chosen is not None else {}),
    }
    return render(request, "dashboards/regions.html", context)


def region_ranking(request: HttpRequest, board: Dashboard, chosen: Indicator, link: str) -> dict[str, Any]:
    """区域排名 of one indicator over every region in view, not just this page of the matrix.

    The order needs only each region's ratio and whether it lacks a baseline or target; the full rows are read for
    the regions shown only (the top and the bottom of a long ranking), so the cost stays the same at any scale.
    """
    rows = statuses_visible_to(request.user).filter(indicator=chosen, as_of_year=board.year).order_by()
    lacks_plan = ExpressionWrapper(
        Q(status="no_plan") | Q(baseline_value__isnull=True) | Q(target_value__isnull=True),
        output_field=BooleanField(),
    )
    # Ids and figures only, and regions rather than (region, ratio) pairs below: a national plan has thousands of
    # regions, and every object kept through the request adds to the garbage collector's work.
    ratio_of: dict[int, Decimal] = {}
    planless_ids: set[int] = set()
    for region_id, ratio, lacks in rows.annotate(lacks_plan=lacks_plan).values_list("region_id", "ratio", "lacks_plan"):
        if ratio is not None:
            ratio_of[region_id] = ratio
        elif lacks:
            planless_ids.add(region_id)
    reference: RegionChoice | None = None
    ranked: list[RegionChoice] = []
    waiting: list[RegionChoice] = []  # no ratio yet (未填报, or too early to judge)
    planless: list[RegionChoice] = []  # no baseline or target: listed after those waiting
    own = board.plan.region_id
    for region in board.regions:
        if region.pk == own:
            # The plan's own region (the city) is the sum or the whole of its counties, not one of them: it is
            # shown above the ranking as the reference, unnumbered.
            reference = region
        elif region.pk in ratio_of:
            ranked.append(region)
        elif region.pk in planless_ids:
            planless.append(region)
        else:
            waiting.append(region)
    ranked.sort(key=lambda region: -ratio_of[region.pk])  # stable: region order among equals
    total = len(ranked)
    if total > 2 * RANKING_SHOWN:
        places = [*range(1, RANKING_SHOWN + 1), *range(total - RANKING_SHOWN + 1, total + 1)]
    else:
        places = list(range(1, total + 1))
    numbered: list[tuple[int | None, RegionChoice]] = [(place, ranked[place - 1]) for place in places]
    # Regions that cannot be ranked are listed after it, as many as one end of the ranking at most: before the
    # first values come in, that is nearly every region.
    unranked = waiting + planless
    shown = numbered + [(None, region) for region in unranked[:RANKING_SHOWN]]
    wanted = [region.pk for _, region in shown] + ([reference.pk] if reference is not None else [])
    full = {
        values["region_id"]: SimpleNamespace(**values)
        for values in rows.filter(region_id__in=wanted).values("region_id", *RANKING_FIELDS)
    }

    def line(place: int | None, region: RegionChoice) -> tuple[Any, ...]:
        """A line of the ranking: place, region, stored row, card, link to the indicator's detail for the region."""
        row = full.get(region.pk)
        return (place, region, row, status_card(chosen, row), fill_link(link, chosen.pk, region.pk))

    return {
        "ranking": [line(place, region) for place, region in shown],
        "ranking_reference": line(None, reference) if reference is not None else None,
        "ranking_total": total,
        "ranking_cut": total > 2 * RANKING_SHOWN,
        "ranking_unranked": len(unranked),
        "ranking_unranked_cut": len(unranked) > RANKING_SHOWN,
    }


@login_required
def task_board(request: HttpRequest) -> HttpResponse:
    board = dashboard_filters(request)
    tasks = (
        tasks_visible_to(request.user)
        .filter(plan=board.plan)
        .select_related("initiative", "column")
        .prefetch_related(
            Prefetch("responsibilities", queryset=Responsibility.objects.select_related("unit").order_by("order")),
            Prefetch(
                "statuses",
                queryset=TaskStatus.objects.filter(as_of_year=board.year).select_related("target"),
                to_attr="year_statuses",
            ),
            "targets",
        )
        .order_by("order")
    )
    if board.unit is not None:
        tasks = tasks.filter(responsibilities__unit=board.unit).distinct()
    groups: dict[str, dict[Any, list[Any]]] = defaultdict(lambda: defaultdict(list))
    counts: Counter[str] = Counter()
    for task in tasks:
        overall = next((s for s in task.year_statuses if s.target_id is None), None)
        end_year = board.plan.period_end_year
        display = display_status(overall.status, overall.latest_year, end_year) if overall else "no_data"
        counts[display] += 1
        if board.status and display != board.status:
            continue
        per_target = {s.target_id: s for s in task.year_statuses if s.target_id is not None}
        item = {
            "task": task,
            "display": display,
            "label": DISPLAY_LABELS[display],
            "overall": overall,
            "targets": [(t, per_target.get(t.pk)) for t in task.targets.all()],
            "lead": [r.unit for r in task.responsibilities.all() if r.role == ResponsibilityRole.LEAD],
            "co": [r.unit for r in task.responsibilities.all() if r.role != ResponsibilityRole.LEAD],
        }
        groups[task.initiative.group_title][task.initiative].append(item)
    context = {
        **base_context(board, "tasks"),
        "attribute_label": "",  # not a task filter: the printed caption leaves it out too
        "groups": [(title, list(initiatives.items())) for title, initiatives in groups.items()],
        "counts": [(key, label, counts.get(key, 0)) for key, label in DISPLAY_STATUSES],
        "chart": _chart_counts([(key, label, counts.get(key, 0)) for key, label in DISPLAY_STATUSES]),
    }
    return render(request, "dashboards/tasks.html", context)


@login_required
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One task: its text, targets, units, each year's progress in the person's scope, status history, flags."""
    with request_choices():  # the board's year, when the link came from it; outside the plan a 400
        page = task_page(request.user, pk, request.GET.get("year"))
    return render(request, "dashboards/task_detail.html", {"page": page, "task": page.task})


@login_required
def unit_board(request: HttpRequest) -> HttpResponse:
    board = dashboard_filters(request)
    plan = board.plan
    task_status: defaultdict[int, Counter[str]] = defaultdict(Counter)
    co_tasks: Counter[int] = Counter()
    # From the units' tasks (as the unit's page lists them), not from the stored rows: a task never computed is
    # counted too, as 未填报.
    visible_tasks = tasks_visible_to(request.user).filter(plan=plan)
    stored = {
        task_id: (status, latest_year)
        for task_id, status, latest_year in TaskStatus.objects.filter(
            task__in=visible_tasks, as_of_year=board.year, target__isnull=True
        ).values_list("task_id", "status", "latest_year")
    }
    for unit_id, role, task_id in Responsibility.objects.filter(task__in=visible_tasks).values_list(
        "unit_id", "role", "task_id"
    ):
        if role == ResponsibilityRole.LEAD:
            status, latest_year = stored.get(task_id, (None, None))
            display = display_status(status, latest_year, plan.period_end_year) if status else "no_data"
            task_status[unit_id][display] += 1
        else:
            co_tasks[unit_id] += 1
    indicator_status: defaultdict[int | None, Counter[str]] = defaultdict(Counter)
    for indicator in board_indicators(request, board):
        row = AnnotatedAssessment.of(indicator)
        indicator_status[indicator.lead_unit_id][
            display_status(row.status, row.latest_year, indicator.target_year)
        ] += 1
    # The same open flags the unit's page lists (open_flags), counted per unit and kind.
    flag_counts: defaultdict[int, Counter[str]] = defaultdict(Counter)
    for unit_id, kind, n in (
        open_flags(request.user, plan, board.region).order_by().values_list("lead_unit", "kind").annotate(n=Count("id"))
    ):
        flag_counts[unit_id][kind] = n
    involved = set(task_status) | set(co_tasks) | set(indicator_status) | set(flag_counts)
    cards: list[dict[str, Any]] = []
    for unit in board.units:
        if unit.pk not in involved or (board.unit is not None and unit.pk != board.unit.pk):
            continue
        tasks = task_status.get(unit.pk, Counter())
        indicators = indicator_status.get(unit.pk, Counter())
        cards.append(
            {
                "unit": unit,
                "tasks": [(key, label, tasks.get(key, 0)) for key, label in DISPLAY_STATUSES if tasks.get(key)],
                "task_total": sum(tasks.values()),
                "co_total": co_tasks[unit.pk],
                "indicators": [
                    (key, label, indicators.get(key, 0)) for key, label in DISPLAY_STATUSES if indicators.get(key)
                ],
                "indicator_total": sum(indicators.values()),
                "behind": tasks.get("lagging", 0)
                + tasks.get("regressing", 0)
                + indicators.get("lagging", 0)
                + indicators.get("regressing", 0),
                "lag_flags": flag_counts[unit.pk][FlagKind.LAG],
                "overdue": flag_counts[unit.pk][FlagKind.OVERDUE],
            }
        )
    cards.sort(key=lambda c: (-c["lag_flags"] - c["behind"], -c["overdue"], c["unit"].order))
    return render(request, "dashboards/units.html", {**base_context(board, "units"), "cards": cards})


@login_required
def unit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    board = dashboard_filters(request)
    unit = get_object_or_404(Unit, pk=pk)
    plan = board.plan
    tasks = list(
        tasks_visible_to(request.user)
        .filter(plan=plan, responsibilities__unit=unit)
        .distinct()
        .prefetch_related(
            Prefetch(
                "statuses",
                queryset=TaskStatus.objects.filter(as_of_year=board.year, target__isnull=True),
                to_attr="year_statuses",
            ),
            Prefetch("responsibilities", queryset=Responsibility.objects.filter(unit=unit), to_attr="unit_roles"),
        )
        .order_by("order")
    )
    task_rows = []
    for task in tasks:
        overall = task.year_statuses[0] if task.year_statuses else None
        display = display_status(overall.status, overall.latest_year, plan.period_end_year) if overall else "no_data"
        task_rows.append((task, task.unit_roles[0].get_role_display(), display, DISPLAY_LABELS[display], overall))
    indicator_rows = [
        (indicator, status_card(indicator, AnnotatedAssessment.of(indicator)))
        for indicator in board_indicators(request, board)
        if indicator.lead_unit_id == unit.pk
    ]
    # The flags the units page counts on this unit's card (open_flags), each kind a page at a time.
    unit_flags = open_flags(request.user, plan, board.region).filter(lead_unit=unit)
    flag_pages = {
        kind: Paginator(flags_in_order(unit_flags.filter(kind=kind)), UNIT_FLAGS_PER_PAGE).get_page(
            parse_id(request.GET.get(f"{kind}_page")) or 1
        )
        for kind in (FlagKind.LAG, FlagKind.OVERDUE)
    }
    context = {
        **base_context(board, "units"),
        "unit": unit,
        "task_rows": task_rows,
        "indicator_rows": indicator_rows,
        "lag_page": flag_pages[FlagKind.LAG],
        "lag_flags": in_display_order(flag_pages[FlagKind.LAG].object_list),
        "overdue_page": flag_pages[FlagKind.OVERDUE],
        "overdue_flags": in_display_order(flag_pages[FlagKind.OVERDUE].object_list),
    }
    return render(request, "dashboards/unit_detail.html", context)
