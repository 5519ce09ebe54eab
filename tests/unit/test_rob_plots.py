"""Risk-of-bias figures as robvis draws them: what was drawn, read from the Figure."""

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg

from sysrev.plots.rob import summary_plot, traffic_light
from sysrev.rob import TOOLS

ROB2 = TOOLS["rob2"]


def _table(n):
    values = ["Low", "Some concerns", "High"]
    return pd.DataFrame([{"study_id": f"S{i}", "domain": d, "judgement": values[(i + j) % 3]}
                         for i in range(n)
                         for j, d in enumerate(list(ROB2.domains) + ["overall"])])


def _gap_points(fig, ax, key):
    """Points between the bottom of the axes (with its tick labels and titles) and the top
    of the key drawn under it."""
    renderer = FigureCanvasAgg(fig).get_renderer()
    bottom = ax.get_tightbbox(renderer, bbox_extra_artists=[]).y0
    return (bottom - key.get_window_extent(renderer).y1) * 72 / fig.dpi


def test_traffic_light_has_axis_titles_and_keys_right_under_the_rows(tmp_path):
    for n in (2, 5, 30):
        drawn = traffic_light(_table(n), {f"S{i}": f"Study {i}" for i in range(n)}, ROB2,
                              tmp_path / "t.png", tmp_path / "t.svg",
                              order=[f"S{i}" for i in reversed(range(n))])
        fig = drawn["figure"]
        ax = fig.axes[0]
        assert ax.get_xlabel() == "Risk of bias domains"
        assert ax.xaxis.get_label_position() == "top"
        assert ax.get_ylabel() == "Study"
        assert [t.get_text() for t in ax.get_xticklabels()] == ["D1", "D2", "D3", "D4", "D5",
                                                                 "Overall"]
        # Studies top to bottom in the given order.
        assert [t.get_text() for t in ax.get_yticklabels()][::-1] == [
            f"Study {i}" for i in reversed(range(n))]
        renderer = FigureCanvasAgg(fig).get_renderer()
        lowest_row = ax.transData.transform((0, -0.6))[1]
        for artist in (next(t for t in ax.texts if t.get_gid() == "domains_key"),
                       ax.get_legend()):
            top = artist.get_window_extent(renderer).y1
            # No band between the last row and the keys: within 12 points, whatever n.
            assert 0 <= (lowest_row - top) * 72 / fig.dpi < 12, n
        assert ax.get_legend().get_title().get_text() == "Judgement"


def test_summary_plot_legend_right_under_the_axis(tmp_path):
    for n in (2, 40):
        drawn = {}
        weights = {f"S{i}": 100.0 for i in range(n)}
        shares = summary_plot(_table(n), weights, ROB2, tmp_path / "s.png", tmp_path / "s.svg",
                              drawn=drawn)
        fig = drawn["figure"]
        ax = fig.axes[0]
        gap = _gap_points(fig, ax, ax.get_legend())
        assert 0 <= gap < 10, gap
        assert ax.get_xlim() == (0, 100)
        overall = shares[shares["domain"] == "overall"].set_index("judgement")["percent"]
        assert abs(overall.sum() - 100) < 1e-9


def test_keys_show_every_level_of_the_tool_even_when_none_is_judged_so(tmp_path):
    """Issue 13: as robvis, the key shows the tool's scale, not only the levels used."""
    table = _table(3)
    table["judgement"] = table["judgement"].replace("High", "Low")  # nobody judged High
    drawn = {}
    summary_plot(table, {f"S{i}": 1.0 for i in range(3)}, ROB2, tmp_path / "s.png",
                 tmp_path / "s.svg", drawn=drawn)
    key = drawn["figure"].axes[0].get_legend()
    assert [t.get_text() for t in key.get_texts()] == ["Low", "Some concerns", "High"]
    light = traffic_light(table, {}, ROB2, tmp_path / "t.png", tmp_path / "t.svg",
                          order=["S0", "S1", "S2"])
    assert [t.get_text() for t in light["figure"].axes[0].get_legend().get_texts()] == [
        "+  Low", "\u2212  Some concerns", "\u00d7  High"]
    robins = TOOLS["robins_i"]
    rows = pd.DataFrame([{"study_id": "S0", "domain": d, "judgement": "Moderate"}
                         for d in list(robins.domains) + ["overall"]])
    drawn = {}
    summary_plot(rows, {"S0": 1.0}, robins, tmp_path / "r.png", tmp_path / "r.svg",
                 drawn=drawn)
    # "No information" is not a level of bias: in the key only when a study has it.
    assert [t.get_text() for t in drawn["figure"].axes[0].get_legend().get_texts()] == [
        "Low", "Moderate", "Serious", "Critical"]
    rows.loc[0, "judgement"] = "No information"
    drawn = {}
    summary_plot(rows, {"S0": 1.0}, robins, tmp_path / "r.png", tmp_path / "r.svg",
                 drawn=drawn)
    assert [t.get_text() for t in drawn["figure"].axes[0].get_legend().get_texts()][-1] == \
        "No information"
