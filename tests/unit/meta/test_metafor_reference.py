"""sysrev.meta against R's metafor (tests/reference/metafor_reference.json).

Tolerances: 1e-8 for closed-form quantities (escalc, EE, DL, HE, SJ), 1e-6 for iterative
estimators (REML, ML, PM, EB) and the Q-profile interval, whose roots both programs find
numerically.
"""

import math

import numpy as np
import pytest

from sysrev.meta import escalc, rma

from tests.unit.meta.metafor_cases import CASES, assert_close as _close
from tests.unit.meta.metafor_cases import tolerance as _tol


def _escalc_args(case):
    inp = case["input"]
    if "m1i" in inp:
        return {k: inp[k] for k in ("m1i", "m2i", "sd1i", "sd2i", "n1i", "n2i")}
    return {k: inp[k] for k in ("ai", "bi", "ci", "di")}


ESCALC_CASES = [c for c in CASES if c.startswith("escalc_")]


@pytest.mark.parametrize("case_id", ESCALC_CASES)
def test_escalc_matches_metafor(case_id):
    case = CASES[case_id]
    measure = case_id.split("_")[2]
    drop00 = "drop00=TRUE" in case["call"]
    es = escalc(measure, drop00=drop00, **_escalc_args(case))
    expected_yi = np.array([np.nan if v is None else v for v in case["escalc"]["yi"]])
    expected_vi = np.array([np.nan if v is None else v for v in case["escalc"]["vi"]])
    np.testing.assert_allclose(es.yi, expected_yi, rtol=1e-10, atol=1e-12, equal_nan=True)
    np.testing.assert_allclose(es.vi, expected_vi, rtol=1e-10, atol=1e-12, equal_nan=True)


# Plain rma() fits; leave1out/cumul/regtest and meta-regression cases (no per-study escalc
# part) are tested in test_metafor_extended.py.
RMA_CASES = [c for c, case in CASES.items()
             if case["call"].startswith("rma(") and "result" in case and "escalc" in case]


@pytest.mark.parametrize("case_id", RMA_CASES)
def test_rma_matches_metafor(case_id):
    case = CASES[case_id]
    res_ref = case["result"]
    yi = [np.nan if v is None else v for v in case["escalc"]["yi"]]
    vi = [np.nan if v is None else v for v in case["escalc"]["vi"]]
    method, test = res_ref["method"], res_ref["test"]
    res = rma(yi, vi, method=method, test=test)
    tol = _tol(method)
    nonfinite = set(res_ref.get("nonfinite", []))
    for ours, theirs in [("estimate", "estimate"), ("se", "se"), ("ci_lb", "ci.lb"),
                         ("ci_ub", "ci.ub"), ("pi_lb", "pi.lb"), ("pi_ub", "pi.ub"),
                         ("tau2", "tau2"), ("q", "QE"), ("q_p", "QEp"), ("i2", "I2"),
                         ("h2", "H2"), ("pval", "pval")]:
        if theirs in nonfinite or theirs not in res_ref:
            continue
        _close(getattr(res, ours), res_ref[theirs], tol, f"{case_id}: {ours}")
    if "weights_percent" in res_ref:
        np.testing.assert_allclose(res.weights, res_ref["weights_percent"], rtol=tol,
                                   atol=tol)
    if "tau2.ci.lb" in res_ref:
        # Q-profile bounds are roots found numerically by both programs.
        _close(res.tau2_ci[0], res_ref["tau2.ci.lb"], 1e-6, f"{case_id}: tau2 lb")
        _close(res.i2_ci[0], res_ref["I2.ci.lb"], 1e-6, f"{case_id}: I2 lb")
        if res_ref.get("confint_ub_sign") == ">":
            # metafor stops its search at tau2.max = max(100, 10 * tau2) and reports the
            # bound as "> tau2.max"; the true root lies beyond it.
            assert res.tau2_ci[1] > res_ref["tau2.ci.ub"], case_id
        else:
            _close(res.tau2_ci[1], res_ref["tau2.ci.ub"], 1e-6, f"{case_id}: tau2 ub")
            _close(res.i2_ci[1], res_ref["I2.ci.ub"], 1e-6, f"{case_id}: I2 ub")


def test_every_rma_method_is_referenced():
    methods = {CASES[c]["result"]["method"] for c in RMA_CASES}
    assert {"EE", "DL", "REML", "PM", "SJ", "HE", "ML", "EB"} <= methods


def test_bundled_desirable_mtss_md():
    case = CASES["review_desirable_mtss_escalc_MD"]
    assert case["escalc"]["yi"][0] == pytest.approx(-0.6356192660550459, rel=1e-12)
    assert math.isfinite(case["escalc"]["vi"][0])
