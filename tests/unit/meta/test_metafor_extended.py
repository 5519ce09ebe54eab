"""Issue 6 methods against R's metafor (tests/reference/metafor_reference.json): Mantel-
Haenszel and Peto, meta-regression and the test for subgroup differences, leave-one-out,
cumulative meta-analysis, Egger's regression test, all-zero events.

Tolerances: 1e-8 for closed forms (MH, Peto, EE, DL, HE, SJ and anything computed from them),
1e-6 for iterative estimators (REML, ML, PM, EB), whose roots both programs find numerically
(the references are computed with tight convergence controls, see the R script).
"""

import math

import numpy as np
import pytest

from sysrev.meta import (cumul, escalc, leave1out, regtest, rma, rma_mh, rma_mods, rma_peto,
                         subgroup_analysis)

from tests.unit.meta.metafor_cases import CASES, assert_close as _close
from tests.unit.meta.metafor_cases import tolerance as _tol


def _allclose(actual, expected, tol, what):
    expected = np.array([np.nan if v is None else v for v in expected], float)
    np.testing.assert_allclose(np.asarray(actual, float), expected, rtol=tol, atol=tol,
                               equal_nan=True, err_msg=what)


def _tables(case):
    inp = case["input"]
    return {k: inp[k] for k in ("ai", "bi", "ci", "di", "n1i", "n2i") if k in inp}


# --- Mantel-Haenszel and Peto --------------------------------------------------------------

MH_CASES = [c for c, case in CASES.items() if case["call"].startswith("rma.mh(")]
PETO_CASES = [c for c, case in CASES.items()
              if case["call"].startswith("rma.peto(") and "result" in case]
FIELD = {"estimate": "estimate", "se": "se", "zval": "zval", "pval": "pval",
         "ci.lb": "ci_lb", "ci.ub": "ci_ub", "QE": "q", "QEp": "q_p", "I2": "i2", "H2": "h2",
         "k": "k", "k.yi": "k_yi", "MH": "cmh", "MHp": "cmh_p", "BD": "bd", "BDp": "bd_p",
         "TA": "ta", "TAp": "ta_p", "k.pos": "k_pos", "exp_estimate": "exp_estimate",
         "exp_ci.lb": "exp_ci_lb", "exp_ci.ub": "exp_ci_ub"}


def _check_fixed(res, ref, case_id):
    nonfinite = ref.get("nonfinite", {})
    for theirs, ours in FIELD.items():
        if theirs not in ref or theirs in nonfinite:
            continue
        _close(getattr(res, ours), ref[theirs], 1e-8, f"{case_id}: {ours}")


@pytest.mark.parametrize("case_id", MH_CASES)
def test_rma_mh_matches_metafor(case_id):
    case = CASES[case_id]
    ref = case["result"]
    res = rma_mh(ref["measure"], **_tables(case))
    assert res.method == "MH"
    _check_fixed(res, ref, case_id)


@pytest.mark.parametrize("case_id", PETO_CASES)
def test_rma_peto_matches_metafor(case_id):
    case = CASES[case_id]
    res = rma_peto(**_tables(case))
    _check_fixed(res, case["result"], case_id)


def test_rma_peto_all_zero_events_stops_like_metafor():
    case = CASES["edge_allzero_rma.peto"]
    assert "Peto's method cannot be used" in case["error"]
    with pytest.raises(ValueError, match="Peto's method cannot be used"):
        rma_peto(**_tables(case))


def test_mh_all_zero_events():
    # RR and OR are undefined (metafor: NA); RD is 0 with SE 0.
    for measure in ("RR", "OR"):
        res = rma_mh(measure, **_tables(CASES[f"edge_allzero_rma.mh_{measure}"]))
        assert math.isnan(res.estimate) and res.exp_estimate is None
        assert res.k_yi == 0 and res.q == 0 and res.i2 == 0
    rd = rma_mh("RD", **_tables(CASES["edge_allzero_rma.mh_RD"]))
    assert rd.estimate == 0 and rd.se == 0


def test_peto_escalc_matches_per_study_values():
    case = CASES["rma.peto_bcg"]
    es = escalc("PETO", **_tables(case))
    _allclose(es.yi, case["escalc"]["yi"], 1e-10, "peto yi")
    _allclose(es.vi, case["escalc"]["vi"], 1e-10, "peto vi")


# --- meta-regression and subgroups -------------------------------------------------------

MODS_CASES = [c for c in CASES if c.startswith("mods_")]


@pytest.mark.parametrize("case_id", MODS_CASES)
def test_rma_mods_matches_metafor(case_id):
    case = CASES[case_id]
    ref = case["result"]
    inp = case["input"]
    yi, vi = inp["yi"], inp["vi"]
    alloc = np.array(inp["alloc"])
    levels = sorted(set(alloc))
    if "_ablat_" in case_id:
        res = rma_mods(yi, vi, inp["ablat"], method=ref["method"], test=ref["test"])
    elif "_alloc_means_" in case_id:
        cells = np.column_stack([(alloc == g).astype(float) for g in levels])
        res = rma_mods(yi, vi, cells, intercept=False, method=ref["method"], test=ref["test"])
    else:
        dummies = np.column_stack([(alloc == g).astype(float) for g in levels[1:]])
        res = rma_mods(yi, vi, dummies, method=ref["method"], test=ref["test"])
    tol = _tol(ref["method"])
    for ours, theirs in [("beta", "beta"), ("se", "se"), ("zval", "zval"), ("pval", "pval"),
                         ("ci_lb", "ci.lb"), ("ci_ub", "ci.ub")]:
        _allclose(getattr(res, ours), ref[theirs], tol, f"{case_id}: {ours}")
    for ours, theirs in [("tau2", "tau2"), ("i2", "I2"), ("h2", "H2"), ("qe", "QE"),
                         ("qe_p", "QEp"), ("qm", "QM"), ("qm_p", "QMp"), ("s2w", "s2w")]:
        if theirs in ref.get("nonfinite", {}):
            continue
        _close(getattr(res, ours), ref[theirs], tol, f"{case_id}: {ours}")
    assert list(res.qm_df) == [int(x) for x in ref["QMdf"] if x is not None]


@pytest.mark.parametrize("case_id", [c for c in CASES if c.startswith("mods_bcg_alloc_")
                                     and "_means_" not in c])
def test_common_tau2_subgroup_test_is_metafor_qm(case_id):
    case = CASES[case_id]
    ref = case["result"]
    means = CASES[case_id.replace("alloc_", "alloc_means_")]["result"]
    res = subgroup_analysis(case["input"]["yi"], case["input"]["vi"], case["input"]["alloc"],
                            method=ref["method"], test=ref["test"], tau2="common")
    tol = _tol(ref["method"])
    _close(res.q, ref["QM"], tol, "QM")
    _close(res.p, ref["QMp"], tol, "QMp")
    for i, group in enumerate(res.groups):
        _close(res.fits[group]["estimate"], means["beta"][i], tol, group)
        _close(res.fits[group]["se"], means["se"][i], tol, group)


@pytest.mark.parametrize("case_id", [c for c in CASES if c.startswith("subgroup_separate_")])
def test_separate_tau2_subgroup_test_matches_metafor(case_id):
    case = CASES[case_id]
    ref = case["result"]
    res = subgroup_analysis(case["input"]["yi"], case["input"]["vi"], case["input"]["alloc"],
                            method=ref["method"], test=ref["test"], tau2="separate")
    tol = _tol(ref["method"])
    assert list(res.groups) == sorted(ref["groups"])
    for group, expected in ref["groups"].items():
        fit = res.fits[group]
        assert fit.k == expected["k"]
        for ours, theirs in [("estimate", "estimate"), ("se", "se"), ("ci_lb", "ci.lb"),
                             ("ci_ub", "ci.ub"), ("tau2", "tau2"), ("q", "QE"), ("i2", "I2")]:
            _close(getattr(fit, ours), expected[theirs], tol, f"{case_id} {group} {ours}")
    _close(res.q, ref["Q"], tol, "Q between")
    _close(res.p, ref["Qp"], tol, "p between")
    assert res.df == (ref["df"],)


# --- leave-one-out and cumulative --------------------------------------------------------

COLUMNS = [("estimate", "estimate"), ("se", "se"), ("zval", "zval"), ("pval", "pval"),
           ("ci_lb", "ci.lb"), ("ci_ub", "ci.ub"), ("q", "Q"), ("q_p", "Qp"),
           ("tau2", "tau2"), ("i2", "I2"), ("h2", "H2")]


def _method_test(case):
    call = case["call"]
    method = call.split('method="')[1].split('"')[0]
    test = call.split('test="')[1].split('"')[0] if 'test="' in call else "z"
    return method, test


def _yi_vi(case):
    inp = case["input"]
    if "yi" in inp:
        return inp["yi"], inp["vi"]
    es = escalc("RR", ai=inp["ai"], n1i=inp["n1i"], ci=inp["ci"], n2i=inp["n2i"])
    return es.yi, es.vi


@pytest.mark.parametrize("case_id", [c for c in CASES if "leave1out" in c])
def test_leave1out_matches_metafor(case_id):
    case = CASES[case_id]
    method, test = _method_test(case)
    yi, vi = _yi_vi(case)
    rows = leave1out(yi, vi, method=method, test=test)
    tol = _tol(method)
    for ours, theirs in COLUMNS:
        if not case["result"][theirs]:  # metafor has no tau2 column for EE models
            assert ours == "tau2" and all(r["tau2"] == 0 for r in rows)
            continue
        _allclose([r[ours] for r in rows], case["result"][theirs], tol, f"{case_id} {ours}")


@pytest.mark.parametrize("case_id", [c for c in CASES if "cumul" in c])
def test_cumul_matches_metafor(case_id):
    case = CASES[case_id]
    method, test = _method_test(case)
    yi, vi = _yi_vi(case)
    years = case["input"].get("year", [2016, 2019, 2022])
    labels = case["input"]["study"]
    rows = cumul(yi, vi, order=years, method=method, test=test, labels=labels)
    tol = _tol(method)
    cols = COLUMNS
    for ours, theirs in cols:
        if not case["result"][theirs]:  # metafor has no tau2 column for EE models
            assert ours == "tau2" and all(r["tau2"] == 0 for r in rows)
            continue
        _allclose([r[ours] for r in rows], case["result"][theirs], tol, f"{case_id} {ours}")
    # The order of addition is metafor's: its slab ends with the study label.
    for row, slab in zip(rows, case["result"]["slab"]):
        assert slab.startswith(row["added"])


# --- Egger's regression test -------------------------------------------------------------

@pytest.mark.parametrize("case_id", [c for c in CASES if c.startswith("regtest_")])
def test_regtest_matches_metafor(case_id):
    case = CASES[case_id]
    ref = case["result"]
    method, test = _method_test(case)
    res = regtest(case["input"]["yi"], case["input"]["vi"], model=ref["model"],
                  method=method, test=test)
    tol = _tol("EE" if ref["model"] == "lm" else method)
    for ours, theirs in [("zval", "zval"), ("pval", "pval"), ("slope", "slope"),
                         ("slope_se", "slope_se"), ("est", "est"), ("ci_lb", "ci.lb"),
                         ("ci_ub", "ci.ub")]:
        _close(getattr(res, ours), ref[theirs], tol, f"{case_id} {ours}")
    if ref["dfs"] is not None:
        assert res.df == ref["dfs"]
    assert res.warning is None  # 13 studies


def test_regtest_warns_below_ten_studies():
    case = CASES["rma_normand_MD_DL_z"]
    res = regtest(case["escalc"]["yi"][:6], case["escalc"]["vi"][:6])
    assert "only 6 studies" in res.warning


# --- the presets' models, on the bundled review --------------------------------------------

@pytest.mark.parametrize("case_id", ["review_sae_RR_REML_knha", "review_sae_RR_DL",
                                     "review_sae_RR_PM_knha"])
def test_bundled_sae_presets(case_id):
    case = CASES[case_id]
    ref = case["result"]
    res = rma(case["escalc"]["yi"], case["escalc"]["vi"], method=ref["method"],
              test=ref["test"])
    tol = _tol(ref["method"])
    for ours, theirs in [("estimate", "estimate"), ("ci_lb", "ci.lb"), ("ci_ub", "ci.ub"),
                         ("pi_lb", "pi.lb"), ("pi_ub", "pi.ub"), ("tau2", "tau2")]:
        _close(getattr(res, ours), ref[theirs], tol, f"{case_id} {ours}")
