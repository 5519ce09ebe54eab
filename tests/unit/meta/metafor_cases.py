"""The metafor reference cases (tests/reference/metafor_reference.json) and the tolerances
the tests hold them to: 1e-8 for closed forms, 1e-6 for iterative estimators, whose roots both
programs find numerically (the references use tight convergence controls; see the R script).
"""

import json
import math
from pathlib import Path

import pytest

REFERENCE = json.loads((Path(__file__).parents[2] / "reference" /
                        "metafor_reference.json").read_text())
CASES = {case["id"]: case for case in REFERENCE["cases"]}
CLOSED_FORM = {"EE", "FE", "DL", "HE", "SJ"}


def tolerance(method: str) -> float:
    """The tolerance for a result computed with ``method``."""
    return 1e-8 if method in CLOSED_FORM else 1e-6


def assert_close(actual, expected, tol, what):
    """``actual`` equals metafor's ``expected``; metafor's NA/NaN/Inf (``None``) must be
    matched by a missing or non-finite value."""
    if expected is None:
        assert actual is None or not math.isfinite(actual), what
        return
    assert actual == pytest.approx(expected, rel=tol, abs=tol), what
