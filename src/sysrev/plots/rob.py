"""Risk-of-bias figures as robvis draws them: the traffic-light plot (studies by domains)
and the weighted summary bar plot (share of information per judgement, per domain).

McGuinness LA, Higgins JPT. Risk-of-bias VISualization (robvis). Res Synth Methods
2021;12:55-61.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["svg.hashsalt"] = "sysrev"
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from sysrev.rob import RobTool  # noqa: E402
from sysrev.tables import atomic_path  # noqa: E402

COLOURS = {"Low": "#02C100", "Some concerns": "#E2DF07", "High": "#BF0000",
           "Moderate": "#E2DF07", "Serious": "#BF0000", "Critical": "#820000",
           "No information": "#4EA1F7"}
SYMBOLS = {"Low": "+", "Some concerns": "\u2212", "High": "\u00d7", "Moderate": "\u2212",
           "Serious": "\u00d7", "Critical": "!", "No information": "?"}


def key_levels(tool: RobTool, table: pd.DataFrame) -> list[str]:
    """The judgements a plot's key shows: every level of the tool, best to worst, whether
    or not a study was judged so (as robvis draws them, so a reader sees the scale), with
    "No information" only when some judgement says so (it is not a level of bias)."""
    present = set(table["judgement"])
    return [j for j in tool.judgements if j != "No information" or j in present]


def _save(fig, png, svg, dpi=300):
    with atomic_path(png, "wb") as handle:
        fig.savefig(handle, format="png", dpi=dpi, bbox_inches="tight",
                    metadata={"Software": None})
    with atomic_path(svg, "w") as handle:
        fig.savefig(handle, format="svg", bbox_inches="tight",
                    metadata={"Date": None, "Creator": None})
    plt.close(fig)


def traffic_light(table: pd.DataFrame, labels: dict[str, str], tool: RobTool,
                  png: str | Path, svg: str | Path, order: list[str] | None = None) -> dict:
    """Traffic-light plot: one row per study (top to bottom in ``order``, the study order
    of :mod:`sysrev.study_order`; by label without it), one column per domain and the
    overall. Returns what was drawn: the studies top to bottom, and the Figure (closed)."""
    present = set(table["study_id"])
    if order is None:
        order = sorted(present, key=lambda s: labels.get(s, s))
    studies = [s for s in order if s in present] + sorted(present - set(order))
    domains = list(tool.domains) + ["overall"]
    judgement = table.set_index(["study_id", "domain"])["judgement"]
    fig, ax = plt.subplots(figsize=(1.6 + 0.75 * len(domains), 0.8 + 0.55 * len(studies)))
    for i, study in enumerate(studies):
        y = len(studies) - 1 - i
        for j, domain in enumerate(domains):
            value = judgement[(study, domain)]
            ax.scatter(j, y, s=620, color=COLOURS[value], edgecolors="black", linewidths=0.4,
                       zorder=2)
            ax.text(j, y, SYMBOLS[value], ha="center", va="center", fontsize=12,
                    fontweight="bold", color="black", zorder=3)
    ax.set_xticks(range(len(domains)))
    ax.set_xticklabels([d if d != "overall" else "Overall" for d in domains], fontsize=9)
    ax.xaxis.tick_top()
    # Axis titles as robvis draws them: the domains across the top, the studies down the left.
    ax.xaxis.set_label_position("top")
    ax.set_xlabel("Risk of bias domains", fontsize=10, labelpad=8)
    ax.set_ylabel("Study", fontsize=10, labelpad=8)
    ax.set_yticks(range(len(studies)))
    ax.set_yticklabels([labels.get(s, s) for s in reversed(studies)], fontsize=9)
    ax.set_xlim(-0.6, len(domains) - 0.4)
    ax.set_ylim(-0.6, len(studies) - 0.4)
    ax.axvline(len(domains) - 1.5, color="grey", lw=0.6)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(length=0)
    legend_domains = "\n".join(f"{d}: {name}" for d, name in tool.domains.items())
    handles = [Patch(facecolor=COLOURS[j], edgecolor="black", label=f"{SYMBOLS[j]}  {j}")
               for j in key_levels(tool, table)]
    # Both keys sit right under the last row (offsets in points, not figure fractions, so
    # no band opens between the plot and the keys however many studies there are).
    ax.annotate(f"Domains ({tool.name}):\n" + legend_domains, xy=(0, 0),
                xycoords="axes fraction", xytext=(0, -6), textcoords="offset points",
                fontsize=8, va="top", ha="left", gid="domains_key")
    height_pt = fig.get_size_inches()[1] * 72 * ax.get_position().height
    legend = ax.legend(handles=handles, loc="upper right",
                       bbox_to_anchor=(1.0, -2 / height_pt), borderaxespad=0, fontsize=8,
                       title="Judgement", title_fontsize=8, frameon=False)
    legend.set_gid("judgement_key")
    _save(fig, png, svg)
    return {"studies": studies, "figure": fig}


def summary_plot(table: pd.DataFrame, weights: dict[str, float], tool: RobTool,
                 png: str | Path, svg: str | Path, drawn: dict | None = None) -> pd.DataFrame:
    """Weighted summary bar plot; returns the percentages drawn (domain x judgement). The
    Figure (closed) is put in ``drawn["figure"]`` when ``drawn`` is given."""
    domains = list(tool.domains) + ["overall"]
    rows = []
    for domain in domains:
        part = table[table["domain"] == domain]
        total = sum(weights.get(s, 0.0) for s in part["study_id"])
        for value in tool.judgements:
            share = sum(weights.get(s, 0.0) for s in part.loc[part["judgement"] == value,
                                                                "study_id"])
            rows.append({"domain": domain, "judgement": value,
                         "percent": 100 * share / total if total else 0.0})
    shares = pd.DataFrame(rows)
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(domains) + 1.4))
    names = [tool.domains.get(d, "Overall risk of bias") for d in domains]
    for i, domain in enumerate(domains):
        y = len(domains) - 1 - i
        left = 0.0
        for value in tool.judgements:
            pct = float(shares[(shares["domain"] == domain)
                               & (shares["judgement"] == value)]["percent"].iloc[0])
            if pct > 0:
                ax.barh(y, pct, left=left, color=COLOURS[value], edgecolor="black",
                        linewidth=0.4, height=0.7)
            left += pct
    ax.set_yticks(range(len(domains)))
    ax.set_yticklabels(list(reversed(names)), fontsize=9)
    ax.set_xlim(0, 100)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_xticklabels(["0%", "25%", "50%", "75%", "100%"], fontsize=8)
    ax.set_xlabel("Share of participants (weighted by study size)", fontsize=8)
    used = key_levels(tool, table)
    if set(table["judgement"]) & set(used):
        # Right under the axis title: the offset is in points (tick labels and the title
        # take about 30), so the gap does not grow with the number of domains.
        height_pt = fig.get_size_inches()[1] * 72 * ax.get_position().height
        legend = ax.legend(handles=[Patch(facecolor=COLOURS[j], edgecolor="black", label=j)
                                    for j in used],
                           loc="upper center", bbox_to_anchor=(0.5, -32 / height_pt),
                           borderaxespad=0, ncol=len(used), fontsize=8, frameon=False)
        legend.set_gid("judgement_key")
    else:
        ax.text(50, (len(domains) - 1) / 2, "No study has a risk-of-bias judgement",
                ha="center", va="center", fontsize=9)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    _save(fig, png, svg)
    if drawn is not None:
        drawn["figure"] = fig
    return shares
