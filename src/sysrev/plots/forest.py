"""Forest plots in the layout of RevMan 5: per-arm columns, weights, the effect with its CI as
text, squares sized by weight, the pooled diamond, heterogeneity and the overall test.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
# Fixed ids in SVG output, so the same data give the same file.
matplotlib.rcParams["svg.hashsalt"] = "sysrev"
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.patches import Polygon  # noqa: E402

from sysrev.tables import atomic_path  # noqa: E402

RATIO = ("RR", "OR")
ROW_HEIGHT_IN = 0.28
FONT = 8.5
MEASURE_NAMES = {"MD": "Mean Difference", "SMD": "Std. Mean Difference",
                 "RR": "Risk Ratio", "OR": "Odds Ratio", "RD": "Risk Difference"}


def _fmt(value: float, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{value:.{digits}f}".replace("-", "\u2212")


def _num(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return ""
    value = float(value)
    return str(int(value)) if value == int(value) else _fmt(value)


def _p_text(p: float | None) -> str:
    if p is None or not math.isfinite(p):
        return "not applicable"
    # RevMan's style: two decimals, more below 0.01, and "P < 0.00001" at the floor.
    if p < 0.00001:
        return "P < 0.00001"
    for decimals in (2, 3, 4):
        if p >= 10 ** -decimals:
            return f"P = {p:.{decimals}f}"
    return f"P = {p:.5f}"


def forest_plot(effects: pd.DataFrame, pooled: dict, path_png: str | Path,
                path_svg: str | Path, *, treatment_label: str = "Treatment",
                control_label: str = "Control", favours_left: str = "Favours treatment",
                favours_right: str = "Favours control", prediction_interval: bool = False,
                dpi: int = 300) -> dict:
    """Draw one outcome's forest plot and save it as PNG (at ``dpi``) and SVG.

    ``effects`` is the outcome's ``effects.tsv`` table and ``pooled`` its ``pooled.json``.
    The random-effects model is drawn; its method and test are named in the header. With
    ``prediction_interval`` the prediction interval is drawn under the diamond.

    Returns what was drawn, for tests and audits: the study rows in order, the x range, the
    studies whose CI runs off the axis (drawn with an arrow) and the diamond.
    """
    measure = pooled["measure"]
    ratio = measure in RATIO
    binary = pooled["type"] == "binary"
    random = pooled["random"]
    effects = effects.sort_values(["year", "label"], kind="mergesort").reset_index(drop=True)
    k = len(effects)
    transform = np.exp if ratio else (lambda x: x)

    labels = ["\n".join(textwrap.wrap(str(lbl), 28)) or str(lbl) for lbl in effects["label"]]
    extra_lines = sum(lbl.count("\n") for lbl in labels)
    n_rows = k + extra_lines * 0.6 + 8
    height = max(3.2, n_rows * ROW_HEIGHT_IN + 0.8)
    fig = plt.figure(figsize=(11.5, height))
    table = fig.add_axes([0.01, 0.02, 0.98, 0.96])
    table.set_axis_off()
    plot = fig.add_axes([0.70, 0.02, 0.27, 0.96])
    top = n_rows
    table.set_ylim(0, top)
    plot.set_ylim(0, top)
    table.set_xlim(0, 1)

    if binary:
        col = {"study": 0.0, "t1": 0.22, "t2": 0.28, "c1": 0.36, "c2": 0.42, "weight": 0.52,
               "effect": 0.62}
    else:
        col = {"study": 0.0, "t1": 0.20, "t2": 0.25, "t3": 0.30, "c1": 0.36, "c2": 0.41,
               "c3": 0.46, "weight": 0.52, "effect": 0.62}
    header_y = top - 0.8
    method = random["method"] if random else ""
    test = {"z": "", "knha": ", HKSJ", "adhoc": ", HKSJ (ad hoc)"}.get(
        random["test"] if random else "z", "")
    effect_header = f"{MEASURE_NAMES.get(measure, measure)}\nIV, Random ({method}{test}), 95% CI"
    table.text(col["study"], header_y, "Study or Subgroup", fontsize=FONT, weight="bold",
               va="center")
    last = "t2" if binary else "t3"
    table.text((col["t1"] + col[last]) / 2 + 0.02, header_y + 0.55, treatment_label,
               fontsize=FONT, weight="bold", ha="center")
    last = "c2" if binary else "c3"
    table.text((col["c1"] + col[last]) / 2 + 0.02, header_y + 0.55, control_label,
               fontsize=FONT, weight="bold", ha="center")
    sub = ("Events", "Total") if binary else ("Mean", "SD", "Total")
    for i, name in enumerate(sub):
        for side in ("t", "c"):
            table.text(col[f"{side}{i + 1}"] + 0.04, header_y, name, fontsize=FONT,
                       weight="bold", ha="right", va="center")
    table.text(col["weight"] + 0.04, header_y, "Weight", fontsize=FONT, weight="bold",
               ha="right", va="center")
    table.text(col["effect"], header_y, effect_header, fontsize=FONT, weight="bold",
               va="center")
    table.axhline(header_y - 0.6, xmin=0, xmax=1, color="black", lw=0.6)

    y = header_y - 1.3
    row_y = []
    for i, row in effects.iterrows():
        lines = labels[i].count("\n")
        y -= lines * 0.3
        row_y.append(y)
        table.text(col["study"], y, labels[i], fontsize=FONT, va="center")
        if binary:
            cells = [(col["t1"], row["events_treatment"]), (col["t2"], row["n_treatment"]),
                     (col["c1"], row["events_control"]), (col["c2"], row["n_control"])]
        else:
            cells = [(col["t1"], row["mean_treatment"]), (col["t2"], row["sd_treatment"]),
                     (col["t3"], row["n_treatment"]), (col["c1"], row["mean_control"]),
                     (col["c2"], row["sd_control"]), (col["c3"], row["n_control"])]
        for x, value in cells:
            table.text(x + 0.04, y, _num(value).replace("-", "\u2212"), fontsize=FONT,
                       ha="right", va="center")
        table.text(col["weight"] + 0.04, y, f"{float(row['weight_random']):.1f}%",
                   fontsize=FONT, ha="right", va="center")
        table.text(col["effect"], y, f"{_fmt(transform(float(row['yi'])))} "
                   f"[{_fmt(transform(float(row['ci_lower'])))}, "
                   f"{_fmt(transform(float(row['ci_upper'])))}]", fontsize=FONT, va="center")
        y -= 1 + lines * 0.3

    # Pooled row.
    y -= 0.3
    total_y = y
    table.text(col["study"], y, "Total (95% CI)", fontsize=FONT, weight="bold", va="center")
    n_t = int(effects["n_treatment"].astype(float).sum())
    n_c = int(effects["n_control"].astype(float).sum())
    tot_t, tot_c = (col["t2"], col["c2"]) if binary else (col["t3"], col["c3"])
    table.text(tot_t + 0.04, y, str(n_t), fontsize=FONT, weight="bold", ha="right",
               va="center")
    table.text(tot_c + 0.04, y, str(n_c), fontsize=FONT, weight="bold", ha="right",
               va="center")
    table.text(col["weight"] + 0.04, y, "100.0%", fontsize=FONT, weight="bold", ha="right",
               va="center")
    table.text(col["effect"], y, f"{_fmt(transform(random['estimate']))} "
               f"[{_fmt(transform(random['ci_lb']))}, {_fmt(transform(random['ci_ub']))}]",
               fontsize=FONT, weight="bold", va="center")
    if binary:
        y -= 1
        table.text(col["study"], y, "Total events", fontsize=FONT, va="center")
        table.text(col["t1"] + 0.04, y, str(int(effects["events_treatment"].astype(float)
                                               .sum())), fontsize=FONT, ha="right",
                   va="center")
        table.text(col["c1"] + 0.04, y, str(int(effects["events_control"].astype(float)
                                               .sum())), fontsize=FONT, ha="right",
                   va="center")
    y -= 1
    if k > 1:
        het = (f"Heterogeneity: Tau\u00b2 = {_fmt(random['tau2'])}; "
               f"Chi\u00b2 = {_fmt(random['q'])}, df = {random['df']} ({_p_text(random['q_p'])}); "
               f"I\u00b2 = {random['i2']:.0f}%")
    else:
        het = "Heterogeneity: not applicable (one study)"
    stat = "Z" if random["test"] == "z" else "t"
    table.text(col["study"], y, het, fontsize=FONT - 0.5, va="center")
    y -= 0.8
    table.text(col["study"], y, f"Test for overall effect: {stat} = "
               f"{_fmt(abs(random['zval']))} ({_p_text(random['pval'])})",
               fontsize=FONT - 0.5, va="center")
    if pooled.get("not_analysable"):
        y -= 0.8
        left_out = "; ".join(x["study_id"] for x in pooled["not_analysable"])
        table.text(col["study"], y, "\n".join(textwrap.wrap(
            f"Not analysable (see effects/pooled files): {left_out}", 90)),
            fontsize=FONT - 1, va="top", style="italic")

    # The plot column.
    low = np.concatenate([effects["ci_lower"].astype(float), [random["ci_lb"]]])
    high = np.concatenate([effects["ci_upper"].astype(float), [random["ci_ub"]]])
    span = max(abs(low.min()), abs(high.max()), 1e-9)
    if ratio:
        bound = min(max(math.ceil(math.log10(math.exp(span))), 1), 3)
        xmin, xmax = math.log(10 ** -bound), math.log(10 ** bound)
        ticks = [math.log(10 ** e) for e in range(-bound, bound + 1)]
        tick_labels = [f"{10 ** e:g}" for e in range(-bound, bound + 1)]
    else:
        magnitude = 10 ** math.floor(math.log10(span))
        limit = math.ceil(span / magnitude) * magnitude
        xmin, xmax = -limit, limit
        ticks = [-limit, -limit / 2, 0, limit / 2, limit]
        tick_labels = [_fmt(t, 2 if limit < 2 else 1 if limit < 20 else 0) for t in ticks]
    plot.set_xlim(xmin, xmax)
    plot.plot([0, 0], [y - 0.6, header_y - 0.6], color="black", lw=0.6)
    weights = effects["weight_random"].astype(float).to_numpy()
    clipped = []
    for yy, (_, row), w in zip(row_y, effects.iterrows(), weights):
        lo, hi, mid = float(row["ci_lower"]), float(row["ci_upper"]), float(row["yi"])
        plot.plot([max(lo, xmin), min(hi, xmax)], [yy, yy], color="black", lw=0.8)
        for end, edge in ((lo, xmin), (hi, xmax)):
            if (end < edge and edge == xmin) or (end > edge and edge == xmax):
                clipped.append(row["study_id"])
                plot.annotate("", xy=(edge, yy), xytext=(edge - 0.06 * (edge - mid), yy),
                              arrowprops={"arrowstyle": "->", "lw": 0.8})
        if xmin <= mid <= xmax:
            # Marker area proportional to weight, as in RevMan.
            plot.plot(mid, yy, marker="s", color="#1f5aa6", linestyle="none",
                      markersize=3 + 9 * math.sqrt(w / 100))
    diamond = Polygon([(random["ci_lb"], total_y), (random["estimate"], total_y + 0.35),
                       (random["ci_ub"], total_y), (random["estimate"], total_y - 0.35)],
                      closed=True, color="black")
    plot.add_patch(diamond)
    drew_pi = bool(prediction_interval and k > 1 and random.get("pi_lb") is not None)
    if drew_pi:
        plot.plot([random["pi_lb"], random["pi_ub"]], [total_y - 0.55] * 2, color="#b22222",
                  lw=1.5)
        table.text(col["effect"], total_y - 0.55, "Prediction interval "
                   f"[{_fmt(transform(random['pi_lb']))}, {_fmt(transform(random['pi_ub']))}]",
                   fontsize=FONT - 1, color="#b22222", va="center")
    plot.set_yticks([])
    for side in ("left", "right", "top"):
        plot.spines[side].set_visible(False)
    plot.spines["bottom"].set_position(("data", y - 0.6))
    plot.set_xticks(ticks)
    plot.set_xticklabels(tick_labels, fontsize=FONT - 0.5)
    plot.text(xmin + 0.02 * (xmax - xmin), y - 2.2, favours_left, fontsize=FONT - 0.5,
              ha="left", va="center")
    plot.text(xmax - 0.02 * (xmax - xmin), y - 2.2, favours_right, fontsize=FONT - 0.5,
              ha="right", va="center")
    plot.set_ylim(y - 2.8, top)
    table.set_ylim(y - 2.8, top)
    plot.patch.set_alpha(0)

    with atomic_path(path_png, "wb") as handle:
        fig.savefig(handle, format="png", dpi=dpi, metadata={"Software": None})
    with atomic_path(path_svg, "w") as handle:
        fig.savefig(handle, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return {"rows": list(effects["study_id"]), "xlim": (xmin, xmax),
            "clipped": sorted(set(clipped)), "prediction_interval": drew_pi,
            "diamond": (random["ci_lb"], random["estimate"], random["ci_ub"])}
