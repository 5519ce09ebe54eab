"""The bundled review's analysis outputs (issue 6) against metafor: every outcome with data in
summary.tsv, Mantel-Haenszel, leave-one-out and cumulative tables."""

import json
import math

import pandas as pd
import pytest

from tests.workflow.conftest import REPO

pytestmark = pytest.mark.workflow

REFERENCE = {c["id"]: c for c in json.loads(
    (REPO / "tests" / "reference" / "metafor_reference.json").read_text())["cases"]}


def _summary(run):
    return pd.read_csv(run / "results/denosumab_ra/analysis/summary.tsv", sep="\t").set_index("outcome")


@pytest.mark.parametrize("outcome,case,ratio", [
    ("mtss", "review_desirable_mtss_MD", False), ("erosion", "review_erosion_MD", False),
    ("sae", "review_sae_RR", True), ("hypocalcaemia", "review_hypocalcaemia_RR", True)])
def test_every_outcome_with_data_agrees_with_metafor(bundled_run, outcome, case, ratio):
    row = _summary(bundled_run).loc[outcome]
    # Loosened from 1e-8/1e-9: contrasts.tsv and summary.tsv are written with 10 significant
    # digits (tables.FLOAT_FORMAT), so the combined arms' means and SDs reach the analysis
    # rounded, which moves the CI bounds by up to ~1e-9 relative.
    tol = 1e-8
    for model, prefix in (("DL", ""), ("EE", "fixed_")):
        ref = REFERENCE[f"{case}_{model}"]["result"]
        transform = math.exp if ratio else (lambda x: x)
        for col, key in (("estimate", "estimate"), ("ci_lower", "ci.lb"),
                         ("ci_upper", "ci.ub")):
            assert row[prefix + col] == pytest.approx(transform(ref[key]), rel=tol), \
                (outcome, model, col)
    ref = REFERENCE[f"{case}_DL"]["result"]
    assert row["k"] == ref["k"]
    assert row["tau2"] == pytest.approx(ref["tau2"], rel=tol, abs=1e-12)
    assert row["q"] == pytest.approx(ref["QE"], rel=tol, abs=1e-12)


def test_summary_lists_mantel_haenszel_for_sae(bundled_run):
    row = _summary(bundled_run).loc["sae"]
    ref = REFERENCE["review_sae_rma.mh_RR"]["result"]
    assert row["mh_estimate"] == pytest.approx(ref["exp_estimate"], rel=1e-9)
    assert row["mh_ci_lower"] == pytest.approx(ref["exp_ci.lb"], rel=1e-9)
    assert row["preset"] == "custom"


def test_sensitivity_tables(bundled_run):
    folder = bundled_run / "results/denosumab_ra/analysis/sae"
    cum = pd.read_csv(folder / "cumulative.tsv", sep="\t")
    ref = REFERENCE["review_sae_cumul_DL"]["result"]
    assert list(cum["study"]) == ["DRIVE (Takeuchi 2016)", "DESIRABLE (Takeuchi 2019)",
                                  "Iwamoto 2022"]
    assert list(cum["estimate"]) == pytest.approx(ref["estimate"], rel=1e-9)
    loo = pd.read_csv(folder / "leave1out.tsv", sep="\t").set_index("study")
    ref = REFERENCE["review_sae_leave1out_DL"]["result"]
    assert loo.loc["DRIVE (Takeuchi 2016)", "estimate"] == pytest.approx(ref["estimate"][0],
                                                                        rel=1e-9)
    pooled = json.loads((folder / "pooled.json").read_text())
    # Three studies: no Egger's test by default (Cochrane Handbook 13.3.5.4).
    assert pooled["egger"] is None and pooled["small_study"]["assessed"] is False
    effects = pd.read_csv(bundled_run / "results/denosumab_ra/analysis/erosion/effects.tsv", sep="\t")
    assert (effects["data_level"] == "arms").all()
