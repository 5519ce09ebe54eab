"""Funnel plots: each study's effect against its standard error, the pseudo 95% confidence
region around the pooled estimate, optional significance contours around no effect, and
Egger's test printed on the plot.

Sterne JAC et al. Recommendations for examining and interpreting funnel plot asymmetry in
meta-analyses of randomised controlled trials. BMJ 2011;343:d4002. Peters JL et al.
Contour-enhanced meta-analysis funnel plots. J Clin Epidemiol 2008;61:991-6.
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
from scipy import stats  # noqa: E402

from sysrev.tables import atomic_path  # noqa: E402

CONTOURS = ((0.10, "#f0f0f0"), (0.05, "#d9d9d9"), (0.01, "#bdbdbd"))
MEASURE_NAMES = {"MD": "Mean difference", "SMD": "Standardised mean difference",
                 "RR": "Risk ratio (log scale)", "OR": "Odds ratio (log scale)",
                 "RD": "Risk difference"}


def funnel_plot(pooled: dict, png: str | Path, svg: str | Path, *, contours: bool = False,
                dpi: int = 300) -> dict:
    """Draw the funnel plot of one outcome from its ``pooled.json``.

    Returns what was drawn: the points, the y range (SE, inverted) and the Egger text.
    """
    funnel = pooled["funnel"]
    ratio = pooled["measure"] in ("RR", "OR")
    points = funnel["points"]
    yi = np.array([p["yi"] for p in points])
    sei = np.array([p["sei"] for p in points])
    se_max = max(float(sei.max()) * 1.1, 1e-9)
    centre = funnel["estimate"]
    z = float(stats.norm.ppf(1 - (1 - funnel["pseudo_ci"]["level"] / 100) / 2))

    fig, ax = plt.subplots(figsize=(7.2, 5.0))
    se_grid = np.linspace(0, se_max, 50)
    if contours:
        for p, colour in CONTOURS:
            zc = float(stats.norm.ppf(1 - p / 2))
            ax.fill_betweenx(se_grid, -zc * se_grid - 1e3, -zc * se_grid, color=colour,
                             lw=0)
            ax.fill_betweenx(se_grid, zc * se_grid, zc * se_grid + 1e3, color=colour, lw=0)
        ax.fill_betweenx(se_grid, -stats.norm.ppf(0.95) * se_grid,
                         stats.norm.ppf(0.95) * se_grid, color="white", lw=0)
    ax.plot(centre - z * se_grid, se_grid, color="black", lw=0.8, ls="--")
    ax.plot(centre + z * se_grid, se_grid, color="black", lw=0.8, ls="--")
    ax.axvline(centre, color="black", lw=0.8)
    ax.scatter(yi, sei, s=28, color="#1f5aa6", edgecolors="black", linewidths=0.4, zorder=3)
    filled = (pooled.get("trim_and_fill") or {}).get("filled") or []
    span_y = yi
    if filled:
        # Trim-and-fill: the filled studies as open circles, the adjusted estimate dotted.
        fy = np.array([f["yi"] for f in filled])
        ax.scatter(fy, [f["sei"] for f in filled], s=28, facecolor="white",
                   edgecolors="black", linewidths=0.6, zorder=3, label="Filled (trim-and-fill)")
        ax.axvline(pooled["trim_and_fill"]["estimate"], color="black", lw=0.8, ls=":")
        span_y = np.concatenate([yi, fy])
    span = max(abs(span_y - centre).max() + 0.1 * se_max, z * se_max) * 1.15
    ax.set_xlim(centre - span, centre + span)
    ax.set_ylim(se_max, 0)
    ax.set_ylabel("Standard error")
    ax.set_xlabel(MEASURE_NAMES.get(pooled["measure"], pooled["measure"]))
    if ratio:
        lo, hi = math.exp(centre - span), math.exp(centre + span)
        for steps in ((1, 2, 5), (1, 5), (1,)):
            nice = [v * 10 ** e for e in range(-3, 4) for v in steps
                    if lo <= v * 10 ** e <= hi]
            if len(nice) <= 7:
                break
        ax.set_xticks([math.log(v) for v in nice])
        ax.set_xticklabels([f"{v:g}" for v in nice])
    egger = pooled.get("egger")
    shown = math.exp(centre) if ratio else centre
    lines = [f"{pooled['label']} (k = {funnel['k']}); centre line: the common-effect "
             f"(inverse-variance) estimate, {pooled['measure']} {shown:.2f}"]
    if egger and egger.get("pval") is not None:
        lines.append(f"Egger's test: bias coefficient {egger['slope']:.2f}, "
                     f"p = {egger['pval']:.2f}")
    else:
        minimum = (pooled.get("small_study") or {}).get("min_studies", 3)
        lines.append(f"Egger's test: not computed (fewer than {max(minimum, 3)} studies)")
    tf = pooled.get("trim_and_fill")
    if tf and "k0" in tf:
        est = tf.get("exp_estimate", tf["estimate"])
        lines.append(f"Trim-and-fill ({tf['estimator']}): {tf['k0']} studies filled on the "
                     f"{tf['side']}; adjusted estimate {est:.2f} (dotted line)")
    if funnel.get("warning"):
        lines += textwrap.wrap("Caution: " + funnel["warning"], 95)
    text = "\n".join(lines)
    ax.set_title(text, fontsize=7.5, loc="left")
    if contours:
        from matplotlib.patches import Patch

        labels = ["0.05 < p < 0.10", "0.01 < p < 0.05", "p < 0.01"]
        handles = [Patch(facecolor="white", edgecolor="grey", label="p > 0.10")] + [
            Patch(facecolor=c, edgecolor="grey", label=label)
            for (_, c), label in zip(CONTOURS, labels)]
        ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  frameon=False, title="Contours", title_fontsize=7)
    save_png_svg(fig, ax, png, svg, dpi)
    return {"points": len(points), "ylim": (se_max, 0.0), "text": text}


def save_png_svg(fig, ax, png: str | Path, svg: str | Path, dpi: int) -> None:
    """Drop the top and right spines, then write the figure as PNG and SVG (atomically,
    without dates or software stamps, so reruns give the same bytes) and close it."""
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    with atomic_path(png, "wb") as handle:
        fig.savefig(handle, format="png", dpi=dpi, metadata={"Software": None})
    with atomic_path(svg, "w") as handle:
        fig.savefig(handle, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
