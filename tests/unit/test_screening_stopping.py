"""The buscar stopping test (Callaghan and Müller-Hansen 2020) against a direct computation."""

import math

import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy.stats import hypergeom

from sysrev.screening.stopping import buscar_p, null_relevant, stopping_test


def _by_counting(urn, k_null, sample, found):
    """P(X <= found) for X ~ Hypergeom(urn, k_null, sample), by counting draws."""
    total = math.comb(urn, sample)
    return sum(math.comb(k_null, i) * math.comb(urn - k_null, sample - i)
               for i in range(0, found + 1)) / total


@pytest.mark.parametrize("urn, r_before, sample, found, target", [
    (1000, 95, 200, 0, 0.95),     # a clean sample
    (1000, 95, 200, 1, 0.95),
    (500, 40, 100, 0, 0.9),
    (60, 10, 30, 0, 0.95),
    (60, 10, 30, 2, 0.8),
])
def test_p_value_equals_direct_hypergeometric(urn, r_before, sample, found, target):
    k_null = null_relevant(r_before, r_before + found, target)
    # Smallest K for which recall (r_before + found) / (r_before + K) < target.
    assert (r_before + found) / (r_before + k_null) < target
    assert (r_before + found) / (r_before + k_null - 1) >= target
    expected = hypergeom.cdf(found, urn, k_null, sample)
    p = buscar_p(urn, r_before, sample, found, target)
    assert_allclose(p, expected, rtol=1e-12)
    assert_allclose(p, _by_counting(urn, k_null, sample, found), rtol=1e-9)


def test_k_null_matches_buscar_formula():
    # buscar (R): k_h0 = floor(r_seen / recall_target - r_al + 1)
    assert null_relevant(95, 95, 0.95) == math.floor(95 / 0.95 - 95 + 1) == 6
    assert null_relevant(10, 12, 0.8) == math.floor(12 / 0.8 - 10 + 1) == 6


def test_null_impossible_gives_zero():
    # 100 relevant found before, 3 records left: missing 95% recall needs 6 relevant left.
    assert buscar_p(3, 100, 2, 0, 0.95) == 0.0


def test_bad_arguments():
    with pytest.raises(ValueError):
        buscar_p(10, 1, 11, 0, 0.95)
    with pytest.raises(ValueError):
        buscar_p(10, 1, 5, 0, 1.0)


def _finals(decisions):
    return pd.DataFrame({"record_id": [f"r{i}" for i in range(len(decisions))],
                         "stage": "title_abstract", "final_decision": decisions})


def test_stopping_test_from_decisions():
    # 20 ranked records screened (6 includes), a sample of 30 of the other 80 (0 includes),
    # 50 records never screened.
    decisions = ["include"] * 6 + ["exclude"] * 14 + ["exclude"] * 30 + ["pending"] * 50
    finals = _finals(decisions)
    sample = {f"r{i}" for i in range(20, 50)}
    result = stopping_test(finals, sample, recall_target=0.95, confidence=0.95)
    assert (result.urn, result.sample, result.relevant_in_sample) == (80, 30, 0)
    assert result.relevant_before_sample == 6 and result.not_screened == 50
    assert result.k_null == 1
    assert_allclose(result.p_value, hypergeom.cdf(0, 80, 1, 30), rtol=1e-12)
    assert result.stop is False  # 50/80 = 0.625 > 0.05
    assert "Callaghan and Müller-Hansen" in result.statement


def test_no_sample_says_no_criterion():
    result = stopping_test(_finals(["include", "exclude", "pending"]), set(), 0.95, 0.95)
    assert result.p_value is None and result.stop is None
    assert "without a statistical criterion" in result.statement
    complete = stopping_test(_finals(["include", "exclude"]), set(), 0.95, 0.95)
    assert "All 2 records were screened" in complete.statement
