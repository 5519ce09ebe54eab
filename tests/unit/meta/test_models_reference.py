"""Meta-regression (coefficients, vcov, pseudo-R², predictions), exact permutation tests,
trim-and-fill (L0, R0), three-level models (REML, ML, profile-likelihood CIs, fit
statistics) and clubSandwich's CR2 test against R (tests/reference/
metafor_models_reference.json, written by metafor_models_reference.R).

Tolerances: 1e-8 (relative or absolute) for closed forms (EE, DL and what is computed from
them, permutation p-values, trim-and-fill counts), 1e-6 for what rests on an iterative
τ²/σ² estimate (REML, ML, PM) or a root of the profile likelihood; both sides converge far
tighter than that (metafor: threshold 1e-12, nlminb rel.tol 1e-10, uniroot tol 1e-12; see
the R script).
"""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from sysrev.meta import coef_test_cr2, permutest, rma_mods, rma_mv, trimfill

REFERENCE = json.loads((Path(__file__).parents[2] / "reference" /
                        "metafor_models_reference.json").read_text())
CASES = {case["id"]: case for case in REFERENCE["cases"]}
CLOSED = {"EE", "DL"}


def _tol(method):
    return 1e-8 if method in CLOSED else 1e-6


def _close(actual, expected, tol, what):
    expected = np.array([np.nan if v is None else v for v in np.ravel(expected)], float)
    np.testing.assert_allclose(np.ravel(np.asarray(actual, float)), expected, rtol=tol,
                               atol=tol, equal_nan=True, err_msg=what)


def _ids(prefix):
    return [c for c in CASES if c.startswith(prefix)]


def _bcg_mods(case):
    inp = case["input"]
    if "alloc" in case["call"]:
        alloc = inp["alloc"]
        levels = sorted(set(alloc))
        dummies = [[float(a == lev) for a in alloc] for lev in levels[1:]]
        return np.column_stack(dummies + [inp["ablat"]])
    if "year" in case["call"]:
        return np.column_stack([inp["ablat"], inp["year"]])
    return np.asarray(inp["ablat"], float)


@pytest.mark.parametrize("case_id", _ids("mods_bcg_"))
def test_meta_regression_matches_metafor(case_id):
    case = CASES[case_id]
    ref = case["result"]
    inp = case["input"]
    res = rma_mods(inp["yi"], inp["vi"], _bcg_mods(case), method=ref["method"],
                   test=ref["test"])
    tol = _tol(ref["method"])
    for ours, theirs in [("beta", "beta"), ("se", "se"), ("zval", "zval"), ("pval", "pval"),
                         ("ci_lb", "ci.lb"), ("ci_ub", "ci.ub"), ("vcov", "vcov"),
                         ("tau2", "tau2"), ("i2", "I2"), ("h2", "H2"), ("qe", "QE"),
                         ("qe_p", "QEp"), ("qm", "QM"), ("qm_p", "QMp")]:
        _close(getattr(res, ours), ref[theirs], tol, f"{case_id}: {ours}")
    if ref["R2"] is None:
        assert res.r2 is None
    else:
        _close(res.r2, ref["R2"], tol, f"{case_id}: R2")
    if "predict" in ref:
        pr = ref["predict"]
        grid = np.column_stack([np.ones(len(pr["newmods"])), pr["newmods"]])
        ours = res.predict(grid)
        for key, theirs in [("pred", "pred"), ("se", "se"), ("ci_lb", "ci.lb"),
                            ("ci_ub", "ci.ub")]:
            _close(ours[key], pr[theirs], tol, f"{case_id}: predict {key}")


@pytest.mark.parametrize("case_id", _ids("permutest_"))
def test_exact_permutation_test_matches_metafor(case_id):
    case = CASES[case_id]
    inp, ref = case["input"], case["result"]
    method = "REML" if '"REML"' in case["call"] else "DL"
    test = "knha" if '"knha"' in case["call"] else "z"
    if "alloc" in case["call"]:
        levels = sorted(set(inp["alloc"]))
        mods = np.column_stack([[float(a == lev) for a in inp["alloc"]] for lev in levels[1:]])
    else:
        mods = inp["ablat"]
    res = permutest(inp["yi"], inp["vi"], mods, method=method, test=test, iterations=1000)
    assert res.exact and res.iterations == ref["iterations"]
    _close(res.pval, ref["pval"], 1e-12, f"{case_id}: pval")
    _close(res.qm_p, ref["QMp"], 1e-12, f"{case_id}: QMp")


def test_permutation_test_with_seed_is_reproducible():
    case = CASES["mods_bcg_ablat_DL_z"]
    inp = case["input"]
    a = permutest(inp["yi"], inp["vi"], inp["ablat"], method="DL", iterations=200, seed=7)
    b = permutest(inp["yi"], inp["vi"], inp["ablat"], method="DL", iterations=200, seed=7)
    assert not a.exact and a.seed == 7 and a.iterations == 200
    assert a == b
    assert 0 < a.pval[1] <= 1


@pytest.mark.parametrize("case_id", _ids("trimfill_"))
def test_trimfill_matches_metafor(case_id):
    case = CASES[case_id]
    inp, ref = case["input"], case["result"]
    method = next(m for m in ("EE", "DL", "REML") if f'"{m}"' in case["call"])
    estimator = "R0" if '"R0"' in case["call"] else "L0"
    side = "right" if 'side = "right"' in case["call"] else None
    res = trimfill(inp["yi"], inp["vi"], method=method, estimator=estimator, side=side)
    assert res.k0 == ref["k0"] and res.side == ref["side"]
    assert res.fit.k == ref["k"]
    assert list(res.filled) == ref["fill"]
    tol = _tol(method)
    _close(res.se_k0, ref["se.k0"], 1e-8, f"{case_id}: se.k0")
    _close(res.p_k0, ref["p.k0"], 1e-12, f"{case_id}: p.k0")
    _close(res.yi, ref["yi"], tol, f"{case_id}: filled yi")
    _close(res.vi, ref["vi"], 1e-12, f"{case_id}: filled vi")
    for ours, theirs in [("estimate", "estimate"), ("se", "se"), ("zval", "zval"),
                         ("pval", "pval"), ("ci_lb", "ci.lb"), ("ci_ub", "ci.ub"),
                         ("tau2", "tau2"), ("q", "QE"), ("i2", "I2")]:
        _close(getattr(res.fit, ours), ref[theirs], tol, f"{case_id}: {ours}")


def _kon_fit(case, **kwargs):
    inp, ref = case["input"], case["result"]
    mods = None
    if "year_c" in case["call"]:
        year = np.asarray(inp["year"], float)
        mods = year - year.mean()
    return rma_mv(inp["yi"], inp["vi"], inp["district"], inp["school"], mods=mods,
                  method=ref["method"], test=ref["test"], **kwargs)


@pytest.mark.parametrize("case_id", _ids("mv_kon_"))
def test_three_level_model_matches_metafor(case_id):
    case = CASES[case_id]
    ref = case["result"]
    res = _kon_fit(case)
    tol = 1e-6
    for ours, theirs in [("beta", "beta"), ("se", "se"), ("zval", "zval"), ("pval", "pval"),
                         ("ci_lb", "ci.lb"), ("ci_ub", "ci.ub"), ("vcov", "vcov"),
                         ("sigma2", "sigma2"), ("qe", "QE"), ("qe_p", "QEp"),
                         ("loglik", "logLik"), ("deviance", "deviance"), ("aic", "AIC"),
                         ("bic", "BIC"), ("aicc", "AICc")]:
        _close(getattr(res, ours), ref[theirs], tol, f"{case_id}: {ours}")
    _close(res.sigma2_ci[0], ref["sigma2.1.ci"], tol, f"{case_id}: sigma2.1 CI")
    _close(res.sigma2_ci[1], ref["sigma2.2.ci"], tol, f"{case_id}: sigma2.2 CI")
    assert (res.n_studies, res.n_effects) == tuple(ref["s.nlevels"])
    if ref["QM"] is not None and res.p > 1:
        _close(res.qm, ref["QM"], tol, f"{case_id}: QM")
        _close(res.qm_p, ref["QMp"], tol, f"{case_id}: QMp")
    if ref["test"] == "t":
        assert res.dfs == ref["ddf"][0]


@pytest.mark.parametrize("case_id", _ids("mv_kon_"))
def test_cr2_coef_test_matches_clubsandwich(case_id):
    case = CASES[case_id]
    ref = case["result"]["cr2"]
    rob = coef_test_cr2(_kon_fit(case, profile_ci=False))
    for ours, theirs in [("beta", "beta"), ("se", "SE"), ("tstat", "tstat"), ("df", "df"),
                         ("pval", "p"), ("ci_lb", "ci.lb"), ("ci_ub", "ci.ub"),
                         ("vcov", "vcov")]:
        _close(getattr(rob, ours), ref[theirs], 1e-6, f"{case_id}: CR2 {ours}")
    assert rob.n_clusters == 11


# --- edge cases the references do not cover ------------------------------------------------

def test_rma_mv_rejects_a_repeated_effect_size_id():
    with pytest.raises(ValueError, match="effect size 'a' occurs twice in study 's1'"):
        rma_mv([0.1, 0.2, 0.3], [0.01, 0.02, 0.03], ["s1", "s1", "s2"], ["a", "a", "b"])


def test_rma_mv_with_one_effect_per_study_has_no_identifiable_split():
    # One effect size per study: σ₁² and σ₂² are not separately identified; the total is.
    yi = [0.1, 0.5, -0.2, 0.3, 0.9, 0.0]
    vi = [0.02, 0.03, 0.05, 0.01, 0.04, 0.02]
    res = rma_mv(yi, vi, list("abcdef"), profile_ci=False)
    from sysrev.meta import rma
    uni = rma(yi, vi, method="REML")
    assert sum(res.sigma2) == pytest.approx(uni.tau2, rel=1e-6)
    assert res.beta[0] == pytest.approx(uni.estimate, rel=1e-6)


def test_rma_mv_homogeneous_effects_give_zero_components():
    res = rma_mv([0.2] * 6, [0.01, 0.02, 0.03, 0.01, 0.02, 0.03], list("aabbcc"))
    assert res.sigma2 == (0.0, 0.0)
    assert res.sigma2_ci[0][0] == 0.0 and res.sigma2_ci[1][0] == 0.0
    assert res.beta[0] == pytest.approx(0.2)


def test_trimfill_symmetric_funnel_fills_nothing():
    yi = [-0.2, -0.1, 0.0, 0.1, 0.2]
    res = trimfill(yi, [0.04, 0.02, 0.01, 0.02, 0.04], method="EE")
    assert res.k0 == 0 and not any(res.filled)
    assert res.fit.estimate == pytest.approx(0.0, abs=1e-15)


def test_cr2_needs_two_clusters():
    res = rma_mv([0.1, 0.3, 0.2], [0.01, 0.02, 0.03], ["a", "a", "a"], profile_ci=False)
    with pytest.raises(ValueError, match="at least two studies"):
        coef_test_cr2(res)
    assert math.isfinite(res.beta[0])
