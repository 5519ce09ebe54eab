"""Bubble plot of a meta-regression, as metafor's ``regplot``: each study's effect against
the moderator, points sized by the model's weights, the fitted line with its confidence band
(other moderators held at their means).

Thompson SG, Higgins JPT. How should meta-regression analyses be undertaken and interpreted?
Stat Med 2002;21:1559-73.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["svg.hashsalt"] = "sysrev"
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sysrev.plots.funnel import MEASURE_NAMES, save_png_svg  # noqa: E402


def bubble_plot(summary: dict, label: str, png: str | Path, svg: str | Path, *,
                dpi: int = 300) -> dict:
    """Draw the bubble plot from :func:`sysrev.analysis_models.meta_regression`'s summary.

    A model without a continuous moderator (or not fitted) gets a plot that says so.
    Returns what was drawn.
    """
    bubble = summary.get("bubble")
    fig, ax = plt.subplots(figsize=(7.2, 5.0))
    ratio = summary.get("scale") == "log"
    if not bubble:
        ax.axis("off")
        why = summary.get("status", "")
        why = why if why != "fitted" else "no continuous moderator to draw"
        ax.text(0.5, 0.5, f"{label}: no bubble plot ({why})", ha="center", va="center",
                fontsize=9, wrap=True)
        drawn = {"points": 0}
    else:
        x, y = np.array(bubble["x"]), np.array(bubble["yi"])
        w = np.array(bubble["weight"])
        sizes = 20 + 600 * w / w.max()
        grid = np.array(bubble["grid"])
        ax.fill_between(grid, bubble["ci_lb"], bubble["ci_ub"], color="#d9d9d9", lw=0,
                        label=f"{summary['methods']['level']:g}% CI")
        ax.plot(grid, bubble["pred"], color="black", lw=1.2, label="Fitted")
        ax.scatter(x, y, s=sizes, facecolor="#9ecae1", edgecolors="black", linewidths=0.5,
                   zorder=3, alpha=0.9)
        ax.axhline(0, color="grey", lw=0.6, ls=":")
        ax.set_xlabel(bubble["moderator"])
        name = MEASURE_NAMES.get(summary["measure"], summary["measure"])
        ax.set_ylabel(name)
        if ratio:
            lo, hi = ax.get_ylim()
            ticks = [v for v in (0.1, 0.2, 0.5, 1, 2, 5, 10) if lo <= math.log(v) <= hi]
            if ticks:
                ax.set_yticks([math.log(v) for v in ticks])
                ax.set_yticklabels([f"{v:g}" for v in ticks])
        drawn = {"points": len(x)}
    lines = [f"{label}: meta-regression (k = {summary.get('k', 0)})"]
    if summary.get("status") == "fitted":
        qm_df = summary["qm_df"]
        lines.append(f"QM({', '.join(str(d) for d in qm_df)}) = {summary['qm']:.2f}, "
                     f"p = {summary['qm_p']:.3g}; residual tau2 = {summary['tau2']:.3g}"
                     + (f", R2 = {summary['r2']:.0f}%" if summary.get("r2") is not None
                        else ""))
        if bubble and bubble["others_at_mean"]:
            lines.append("Other moderators at their means: "
                         + ", ".join(bubble["others_at_mean"]))
    if summary.get("warning"):
        lines += textwrap.wrap("Caution: " + summary["warning"], 95)
    text = "\n".join(lines)
    ax.set_title(text, fontsize=7.5, loc="left")
    save_png_svg(fig, ax, png, svg, dpi)
    return drawn | {"text": text}
