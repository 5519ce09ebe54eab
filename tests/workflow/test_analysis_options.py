"""The extraction and analysis options of issues 6 and 19 end to end: a contrast-level sheet,
split shared controls, imputed SDs, the cochrane2025 preset and a subgroup analysis; and
trim-and-fill, meta-regression (year, blinding), the three-level model with CR2 (erosion,
whose split DRIVE arms give several effect sizes in one study) and the risk-of-bias
sensitivity analysis."""

import json

import pandas as pd
import pytest

from tests.workflow.conftest import run_snakemake

pytestmark = pytest.mark.workflow


def test_options_run_end_to_end(bundled_copy):
    # the finished bundled run, rerun with the options: what they change is redone
    work = bundled_copy
    data = work / "data/denosumab_ra/extraction"
    (data / "contrasts.csv").write_text(
        "study_id,outcome,timepoint,measure,estimate,se,ci_lower,ci_upper,ci_level,"
        "n_treatment,n_control,source,note\n"
        "SO2021,erosion,12 months,MD,-0.3,,-0.8,0.2,95,50,52,test row (not from the paper),\n",
        encoding="utf-8")
    studies = pd.read_csv(data / "studies.csv", dtype=str)
    studies["blinding"] = ["double", "double", "double", "double", "open"]
    studies.to_csv(data / "studies.csv", index=False)
    config = (work / "config/config.yaml").read_text()
    for old, new in [("  contrasts: null", "  contrasts: data/denosumab_ra/extraction/contrasts.csv"),
                     ("  multi_arm: combine", "  multi_arm: split"),
                     ("  impute_sd: none", "  impute_sd: pooled"),
                     ("  preset: custom", "  preset: cochrane2025"),
                     ("  subgroup: null", "  subgroup: blinding"),
                     ("  small_study_min_studies: 10", "  small_study_min_studies: 3"),
                     ("  trim_and_fill: none", "  trim_and_fill: L0"),
                     ("  moderators: []", "  moderators:\n    - {column: year, type: continuous,"
                      " outcomes: [sae]}\n    - {column: blinding, type: categorical, outcomes:"
                      " [sae]}"),
                     ("    outcomes: []\n    method: REML", "    outcomes: [erosion]\n"
                      "    method: REML"),
                     ("  rob_sensitivity: none", "  rob_sensitivity: not_high")]:
        assert old in config, old
        config = config.replace(old, new, 1)
    (work / "config/config.yaml").write_text(config)
    result = run_snakemake(work)
    assert result.returncode == 0, result.stderr[-5000:]

    erosion = pd.read_csv(work / "results/denosumab_ra/analysis/erosion/effects.tsv", sep="\t",
                          keep_default_na=False)
    so = erosion[erosion["study_id"] == "SO2021"].iloc[0]
    assert so["data_level"] == "contrast"
    assert "SE from 95% CI (t(100) quantile)" in so["conversions"]
    drive = erosion[erosion["study_id"] == "DRIVE2016"]
    assert len(drive) >= 2  # one comparison per denosumab arm
    assert drive["conversions"].str.contains("SD imputed: pooled SD").all()
    assert drive["conversions"].str.contains("shared control split").all()
    pooled = json.loads((work / "results/denosumab_ra/analysis/erosion/pooled.json").read_text())
    assert pooled["preset"] == "cochrane2025"
    assert pooled["random"]["method"] == "REML" and pooled["random"]["test"] == "knha"
    assert pooled["show_prediction_interval"]
    sae = json.loads((work / "results/denosumab_ra/analysis/sae/pooled.json").read_text())
    assert sae["subgroups"]["groups"] == ["double", "open"]
    assert 0 <= sae["subgroups"]["p"] <= 1
    summary = pd.read_csv(work / "results/denosumab_ra/analysis/summary.tsv", sep="\t").set_index("outcome")
    assert summary.loc["erosion", "preset"] == "cochrane2025"
    assert summary.loc["erosion", "k"] == len(erosion)
    # With the threshold lowered to 3, the three SAE studies get a funnel plot and Egger's
    # test (with the caution below 10); outcomes with fewer studies do not.
    assert summary.loc["sae", "small_study_tests"] == "funnel plot and Egger's test (3 studies)"
    assert (work / "results/denosumab_ra/analysis/sae/funnel.png").stat().st_size > 10_000
    assert "too little power below 10 studies" in sae["egger"]["warning"]
    assert not (work / "results/denosumab_ra/analysis/hypocalcaemia/funnel.png").exists()

    # Issue 19: the configured analyses beyond one pooled estimate.
    assert sae["trim_and_fill"]["estimator"] == "L0"
    mr = pd.read_csv(work / "results/denosumab_ra/analysis/sae/meta_regression.tsv", sep="\t")
    assert list(mr["term"]) == ["intercept", "year", "blinding: open (vs double)"]
    mr_json = json.loads((work / "results/denosumab_ra/analysis/sae/meta_regression.json")
                         .read_text())
    assert "fewer than 10 studies per covariate" in mr_json["warning"]
    assert (work / "results/denosumab_ra/analysis/sae/bubble.png").stat().st_size > 10_000
    assert not (work / "results/denosumab_ra/analysis/erosion/meta_regression.tsv").exists()
    ml = json.loads((work / "results/denosumab_ra/analysis/erosion/multilevel.json")
                    .read_text())
    assert ml["k"] == len(erosion) and ml["n_studies"] == erosion["study_id"].nunique()
    ml_table = pd.read_csv(work / "results/denosumab_ra/analysis/erosion/multilevel.tsv",
                           sep="\t")
    assert list(ml_table["inference"]) == ["model (z)", "CR2 (t)"]
    rob = pd.read_csv(work / "results/denosumab_ra/analysis/rob_sensitivity.tsv", sep="\t",
                      keep_default_na=False).set_index("outcome")
    # Every bundled study has some concerns: not_high leaves them all in.
    assert rob.loc["sae", "note"] == "no study left out: same as the main analysis"
    methods = (work / "results/denosumab_ra/report/methods.html").read_text()
    assert "Trim-and-fill" in methods and "three-level" in methods
    assert "risk-of-bias sensitivity analysis" in (
        work / "results/denosumab_ra/report/tables/sensitivity_sae.html").read_text()
