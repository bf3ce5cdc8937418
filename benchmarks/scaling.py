"""How the recompute's cost grows with the size of the plan: the sizes, the goals' verdicts and the chart.

Pure (no database), so `tests/benchmarks/test_scaling.py` checks them without PostgreSQL; `manage.py bench` measures
the figures and hands them here.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

# Goals of issue 16, in one place: the table's goal column is written from these.
FULL_SECONDS_GOAL = 5.0
FULL_FLOOR_RATIO_GOAL = 1.5
NOOP_SECONDS_GOAL = 1.0
FLAT_RATIO_GOAL = 2.0
SPEEDUP_GOAL = 1.7
# The full recompute and its floor at the main size, each timed this many times: their ratio is a goal, and one
# run of either moves by ±10% on a shared 2-core machine; the medians are compared and every run printed.
MAIN_RUNS = 3

Run = TypeVar("Run")

# A font with the CJK glyphs the chart's labels need; the first one present is used.
CJK_FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
CJK_FONT_NAMES = re.compile(r"noto\w*cjk|sourcehan|wqy|droidsansfallback", re.IGNORECASE)


def parse_sizes(text: str) -> tuple[int, ...]:
    """'285,1430,3000,5700' → (285, 1430, 3000, 5700): region counts, sorted, each once."""
    sizes = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or int(part) < 1:
            raise ValueError(f"--sizes 须为以逗号分隔的正整数（区域数），例如 285,1430,3000,5700；“{part}”不是正整数。")
        sizes.add(int(part))
    if not sizes:
        raise ValueError("--sizes 至少要有一个规模（区域数），例如 285,1430,3000,5700。")
    return tuple(sorted(sizes))


def main_size(sizes: Sequence[int], wanted: int | None, default: int) -> int:
    """The size the other rows (floor, naive, pages, API, chord) are measured at: the one asked for, else the size
    nearest the default (the smaller on a tie)."""
    if wanted is not None:
        return wanted
    return min(sizes, key=lambda size: (abs(size - default), size))


@dataclass(frozen=True)
class ScalePoint:
    """The recompute figures at one size. regions_* are None where the recompute does not report them."""

    regions: int
    values: int
    full_seconds: float
    full_rows: int
    noop_seconds: float
    noop_rows: int
    noop_regions: int | None
    incremental_seconds: float
    incremental_max_seconds: float
    incremental_rows: int
    incremental_regions: int | None
    regions_total: int | None
    peak_rss_mb: float

    @property
    def millions(self) -> float:
        return self.values / 1e6


@dataclass(frozen=True)
class FullGoal:
    """The full recompute's goal: ≤ 5 s or ≤ 1.5 × the floor measured in the same run, whichever is larger."""

    limit: float
    floor_limit: float
    applies: str  # which of the two is the larger, in words
    met: bool

    @property
    def text(self) -> str:
        return (
            f"≤ {self.limit:.1f} 秒（{FULL_SECONDS_GOAL:g} 秒与 {FULL_FLOOR_RATIO_GOAL:g} × 下限 = "
            f"{self.floor_limit:.1f} 秒中的较大者，适用：{self.applies}）"
        )


def full_goal(full_seconds: float, floor_seconds: float) -> FullGoal:
    floor_limit = FULL_FLOOR_RATIO_GOAL * floor_seconds
    if floor_limit > FULL_SECONDS_GOAL:
        limit, applies = floor_limit, f"{FULL_FLOOR_RATIO_GOAL:g} × 下限"
    else:
        limit, applies = FULL_SECONDS_GOAL, f"{FULL_SECONDS_GOAL:g} 秒"
    return FullGoal(limit=limit, floor_limit=floor_limit, applies=applies, met=full_seconds <= limit)


def spread(figures: Sequence[float]) -> float:
    """Largest over smallest: 1 when a figure does not depend on the size at all."""
    return max(figures) / max(min(figures), 1e-9)


def noop_met(points: Sequence[ScalePoint]) -> bool:
    return all(p.noop_seconds <= NOOP_SECONDS_GOAL and p.noop_rows == 0 and not p.noop_regions for p in points)


def incremental_met(points: Sequence[ScalePoint], series: int) -> bool | None:
    """Flat across the sizes, and incremental indeed (no more regions redone than series changed)."""
    if len(points) < 2:
        return None  # one size says nothing about growth
    redone = [p.incremental_regions for p in points if p.incremental_regions is not None]
    return spread([p.incremental_seconds for p in points]) <= FLAT_RATIO_GOAL and all(r <= series for r in redone)


def median(samples: Sequence[float]) -> float:
    return float(statistics.median(samples))


def median_run(runs: Sequence[Run], seconds: Callable[[Run], float]) -> Run:
    """The run whose time is the median (the lower middle one of an even number): a run that happened, so its
    other figures belong with its time."""
    if not runs:
        raise ValueError("no runs")
    return sorted(runs, key=seconds)[(len(runs) - 1) // 2]


def seconds_label(seconds: float) -> str:
    """Two significant figures below 10 s (0.012, 0.35, 4.2), whole seconds above."""
    return f"{seconds:.0f}" if seconds >= 10 else f"{seconds:.2g}"


def find_cjk_font() -> Path | None:
    """A font file with CJK glyphs, or None (then the chart carries numbers only rather than boxes for 汉字)."""
    for path in CJK_FONT_FILES:
        if Path(path).exists():
            return Path(path)
    from matplotlib import font_manager

    # findSystemFonts scans the font directories afresh: matplotlib's own cache predates fonts installed later.
    found = sorted(p for p in font_manager.findSystemFonts() if CJK_FONT_NAMES.search(Path(p).name))
    return Path(found[0]) if found else None


def draw_chart(
    points: Sequence[ScalePoint], path: Path, *, font_file: Path | None, note: str = "", series: int = 10
) -> None:
    """One PNG: seconds against values (millions) for the full, no-op and incremental recompute.

    Both axes are logarithmic: the times span three orders of magnitude (tens of milliseconds to tens of seconds),
    so on a linear axis the no-op and incremental lines would lie on zero. On log-log axes linear growth is a line
    of slope 1 (parallel to the dashed reference) and a cost independent of size is level.
    Without a CJK font the chart has no words, only numbers; the markdown beside it names the lines.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    font = small = None
    if font_file is not None:
        font_manager.fontManager.addfont(str(font_file))
        font = font_manager.FontProperties(fname=str(font_file))
        small = font.copy()
        small.set_size(8)

    def words(text: str) -> str:
        return text if font is not None else ""

    ordered = sorted(points, key=lambda p: p.values)
    x = [p.millions for p in ordered]
    lines = (
        ("全量重算", [p.full_seconds for p in ordered], "o", "#c0392b", (6, 4)),
        ("无变化重算", [p.noop_seconds for p in ordered], "s", "#3b73b9", (6, -12)),  # below: it meets 增量
        (f"增量重算（{series} 条序列）", [p.incremental_seconds for p in ordered], "^", "#2e9d57", (6, 4)),
    )
    figure, axis = plt.subplots(figsize=(7.2, 5.4), dpi=150)
    for label, seconds, marker, colour, offset in lines:
        shown = [max(s, 1e-3) for s in seconds]  # a log axis has no zero
        axis.plot(x, shown, marker=marker, color=colour, label=words(label))
        for xi, si in zip(x, shown, strict=True):
            axis.annotate(
                seconds_label(si),
                (xi, si),
                textcoords="offset points",
                xytext=offset,
                fontsize=8,
                color=colour,
            )
    smallest = ordered[0]
    axis.plot(
        x,
        [smallest.full_seconds * p.values / smallest.values for p in ordered],
        linestyle="--",
        color="#7f8c8d",
        linewidth=1,
        label=words("线性增长参考（按最小规模的全量外推）"),
    )
    axis.axhline(
        NOOP_SECONDS_GOAL, linestyle=":", color="#3b73b9", linewidth=1, label=words("无变化重算的目标（1 秒）")
    )
    axis.set_xscale("log")
    axis.set_yscale("log")
    every = [max(s, 1e-3) for _, seconds, *_ in lines for s in seconds] + [NOOP_SECONDS_GOAL]
    axis.set_ylim(min(every) / 1.8, max(every) * 1.8)  # room for the labels under the lowest points
    axis.xaxis.set_major_locator(FixedLocator(x))
    axis.xaxis.set_minor_locator(NullLocator())
    axis.set_xticklabels([f"{v:.3g}" for v in x])
    axis.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_xlim(x[0] / 1.25, x[-1] * 1.25)
    axis.grid(True, which="major", linestyle=":", linewidth=0.6, color="#cccccc")
    axis.spines[["top", "right"]].set_visible(False)
    if font is not None:
        axis.set_title("重算耗时随规模的变化（合成数据）", fontproperties=font)
        axis.set_xlabel("已审核数值（百万条，对数刻度）", fontproperties=font)
        axis.set_ylabel("耗时（秒，对数刻度）", fontproperties=font)
        # Below the axes: inside, it would cover one line or another at some size.
        axis.legend(prop=small, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
        figure.text(0.01, 0.01, f"合成数据，非规划事实。{note}", fontproperties=small, color="#555555")
    figure.tight_layout(rect=(0, 0.03, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    plt.close(figure)
