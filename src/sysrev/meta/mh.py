"""Mantel–Haenszel and Peto fixed-effect pooling of 2x2 tables (metafor's ``rma.mh`` and
``rma.peto``).

Both pool the tables themselves rather than per-study effect sizes, so they work with sparse
data where the inverse-variance method is biased. Zero cells follow metafor's defaults:
``add``/``to``/``drop00`` may be given as a pair, the first element for the per-study
``yi``/``vi`` (used only for Cochran's Q, I² and H²), the second for the pooled estimate
(default: no correction; Mantel–Haenszel needs none). Heterogeneity: Q is taken about the
pooled estimate, I² = max(0, (Q − df)/Q) and H² = Q/df (Q-based, as metafor and RevMan).

References
----------
Mantel N, Haenszel W. Statistical aspects of the analysis of data from retrospective studies
of disease. J Natl Cancer Inst 1959;22:719-48.
Robins J, Breslow N, Greenland S. Estimators of the Mantel-Haenszel variance consistent in
both sparse data and large-strata limiting models. Biometrics 1986;42:311-23 (OR variance).
Greenland S, Robins JM. Estimation of a common effect parameter from sparse follow-up data.
Biometrics 1985;41:55-68 (RR variance).
Sato T, Greenland S, Robins JM. On the variance estimator for the Mantel-Haenszel risk
difference. Biometrics 1989;45:1323-4.
Yusuf S, Peto R, Lewis J, Collins R, Sleight P. Beta blockade during and after myocardial
infarction. Prog Cardiovasc Dis 1985;27:335-71 (Peto's method).
Breslow NE, Day NE. Statistical Methods in Cancer Research I. IARC 1980; Tarone RE. On
heterogeneity tests based on efficient scores. Biometrika 1985;72:91-5.
Cochrane Handbook v6.5, section 10.4.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from sysrev.meta.escalc import escalc

MH_MEASURES = ("RR", "OR", "RD")


@dataclass(frozen=True)
class FixedTableResult:
    """The result of :func:`rma_mh` or :func:`rma_peto`.

    ``estimate``, ``se`` and the CI are on the model scale (log for RR and OR); the
    ``exp_*`` fields give the ratio scale (``None`` for RD). ``k`` counts the tables used,
    ``k_yi`` those with a per-study effect size (the df of Q is ``k_yi − 1``). For OR,
    ``cmh``/``cmh_p`` is the Cochran–Mantel–Haenszel test (with continuity correction when
    ``correct``), ``bd``/``ta`` the Breslow–Day and Tarone tests of homogeneity.
    """

    method: str
    measure: str
    estimate: float
    se: float
    zval: float
    pval: float
    ci_lb: float
    ci_ub: float
    exp_estimate: float | None
    exp_ci_lb: float | None
    exp_ci_ub: float | None
    q: float
    q_p: float
    i2: float
    h2: float
    k: int
    k_yi: int
    level: float
    cmh: float | None = None
    cmh_p: float | None = None
    bd: float | None = None
    bd_p: float | None = None
    ta: float | None = None
    ta_p: float | None = None
    k_pos: int | None = None

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def _pair(value, second):
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ValueError("add/to/drop00 take one value or a pair")
        return tuple(value)
    return (value, second)


def _cells(ai, bi, ci, di, n1i, n2i):
    a = np.asarray(ai, float)
    c = np.asarray(ci, float)
    b = np.asarray(bi, float) if bi is not None else np.asarray(n1i, float) - a
    d = np.asarray(di, float) if di is not None else np.asarray(n2i, float) - c
    if np.any(np.array([a, b, c, d]) < 0):
        raise ValueError("negative cell counts (events larger than the group size?)")
    return a, b, c, d


def _adjust(a, b, c, d, add: float, to: str):
    any_zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    if to == "all":
        mask = np.ones(len(a), bool)
    elif to == "only0":
        mask = any_zero
    elif to == "if0all":
        mask = np.full(len(a), bool(any_zero.any()))
    elif to == "none":
        mask = np.zeros(len(a), bool)
    else:
        raise ValueError(f"unknown to='{to}'")
    extra = np.where(mask, add, 0.0)
    return a + extra, b + extra, c + extra, d + extra


def _prepare(measure, ai, bi, ci, di, n1i, n2i, add, to, drop00):
    add, to, drop00 = _pair(add, 0.0), _pair(to, "none"), _pair(drop00, False)
    a, b, c, d = _cells(ai, bi, ci, di, n1i, n2i)
    es = escalc(measure, ai=a, bi=b, ci=c, di=d, add=add[0], to=to[0], drop00=drop00[0])
    if drop00[1]:
        keep = ~(((a == 0) & (c == 0)) | ((b == 0) & (d == 0)))
        a, b, c, d = a[keep], b[keep], c[keep], d[keep]
    a, b, c, d = _adjust(a, b, c, d, add[1], to[1])
    if len(a) == 0:
        raise ValueError("no tables left to pool")
    ok = ~(np.isnan(es.yi) | np.isnan(es.vi))
    return a, b, c, d, es.yi[ok], es.vi[ok]


def _heterogeneity(q: float, k_yi: int) -> tuple[float, float, float, float]:
    if k_yi > 1:
        q = max(0.0, q)
        return (q, float(stats.chi2.sf(q, k_yi - 1)), max(0.0, 100 * (q - (k_yi - 1)) / q)
                if q > 0 else 0.0, q / (k_yi - 1))
    return 0.0, 1.0, 0.0, 1.0


def _finish(method, measure, beta, se, level, q_inputs, k, extra) -> FixedTableResult:
    crit = float(stats.norm.ppf(1 - (1 - level / 100) / 2))
    if beta is None or not math.isfinite(beta) or not math.isfinite(se):
        est = se_ = zval = pval = lb = ub = math.nan
    else:
        est, se_ = float(beta), float(se)
        zval = est / se_ if se_ > 0 else math.copysign(math.inf, est)
        pval = float(2 * stats.norm.sf(abs(zval)))
        lb, ub = est - crit * se_, est + crit * se_
    q, k_yi = q_inputs
    q, q_p, i2, h2 = _heterogeneity(q, k_yi)
    ratio = measure in ("RR", "OR", "PETO")

    def expo(x):
        return math.exp(x) if ratio and math.isfinite(x) else None

    return FixedTableResult(method=method, measure=measure, estimate=est, se=se_, zval=zval,
                            pval=pval, ci_lb=lb, ci_ub=ub, exp_estimate=expo(est),
                            exp_ci_lb=expo(lb), exp_ci_ub=expo(ub), q=q, q_p=q_p, i2=i2,
                            h2=h2, k=k, k_yi=k_yi, level=level, **extra)


def rma_mh(measure: str, *, ai, ci, bi=None, di=None, n1i=None, n2i=None, add=0.5,
           to="only0", drop00=True, correct: bool = True,
           level: float = 95) -> FixedTableResult:
    """Mantel–Haenszel fixed-effect pooling, as metafor's ``rma.mh``.

    Parameters
    ----------
    measure
        ``"RR"``, ``"OR"`` or ``"RD"``.
    ai, bi, ci, di, n1i, n2i
        2x2 cells (metafor's names): events ``ai``/``ci`` and non-events ``bi``/``di`` in
        the treatment and control group; ``bi``/``di`` may be given as totals
        ``n1i``/``n2i``.
    add, to, drop00
        Zero-cell handling; a single value applies to the per-study ``yi``/``vi`` only (used
        for Q), a pair ``(for yi/vi, for the MH estimate)`` sets both. metafor's defaults:
        ``add=(1/2, 0)``, ``to=("only0", "none")``, ``drop00=(True, False)``.
    correct
        Continuity correction in the Cochran–Mantel–Haenszel test (OR only).
    level
        Confidence level in per cent.

    Returns
    -------
    FixedTableResult
        With the Greenland–Robins (RR), Robins–Breslow–Greenland (OR) or Sato–Greenland–
        Robins (RD) variance. When an MH ratio cannot be formed (no events in one arm of
        every table) the estimate is ``NaN``, as in metafor.
    """
    measure = measure.upper()
    if measure not in MH_MEASURES:
        raise ValueError(f"rma_mh: unknown measure '{measure}' (known: RR, OR, RD)")
    a, b, c, d, yi, vi = _prepare(measure, ai, bi, ci, di, n1i, n2i, add, to, drop00)
    n1, n2 = a + b, c + d
    n = n1 + n2
    extra: dict = {}
    beta = se = math.nan
    if measure == "OR":
        p_i, q_i = (a + d) / n, (b + c) / n
        r_i, s_i = a * d / n, b * c / n
        r, s = r_i.sum(), s_i.sum()
        if r > 0 and s > 0:
            beta = math.log(r / s)
            se = math.sqrt(0.5 * (np.sum(p_i * r_i) / r ** 2
                                  + np.sum(p_i * s_i + q_i * r_i) / (r * s)
                                  + np.sum(q_i * s_i) / s ** 2))
        xt, yt = a + c, b + d
        if xt.sum() > 0 and yt.sum() > 0:
            num = (abs(np.sum(a - n1 / n * xt)) - (0.5 if correct else 0.0)) ** 2
            cmh = float(num / np.sum(n1 / n * (n2 / n) * (xt * (yt / (n - 1)))))
            extra.update(cmh=cmh, cmh_p=float(stats.chi2.sf(cmh, 1)))
        if math.isfinite(beta):
            psi = r / s
            if psi == 1:
                n11 = n1 / n * xt
            else:
                big_a = psi * (n1 + xt) + (n2 - xt)
                big_b = np.sqrt(big_a ** 2 - 4 * n1 * xt * psi * (psi - 1))
                n11 = (big_a - big_b) / (2 * (psi - 1))
            pos = (n11 > 0) & (xt > 0) & (yt > 0)
            n11 = n11[pos]
            n12 = n1[pos] - n11
            n21 = xt[pos] - n11
            n22 = n11 - n1[pos] - xt[pos] + n[pos]
            inv_var = 1 / (1 / n11 + 1 / n12 + 1 / n21 + 1 / n22)
            bd = max(0.0, float(np.sum((a[pos] - n11) ** 2 / inv_var)))
            ta = max(0.0, bd - float(np.sum(a[pos] - n11)) ** 2 / float(np.sum(inv_var)))
            k_pos = int(pos.sum())
            extra.update(bd=bd, ta=ta, k_pos=k_pos,
                         bd_p=float(stats.chi2.sf(bd, k_pos - 1)) if k_pos > 1 else None,
                         ta_p=float(stats.chi2.sf(ta, k_pos - 1)) if k_pos > 1 else None)
        else:
            extra.update(k_pos=0)
    elif measure == "RR":
        r = float(np.sum(a * (n2 / n)))
        s = float(np.sum(c * (n1 / n)))
        if a.sum() > 0 and c.sum() > 0:
            beta = math.log(r / s)
            se = math.sqrt(float(np.sum(n1 / n * (n2 / n) * (a + c) - a / n * c)) / (r * s))
    else:
        weight = float(np.sum(n1 * (n2 / n)))
        beta = float(np.sum(a * (n2 / n) - c * (n1 / n))) / weight
        se = math.sqrt((beta * float(np.sum(c * (n1 / n) ** 2 - a * (n2 / n) ** 2
                                            + n1 / n * (n2 / n) * (n2 - n1) / 2))
                        + float(np.sum(a * (n2 - c) / n + c * (n1 - a) / n)) / 2) / weight ** 2)
    q = float(np.sum((yi - beta) ** 2 / vi)) if math.isfinite(beta) else math.nan
    return _finish("MH", measure, beta, se, level, (q, len(yi)), len(a), extra)


def rma_peto(*, ai, ci, bi=None, di=None, n1i=None, n2i=None, add=0.5, to="only0",
             drop00=True, level: float = 95) -> FixedTableResult:
    """Peto's one-step odds ratio, as metafor's ``rma.peto``.

    The log OR is Σ(O − E) / ΣV with O the treatment-arm events, E = (events in both
    arms)·n₁/N and V the hypergeometric variance; its variance is 1/ΣV. Q = Σ(O − E)²/V −
    (Σ(O − E))²/ΣV over the tables with V > 0. ``add``/``to``/``drop00`` as
    :func:`rma_mh` (the first element applies to the per-study Peto log ORs).

    Raises
    ------
    ValueError
        When no table has both an event and a non-event (ΣV = 0): Peto's method cannot be
        used (metafor stops too).
    """
    a, b, c, d, yi, _ = _prepare("PETO", ai, bi, ci, di, n1i, n2i, add, to, drop00)
    n1, n2 = a + b, c + d
    n = n1 + n2
    xt, yt = a + c, b + d
    e = xt * n1 / n
    with np.errstate(divide="ignore", invalid="ignore"):
        v = xt * yt * (n1 / n) * (n2 / n) / (n - 1)
    v = np.nan_to_num(v, nan=0.0)
    total_v = float(v.sum())
    if total_v == 0:
        raise ValueError("rma_peto: one of the two outcomes never occurred in any table; "
                         "Peto's method cannot be used")
    beta = float(np.sum(a - e)) / total_v
    se = math.sqrt(1 / total_v)
    pos = v > 0
    q = float(np.sum((a[pos] - e[pos]) ** 2 / v[pos]) - np.sum(a - e) ** 2 / total_v)
    return _finish("PETO", "OR", beta, se, level, (q, len(yi)), len(a),
                   {"k_pos": int(pos.sum())})
