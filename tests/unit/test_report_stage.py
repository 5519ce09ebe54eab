"""Risk of bias, GRADE summary of findings, and their figures."""

import math

import pandas as pd
import pytest

from sysrev.errors import InputErrors
from sysrev.grade import load_overrides, suggest, summary_of_findings
from sysrev.plots.rob import summary_plot, traffic_light
from sysrev.plots.sof import sof_html, sof_png
from sysrev.rob import ROB2, ROBINS_I, load_rob

HEADER = "study_id,domain,judgement,support\n"


def _rob(tmp_path, rows):
    path = tmp_path / "rob.csv"
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _full(study, judgements, overall):
    return [f"{study},D{i + 1},{j},quote" for i, j in enumerate(judgements)] + [
        f"{study},overall,{overall},quote"]


def test_rob_vocabulary_and_consistency(tmp_path):
    rows = _full("S1", ["Low"] * 5, "Low") + _full("S2", ["Low", "High", "Low", "Low", "Low"],
                                                   "Some concerns")
    rows += ["S3,D1,Low,quote", "S1,D6,Low,quote", "S1,D1,Probably low,quote"]
    with pytest.raises(InputErrors) as err:
        load_rob(_rob(tmp_path, rows), ROB2, {"S1", "S2"})
    message = str(err.value)
    assert "(study S3, D1), field 'study_id': not an included study" in message
    assert "field 'domain': 'D6' is not one of" in message
    assert "field 'judgement': 'Probably low' is not one of" in message
    assert "study S1 has domain D1 twice" in message
    with pytest.raises(InputErrors, match="overall 'Some concerns' is better than its worst "
                                          "domain \\('High'\\)"):
        load_rob(_rob(tmp_path, _full("S1", ["Low"] * 5, "Low") + _full(
            "S2", ["Low", "High", "Low", "Low", "Low"], "Some concerns")), ROB2, {"S1", "S2"})
    with pytest.raises(InputErrors, match=r"study S2: no judgement for \['D5', 'overall'\]"):
        load_rob(_rob(tmp_path, _full("S1", ["Low"] * 5, "Low") + [
            "S2,D1,Low,q", "S2,D2,Low,q", "S2,D3,Low,q", "S2,D4,Low,q"]), ROB2, {"S1", "S2"})


def test_robins_i_domains(tmp_path):
    rows = [f"S1,D{i},Moderate,q" for i in range(1, 8)] + ["S1,overall,Serious,q"]
    table = load_rob(_rob(tmp_path, rows), ROBINS_I, {"S1"})
    assert len(table) == 8


def test_rob_figures_render_and_weight(tmp_path):
    rows = _full("S1", ["Low"] * 5, "Low") + _full("S2", ["Low", "High", "Low", "Low", "Low"],
                                                   "High")
    table = load_rob(_rob(tmp_path, rows), ROB2, {"S1", "S2"})
    traffic_light(table, {"S1": "Study one", "S2": "Study two"}, ROB2, tmp_path / "t.png",
                  tmp_path / "t.svg")
    shares = summary_plot(table, {"S1": 300.0, "S2": 100.0}, ROB2, tmp_path / "s.png",
                          tmp_path / "s.svg")
    d2 = shares[shares["domain"] == "D2"].set_index("judgement")["percent"]
    assert d2["Low"] == pytest.approx(75.0, rel=1e-12)
    assert d2["High"] == pytest.approx(25.0, rel=1e-12)
    assert (tmp_path / "t.png").stat().st_size > 10_000


def _pooled(k, i2=0.0, est=-0.5, lb=-0.9, ub=-0.1, measure="MD", kind="continuous",
            participants=654, egger=None):
    return {"outcome": "o", "label": "Outcome", "measure": measure, "type": kind, "k": k,
            "participants": participants, "not_analysable": [], "egger": egger,
            "random": {"estimate": est, "ci_lb": lb, "ci_ub": ub, "i2": i2}}


def _effects(weights, events=None):
    frame = pd.DataFrame({"study_id": [f"S{i}" for i in range(len(weights))],
                          "weight_random": weights})
    if events:
        frame["events_treatment"] = [e[0] for e in events]
        frame["events_control"] = [e[1] for e in events]
        frame["n_control"] = [e[2] for e in events]
    return frame


def test_grade_suggestions():
    low = {"S0": "Low", "S1": "Low"}
    s = suggest(_pooled(2, i2=60), _effects([50, 50]), low)["levels"]
    assert s["risk_of_bias"][0] == 0 and s["inconsistency"] == (1, "I\u00b2 = 60%")
    assert s["imprecision"] == (0, "precise")
    s = suggest(_pooled(2, i2=80, lb=-0.9, ub=0.2, participants=100), _effects([60, 40]),
                {"S0": "High", "S1": "Low"})["levels"]
    assert s["risk_of_bias"][0] == 2
    assert s["inconsistency"][0] == 2
    assert s["imprecision"][0] == 2 and "includes no effect" in s["imprecision"][1]
    s = suggest(_pooled(12, egger={"pval": 0.03}), _effects([1] * 12), {})["levels"]
    assert s["publication_bias"] == (1, "Egger's test p = 0.03")
    assert s["risk_of_bias"][0] == 1  # unknown judgements count as not low


def test_sof_table_overrides_and_absolute_effects():
    pooled = [_pooled(2, est=math.log(2), lb=math.log(1.5), ub=math.log(2.5), measure="RR",
                      kind="binary", participants=2000),
              {"outcome": "x", "label": "X", "measure": "MD", "type": "continuous", "k": 0,
               "participants": 0, "random": None,
               "not_analysable": [{"study_id": "S9", "reason": "SD not reported"}]}]
    effects = {"o": _effects([50, 50], events=[(200, 100, 1000), (200, 100, 1000)])}
    overrides = pd.DataFrame({"outcome": ["o"], "domain": ["indirectness"],
                              "downgrade": ["1"], "reason": ["older population"]})
    table = summary_of_findings(pooled, effects, {"S0": "Low", "S1": "Low"}, overrides)
    row = table.iloc[0]
    assert row["effect"] == "RR 2.00 (1.50 to 2.50)"
    assert row["absolute_effect"].startswith("100 per 1,000 with control; 200 per 1,000")
    assert row["certainty"] == "Moderate"
    assert "Indirectness: reviewer: older population" in row["reasons"]
    assert table.iloc[1]["certainty"] == "not assessable"
    html = sof_html(table, "T")
    assert "\u2a01\u2a01\u2a01\u25ef</span><br>Moderate<sup>a</sup>" in html
    assert "<p>a. Indirectness \u22121: reviewer: older population</p>" in html


def test_overrides_are_checked(tmp_path):
    path = tmp_path / "grade.csv"
    path.write_text("outcome,domain,downgrade,reason\nmtss,directness,3,\n", encoding="utf-8")
    with pytest.raises(InputErrors) as err:
        load_overrides(path, {"mtss"})
    message = str(err.value)
    assert "field 'domain': 'directness'" in message
    assert "field 'downgrade': '3'" in message
    assert "field 'reason': empty" in message


def test_sof_png_renders(tmp_path):
    table = summary_of_findings(
        [_pooled(1)], {"o": _effects([100])}, {"S0": "Low"},
        pd.DataFrame(columns=["outcome", "domain", "downgrade", "reason"]))
    sof_png(table, "T", tmp_path / "sof.png")
    assert (tmp_path / "sof.png").stat().st_size > 5_000
