"""Forest plots in the layout of RevMan 5: per-arm columns, weights, the effect with its CI as
text, squares sized by weight, subgroup and overall diamonds, heterogeneity, the tests for the
overall effect and for subgroup differences, and the prediction interval when asked for.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
# Fixed ids in SVG output, so the same data give the same file.
matplotlib.rcParams["svg.hashsalt"] = "sysrev"
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.patches import Polygon  # noqa: E402

from sysrev.plots.rob import COLOURS, SYMBOLS, key_levels  # noqa: E402
from sysrev.tables import atomic_path  # noqa: E402

# Risk-of-bias columns, as RevMan draws them beside the graph: width per column (inches)
# and the gap between the graph's right end and the first column (the last tick label's
# half-width and a little air; a wider one left a blank band between axis and dots).
ROB_COLUMN_IN = 0.24
ROB_GAP_IN = 0.1

RATIO = ("RR", "OR")
ROW_HEIGHT_IN = 0.28
FONT = 8.5
LABEL_WIDTH = 30
FOOTNOTE_WIDTH = 80
MEASURE_NAMES = {"MD": "Mean Difference", "SMD": "Std. Mean Difference",
                 "RR": "Risk Ratio", "OR": "Odds Ratio", "RD": "Risk Difference"}
NO_SUBGROUP = "Subgroup not reported"


def _fmt(value: float | None, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "\u2014"
    return f"{value:.{digits}f}".replace("-", "\u2212")


def _num(value) -> str:
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return ""
    value = float(value)
    text = str(int(value)) if value == int(value) else _fmt(value)
    return text.replace("-", "\u2212")


def _count(value) -> str:
    """A participant or event count. A shared control split between comparisons gives a
    fractional n; it is shown rounded (the exact value is in effects.tsv)."""
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(int(round(float(value))))


def _p_text(p: float | None) -> str:
    """A P value as RevMan prints it."""
    if p is None or not math.isfinite(p):
        return "not applicable"
    # Two decimals, more below 0.01, and "P < 0.00001" at the floor.
    if p < 0.00001:
        return "P < 0.00001"
    for decimals in (2, 3, 4):
        if p >= 10 ** -decimals:
            return f"P = {p:.{decimals}f}"
    return f"P = {p:.5f}"


@dataclass
class _Row:
    kind: str                     # header, study, total, events, note
    text: str = ""
    lines: int = 1
    bold: bool = False
    data: dict = field(default_factory=dict)


def _heterogeneity(fit: dict, k: int) -> str:
    if k < 2:
        return "Heterogeneity: not applicable"
    return (f"Heterogeneity: Tau\u00b2 = {_fmt(fit['tau2'])}; Chi\u00b2 = {_fmt(fit['q'])}, "
            f"df = {fit['df']} ({_p_text(fit['q_p'])}); I\u00b2 = {fit['i2']:.0f}%")


def _overall_test(fit: dict) -> str:
    # HKSJ needs two or more studies; with one, rma falls back to the z test.
    stat = "t" if fit["test"] != "z" and (fit.get("df") or 0) > 0 else "Z"
    return f"Test for overall effect: {stat} = {_fmt(abs(fit['zval']))} ({_p_text(fit['pval'])})"


def _group_rows(part: pd.DataFrame, fit: dict | None, binary: bool, title: str,
                total_label: str) -> list[_Row]:
    rows = []
    if title:
        rows.append(_Row("header", title, bold=True))
    for _, study in part.iterrows():
        name = str(study["label"])
        if isinstance(study.get("conversions"), str) and study["conversions"].strip():
            name += " *"
        label = "\n".join(textwrap.wrap(name, LABEL_WIDTH)) or name
        rows.append(_Row("study", label, lines=label.count("\n") + 1, data=study.to_dict()))
    if fit is None:
        return rows
    totals = {"n_treatment": part["n_treatment"].astype(float).sum(),
              "n_control": part["n_control"].astype(float).sum(),
              "weight": part["weight_random"].astype(float).sum()}
    rows.append(_Row("total", total_label, bold=True, data={"fit": fit, **totals}))
    if binary:
        rows.append(_Row("events", "Total events", data={
            "events_treatment": part["events_treatment"].astype(float).sum(),
            "events_control": part["events_control"].astype(float).sum()}))
    rows.append(_Row("note", _heterogeneity(fit, len(part))))
    rows.append(_Row("note", _overall_test(fit)))
    return rows


def _footnote(text: str) -> _Row:
    wrapped = "\n".join(textwrap.wrap(text, FOOTNOTE_WIDTH))
    return _Row("footnote", wrapped, lines=wrapped.count("\n") + 1)


def _build_rows(effects: pd.DataFrame, pooled: dict, binary: bool,
                labels: dict[str, str] | None = None, level_text: str = "95% CI",
                prediction_interval: bool = False) -> list[_Row]:
    labels = labels or {}
    random = pooled["random"]
    subgroups = pooled.get("subgroups") or {}
    rows: list[_Row] = []
    if subgroups.get("fits") and "subgroup" in effects.columns:
        # "Allocation: random", as RevMan heads a subgroup: the value alone does not say
        # which characteristic the studies were grouped by.
        variable = str(subgroups.get("variable") or "").replace("_", " ").strip()
        variable = variable[:1].upper() + variable[1:]
        for group in subgroups["groups"]:
            part = effects[effects["subgroup"].fillna("") == group]
            heading = group or NO_SUBGROUP
            if variable:
                heading = f"{variable}: {group or 'not reported'}"
            rows += _group_rows(part, subgroups["fits"].get(group), binary,
                                heading, f"Subtotal ({level_text})")
            rows.append(_Row("blank"))
    else:
        rows += _group_rows(effects, None, binary, "", "")
        rows.append(_Row("blank", lines=0))
    totals = {"n_treatment": effects["n_treatment"].astype(float).sum(),
              "n_control": effects["n_control"].astype(float).sum(), "weight": 100.0}
    rows.append(_Row("total", f"Total ({level_text})", bold=True,
                     data={"fit": random, **totals}))
    if prediction_interval:
        rows.append(_Row("pi", "Prediction interval"))
    if binary:
        rows.append(_Row("events", "Total events", data={
            "events_treatment": effects["events_treatment"].astype(float).sum(),
            "events_control": effects["events_control"].astype(float).sum()}))
    rows.append(_Row("note", _heterogeneity(random, len(effects))))
    rows.append(_Row("note", _overall_test(random)))
    if subgroups.get("fits"):
        df = subgroups["df"][0] if isinstance(subgroups["df"], list) else subgroups["df"]
        q = subgroups["q"]
        i2 = max(0.0, 100 * (q - df) / q) if q and q > 0 else 0.0
        rows.append(_Row("note", f"Test for subgroup differences: Chi\u00b2 = {_fmt(q)}, "
                                 f"df = {df} ({_p_text(subgroups['p'])}), I\u00b2 = {i2:.1f}%"))
    converted = effects["conversions"].fillna("").astype(str).str.strip().astype(bool) \
        if "conversions" in effects.columns else pd.Series([], dtype=bool)
    if converted.any():
        rows.append(_footnote("* Numbers converted or derived (SD from CI or SE, arms "
                              "combined or split, imputed SD): see effects.tsv"))
    if pooled.get("not_analysable"):
        names = sorted({labels.get(x["study_id"], x["study_id"])
                        for x in pooled["not_analysable"]})
        rows.append(_footnote("Not analysable (reasons in pooled.json): " + "; ".join(names)))
    return rows


def _rob_columns(rob: pd.DataFrame | None, tool, effects: pd.DataFrame):
    """The risk-of-bias columns (the tool's domains and ``overall``) and each judged study's
    judgements by domain; no columns when no study of the plot has a judgement."""
    if rob is None or tool is None or rob.empty:
        return [], {}
    shown = rob[rob["study_id"].isin(set(effects["study_id"]))]
    if shown.empty:
        return [], {}
    columns = list(tool.domains) + ["overall"]
    judged: dict[str, dict[str, str]] = {}
    for study, domain, value in shown[["study_id", "domain", "judgement"]].itertuples(
            index=False):
        judged.setdefault(study, {})[domain] = value
    judged = {s: {d: v[d] for d in columns if d in v} for s, v in judged.items()}
    return columns, judged


def _rob_key_rows(tool, judged: dict) -> list[_Row]:
    """The key under the plot: the tool's domains by name, then the judgements (coloured
    dots, every level of the tool as the risk-of-bias figures show it)."""
    lines = [f"Risk of bias legend ({tool.name})"]
    lines += [f"({d}) {name}" for d, name in tool.domains.items()]
    lines.append("(Overall) Overall risk of bias")
    table = pd.DataFrame({"judgement": [v for j in judged.values() for v in j.values()]})
    return [_Row("blank", lines=1),
            # A note's text runs about 3/4 of a row per line: reserve no more than that.
            _Row("note", "\n".join(lines), lines=math.ceil(0.75 * len(lines)),
                 data={"gid": "rob_key"}),
            _Row("rob_levels", "", data={"levels": key_levels(tool, table)})]


def _rob_dot(ax, x: float, y: float, value: str, gid: str) -> None:
    """One judgement: a dot in its robvis colour with its symbol (for readers who do not
    tell the colours apart)."""
    ax.scatter([x], [y], s=62, color=COLOURS[value], edgecolors="black", linewidths=0.3,
               zorder=3, gid=gid, clip_on=False)
    ax.text(x, y, SYMBOLS[value], fontsize=5.5, ha="center", va="center", weight="bold",
            zorder=4, gid=f"{gid}_symbol")


# Symmetric ratio-scale limits RevMan offers, with the ticks it draws for each.
RATIO_SCALES = [(2, [0.5, 0.7, 1, 1.5, 2]), (5, [0.2, 0.5, 1, 2, 5]),
                (10, [0.1, 0.2, 0.5, 1, 2, 5, 10]), (20, [0.05, 0.2, 1, 5, 20]),
                (50, [0.02, 0.1, 1, 10, 50]), (100, [0.01, 0.1, 1, 10, 100]),
                (200, [0.005, 0.1, 1, 10, 200]), (500, [0.002, 0.1, 1, 10, 500]),
                (1000, [0.001, 0.1, 1, 10, 1000])]
NICE = (1, 2, 4, 5, 10)


def _tick_text(value: float) -> str:
    return f"{value:g}".replace("-", "\u2212")


def _axis(low: np.ndarray, high: np.ndarray, ratio: bool):
    """The x range and ticks: symmetric around no effect (as RevMan draws them), the smallest
    that covers every CI. A ratio scale takes the 1-2-5 / powers-of-ten limits RevMan offers
    (0.5-2 up to 0.001-1000; a CI beyond 1000 runs off the axis with an arrow); a linear scale
    takes a nice limit (1, 2, 4 or 5 times a power of ten) with ticks at its halves."""
    values = np.concatenate([low, high])
    values = values[np.isfinite(values)]
    span = max(float(np.max(np.abs(values))) if len(values) else 0.0, 1e-9)
    if ratio:
        for limit, ticks in RATIO_SCALES:
            if span <= math.log(limit) + 1e-12:
                break
        return (-math.log(limit), math.log(limit), [math.log(t) for t in ticks],
                [_tick_text(t) for t in ticks])
    magnitude = 10 ** math.floor(math.log10(span))
    limit = next(m * magnitude for m in NICE if m * magnitude >= span * (1 - 1e-12))
    ticks = [-limit, -limit / 2, 0.0, limit / 2, limit]
    return -limit, limit, ticks, [_tick_text(float(f"{t:.6g}")) for t in ticks]


def draw_axis(plot, axis_y: float, rule_y: float, xlim: tuple[float, float], ticks,
              tick_labels, favours_left: str, favours_right: str) -> float:
    """The graph's x axis at ``axis_y`` with the line of no effect up to ``rule_y`` and the
    "favours" labels under it, as RevMan draws them; returns the labels' y."""
    xmin, xmax = xlim
    plot.plot([0.0, 0.0], [axis_y, rule_y], color="black", lw=0.6)
    plot.set_yticks([])
    for side in ("left", "right", "top"):
        plot.spines[side].set_visible(False)
    plot.spines["bottom"].set_position(("data", axis_y))
    plot.set_xticks(ticks)
    plot.set_xticklabels(tick_labels, fontsize=FONT - 0.5)
    plot.tick_params(axis="x", length=3, pad=2)
    favours_y = axis_y - 1.5
    plot.text(xmin, favours_y, favours_left, fontsize=FONT - 0.5, ha="left", va="center")
    plot.text(xmax, favours_y, favours_right, fontsize=FONT - 0.5, ha="right", va="center")
    return favours_y


def save_figure(fig, path_png, path_svg, path_pdf=None, dpi: int = 300) -> None:
    """Save as PNG, SVG and (when given) PDF with no dates or tool names in the files, so
    the same data give the same bytes; then close the figure."""
    with atomic_path(path_png, "wb") as handle:
        fig.savefig(handle, format="png", dpi=dpi, metadata={"Software": None})
    with atomic_path(path_svg, "w") as handle:
        fig.savefig(handle, format="svg", metadata={"Date": None, "Creator": None})
    if path_pdf is not None:
        with atomic_path(path_pdf, "wb") as handle:
            fig.savefig(handle, format="pdf", metadata={"CreationDate": None,
                                                        "Creator": None, "Producer": None})
    plt.close(fig)


def forest_plot(effects: pd.DataFrame, pooled: dict, path_png: str | Path,
                path_svg: str | Path, *, path_pdf: str | Path | None = None,
                treatment_label: str = "Treatment",
                control_label: str = "Control", favours_left: str = "Favours treatment",
                favours_right: str = "Favours control", prediction_interval: bool = False,
                labels: dict[str, str] | None = None, order: str = "year",
                entered: list[str] | None = None, dpi: int = 300,
                rob: pd.DataFrame | None = None, rob_tool=None) -> dict:
    """Draw one outcome's forest plot and save it as PNG (at ``dpi``), SVG and, when
    ``path_pdf`` is given, PDF.

    ``effects`` is the outcome's ``effects.tsv`` table and ``pooled`` its ``pooled.json``.
    The random-effects model is drawn; its method and test are named in the header. When
    ``pooled`` holds subgroup fits, studies are grouped with a subtotal diamond per subgroup
    and the test for subgroup differences. With ``prediction_interval`` (and two or more
    studies) the prediction interval gets its own row under the overall diamond.
    ``labels`` (study id to label) names the studies of the footnotes (those not
    analysable); ``order`` is the study order (:mod:`sysrev.study_order`), ``entered`` the
    study ids as entered (for ``as_entered``).

    ``rob`` (the validated judgements table of :func:`sysrev.rob.load_rob`, with its
    ``rob_tool``) adds the risk-of-bias columns RevMan draws right of the graph: one dot per
    domain and the overall, in the colours of :mod:`sysrev.plots.rob`, an empty cell for a
    study without a judgement, and a key of the domains and judgements under the plot. When
    no study of the plot has a judgement, no columns are drawn.

    The layout follows RevMan 5: the study columns, then the effect as text and the graph
    under one method header each; the axis right under the last row drawn in the graph, the
    totals' notes beside it; the axis range chosen from the data (:func:`_axis`).

    Returns what was drawn, for tests and audits: the study rows in order with their y
    positions, the subgroups, the x range and ticks, the axis position, the studies whose CI
    runs off the axis (drawn with an arrow), the diamonds, and the Figure itself (closed).
    """
    from sysrev.study_order import sort_studies

    labels = dict(labels or {})
    measure = pooled["measure"]
    ratio = measure in RATIO
    binary = pooled["type"] == "binary"
    random = pooled["random"]
    level = random.get("level", 95)
    level_text = f"{level:g}% CI"
    transform = np.exp if ratio else (lambda x: x)
    groups = None
    if (pooled.get("subgroups") or {}).get("fits") and "subgroup" in effects.columns:
        effects = effects.assign(subgroup=effects["subgroup"].fillna(""))
        groups = "subgroup"
    effects = sort_studies(effects, order, group=groups, entered=entered)
    k = len(effects)
    labels.update(zip(effects["study_id"], effects["label"].astype(str)))
    drew_pi = bool(prediction_interval and k > 1 and random.get("pi_lb") is not None
                   and math.isfinite(random["pi_lb"]))
    rows = _build_rows(effects, pooled, binary, labels, level_text, drew_pi)
    rob_cols, judged = _rob_columns(rob, rob_tool, effects)
    if rob_cols:
        rows += _rob_key_rows(rob_tool, judged)

    # Columns (figure fraction; numbers are right-aligned at their x, text left-aligned).
    width_in = 11.5
    if binary:
        col = {"study": 0.0, "t1": 0.255, "t2": 0.305, "c1": 0.37, "c2": 0.42,
               "weight": 0.485, "effect": 0.50}
        sub, last_t, last_c = ("Events", "Total"), "t2", "c2"
        graph = (0.655, 0.975)
    else:
        col = {"study": 0.0, "t1": 0.235, "t2": 0.28, "t3": 0.32, "c1": 0.385, "c2": 0.43,
               "c3": 0.47, "weight": 0.535, "effect": 0.55}
        sub, last_t, last_c = ("Mean", "SD", "Total"), "t3", "c3"
        graph = (0.685, 0.975)

    # The RoB columns widen the figure; every x above stays in units of the 11.5-inch layout
    # (the table axes run past 1), so the columns sit right of the graph, from its right
    # end (graph[1]) on.
    base_in = width_in
    unit_in = 0.98 * base_in  # inches per x unit of the table
    rob_in = ROB_GAP_IN + ROB_COLUMN_IN * (len(rob_cols) + 1.0) if rob_cols else 0.0
    if rob_cols:
        width_in += max(0.0, rob_in - (1.0 - graph[1]) * unit_in)
    scale = base_in / width_in
    line = 0.62
    gap = {"study": 0.38, "total": 0.38, "header": 0.38, "pi": 0.38, "events": 0.3}
    body = sum(max(r.lines, 1) * line + gap.get(r.kind, 0.1) for r in rows)
    top = body + 4.4
    fig = plt.figure(figsize=(width_in, max(2.6, (top + 4) * ROW_HEIGHT_IN)))
    table = fig.add_axes([0.01, 0.01, 0.98, 0.98])
    table.set_axis_off()
    # The graph axes share the table's y; its x in data units maps onto the graph column.
    plot = fig.add_axes([0.01 + 0.98 * graph[0] * scale, 0.01,
                         0.98 * (graph[1] - graph[0]) * scale, 0.98], sharey=table)
    table.set_xlim(0, 1 / scale)
    table.set_ylim(-4, top)

    title = pooled.get("label") or ""
    if pooled.get("timepoint"):
        title += f", {pooled['timepoint']}"
    table.text(col["study"], top - 0.2, title, fontsize=FONT + 1.5, weight="bold", va="top",
               gid="title")
    header_y = top - 2.4
    test = {"z": "", "knha": ", HKSJ", "adhoc": ", HKSJ (ad hoc)"}.get(random["test"], "")
    table.text(col["study"], header_y, "Study or Subgroup", fontsize=FONT, weight="bold",
               va="center")
    first_sub = {"t": "t1", "c": "c1"}
    for side, last, name in (("t", last_t, treatment_label), ("c", last_c, control_label)):
        left = col[first_sub[side]] - 0.045
        table.text((left + col[last]) / 2, header_y + 0.9, name, fontsize=FONT,
                   weight="bold", ha="center", va="center")
        table.plot([left + 0.005, col[last]], [header_y + 0.5] * 2, color="black", lw=0.5)
    for i, name in enumerate(sub):
        for side in ("t", "c"):
            table.text(col[f"{side}{i + 1}"], header_y, name, fontsize=FONT,
                       weight="bold", ha="right", va="center")
    table.text(col["weight"], header_y, "Weight", fontsize=FONT, weight="bold",
               ha="right", va="center")
    method = f"{MEASURE_NAMES.get(measure, measure)}\nIV, Random, {level_text}"
    table.text(col["effect"], header_y, method + f"\n({random['method']}{test})",
               fontsize=FONT, weight="bold", va="center", gid="method_text")
    table.text((graph[0] + graph[1]) / 2, header_y, method, fontsize=FONT, weight="bold",
               ha="center", va="center", gid="method_graph")
    rule_y = header_y - 1.0
    table.plot([0, 1 / scale], [rule_y] * 2, color="black", lw=0.6)
    rob_x = {d: graph[1] + (ROB_GAP_IN
                            + ROB_COLUMN_IN * (i + 0.5 + (i == len(rob_cols) - 1) * 0.5))
             / unit_in for i, d in enumerate(rob_cols)}
    if rob_cols:
        first, last = rob_x[rob_cols[0]], rob_x[rob_cols[-1]]
        table.text((first + last) / 2, header_y + 0.9, "Risk of bias", fontsize=FONT,
                   weight="bold", ha="center", va="center", gid="rob_title")
        table.plot([first - 0.008, last + 0.008], [header_y + 0.5] * 2, color="black", lw=0.5)
        for d, x in rob_x.items():
            table.text(x, header_y, "Overall" if d == "overall" else d, fontsize=FONT - 1.5,
                       weight="bold", ha="center", va="center", gid="rob_header")

    low = np.concatenate([effects["ci_lower"].astype(float), [random["ci_lb"]]])
    high = np.concatenate([effects["ci_upper"].astype(float), [random["ci_ub"]]])
    for fit in ((pooled.get("subgroups") or {}).get("fits") or {}).values():
        if fit:
            low, high = np.append(low, fit["ci_lb"]), np.append(high, fit["ci_ub"])
    if drew_pi:
        low, high = np.append(low, random["pi_lb"]), np.append(high, random["pi_ub"])
    xmin, xmax, ticks, tick_labels = _axis(low, high, ratio)
    plot.set_xlim(xmin, xmax)

    def cell(x, y, value, bold=False):
        table.text(x, y, value, fontsize=FONT, ha="right", va="center",
                   weight="bold" if bold else "normal")

    def diamond(fit, y):
        plot.add_patch(Polygon([(fit["ci_lb"], y), (fit["estimate"], y + 0.3),
                                (fit["ci_ub"], y), (fit["estimate"], y - 0.3)],
                               closed=True, color="black", clip_on=True))

    def effect_text(fit_or_row):
        mid, lo, hi = fit_or_row
        return f"{_fmt(transform(mid))} [{_fmt(transform(lo))}, {_fmt(transform(hi))}]"

    y = rule_y - 0.45
    clipped, diamonds, study_rows, row_y = [], [], [], {}
    last_graph_y = None
    for row in rows:
        if row.kind == "blank":
            y -= line * row.lines
            continue
        height = max(row.lines, 1) * line
        y_mid = y - height / 2 + line / 2
        style = {"fontsize": FONT if row.kind not in ("note", "footnote") else FONT - 0.7,
                 "va": "center", "weight": "bold" if row.bold else "normal",
                 "style": "italic" if row.kind == "footnote" else "normal"}
        if row.kind == "pi":
            style["color"] = "#b22222"
        if row.kind in ("note", "footnote"):
            style["va"] = "top"
        table.text(col["study"], y_mid if row.kind not in ("note", "footnote") else y + 0.28,
                   row.text, **style, gid=row.data.get("gid", f"row_{row.kind}"))
        d = row.data
        if row.kind == "study":
            study_rows.append(d["study_id"])
            row_y[d["study_id"]] = y_mid
            last_graph_y = y_mid
            if binary:
                values = [("t1", _count(d["events_treatment"])),
                          ("t2", _count(d["n_treatment"])),
                          ("c1", _count(d["events_control"])), ("c2", _count(d["n_control"]))]
            else:
                values = [("t1", _num(d["mean_treatment"])), ("t2", _num(d["sd_treatment"])),
                          ("t3", _count(d["n_treatment"])), ("c1", _num(d["mean_control"])),
                          ("c2", _num(d["sd_control"])), ("c3", _count(d["n_control"]))]
            for key, value in values:
                cell(col[key], y_mid, value)
            cell(col["weight"], y_mid, f"{float(d['weight_random']):.1f}%")
            for domain, value in judged.get(d["study_id"], {}).items():
                _rob_dot(table, rob_x[domain], y_mid, value, gid="rob_dot")
            lo, hi, mid = float(d["ci_lower"]), float(d["ci_upper"]), float(d["yi"])
            table.text(col["effect"], y_mid, effect_text((mid, lo, hi)), fontsize=FONT,
                       va="center")
            plot.plot([max(lo, xmin), min(hi, xmax)], [y_mid] * 2, color="black", lw=0.8)
            for end, edge in ((lo, xmin), (hi, xmax)):
                if (edge == xmin and end < edge) or (edge == xmax and end > edge):
                    clipped.append(d["study_id"])
                    inner = edge - 0.06 * (edge - (xmin + xmax) / 2)
                    plot.annotate("", xy=(edge, y_mid), xytext=(inner, y_mid),
                                  arrowprops={"arrowstyle": "->", "lw": 0.8})
            if xmin <= mid <= xmax:
                # Marker area proportional to weight, as in RevMan.
                plot.plot(mid, y_mid, marker="s", color="#1f5aa6", linestyle="none",
                          markersize=3 + 9 * math.sqrt(float(d["weight_random"]) / 100))
        elif row.kind == "total":
            fit = d["fit"]
            cell(col[last_t], y_mid, _count(d["n_treatment"]), bold=True)
            cell(col[last_c], y_mid, _count(d["n_control"]), bold=True)
            cell(col["weight"], y_mid, f"{d['weight']:.1f}%", bold=True)
            table.text(col["effect"], y_mid, effect_text(
                (fit["estimate"], fit["ci_lb"], fit["ci_ub"])), fontsize=FONT,
                weight="bold", va="center")
            diamond(fit, y_mid)
            diamonds.append((row.text, fit["ci_lb"], fit["estimate"], fit["ci_ub"]))
            last_graph_y = y_mid
            row_y[row.text] = y_mid
        elif row.kind == "pi":
            lo, hi = random["pi_lb"], random["pi_ub"]
            plot.plot([max(lo, xmin), min(hi, xmax)], [y_mid] * 2, color="#b22222", lw=1.5)
            table.text(col["effect"], y_mid, f"[{_fmt(transform(lo))}, "
                       f"{_fmt(transform(hi))}]", fontsize=FONT, color="#b22222",
                       va="center")
            last_graph_y = y_mid
            row_y["Prediction interval"] = y_mid
        elif row.kind == "rob_levels":
            x = col["study"] + 0.008
            for value in row.data["levels"]:
                _rob_dot(table, x, y_mid, value, gid="rob_key_dot")
                table.text(x + 0.012, y_mid, value, fontsize=FONT - 0.7, va="center",
                           gid="rob_key_level")
                x += 0.024 + 0.0062 * len(value)
        elif row.kind == "events":
            cell(col["t1"], y_mid, _count(d["events_treatment"]))
            cell(col["c1"], y_mid, _count(d["events_control"]))
        y -= height + gap.get(row.kind, 0.1)

    # The axis right under the last row drawn in the graph; the notes run on beside it.
    axis_y = (last_graph_y if last_graph_y is not None else rule_y) - 0.75
    favours_y = draw_axis(plot, axis_y, rule_y, (xmin, xmax), ticks, tick_labels,
                          favours_left, favours_right)
    # Fit the figure to what was drawn, so no blank band is left under the axis.
    bottom = min(y + 0.2, favours_y - 0.6)
    top_used = top + 0.2
    table.set_ylim(bottom, top_used)
    height_in = (top_used - bottom) * ROW_HEIGHT_IN
    fig.set_size_inches(width_in, height_in)
    plot.patch.set_alpha(0)

    save_figure(fig, path_png, path_svg, path_pdf, dpi)
    return {"rows": study_rows, "rob_columns": rob_cols, "rob": judged, "row_y": row_y, "xlim": (xmin, xmax),
            "ticks": list(zip(ticks, tick_labels)), "axis_y": axis_y,
            "clipped": sorted(set(clipped)), "prediction_interval": drew_pi,
            "diamonds": diamonds, "subgroups": [r.text for r in rows if r.kind == "header"],
            "diamond": (random["ci_lb"], random["estimate"], random["ci_ub"]), "figure": fig}
