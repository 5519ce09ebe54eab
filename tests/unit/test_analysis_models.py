"""The configured analyses beyond one pooled estimate (sysrev.analysis_models and their
workflow functions), on metafor's published example data (tests/reference/
metafor_models_reference.json): meta-regression with the Handbook caution and the
permutation test, the three-level model with CR2, trim-and-fill on the funnel plot and the
risk-of-bias sensitivity analysis. Model numbers are pinned to metafor/clubSandwich at 1e-6
(the same reference values as tests/unit/meta/test_models_reference.py)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sysrev.analysis_models import (META_REGRESSION_COLUMNS, meta_regression,
                                    multilevel_model, rob_sensitivity, trim_and_fill)
from sysrev.errors import InputErrors
from sysrev.meta import rma
from sysrev.tables import read_tsv

REFERENCE = json.loads((Path(__file__).parents[1] / "reference" /
                        "metafor_models_reference.json").read_text())
CASES = {case["id"]: case for case in REFERENCE["cases"]}


def _bcg():
    inp = CASES["mods_bcg_ablat_REML_knha"]["input"]
    ids = [f"S{i + 1:02d}" for i in range(len(inp["yi"]))]
    effects = pd.DataFrame({"study_id": ids, "yi": inp["yi"], "vi": inp["vi"],
                            "comparison": ""})
    studies = pd.DataFrame({"study_id": ids, "label": inp["study"], "ablat": inp["ablat"],
                            "alloc": inp["alloc"], "year": inp["year"]})
    return effects, studies


def test_meta_regression_table_matches_metafor():
    effects, studies = _bcg()
    ref = CASES["mods_bcg_ablat_REML_knha"]["result"]
    table, summary = meta_regression(effects, studies, [{"column": "ablat",
                                                         "type": "continuous"}],
                                     outcome="tb", measure="RR", method="REML", test="knha")
    assert list(table.columns) == META_REGRESSION_COLUMNS
    assert list(table["term"]) == ["intercept", "ablat"]
    np.testing.assert_allclose(table["estimate"], ref["beta"], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(table["se"], ref["se"], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(table["ci_upper"], ref["ci.ub"], rtol=1e-6, atol=1e-6)
    assert summary["qm"] == pytest.approx(ref["QM"], rel=1e-6)
    assert summary["r2"] == pytest.approx(ref["R2"], rel=1e-6)
    assert summary["tau2"] == pytest.approx(ref["tau2"], rel=1e-6)
    assert summary["warning"] is None          # 13 studies, one covariate
    bubble = summary["bubble"]
    assert bubble["moderator"] == "ablat" and len(bubble["grid"]) == 101
    # The line through the grid is metafor's predict() at those moderator values.
    pred = ref["predict"]
    at = np.interp(pred["newmods"], bubble["grid"], bubble["pred"])
    inside = (np.array(pred["newmods"]) >= min(bubble["grid"])) & (
        np.array(pred["newmods"]) <= max(bubble["grid"]))
    np.testing.assert_allclose(at[inside], np.array(pred["pred"])[inside], rtol=1e-6)


def test_meta_regression_caution_and_categorical_moderator():
    effects, studies = _bcg()
    ref = CASES["mods_bcg_alloc_ablat_REML_z"]["result"]
    table, summary = meta_regression(
        effects, studies, [{"column": "alloc", "type": "categorical"},
                           {"column": "ablat", "type": "continuous"}],
        outcome="tb", measure="RR", method="REML", test="z")
    assert list(table["term"]) == ["intercept", "alloc: random (vs alternate)",
                                   "alloc: systematic (vs alternate)", "ablat"]
    np.testing.assert_allclose(table["estimate"], ref["beta"], rtol=1e-6, atol=1e-6)
    assert "fewer than 10 studies per covariate" in summary["warning"]
    assert summary["bubble"]["others_at_mean"] == ["alloc: random (vs alternate)",
                                                   "alloc: systematic (vs alternate)"]


def test_meta_regression_permutation_test_exact_matches_metafor():
    effects, studies = _bcg()
    ref = CASES["permutest_bcg6_ablat_DL_knha"]["result"]
    table, summary = meta_regression(effects.iloc[:6], studies, [{"column": "ablat"}],
                                     outcome="tb", measure="RR", method="DL", test="knha",
                                     permutations=1000)
    assert summary["permutation"]["exact"] is True
    np.testing.assert_allclose(table["permutation_p"].astype(float), ref["pval"], atol=1e-12)
    assert summary["permutation"]["qm_p"] == pytest.approx(ref["QMp"], abs=1e-12)


def test_meta_regression_too_few_studies_is_not_fitted():
    effects, studies = _bcg()
    table, summary = meta_regression(effects.iloc[:2], studies, [{"column": "ablat"}],
                                     outcome="tb", measure="RR")
    assert table.empty and summary["status"].startswith("not fitted: 2 studies")


def _kon_effects():
    inp = CASES["mv_kon_REML_z"]["input"]
    return pd.DataFrame({"study_id": inp["district"], "es_id": inp["school"],
                         "yi": inp["yi"], "vi": inp["vi"]})


def test_multilevel_model_matches_metafor_and_clubsandwich():
    ref = CASES["mv_kon_REML_z"]["result"]
    table, summary = multilevel_model(_kon_effects(), outcome="achievement", measure="SMD")
    assert summary["k"] == 56 and summary["n_studies"] == 11
    assert summary["sigma2_between_studies"] == pytest.approx(ref["sigma2"][0], rel=1e-6)
    assert summary["sigma2_within_studies_ci"] == pytest.approx(ref["sigma2.2.ci"], rel=1e-6)
    model, cr2 = table.iloc[0], table.iloc[1]
    assert model["estimate"] == pytest.approx(ref["beta"][0], rel=1e-6)
    assert cr2["inference"] == "CR2 (t)"
    assert cr2["se"] == pytest.approx(ref["cr2"]["SE"][0], rel=1e-6)
    assert cr2["df"] == pytest.approx(ref["cr2"]["df"][0], rel=1e-6)
    assert cr2["pval"] == pytest.approx(ref["cr2"]["p"][0], rel=1e-6)


def test_multilevel_model_with_one_study_is_not_fitted():
    effects = _kon_effects()
    one = effects[effects["study_id"] == effects["study_id"].iloc[0]]
    table, summary = multilevel_model(one, outcome="x", measure="SMD")
    assert table.empty and summary["status"].startswith("not fitted")


def test_trim_and_fill_for_the_funnel_plot(tmp_path):
    case = CASES["trimfill_hackshaw_EE_L0"]
    inp, ref = case["input"], case["result"]
    labels = [f"S{i}" for i in range(len(inp["yi"]))]
    out = trim_and_fill(inp["yi"], inp["vi"], estimator="L0", method="EE", level=95,
                        measure="OR", labels=labels)
    assert out["k0"] == ref["k0"] == len(out["filled"])
    assert out["estimate"] == pytest.approx(ref["estimate"], rel=1e-8)
    assert out["exp_estimate"] == pytest.approx(np.exp(ref["estimate"]), rel=1e-8)
    from sysrev.meta import funnel_data
    from sysrev.plots.funnel import funnel_plot
    pooled = {"measure": "OR", "label": "Lung cancer", "egger": None,
              "funnel": funnel_data(inp["yi"], inp["vi"], 0.2, labels=labels),
              "trim_and_fill": out}
    drawn = funnel_plot(pooled, tmp_path / "f.png", tmp_path / "f.svg")
    assert f"{ref['k0']} studies filled on the left" in drawn["text"]


def test_rob_sensitivity_restricts_to_low_risk():
    effects, _ = _bcg()
    overall = {s: ("Low" if i % 3 else "High" if i % 2 else "Some concerns")
               for i, s in enumerate(effects["study_id"])}
    full = rma(effects["yi"], effects["vi"], method="DL")
    pooled = {"outcome": "tb", "label": "Tuberculosis", "measure": "RR",
              "random": full.as_dict()}
    row = rob_sensitivity(effects, pooled, overall, restriction="low", method="DL",
                          test="z", level=95)
    low = effects["study_id"].map(overall) == "Low"
    expected = rma(effects["yi"][low], effects["vi"][low], method="DL")
    assert row["k_restricted"] == int(low.sum())
    assert row["estimate"] == pytest.approx(np.exp(expected.estimate), rel=1e-12)
    assert row["estimate_all"] == pytest.approx(np.exp(full.estimate), rel=1e-12)
    assert "S01 (Some concerns)" in row["studies_left_out"]
    row = rob_sensitivity(effects, pooled, overall, restriction="not_high", method="DL",
                          test="z", level=95)
    assert row["k_restricted"] == int((effects["study_id"].map(overall) != "High").sum())


def test_meta_regression_workflow_writes_table_plot_and_rejects_text(tmp_path):
    from sysrev.workflow.analysis import meta_regression as rule
    effects, studies = _bcg()
    effects.to_csv(tmp_path / "effects.tsv", sep="\t", index=False)
    sheet = studies.drop(columns=["alloc"]).assign(design="RCT", comparison="BCG vs none",
                                                   source="metadat dat.bcg")
    sheet.to_csv(tmp_path / "studies.csv", index=False)
    outcome = {"id": "tb", "label": "Tuberculosis", "measure": "RR"}
    kwargs = dict(effects=str(tmp_path / "effects.tsv"), sheet=str(tmp_path / "studies.csv"),
                  table_out=str(tmp_path / "mr.tsv"), summary_out=str(tmp_path / "mr.json"),
                  png=str(tmp_path / "b.png"), svg=str(tmp_path / "b.svg"), outcome=outcome,
                  moderators=[{"column": "ablat", "type": "continuous"}], method="REML",
                  test="knha", level=95, permutations=0, seed=1)
    rule(**kwargs)
    assert list(read_tsv(tmp_path / "mr.tsv")["term"]) == ["intercept", "ablat"]
    assert (tmp_path / "b.png").stat().st_size > 0
    sheet["ablat"] = sheet["ablat"].astype(object)
    sheet.loc[3, "ablat"] = "about 40"
    sheet.to_csv(tmp_path / "studies.csv", index=False)
    (tmp_path / "mr.tsv").unlink()
    with pytest.raises(InputErrors, match=r"line 5, field 'ablat': 'about 40' is not a number"):
        rule(**kwargs)
    assert not (tmp_path / "mr.tsv").exists()


def test_rob_sensitivity_workflow_on_the_bundled_judgements(tmp_path):
    """The bundled review's serious adverse events (metafor_reference.json, review_sae) with
    its own RoB 2 sheet: every study has some concerns, so 'low' leaves none and 'not_high'
    leaves all."""
    from sysrev.workflow.analysis import rob_sensitivity as rule
    ref = json.loads((Path(__file__).parents[1] / "reference" /
                      "metafor_reference.json").read_text())
    case = next(c for c in ref["cases"] if c["id"] == "review_sae_escalc_RR")
    ids = {"DRIVE": "DRIVE2016", "DESIRABLE": "DESIRABLE2019", "Iwamoto 2022": "IWAMOTO2022"}
    effects = pd.DataFrame({"study_id": [ids[s] for s in case["input"]["study"]],
                            "yi": case["escalc"]["yi"], "vi": case["escalc"]["vi"]})
    effects.to_csv(tmp_path / "effects.tsv", sep="\t", index=False)
    fit = rma(effects["yi"], effects["vi"], method="DL")
    (tmp_path / "pooled.json").write_text(json.dumps(
        {"outcome": "sae", "label": "Serious adverse events", "measure": "RR",
         "random": fit.as_dict()}))
    pd.DataFrame({"study_id": ["COHEN2008", "DRIVE2016", "DESIRABLE2019", "SO2021",
                               "IWAMOTO2022"]}).to_csv(tmp_path / "studies.tsv", sep="\t",
                                                       index=False)
    rob = Path(__file__).parents[2] / "data" / "denosumab_ra" / "risk_of_bias" / "rob2.csv"
    for restriction, k, note in [("low", 0, "no study left"),
                                 ("not_high", 3, "no study left out")]:
        out = tmp_path / f"{restriction}.tsv"
        rule(effects=[str(tmp_path / "effects.tsv")], pooled=[str(tmp_path / "pooled.json")],
             rob=str(rob), studies=str(tmp_path / "studies.tsv"), tool="rob2",
             restriction=restriction, table_out=str(out))
        row = read_tsv(out).iloc[0]
        assert int(row["k_restricted"]) == k and row["note"].startswith(note)
        # TSV numbers carry the table format's significant digits.
        assert float(row["estimate_all"]) == pytest.approx(np.exp(fit.estimate), rel=1e-8)


def test_analyse_outcome_with_trim_and_fill_configured():
    """dat.bcg as a 2x2-table outcome: 13 studies, so the funnel plot and trim-and-fill are
    done; the result equals metafor's trimfill(rma(yi, vi, method = "DL"))."""
    from sysrev.analysis import AnalysisSpec, analyse_outcome
    from sysrev.extraction import CONTRAST_COLUMNS
    ref = json.loads((Path(__file__).parents[1] / "reference" /
                      "metafor_reference.json").read_text())
    inp = next(c for c in ref["cases"] if c["id"] == "escalc_bcg_RR")["input"]
    ids = [f"S{i + 1:02d}" for i in range(len(inp["ai"]))]
    rows = [{"outcome": "tb", "study_id": s, "comparison": "", "timepoint": "end",
             "status": "analysable", "reason": "", "data_level": "arms",
             "n_treatment": str(a + b), "events_treatment": str(a), "n_control": str(c + d),
             "events_control": str(c), "conversions": ""}
            for s, a, b, c, d in zip(ids, inp["ai"], inp["bi"], inp["ci"], inp["di"])]
    contrasts = pd.DataFrame(rows, columns=CONTRAST_COLUMNS)
    studies = pd.DataFrame({"study_id": ids, "label": inp["study"],
                            "year": [str(y) for y in inp["year"]]})
    spec = AnalysisSpec(outcome="tb", label="Tuberculosis", type="binary", measure="RR",
                        timepoint="end", random_method="DL", trim_and_fill="L0")
    _, pooled = analyse_outcome(contrasts, studies, spec)
    expected = CASES["trimfill_bcg_DL_L0"]["result"]
    tf = pooled["trim_and_fill"]
    assert tf["k0"] == expected["k0"] and tf["side"] == expected["side"]
    assert tf["estimate"] == pytest.approx(expected["estimate"], rel=1e-8)
    # Not configured: no key at all (the bundled review's pooled.json stays as it was).
    _, plain = analyse_outcome(contrasts, studies,
                               AnalysisSpec(outcome="tb", label="Tuberculosis", type="binary",
                                            measure="RR", timepoint="end"))
    assert "trim_and_fill" not in plain


def test_methods_text_and_sof_footnotes_of_configured_analyses():
    from sysrev.analysis_models import methods_sentences, rob_sensitivity_footnotes
    off = {"trim_and_fill": "none", "moderators": [], "meta_regression": {},
           "multilevel": {"outcomes": []}, "rob_sensitivity": "none"}
    assert methods_sentences(off, {}) == []
    on = off | {"trim_and_fill": "R0", "rob_sensitivity": "low",
                "moderators": [{"column": "dose", "type": "continuous", "outcomes": ["sae"]}],
                "meta_regression": {"method": "REML", "test": "knha", "permutations": 999,
                                    "seed": 3},
                "multilevel": {"outcomes": ["sae"], "method": "ML", "robust": True}}
    text = " ".join(methods_sentences(on, {"sae": "Serious adverse events"}))
    for part in ("R0 estimator", "dose (continuous) (Serious adverse events)",
                 "999 permutations", "three-level", "ML", "CR2",
                 "with only the studies at low risk of bias"):
        assert part in text
    sof = pd.DataFrame({"outcome": ["sae", "bmd"], "footnotes": ["Imprecision.", ""]})
    sens = pd.DataFrame([{"outcome": "sae", "restriction": "with only the studies at low "
                          "risk of bias (overall)", "measure": "RR", "estimate": "0.9",
                          "ci_lower": "0.5", "ci_upper": "1.6", "k_restricted": "2",
                          "note": ""}])
    out = rob_sensitivity_footnotes(sof, sens)
    assert out["footnotes"][0] == ("Imprecision. | Sensitivity analysis with only the studies "
                                   "at low risk of bias (overall): RR 0.90 (0.50 to 1.60) "
                                   "from 2 studies.")
    assert out["footnotes"][1] == ""


def test_sensitivity_page_shows_the_rob_restricted_analysis():
    from sysrev.analysis import SENSITIVITY_COLUMNS
    from sysrev.report.tables import sensitivity_page
    empty = pd.DataFrame(columns=SENSITIVITY_COLUMNS)
    pooled = {"outcome": "sae", "label": "Serious adverse events", "measure": "RR"}
    rob = {"k_all": "3", "estimate_all": "1.00449712", "ci_lower_all": "0.7",
           "ci_upper_all": "1.4", "restriction": "with only the studies at low risk of bias "
           "(overall)", "k_restricted": "0", "estimate": None, "ci_lower": None,
           "ci_upper": None, "studies_left_out": "DRIVE2016 (Some concerns)",
           "note": "no study left: no restricted analysis"}
    page = sensitivity_page(empty, empty, pooled, level=95, rob=rob)
    assert "risk-of-bias sensitivity analysis (no study left" in page
    assert "DRIVE2016 (Some concerns)" in page and "1.00 (0.70 to 1.40)" in page
    assert "risk-of-bias" not in sensitivity_page(empty, empty, pooled, level=95)


def test_meta_regression_on_a_column_of_the_sheet_itself(tmp_path):
    """year is one of the studies sheet's own columns: usable as a moderator."""
    from sysrev.workflow.analysis import _moderator_sheet
    effects, studies = _bcg()
    sheet = studies.drop(columns=["alloc", "ablat"]).assign(
        design="RCT", comparison="BCG vs none", source="metadat dat.bcg")
    sheet.to_csv(tmp_path / "studies.csv", index=False)
    loaded = _moderator_sheet(str(tmp_path / "studies.csv"), [{"column": "year"}])
    table, summary = meta_regression(effects, loaded, [{"column": "year"}], outcome="tb",
                                     measure="RR", method="REML", test="knha")
    assert summary["status"] == "fitted" and list(table["term"]) == ["intercept", "year"]


def test_multilevel_model_with_moderators_matches_the_engine():
    from sysrev.meta import coef_test_cr2, rma_mv
    effects = _kon_effects()
    # A study-level moderator: the district's first year (district 644 spans two years).
    first = effects.assign(year=CASES["mv_kon_REML_z"]["input"]["year"]).groupby(
        "study_id")["year"].min()
    studies = pd.DataFrame({"study_id": first.index, "year": first.to_numpy(),
                            "urban": ["yes" if i % 2 else "no" for i in range(len(first))]})
    mods = [{"column": "year", "type": "continuous"},
            {"column": "urban", "type": "categorical"}]
    table, summary = multilevel_model(effects, outcome="achievement", measure="SMD",
                                      studies=studies, moderators=mods)
    assert list(table["term"]) == ["intercept", "intercept", "year", "year",
                                   "urban: yes (vs no)", "urban: yes (vs no)"]
    assert list(table["inference"]) == ["model (z)", "CR2 (t)"] * 3
    year = effects["study_id"].map(first).to_numpy(float)
    urban = effects["study_id"].map(dict(zip(studies["study_id"], studies["urban"])))
    X = np.column_stack([year, (urban == "yes").to_numpy(float)])
    fit = rma_mv(effects["yi"], effects["vi"], effects["study_id"], effects["es_id"],
                 mods=X)
    rob = coef_test_cr2(fit)
    model, cr2 = table[table["inference"] == "model (z)"], table[table["inference"] == "CR2 (t)"]
    assert list(model["estimate"]) == pytest.approx(fit.beta, rel=1e-10)
    assert list(model["se"]) == pytest.approx(fit.se, rel=1e-10)
    assert list(cr2["se"]) == pytest.approx(rob.se, rel=1e-10)
    assert list(cr2["df"]) == pytest.approx(rob.df, rel=1e-10)
    assert summary["qm_df"] == [2] and summary["qm_p"] == pytest.approx(fit.qm_p)
    assert summary["terms"] == ["intercept", "year", "urban: yes (vs no)"]


def test_multilevel_model_moderator_missing_or_constant():
    effects = _kon_effects()
    ids = sorted(set(effects["study_id"]))
    studies = pd.DataFrame({"study_id": ids, "dose": ["1"] * len(ids)})
    table, summary = multilevel_model(effects, outcome="x", measure="SMD", studies=studies,
                                      moderators=[{"column": "dose", "type": "continuous"}])
    assert summary["moderators_status"].startswith("not used: the moderators are collinear")
    assert list(table["term"]) == ["intercept", "intercept"]
    studies.loc[0, "dose"] = None
    studies.loc[1:, "dose"] = [str(i) for i in range(1, len(ids))]
    table, summary = multilevel_model(effects, outcome="x", measure="SMD", studies=studies,
                                      moderators=[{"column": "dose", "type": "continuous"}])
    assert summary["left_out"] == [{"study_id": ids[0], "reason": "moderator missing"}]
    assert summary["k"] == int((effects["study_id"] != ids[0]).sum())
    assert "dose" in set(table["term"])


def test_methods_text_of_the_moderated_three_level_model():
    from sysrev.analysis_models import methods_sentences
    text = " ".join(methods_sentences({
        "moderators": [{"column": "year", "type": "continuous", "outcomes": ["pain"]}],
        "multilevel": {"outcomes": ["pain", "sae"], "robust": True}}, {"pain": "Pain"}))
    assert ("three-level model includes the study-level moderators of the meta-regression "
            "as covariates (Pain: year), with both model-based and CR2 tests") in text
