"""analyse_outcome: presets, Mantel-Haenszel, contrast-level rows, subgroups, sensitivity
analyses, against the metafor references (tests/reference/metafor_reference.json).

Tolerances: 1e-8 closed form (DL, EE, MH), 1e-6 iterative (REML, PM).
"""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sysrev.analysis import (AnalysisSpec, analyse_outcome, sensitivity_tables, summarise,
                             summary_row)
from sysrev.extraction import CONTRAST_COLUMNS

REFERENCE = {c["id"]: c for c in json.loads(
    (Path(__file__).parents[1] / "reference" / "metafor_reference.json").read_text())["cases"]}
STUDIES = pd.DataFrame({"study_id": ["DESIRABLE2019", "DRIVE2016", "IWAMOTO2022"],
                        "label": ["DESIRABLE", "DRIVE", "Iwamoto 2022"],
                        "year": ["2019", "2016", "2022"],
                        "dose": ["q3m+q6m", "q2m+q3m+q6m", "q6m"],
                        "blinding": ["double", "double", "open"]})


def _sae_contrasts() -> pd.DataFrame:
    # The bundled review's serious adverse events, denosumab arms summed (as the R script).
    inp = REFERENCE["review_sae_RR_DL"]["input"]
    ids = ["DRIVE2016", "DESIRABLE2019", "IWAMOTO2022"]
    rows = [{"outcome": "sae", "study_id": s, "comparison": "", "timepoint": "12 months",
             "status": "analysable", "reason": "", "data_level": "arms",
             "n_treatment": n1, "events_treatment": a, "n_control": n2,
             "events_control": c, "conversions": ""}
            for s, a, n1, c, n2 in zip(ids, inp["ai"], inp["n1i"], inp["ci"], inp["n2i"])]
    return pd.DataFrame(rows, columns=CONTRAST_COLUMNS).astype(
        {"n_treatment": str, "events_treatment": str, "n_control": str,
         "events_control": str})


def _spec(**kw) -> AnalysisSpec:
    base = dict(outcome="sae", label="SAE", type="binary", measure="RR",
                timepoint="12 months")
    return AnalysisSpec(**(base | kw))


@pytest.mark.parametrize("preset,case,tol", [("revman5", "review_sae_RR_DL", 1e-8),
                                              ("cochrane2025", "review_sae_RR_REML_knha",
                                               1e-6)])
def test_presets_match_metafor(preset, case, tol):
    effects, pooled = analyse_outcome(_sae_contrasts(), STUDIES, _spec(preset=preset))
    ref = REFERENCE[case]["result"]
    random = pooled["random"]
    for ours, theirs in [("estimate", "estimate"), ("ci_lb", "ci.lb"), ("ci_ub", "ci.ub"),
                         ("tau2", "tau2"), ("pval", "pval")]:
        assert random[ours] == pytest.approx(ref[theirs], rel=tol, abs=tol), ours
    if preset == "revman5":
        assert random["pi_lb"] is None and not pooled["show_prediction_interval"]
        assert random["tau2_ci"] == [None, None]
        assert random["i2"] == pytest.approx(random["i2_q"], rel=1e-9)
        assert pooled["methods"]["i2_definition"].startswith("I2 = max(0, (Q - df) / Q)")
    else:
        assert pooled["show_prediction_interval"]
        assert random["pi_lb"] == pytest.approx(ref["pi.lb"], rel=tol, abs=tol)
        assert random["pi_ub"] == pytest.approx(ref["pi.ub"], rel=tol, abs=tol)
        assert random["test"] == "knha" and random["method"] == "REML"
    assert pooled["preset"] == preset


def test_binary_outcome_gets_mantel_haenszel():
    _, pooled = analyse_outcome(_sae_contrasts(), STUDIES, _spec())
    ref = REFERENCE["review_sae_rma.mh_RR"]["result"]
    assert pooled["mh"]["estimate"] == pytest.approx(ref["estimate"], rel=1e-8)
    assert pooled["mh"]["exp_ci_lb"] == pytest.approx(ref["exp_ci.lb"], rel=1e-8)
    assert pooled["mh"]["q"] == pytest.approx(ref["QE"], rel=1e-8)
    assert "peto" not in pooled
    _, pooled_or = analyse_outcome(_sae_contrasts(), STUDIES, _spec(measure="OR"))
    peto = REFERENCE["review_sae_rma.peto"]["result"]
    assert pooled_or["peto"]["estimate"] == pytest.approx(peto["estimate"], rel=1e-8)


def test_leave_one_out_and_cumulative_tables():
    _, pooled = analyse_outcome(_sae_contrasts(), STUDIES, _spec())
    loo, cum = sensitivity_tables(pooled)
    ref_loo = REFERENCE["review_sae_leave1out_DL"]["result"]
    # effects are sorted by study id: DESIRABLE, DRIVE, IWAMOTO; metafor's input order is
    # DRIVE, DESIRABLE, Iwamoto.
    order = [1, 0, 2]
    np.testing.assert_allclose(loo["estimate"], np.array(ref_loo["estimate"])[order],
                               rtol=1e-8, atol=1e-10)
    ref_cum = REFERENCE["review_sae_cumul_DL"]["result"]
    assert list(cum["study"]) == ["DRIVE", "DESIRABLE", "Iwamoto 2022"]
    np.testing.assert_allclose(cum["estimate"], ref_cum["estimate"], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(cum["tau2"], ref_cum["tau2"], rtol=1e-8, atol=1e-10)


def test_egger_and_funnel_only_from_ten_studies_by_default():
    # Cochrane Handbook 13.3.5.4: no small-study test below 10 studies; the summary says why.
    _, pooled = analyse_outcome(_sae_contrasts(), STUDIES, _spec())
    assert pooled["egger"] is None
    assert pooled["small_study"] == {
        "min_studies": 10, "assessed": False,
        "note": "no funnel plot or Egger's test: 3 studies, fewer than 10 (Cochrane "
                "Handbook 13.3.5.4)"}
    row = summary_row(pooled)
    assert row["small_study_tests"] == pooled["small_study"]["note"] and row["egger_p"] is None


def test_egger_and_funnel_warn_below_ten_studies_when_configured_lower():
    _, pooled = analyse_outcome(_sae_contrasts(), STUDIES, _spec(small_study_min_studies=3))
    assert pooled["small_study"]["assessed"] is True
    assert pooled["small_study"]["note"] == "funnel plot and Egger's test (3 studies)"
    assert "only 3 studies" in pooled["egger"]["warning"]
    assert "only 3 studies" in pooled["funnel"]["warning"]
    assert len(pooled["funnel"]["points"]) == 3


def test_small_study_status_edge_cases():
    from sysrev.analysis import small_study_status

    assert small_study_status(0, 10)["note"] == \
        "no funnel plot or Egger's test: no analysable study"
    assert small_study_status(1, 10)["note"].startswith(
        "no funnel plot or Egger's test: 1 study, fewer than 10")
    assert small_study_status(10, 10)["assessed"] is True
    # Never below 3, whatever is configured.
    assert small_study_status(2, 1) == {
        "min_studies": 3, "assessed": False,
        "note": "no funnel plot or Egger's test: 2 studies, fewer than 3 (Cochrane Handbook "
                "13.3.5.4)"}


def test_funnel_jobs_follow_the_same_threshold(tmp_path):
    from sysrev.workflow.analysis import outcomes_with_studies

    rows = [{c: "" for c in CONTRAST_COLUMNS} | {"study_id": f"S{i}", "outcome": o,
                                                  "status": "analysable"}
            for o, k in (("few", 9), ("ten", 10)) for i in range(k)]
    path = tmp_path / "contrasts.tsv"
    pd.DataFrame(rows, columns=CONTRAST_COLUMNS).to_csv(path, sep="\t", index=False)
    assert outcomes_with_studies(str(path), 10) == ["ten"]
    assert outcomes_with_studies(str(path), 9) == ["few", "ten"]


@pytest.mark.parametrize("tau2", ["separate", "common"])
def test_subgroups(tau2):
    _, pooled = analyse_outcome(_sae_contrasts(), STUDIES,
                                _spec(subgroup="blinding", subgroup_tau2=tau2))
    sub = pooled["subgroups"]
    assert sub["groups"] == ["double", "open"] and sub["tau2"] == tau2
    assert 0 <= sub["p"] <= 1
    summary = summarise([pooled])
    assert summary.iloc[0]["subgroup_test_p"] == pytest.approx(sub["p"], rel=1e-9)


def test_contrast_level_rows_enter_with_their_yi_vi():
    contrasts = _sae_contrasts()
    extra = {c: "" for c in CONTRAST_COLUMNS} | {
        "outcome": "sae", "study_id": "EXTRA", "timepoint": "12 months",
        "status": "analysable", "data_level": "contrast", "n_treatment": "50",
        "n_control": "50", "yi": str(math.log(0.8)), "vi": "0.04",
        "conversions": "contrast-level RR as reported"}
    contrasts = pd.concat([contrasts, pd.DataFrame([extra])], ignore_index=True)
    studies = pd.concat([STUDIES, pd.DataFrame([{"study_id": "EXTRA", "label": "Extra",
                                                 "year": "2020"}])], ignore_index=True)
    effects, pooled = analyse_outcome(contrasts, studies, _spec())
    row = effects.set_index("study_id").loc["EXTRA"]
    assert row["yi"] == pytest.approx(math.log(0.8), rel=1e-12) and row["vi"] == 0.04
    assert pooled["k"] == 4
    assert "EXTRA" in pooled["mh"]["note"]  # not in the 2x2 pooling
    assert pooled["mh"]["k"] == 3


def test_no_data_and_single_study():
    contrasts = _sae_contrasts()
    _, pooled = analyse_outcome(contrasts.iloc[[2]], STUDIES, _spec())
    assert pooled["status"] == "single study" and pooled["leave_one_out"] == []
    assert pooled["egger"] is None and pooled["random"]["tau2"] == 0
    contrasts["status"] = "not_analysable"
    effects, pooled = analyse_outcome(contrasts, STUDIES, _spec())
    assert effects.empty and pooled["status"] == "no analysable data"


def test_studies_are_named_by_label_next_to_their_ids():
    """Issue 13: pooled.json and summary.tsv keep ids for programs and add labels."""
    contrasts = _sae_contrasts()
    contrasts.loc[contrasts["study_id"] == "IWAMOTO2022", ["status", "reason"]] = [
        "not_analysable", "no events reported"]
    _, pooled = analyse_outcome(contrasts, STUDIES, _spec())
    assert pooled["studies"] == ["DESIRABLE2019", "DRIVE2016"]
    assert pooled["study_labels"] == ["DESIRABLE", "DRIVE"]
    assert pooled["not_analysable"] == [{"study_id": "IWAMOTO2022", "label": "Iwamoto 2022",
                                         "reason": "no events reported"}]
    row = summary_row(pooled)
    assert row["studies"] == "DESIRABLE2019; DRIVE2016"
    assert row["study_labels"] == "DESIRABLE; DRIVE"
    assert row["not_analysable"] == "IWAMOTO2022: no events reported"
    assert row["not_analysable_labels"] == "Iwamoto 2022: no events reported"
