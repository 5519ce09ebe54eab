"""Forest plots: the data behind the figure, and rendering of edge cases."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from sysrev.meta import escalc, rma
from sysrev.plots.forest import _p_text, forest_plot


def _frame(es, labels, years, *, arms):
    fe = rma(es.yi, es.vi, method="EE")
    re = rma(es.yi, es.vi, method="DL")
    sei = np.sqrt(es.vi)
    frame = pd.DataFrame({"study_id": [f"S{i}" for i in range(len(labels))], "label": labels,
                          "year": years, "yi": es.yi, "vi": es.vi, "sei": sei,
                          "ci_lower": es.yi - 1.959964 * sei, "ci_upper": es.yi + 1.959964 * sei,
                          "weight_fixed": fe.weights, "weight_random": re.weights,
                          "conversions": "", **arms})
    return frame, {"measure": es.measure, "type": "binary" if "events_treatment" in arms
                   and not np.isnan(arms["events_treatment"]).all() else "continuous",
                   "random": re.as_dict(), "fixed": fe.as_dict(), "not_analysable": []}


def _continuous(k, seed=3, shift=-2.0):
    rng = np.random.default_rng(seed)
    n1, n2 = rng.integers(20, 200, k), rng.integers(20, 200, k)
    m1, m2 = rng.normal(shift, 3, k), rng.normal(0, 3, k)
    s1, s2 = rng.uniform(2, 8, k), rng.uniform(2, 8, k)
    es = escalc("MD", m1i=m1, m2i=m2, sd1i=s1, sd2i=s2, n1i=n1, n2i=n2)
    labels = [f"Study {i} with a long label that has to be wrapped over lines" if i % 5 == 0
              else f"Study {i}" for i in range(k)]
    nan = np.full(k, np.nan)
    return _frame(es, labels, list(range(2000, 2000 + k)), arms={
        "n_treatment": n1, "n_control": n2, "mean_treatment": m1, "sd_treatment": s1,
        "mean_control": m2, "sd_control": s2, "events_treatment": nan, "events_control": nan})


@pytest.mark.parametrize("k", [1, 2, 50])
def test_continuous_renders_for_1_to_50_studies(tmp_path, k):
    effects, pooled = _continuous(k)
    drawn = forest_plot(effects, pooled, tmp_path / "f.png", tmp_path / "f.svg", dpi=80,
                        path_pdf=tmp_path / "f.pdf", prediction_interval=True)
    assert (tmp_path / "f.pdf").read_bytes().startswith(b"%PDF")
    assert drawn["rows"] == sorted(effects["study_id"], key=lambda s: int(s[1:]))
    assert drawn["prediction_interval"] == (k > 1)
    lo, hi = drawn["xlim"]
    assert lo < 0 < hi
    assert (tmp_path / "f.png").stat().st_size > 5_000
    assert "<svg" in (tmp_path / "f.svg").read_text()


def test_negative_effects_and_svg_is_deterministic(tmp_path):
    effects, pooled = _continuous(6, shift=-9.0)
    forest_plot(effects, pooled, tmp_path / "a.png", tmp_path / "a.svg", dpi=80,
                path_pdf=tmp_path / "a.pdf")
    forest_plot(effects, pooled, tmp_path / "b.png", tmp_path / "b.svg", dpi=80,
                path_pdf=tmp_path / "b.pdf")
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    assert pooled["random"]["estimate"] < 0


def test_zero_events_and_a_very_wide_ci_are_drawn_with_arrows(tmp_path):
    events_t, n_t = np.array([0, 5, 1, 40]), np.array([10, 100, 3, 400])
    events_c, n_c = np.array([3, 4, 0, 41]), np.array([10, 100, 2, 400])
    es = escalc("RR", ai=events_t, n1i=n_t, ci=events_c, n2i=n_c)
    nan = np.full(4, np.nan)
    effects, pooled = _frame(es, ["A", "B", "Tiny", "D"], [2001, 2002, 2003, 2004], arms={
        "n_treatment": n_t, "n_control": n_c, "mean_treatment": nan, "sd_treatment": nan,
        "mean_control": nan, "sd_control": nan, "events_treatment": events_t,
        "events_control": events_c})
    assert pooled["type"] == "binary"
    drawn = forest_plot(effects, pooled, tmp_path / "z.png", tmp_path / "z.svg", dpi=80)
    lo, hi = drawn["xlim"]
    # The widest CI (Tiny: RR 0.01 to 153) needs the 0.005-200 scale, not 0.001-1000.
    assert np.exp(lo) == pytest.approx(0.005, rel=1e-12)
    assert np.exp(hi) == pytest.approx(200, rel=1e-12)
    assert [t for _, t in drawn["ticks"]] == ["0.005", "0.1", "1", "10", "200"]
    assert drawn["clipped"] == []
    # A CI wider than the axis (0.0001 to 10,000) is drawn to the edge with an arrow.
    effects.loc[effects["study_id"] == "S2", ["ci_lower", "ci_upper"]] = [np.log(1e-4),
                                                                         np.log(1e4)]
    drawn = forest_plot(effects, pooled, tmp_path / "w.png", tmp_path / "w.svg", dpi=80)
    assert drawn["clipped"] == ["S2"]


def test_p_values_in_revman_style():
    assert [_p_text(p) for p in (0.99, 0.0314, 0.0041, 0.00023, 1e-7, float("nan"))] == [
        "P = 0.99", "P = 0.03", "P = 0.004", "P = 0.0002", "P < 0.00001", "not applicable"]


def test_subgroups_with_a_missing_subgroup_get_subtotals_and_the_test(tmp_path):
    from sysrev.meta import subgroup_analysis

    effects, pooled = _continuous(7)
    groups = ["Q6M", "Q6M", "Q3M", "Q3M", "Q3M", "", ""]
    effects["subgroup"] = groups
    sub = subgroup_analysis(effects["yi"], effects["vi"], groups, method="DL").as_dict()
    pooled["subgroups"] = sub
    drawn = forest_plot(effects, pooled, tmp_path / "s.png", tmp_path / "s.svg", dpi=80)
    assert drawn["subgroups"] == ["Subgroup not reported", "Q3M", "Q6M"]
    subtotals = [d for d in drawn["diamonds"] if d[0] == "Subtotal (95% CI)"]
    assert len(subtotals) == 3
    assert drawn["diamonds"][-1][0] == "Total (95% CI)"
    # Studies are listed group by group.
    assert drawn["rows"][:2] == ["S5", "S6"]
    # Issue 17: the heading names the variable as well as its value.
    pooled["subgroups"] = dict(sub, variable="dosing_interval")
    drawn = forest_plot(effects, pooled, tmp_path / "v.png", tmp_path / "v.svg", dpi=80)
    assert drawn["subgroups"] == ["Dosing interval: not reported", "Dosing interval: Q3M",
                                  "Dosing interval: Q6M"]


def test_funnel_plot_reports_egger_and_warns_below_ten(tmp_path):
    from sysrev.meta import funnel_data, regtest
    from sysrev.plots.funnel import funnel_plot

    effects, pooled = _continuous(12)
    pooled["label"] = "Outcome"
    pooled["funnel"] = funnel_data(effects["yi"], effects["vi"], pooled["fixed"]["estimate"])
    pooled["egger"] = regtest(effects["yi"], effects["vi"], model="lm").as_dict()
    drawn = funnel_plot(pooled, tmp_path / "f.png", tmp_path / "f.svg", contours=True, dpi=80)
    assert drawn["points"] == 12
    assert "Egger's test: bias coefficient" in drawn["text"]
    assert "Caution" not in drawn["text"]
    # Issue 17: the plot says which estimate its centre line shows.
    assert f"centre line: the common-effect (inverse-variance) estimate, MD " \
           f"{pooled['fixed']['estimate']:.2f}" in drawn["text"]
    small = dict(pooled, funnel=funnel_data(effects["yi"][:4], effects["vi"][:4], 0.0))
    drawn = funnel_plot(small, tmp_path / "g.png", tmp_path / "g.svg", dpi=80)
    assert "Caution" in drawn["text"]


def _texts(fig):
    return [t for ax in fig.axes for t in ax.texts]


def _binary(events_t, n_t, events_c, n_c, labels, years):
    es = escalc("RR", ai=np.array(events_t), n1i=np.array(n_t), ci=np.array(events_c),
                n2i=np.array(n_c))
    nan = np.full(len(labels), np.nan)
    return _frame(es, labels, years, arms={
        "n_treatment": np.array(n_t), "n_control": np.array(n_c), "mean_treatment": nan,
        "sd_treatment": nan, "mean_control": nan, "sd_control": nan,
        "events_treatment": np.array(events_t), "events_control": np.array(events_c)})


@pytest.mark.parametrize("cis, limit, ticks", [
    ((0.8, 1.6), 2, ["0.5", "0.7", "1", "1.5", "2"]),
    ((0.3, 1.2), 5, ["0.2", "0.5", "1", "2", "5"]),
    ((0.15, 3), 10, ["0.1", "0.2", "0.5", "1", "2", "5", "10"]),
    ((0.5, 40), 50, ["0.02", "0.1", "1", "10", "50"]),
    ((0.02, 90), 100, ["0.01", "0.1", "1", "10", "100"]),
])
def test_ratio_axis_is_the_smallest_symmetric_revman_scale_covering_the_cis(cis, limit, ticks):
    from sysrev.plots.forest import _axis

    lo, hi, _, labels = _axis(np.log([cis[0]]), np.log([cis[1]]), ratio=True)
    assert (np.exp(lo), np.exp(hi)) == (pytest.approx(1 / limit), pytest.approx(limit))
    assert labels == ticks


@pytest.mark.parametrize("span, limit, ticks", [
    (3.7, 4, ["\u22124", "\u22122", "0", "2", "4"]),
    (1.21, 2, ["\u22122", "\u22121", "0", "1", "2"]),
    (0.13, 0.2, ["\u22120.2", "\u22120.1", "0", "0.1", "0.2"]),
    (11, 20, ["\u221220", "\u221210", "0", "10", "20"]),
    (48, 50, ["\u221250", "\u221225", "0", "25", "50"]),
])
def test_linear_axis_takes_nice_ticks_covering_the_cis(span, limit, ticks):
    from sysrev.plots.forest import _axis

    lo, hi, _, labels = _axis(np.array([-0.05]), np.array([span]), ratio=False)
    assert (lo, hi) == (pytest.approx(-limit), pytest.approx(limit))
    assert labels == ticks


def test_layout_as_revman_header_over_graph_axis_under_last_row_pi_row(tmp_path):
    effects, pooled = _continuous(5)
    drawn = forest_plot(effects, pooled, tmp_path / "f.png", tmp_path / "f.svg", dpi=60,
                        prediction_interval=True)
    fig = drawn["figure"]
    table, plot = fig.axes
    # The graph takes about a third of the width, and starts right after the CI column.
    left, _, width, _ = plot.get_position().bounds
    assert 0.28 <= width <= 0.36
    renderer = FigureCanvasAgg(fig).get_renderer()
    effect_right = max(t.get_window_extent(renderer).x1 for t in table.texts
                       if t.get_position()[0] == pytest.approx(0.55))
    graph_left = plot.get_window_extent(renderer).x0
    assert 0 < graph_left - effect_right < 0.06 * fig.bbox.width
    # The method header is over the text column and over the graph column.
    headers = {t.get_gid(): t.get_text() for t in table.texts if t.get_gid()}
    assert headers["method_graph"] == "Mean Difference\nIV, Random, 95% CI"
    assert headers["method_text"].startswith("Mean Difference\nIV, Random, 95% CI\n(DL")
    graph_header_x = [t for t in table.texts if t.get_gid() == "method_graph"][0].get_position()[0]
    assert left - 0.01 < graph_header_x * 0.98 + 0.01 < left + width
    # Rows top to bottom in study order; the prediction interval has its own row and label;
    # the axis sits right under it.
    ys = [drawn["row_y"][s] for s in drawn["rows"]]
    assert ys == sorted(ys, reverse=True)
    total_y, pi_y = drawn["row_y"]["Total (95% CI)"], drawn["row_y"]["Prediction interval"]
    assert ys[-1] > total_y > pi_y > drawn["axis_y"] > pi_y - 1.0
    assert any(t.get_text() == "Prediction interval" and t.get_position()[1] == pi_y
               for t in table.texts)
    assert plot.spines["bottom"].get_position() == ("data", drawn["axis_y"])
    # The axis range comes from the data: every CI and the PI fit inside it.
    lo, hi = plot.get_xlim()
    assert (lo, hi) == drawn["xlim"]
    assert lo <= min(effects["ci_lower"].min(), pooled["random"]["pi_lb"])
    assert hi >= max(effects["ci_upper"].max(), pooled["random"]["pi_ub"])
    assert hi < 2 * max(abs(effects["ci_lower"]).max(), abs(effects["ci_upper"]).max(),
                        abs(pooled["random"]["pi_lb"]), abs(pooled["random"]["pi_ub"]))
    # No blank band below: the lowest text is close to the figure's bottom edge.
    bottom = table.get_ylim()[0]
    lowest = min(t.get_position()[1] for ax in fig.axes for t in ax.texts)
    assert lowest - bottom < 1.0


def test_footnotes_name_studies_by_label_and_level_in_totals(tmp_path):
    effects, pooled = _binary([4, 10, 6], [50, 100, 80], [8, 12, 9], [50, 100, 80],
                              ["Zeta 2010", "Alpha 2012", "Alpha 2009"], [2010, 2012, 2009])
    pooled["not_analysable"] = [{"study_id": "COHEN2008", "reason": "no events"}]
    pooled["random"]["level"] = 90
    drawn = forest_plot(effects, pooled, tmp_path / "f.png", tmp_path / "f.svg", dpi=60,
                        labels={"COHEN2008": "Cohen 2008"})
    texts = [t.get_text() for t in _texts(drawn["figure"])]
    assert "Not analysable (reasons in pooled.json): Cohen 2008" in texts
    assert not any("COHEN2008" in t for t in texts)
    assert "Total (90% CI)" in texts
    assert drawn["rows"] == ["S2", "S0", "S1"]           # by year: 2009, 2010, 2012
    assert "Prediction interval" not in texts


def _judgements(tool, by_study):
    domains = list(tool.domains) + ["overall"]
    return pd.DataFrame([{"study_id": s, "domain": d, "judgement": v, "support": "test"}
                         for s, values in by_study.items() for d, v in zip(domains, values)])


def _dots(fig, gid):
    from matplotlib.colors import to_hex
    return [(tuple(c.get_offsets()[0]), to_hex(c.get_facecolor()[0]))
            for ax in fig.axes for c in ax.collections if c.get_gid() == gid]


def test_risk_of_bias_columns_one_dot_per_judged_domain_in_robvis_colours(tmp_path):
    from sysrev.plots.rob import COLOURS
    from sysrev.rob import ROB2
    effects, pooled = _continuous(3)
    rob = _judgements(ROB2, {"S0": ["Low", "Low", "Some concerns", "Low", "High", "High"],
                             "S2": ["Low"] * 6})
    drawn = forest_plot(effects, pooled, tmp_path / "r.png", tmp_path / "r.svg", dpi=60,
                        rob=rob, rob_tool=ROB2)
    fig = drawn["figure"]
    headers = [t.get_text() for t in _texts(fig) if t.get_gid() == "rob_header"]
    assert headers == ["D1", "D2", "D3", "D4", "D5", "Overall"]
    dots = _dots(fig, "rob_dot")
    # Six dots for each judged study, none for S1 (an empty cell), in the robvis colours.
    assert len(dots) == 12
    y_of = drawn["row_y"]
    row_colours = {s: [c for (x, y), c in dots if y == y_of[s]] for s in ("S0", "S1", "S2")}
    assert row_colours["S1"] == []
    assert row_colours["S0"] == [COLOURS[v].lower() for v in
                                 ["Low", "Low", "Some concerns", "Low", "High", "High"]]
    assert row_colours["S2"] == [COLOURS["Low"].lower()] * 6
    key = [t.get_text() for t in _texts(fig) if t.get_gid() == "rob_key"][0]
    assert "(D1) Randomisation process" in key and "(D5) Selection of the reported result" in key
    levels = [t.get_text() for t in _texts(fig) if t.get_gid() == "rob_key_level"]
    assert levels == list(ROB2.judgements)


def test_risk_of_bias_columns_robins_i_domains_and_off_without_judgements(tmp_path):
    from sysrev.rob import ROBINS_I
    effects, pooled = _continuous(2)
    rob = _judgements(ROBINS_I, {"S1": ["Low", "Moderate", "Low", "Serious", "Low", "Low",
                                        "Critical", "Critical"]})
    drawn = forest_plot(effects, pooled, tmp_path / "r.png", tmp_path / "r.svg", dpi=60,
                        rob=rob, rob_tool=ROBINS_I)
    headers = [t.get_text() for t in _texts(drawn["figure"]) if t.get_gid() == "rob_header"]
    assert headers == [f"D{i}" for i in range(1, 8)] + ["Overall"]
    assert len(_dots(drawn["figure"], "rob_dot")) == 8
    # No judgement for any study of the plot (or none given): the plot has no RoB columns.
    for table in (rob.assign(study_id="OTHER"), None):
        drawn = forest_plot(effects, pooled, tmp_path / "n.png", tmp_path / "n.svg", dpi=60,
                            rob=table, rob_tool=ROBINS_I)
        assert drawn["rob_columns"] == []
        assert not [t for t in _texts(drawn["figure"]) if t.get_gid() == "rob_header"]


def test_risk_of_bias_columns_sit_close_to_the_graph(tmp_path):
    """Issue 17 (the RoB dots forest plot): a blank band of some 0.7 inch lay between the
    graph's axis and the first column of dots. The first dot now sits within a quarter
    inch of the graph's right end, and the last column's header stays inside the figure."""
    from sysrev.rob import ROB2
    effects, pooled = _continuous(3)
    rob = _judgements(ROB2, {"S0": ["Low", "Low", "Some concerns", "Low", "High", "High"]})
    drawn = forest_plot(effects, pooled, tmp_path / "r.png", tmp_path / "r.svg", dpi=60,
                        rob=rob, rob_tool=ROB2)
    fig = drawn["figure"]
    table, graph = fig.axes[0], fig.axes[1]
    FigureCanvasAgg(fig).draw()
    graph_right_in = graph.get_position().x1 * fig.get_figwidth()
    first_dot = min(x for (x, _), _ in _dots(fig, "rob_dot"))
    first_dot_in = table.transData.transform((first_dot, 0))[0] / fig.dpi
    assert 0.1 < first_dot_in - graph_right_in <= 0.25
    renderer = fig.canvas.get_renderer()
    last_header = [t for t in _texts(fig) if t.get_gid() == "rob_header"][-1]
    assert last_header.get_window_extent(renderer).x1 <= fig.bbox.x1
