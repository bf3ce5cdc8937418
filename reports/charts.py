"""The report's charts, drawn server-side by matplotlib at 300 dpi with the Noto CJK font installed with the system
(fonts-noto-cjk). They carry no title: the document puts a numbered caption (图1 …) under each."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from .collect import IndicatorLine

CJK_FONT_FILES = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
]
DPI = 300
CHART_COLOURS = {
    "achieved_early": "#0f7b3f",
    "achieved": "#2e9d57",
    "ahead": "#5cb85c",
    "on_track": "#3b73b9",
    "watch": "#e0a100",
    "lagging": "#d9641e",
    "regressing": "#c0392b",
    "no_data": "#b8c0cc",
    "no_plan": "#d5dae1",
}


def _font() -> Any:
    from matplotlib import font_manager

    for path in CJK_FONT_FILES:
        if Path(path).exists():
            font_manager.fontManager.addfont(path)
            return font_manager.FontProperties(fname=path)
    return None


def status_chart(counts: list[tuple[str, str, int]]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    font = _font()
    shown = [(k, label, n) for k, label, n in counts if n]
    figure, axis = plt.subplots(figsize=(5.2, 0.4 * max(len(shown), 3) + 0.6), dpi=DPI)
    axis.barh([label for _, label, _ in shown], [n for *_, n in shown], color=[CHART_COLOURS[k] for k, _, _ in shown])
    axis.invert_yaxis()
    for index, (_k, _l, n) in enumerate(shown):
        axis.text(n, index, f" {n}", va="center", fontproperties=font)
    for label in axis.get_yticklabels():
        label.set_fontproperties(font)
    axis.spines[["top", "right"]].set_visible(False)
    from matplotlib.ticker import MaxNLocator

    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    figure.tight_layout()
    output = io.BytesIO()
    figure.savefig(output, format="png", dpi=DPI)
    plt.close(figure)
    return output.getvalue()


def completion_chart(lines: list[IndicatorLine]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    font = _font()
    names = [f"{line.indicator.number}. {line.indicator.name}" for line in lines]
    completion = [float(line.row.completion or 0) * 100 for line in lines]
    expected = [float(line.row.expected_completion or 0) * 100 for line in lines]
    figure, axis = plt.subplots(figsize=(6.2, 0.3 * len(lines) + 1.0), dpi=DPI)
    positions = range(len(lines))
    axis.barh(
        positions, [min(max(c, 0), 130) for c in completion], color=[CHART_COLOURS[line.display] for line in lines]
    )
    axis.scatter(expected, positions, marker="|", s=220, color="#1f2933", zorder=3, label="按时间应完成")
    axis.set_yticks(list(positions), names)
    axis.invert_yaxis()
    axis.set_xlabel("完成度（%）", fontproperties=font)
    for label in axis.get_yticklabels():
        label.set_fontproperties(font)
        label.set_fontsize(9)
    axis.legend(prop=font, loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False, borderaxespad=0.2)
    axis.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    output = io.BytesIO()
    figure.savefig(output, format="png", dpi=DPI)
    plt.close(figure)
    return output.getvalue()
