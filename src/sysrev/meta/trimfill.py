"""Trim-and-fill (Duval and Tweedie), as metafor's ``trimfill(res, estimator=...)``.

The side on which studies are missing is the opposite of the one Egger-type regression
points to: a meta-regression of yi on √vi with the model's τ² estimator; a negative slope
means studies are missing on the right. Then, on the side-flipped and sorted effects,
iterate: pool the k − k0 smallest, centre all k on that estimate, rank the absolute centred
values (ties: first come first), and estimate k0 with

- ``L0``: (4 S_r − k(k + 1)) / (2k − 1), S_r the sum of the positive signed ranks;
- ``R0``: the length of the rightmost run of positive ranks minus one, γ* − 1;

rounded and floored at 0, until k0 no longer changes. The k0 most extreme studies are then
mirrored about the trimmed estimate and the augmented set is pooled again with the same
τ² estimator (metafor's refit uses the Wald test).

The Cochrane Handbook (13.3.5.4) cautions that trim-and-fill rests on the funnel plot being
asymmetric only because of small-study effects of publication; like Egger's test it is done
only from 10 studies.

References
----------
Duval S, Tweedie R. Trim and fill: a simple funnel-plot-based method of testing and adjusting
for publication bias in meta-analysis. Biometrics 2000;56:455-63.
Duval S, Tweedie R. A nonparametric "trim and fill" method of accounting for publication bias
in meta-analysis. J Am Stat Assoc 2000;95:89-98.
Duval S. The trim and fill method. In: Rothstein HR et al. (eds). Publication Bias in
Meta-Analysis. Wiley 2005:127-44.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sysrev.meta.regression import rma_mods
from sysrev.meta.rma import RMAResult, rma

ESTIMATORS = ("L0", "R0")


@dataclass(frozen=True)
class TrimFillResult:
    """``k0`` studies filled on ``side``; ``fit`` pools the k + k0 effects (``yi``/``vi``,
    the filled ones last, flagged in ``filled``)."""

    estimator: str
    side: str
    k0: int
    se_k0: float
    p_k0: float
    iterations: int
    yi: tuple[float, ...]
    vi: tuple[float, ...]
    filled: tuple[bool, ...]
    fit: RMAResult

    def as_dict(self) -> dict:
        fit = self.fit.as_dict()
        fit.pop("weights", None)
        return {"estimator": self.estimator, "side": self.side, "k0": self.k0,
                "se_k0": self.se_k0, "p_k0": self.p_k0, "iterations": self.iterations,
                "yi": list(self.yi), "vi": list(self.vi), "filled": list(self.filled),
                "fit": fit}


def _first_ranks(values: np.ndarray) -> np.ndarray:
    """R's ``rank(x, ties.method = "first")``: 1..k, ties in order of appearance."""
    ranks = np.empty(len(values), dtype=float)
    ranks[np.argsort(values, kind="stable")] = np.arange(1, len(values) + 1)
    return ranks


def trimfill(yi, vi, *, method: str = "REML", estimator: str = "L0", side: str | None = None,
             maxiter: int = 100, level: float = 95) -> TrimFillResult:
    """Trim-and-fill of an equal- or random-effects model without moderators.

    Parameters
    ----------
    yi, vi
        Effect sizes and sampling variances (k ≥ 2... in practice from 10 studies).
    method
        τ² estimator of the model (as :func:`sysrev.meta.rma`; ``"EE"`` for a fixed-effect
        trim-and-fill), used for the side test, every trimmed fit and the final fit.
    estimator
        ``"L0"`` (default, as metafor) or ``"R0"``.
    side
        ``"left"`` or ``"right"``: where studies are missing; ``None`` decides as metafor.
    maxiter
        Iterations allowed before giving up.
    level
        Confidence level of the final fit.

    Returns
    -------
    TrimFillResult
    """
    estimator = estimator.upper()
    if estimator not in ESTIMATORS:
        raise ValueError(f"trimfill: unknown estimator '{estimator}' (L0 or R0)")
    y0, v0 = np.asarray(yi, float), np.asarray(vi, float)
    k = len(y0)
    if k < 2:
        raise ValueError("trimfill: needs at least two studies")
    if side is None:
        slope = rma_mods(y0, v0, np.sqrt(v0), method=method).beta[1]
        side = "right" if slope < 0 else "left"
    elif side not in ("left", "right"):
        raise ValueError(f"trimfill: side must be 'left' or 'right', not '{side}'")
    y = -y0 if side == "right" else y0.copy()
    order = np.argsort(y, kind="stable")
    y, v = y[order], v0[order]

    k0, k0_prev, iterations = 0, -1, 0
    se_k0 = math.nan
    beta = math.nan
    while k0 != k0_prev:
        k0_prev = k0
        iterations += 1
        if iterations > maxiter:
            raise RuntimeError("trimfill: the algorithm did not converge")
        beta = rma(y[:k - k0], v[:k - k0], method=method, tau2_ci=False).estimate
        centred = y - beta
        signed = np.sign(centred) * _first_ranks(np.abs(centred))
        if estimator == "R0":
            negative = -signed[signed < 0]
            est = (k - negative.max()) - 1 if len(negative) else k - 1
            se_k0 = math.sqrt(2 * max(0.0, est) + 2)
        else:
            sr = float(np.sum(signed[signed > 0]))
            est = (4 * sr - k * (k + 1)) / (2 * k - 1)
            var_sr = (k * (k + 1) * (2 * k + 1) + 10 * est ** 3 + 27 * est ** 2 + 17 * est
                      - 18 * k * est ** 2 - 18 * k * est + 6 * k ** 2 * est) / 24
            se_k0 = 4 * math.sqrt(var_sr) / (2 * k - 1) if var_sr > 0 else math.nan
        # R's round() halves to even, as Python's.
        k0 = max(0, int(round(est)))
        se_k0 = max(0.0, se_k0) if math.isfinite(se_k0) else se_k0

    if k0 > 0:
        # Mirror the k0 largest (side-flipped) effects about the trimmed estimate.
        mirrored = 2 * beta - y[k - k0:]
        fill_y = -mirrored if side == "right" else mirrored
        all_y = np.concatenate([y0, fill_y])
        all_v = np.concatenate([v0, v[k - k0:]])
    else:
        all_y, all_v = y0, v0
    fit = rma(all_y, all_v, method=method, level=level)
    if estimator == "R0":
        m = np.arange(-1, k0)
        p_k0 = float(1 - np.sum([math.comb(int(j) + 1, int(j) + 1) * 0.5 ** (j + 2)
                                 for j in m]))
    else:
        p_k0 = math.nan
    return TrimFillResult(estimator=estimator, side=side, k0=k0, se_k0=float(se_k0),
                          p_k0=p_k0, iterations=iterations,
                          yi=tuple(map(float, all_y)), vi=tuple(map(float, all_v)),
                          filled=tuple([False] * k + [True] * k0), fit=fit)
