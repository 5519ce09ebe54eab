"""Per-study effect sizes and sampling variances (metafor's ``escalc``).

References
----------
Viechtbauer W. Conducting meta-analyses in R with the metafor package. J Stat Softw
2010;36(3):1-48.
Higgins JPT et al. (eds). Cochrane Handbook for Systematic Reviews of Interventions,
version 6.5, chapter 6 and 10.
Hedges LV. Distribution theory for Glass's estimator of effect size and related estimators.
J Educ Stat 1981;6:107-128 (exact small-sample correction).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

MEASURES = ("MD", "SMD", "RR", "OR", "RD", "PETO")


@dataclass(frozen=True)
class EffectSizes:
    """Effect sizes ``yi`` and sampling variances ``vi``, one per study.

    ``adjusted`` marks studies whose 2x2 cells had ``add`` added (a zero cell); ``dropped``
    marks studies left out (``NaN``), e.g. double-zero studies with ``drop00=True``.
    """

    measure: str
    yi: np.ndarray
    vi: np.ndarray
    adjusted: np.ndarray
    dropped: np.ndarray


def _arr(x, name: str) -> np.ndarray:
    if x is None:
        raise TypeError(f"escalc: argument '{name}' is required for this measure")
    return np.asarray(x, dtype=float)


def hedges_correction(df: np.ndarray) -> np.ndarray:
    """Exact small-sample bias correction J(m) = Γ(m/2) / (√(m/2) Γ((m-1)/2))."""
    df = np.asarray(df, dtype=float)
    return np.exp(gammaln(df / 2) - 0.5 * np.log(df / 2) - gammaln((df - 1) / 2))


def _continuous(measure, m1i, m2i, sd1i, sd2i, n1i, n2i) -> EffectSizes:
    m1, m2 = _arr(m1i, "m1i"), _arr(m2i, "m2i")
    s1, s2 = _arr(sd1i, "sd1i"), _arr(sd2i, "sd2i")
    n1, n2 = _arr(n1i, "n1i"), _arr(n2i, "n2i")
    if measure == "MD":
        yi = m1 - m2
        vi = s1 ** 2 / n1 + s2 ** 2 / n2
    else:
        df = n1 + n2 - 2
        pooled_sd = np.sqrt(((n1 - 1) * s1 ** 2 + (n2 - 1) * s2 ** 2) / df)
        yi = hedges_correction(df) * (m1 - m2) / pooled_sd
        # metafor's default large-sample variance (vtype="LS").
        vi = 1 / n1 + 1 / n2 + yi ** 2 / (2 * (n1 + n2))
    flags = np.zeros(len(yi), dtype=bool)
    return EffectSizes(measure, yi, vi, flags, flags.copy())


def _binary(measure, ai, bi, ci, di, n1i, n2i, add, to, drop00) -> EffectSizes:
    a = _arr(ai, "ai")
    c = _arr(ci, "ci")
    b = _arr(bi, "bi") if bi is not None else _arr(n1i, "n1i") - a
    d = _arr(di, "di") if di is not None else _arr(n2i, "n2i") - c
    if np.any(np.array([a, b, c, d]) < 0):
        raise ValueError("escalc: negative cell counts (events larger than the group size?)")
    double_zero = ((a == 0) & (c == 0)) | ((b == 0) & (d == 0))
    any_zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    if to == "all":
        adjust = np.ones(len(a), dtype=bool)
    elif to == "only0":
        adjust = any_zero.copy()
    elif to == "if0all":
        adjust = np.full(len(a), bool(any_zero.any()))
    elif to == "none":
        adjust = np.zeros(len(a), dtype=bool)
    else:
        raise ValueError(f"escalc: unknown to='{to}'")
    dropped = double_zero if drop00 else np.zeros(len(a), dtype=bool)
    adjust &= ~dropped
    a, b, c, d = (x + np.where(adjust, add, 0.0) for x in (a, b, c, d))
    n1, n2 = a + b, c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "RR":
            yi = np.log((a / n1) / (c / n2))
            vi = 1 / a - 1 / n1 + 1 / c - 1 / n2
        elif measure == "OR":
            yi = np.log((a * d) / (b * c))
            vi = 1 / a + 1 / b + 1 / c + 1 / d
        elif measure == "PETO":
            # Peto's log odds ratio: (O - E) / V with the hypergeometric mean and variance.
            n = n1 + n2
            expected = (a + c) * n1 / n
            var = (a + c) * (b + d) * (n1 / n) * (n2 / n) / (n - 1)
            yi = (a - expected) / var
            vi = 1 / var
        else:
            p1, p2 = a / n1, c / n2
            yi = p1 - p2
            vi = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
    yi = np.where(dropped, np.nan, yi)
    vi = np.where(dropped, np.nan, vi)
    return EffectSizes(measure, yi, vi, adjust, dropped)


def escalc(measure: str, *, ai=None, bi=None, ci=None, di=None, n1i=None, n2i=None,
           m1i=None, m2i=None, sd1i=None, sd2i=None, add: float = 0.5, to: str = "only0",
           drop00: bool = False) -> EffectSizes:
    """Compute effect sizes and sampling variances, as metafor's ``escalc``.

    Parameters
    ----------
    measure
        ``"MD"`` (raw mean difference), ``"SMD"`` (Hedges' g with the exact correction),
        ``"RR"`` (log risk ratio), ``"OR"`` (log odds ratio), ``"RD"`` (risk difference)
        or ``"PETO"`` (Peto's log odds ratio, used by :func:`sysrev.meta.rma_peto`).
    ai, bi, ci, di
        2x2 cells: events and non-events in the treatment group (``ai``, ``bi``) and in the
        control group (``ci``, ``di``). ``bi``/``di`` may be given as ``n1i``/``n2i`` instead.
    n1i, n2i, m1i, m2i, sd1i, sd2i
        Group sizes, means and standard deviations (treatment 1, control 2).
    add, to, drop00
        Zero-cell handling, as metafor: ``add`` is added to every cell of the studies chosen
        by ``to`` (``"only0"``: studies with a zero cell, ``"all"``, ``"if0all"``,
        ``"none"``); ``drop00=True`` leaves out studies with no events (or only events) in
        both groups. As in metafor, the adjustment applies to RD too.

    Returns
    -------
    EffectSizes
        ``yi`` and ``vi`` as NumPy arrays (log scale for RR and OR).
    """
    measure = measure.upper()
    if measure in ("MD", "SMD"):
        return _continuous(measure, m1i, m2i, sd1i, sd2i, n1i, n2i)
    if measure in ("RR", "OR", "RD", "PETO"):
        return _binary(measure, ai, bi, ci, di, n1i, n2i, add, to, drop00)
    raise ValueError(f"escalc: unknown measure '{measure}' (known: {', '.join(MEASURES)})")
