"""A cumulative forest plot by review version: one row per version of the review (its search
date, number of studies, participants, the pooled estimate with its CI as text and as a
diamond), in the RevMan 5 layout of :mod:`sysrev.plots.forest`.

metafor's ``cumul()`` adds studies one at a time in a chosen order; a living review's readers
ask instead how the result moved from one published version to the next, which is what this
plot shows (the versions' own pooled results, each as that version reported it).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from sysrev.plots.forest import (FONT, MEASURE_NAMES, RATIO, ROW_HEIGHT_IN, _axis, _fmt,
                                 draw_axis, plt, save_figure)

NOT_ESTIMABLE = "Not estimable"


def _value(row: dict, key: str) -> float | None:
    try:
        number = float(row.get(key))
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def versions_forest_plot(rows: list[dict], path_png: str | Path, path_svg: str | Path, *,
                         label: str, measure: str, level: float = 95,
                         favours_left: str = "", favours_right: str = "",
                         dpi: int = 300) -> dict:
    """Draw one outcome's results across review versions.

    ``rows`` are the versions oldest first, each ``{"version": search date, "k", "participants",
    "estimate", "ci_lower", "ci_upper"}`` as ``summary.tsv`` gives them (ratio measures on
    the ratio scale; a version that did not pool the outcome has no estimate and is shown
    "Not estimable"). Returns what was drawn (versions, diamonds, x range) for tests.
    """
    ratio = measure in RATIO
    to_axis = math.log if ratio else (lambda x: x)
    level_text = f"{level:g}% CI"
    fits = []
    for row in rows:
        est, lo, hi = (_value(row, k) for k in ("estimate", "ci_lower", "ci_upper"))
        ok = None not in (est, lo, hi) and (not ratio or min(est, lo, hi) > 0)
        fits.append((to_axis(lo), to_axis(est), to_axis(hi)) if ok else None)
    drawn = [f for f in fits if f]
    low = np.array([f[0] for f in drawn] or [0.0])
    high = np.array([f[2] for f in drawn] or [0.0])
    xmin, xmax, ticks, tick_labels = _axis(low, high, ratio)

    line, width_in = 0.62, 11.5
    top = len(rows) * (line + 0.38) + 4.4
    fig = plt.figure(figsize=(width_in, max(2.6, (top + 4) * ROW_HEIGHT_IN)))
    table = fig.add_axes([0.01, 0.01, 0.98, 0.98])
    table.set_axis_off()
    graph = (0.655, 0.975)
    plot = fig.add_axes([0.01 + 0.98 * graph[0], 0.01, 0.98 * (graph[1] - graph[0]), 0.98],
                        sharey=table)
    table.set_xlim(0, 1)
    plot.set_xlim(xmin, xmax)
    col = {"version": 0.0, "k": 0.30, "participants": 0.42, "effect": 0.47}
    table.text(0, top - 0.2, f"{label}: results by review version", fontsize=FONT + 1.5,
               weight="bold", va="top", gid="title")
    header_y = top - 2.4
    method = f"{MEASURE_NAMES.get(measure, measure)}\nIV, Random, {level_text}"
    table.text(col["version"], header_y, "Review version\n(search date)", fontsize=FONT,
               weight="bold", va="center")
    table.text(col["k"], header_y, "Studies", fontsize=FONT, weight="bold", ha="right",
               va="center")
    table.text(col["participants"], header_y, "Participants", fontsize=FONT, weight="bold",
               ha="right", va="center")
    table.text(col["effect"], header_y, method, fontsize=FONT, weight="bold", va="center")
    table.text(sum(graph) / 2, header_y, method, fontsize=FONT, weight="bold", ha="center",
               va="center")
    rule_y = header_y - 1.0
    table.plot([0, 1], [rule_y] * 2, color="black", lw=0.6)

    y = rule_y - 0.45
    diamonds, row_y = [], {}
    for row, fit in zip(rows, fits):
        y_mid = y - line / 2 + line / 2
        table.text(col["version"], y_mid, str(row["version"]), fontsize=FONT, va="center")
        k = row.get("k")
        table.text(col["k"], y_mid, "" if k in (None, "") else str(int(float(k))),
                   fontsize=FONT, ha="right", va="center")
        n = _value(row, "participants")
        table.text(col["participants"], y_mid, "" if n is None else f"{n:.0f}",
                   fontsize=FONT, ha="right", va="center")
        if fit is None:
            table.text(col["effect"], y_mid, NOT_ESTIMABLE, fontsize=FONT, va="center")
        else:
            back = math.exp if ratio else (lambda v: v)
            table.text(col["effect"], y_mid, f"{_fmt(back(fit[1]))} [{_fmt(back(fit[0]))}, "
                       f"{_fmt(back(fit[2]))}]", fontsize=FONT, va="center")
            lo, mid, hi = fit
            from matplotlib.patches import Polygon
            plot.add_patch(Polygon([(lo, y_mid), (mid, y_mid + 0.3), (hi, y_mid),
                                    (mid, y_mid - 0.3)], closed=True, color="black",
                                   clip_on=True))
            diamonds.append((row["version"], lo, mid, hi))
        row_y[str(row["version"])] = y_mid
        y -= line + 0.38

    axis_y = y + 0.38 - 0.75
    favours_y = draw_axis(plot, axis_y, rule_y, (xmin, xmax), ticks, tick_labels,
                          favours_left, favours_right)
    bottom, top_used = favours_y - 0.6, top + 0.2
    table.set_ylim(bottom, top_used)
    fig.set_size_inches(width_in, (top_used - bottom) * ROW_HEIGHT_IN)
    plot.patch.set_alpha(0)
    save_figure(fig, path_png, path_svg, dpi=dpi)
    return {"versions": [str(r["version"]) for r in rows], "diamonds": diamonds,
            "xlim": (xmin, xmax), "row_y": row_y}
