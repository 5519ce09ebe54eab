"""Leave-one-out and cumulative meta-analysis (metafor's ``leave1out`` and ``cumul``).

Each refit uses the same τ² estimator, test and level as the full analysis. Rows are plain
dicts with metafor's columns (``estimate, se, zval, pval, ci_lb, ci_ub, q, q_p, tau2, i2,
h2``) plus the study left out or added, so they serialise straight to TSV.

References
----------
Viechtbauer W, Cheung MWL. Outlier and influence diagnostics for meta-analysis. Res Synth
Methods 2010;1:112-25.
Lau J, Antman EM, Jimenez-Silva J, et al. Cumulative meta-analysis of therapeutic trials for
myocardial infarction. N Engl J Med 1992;327:248-54.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from sysrev.meta.rma import rma

ROW_FIELDS = ("estimate", "se", "zval", "pval", "ci_lb", "ci_ub", "q", "q_p", "tau2", "i2",
              "h2")


def _row(result) -> dict:
    return {name: getattr(result, name) for name in ROW_FIELDS} | {"k": result.k}


def leave1out(yi, vi, *, method: str = "REML", test: str = "z", level: float = 95,
              labels: Sequence[str] | None = None) -> list[dict]:
    """Refit the model k times, each time without one study.

    Parameters
    ----------
    yi, vi
        Effect sizes and sampling variances (k ≥ 2).
    method, test, level
        As :func:`sysrev.meta.rma`.
    labels
        Study labels; default ``"1"`` … ``"k"``.

    Returns
    -------
    list of dict
        One row per study, in input order: ``left_out`` and the refit's results. As in
        metafor, a refit on one study gives τ² = 0, Q = 0, I² = 0 and H² = 1.
    """
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)
    k = len(yi)
    if k < 2:
        raise ValueError("leave1out: needs at least two studies")
    labels = [str(i + 1) for i in range(k)] if labels is None else list(labels)
    rows = []
    for i in range(k):
        keep = np.arange(k) != i
        res = rma(yi[keep], vi[keep], method=method, test=test, level=level, tau2_ci=False)
        rows.append({"left_out": labels[i]} | _row(res))
    return rows


def cumul(yi, vi, *, order=None, method: str = "REML", test: str = "z", level: float = 95,
          labels: Sequence[str] | None = None) -> list[dict]:
    """Cumulative meta-analysis: refit after adding studies one at a time.

    Parameters
    ----------
    order
        Sort key per study (e.g. the publication year); studies with equal keys keep their
        input order (a stable sort, as R's ``order``). ``None`` keeps the input order.
    method, test, level, labels
        As :func:`leave1out`.

    Returns
    -------
    list of dict
        One row per step: ``added`` (the label of the study added at that step) and the
        results of the model fitted on the studies up to and including it.
    """
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)
    k = len(yi)
    if k < 1:
        raise ValueError("cumul: no studies")
    labels = [str(i + 1) for i in range(k)] if labels is None else list(labels)
    idx = np.arange(k) if order is None else np.argsort(np.asarray(order), kind="stable")
    rows = []
    for step in range(1, k + 1):
        take = idx[:step]
        res = rma(yi[take], vi[take], method=method, test=test, level=level, tau2_ci=False)
        rows.append({"added": labels[idx[step - 1]]} | _row(res))
    return rows
