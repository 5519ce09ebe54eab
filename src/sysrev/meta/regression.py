"""Meta-regression: the (mixed-effects) model y = Xβ + u + e of metafor's ``rma(yi, vi,
mods=...)``, used for the subgroup test with a common τ² and for Egger's regression test.

The model: y_i = x_iᵀβ + u_i + e_i, u_i ~ N(0, τ²), e_i ~ N(0, v_i). β is estimated by
weighted least squares with w_i = 1/(v_i + τ²); τ² by one of the estimators of :func:`rma`
generalised to p coefficients (Viechtbauer 2005; Raudenbush 2009). ``QE`` is the residual
heterogeneity statistic Σ v_i⁻¹ (y_i − x_iᵀβ̂_FE)² on k − p df; ``QM`` the Wald-type omnibus
test of the coefficients in ``btt`` (χ² with m df, or F with m and k − p df under Knapp–
Hartung). I² is residual: τ² / (τ² + s²) with s² = (k − p) / tr(P₀), as metafor.

References
----------
Raudenbush SW. Analyzing effect sizes: random-effects models. In: Cooper H, Hedges LV,
Valentine JC (eds). The Handbook of Research Synthesis and Meta-Analysis, 2nd ed. 2009.
Viechtbauer W. Bias and efficiency of meta-analytic variance estimators in the random-effects
model. J Educ Behav Stat 2005;30:261-93.
Knapp G, Hartung J. Improved tests for a random effects meta-regression with a single
covariate. Stat Med 2003;22:2693-710.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, stats

MODS_METHODS = ("EE", "FE", "DL", "HE", "SJ", "PM", "EB", "ML", "REML")


@dataclass(frozen=True)
class MetaRegResult:
    """The result of :func:`rma_mods`. Coefficients are in the column order of ``X``."""

    beta: tuple[float, ...]
    se: tuple[float, ...]
    zval: tuple[float, ...]
    pval: tuple[float, ...]
    ci_lb: tuple[float, ...]
    ci_ub: tuple[float, ...]
    tau2: float
    i2: float
    h2: float
    qe: float
    qe_df: int
    qe_p: float
    qm: float
    qm_df: tuple[int, ...]
    qm_p: float
    s2w: float
    k: int
    p: int
    method: str
    test: str
    level: float
    dfs: float = field(default=math.inf)

    def as_dict(self) -> dict:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}


def _wls(X: np.ndarray, y: np.ndarray, w: np.ndarray):
    """β̂, (XᵀWX)⁻¹ and residuals of weighted least squares."""
    xtwx_inv = np.linalg.inv(X.T @ (w[:, None] * X))
    beta = xtwx_inv @ (X.T @ (w * y))
    return beta, xtwx_inv, y - X @ beta


def _trace_p(X: np.ndarray, w: np.ndarray, xtwx_inv: np.ndarray) -> float:
    """tr(P) with P = W − WX(XᵀWX)⁻¹XᵀW, without forming the k × k matrix."""
    return float(np.sum(w) - np.sum((X.T @ (w[:, None] ** 2 * X)) * xtwx_inv))


def _resid_q(tau2: float, X, y, vi) -> float:
    w = 1 / (vi + tau2)
    _, _, resid = _wls(X, y, w)
    return float(np.sum(w * resid ** 2))


def _score(tau2: float, X, y, vi, reml: bool) -> float:
    # d log L / d τ² (times 2): yᵀPPy − tr(P) for REML, yᵀPPy − tr(W) for ML.
    w = 1 / (vi + tau2)
    _, inv, resid = _wls(X, y, w)
    py = w * resid
    penalty = _trace_p(X, w, inv) if reml else float(np.sum(w))
    return float(np.sum(py ** 2)) - penalty


def _root_decreasing(func, scale: float) -> float:
    if func(0.0) <= 0:
        return 0.0
    upper = max(scale, 1.0)
    for _ in range(200):
        if func(upper) < 0:
            break
        upper *= 2
    else:
        raise RuntimeError("could not bracket the heterogeneity estimate")
    return float(optimize.brentq(func, 0.0, upper, xtol=1e-14, rtol=1e-14, maxiter=500))


def _tau2(method: str, X, y, vi) -> float:
    k, p = X.shape
    if method == "EE":
        return 0.0
    if method == "DL":
        w = 1 / vi
        _, inv, resid = _wls(X, y, w)
        qe = float(np.sum(w * resid ** 2))
        return max(0.0, (qe - (k - p)) / _trace_p(X, w, inv))
    if method == "HE":
        ones = np.ones(k)
        _, inv, resid = _wls(X, y, ones)
        rss = float(np.sum(resid ** 2))
        trace_pv = float(np.sum(vi) - np.sum((X.T @ (vi[:, None] * X)) * inv))
        return max(0.0, (rss - trace_pv) / (k - p))
    if method == "SJ":
        tau0 = float(np.var(y))
        if tau0 <= 0:
            return 0.0
        return tau0 * _resid_q(tau0, X, y, vi) / (k - p)
    scale = float(np.var(y)) + float(np.mean(vi))
    if method in ("PM", "EB"):
        return _root_decreasing(lambda t: _resid_q(t, X, y, vi) - (k - p), scale)
    return _root_decreasing(lambda t: _score(t, X, y, vi, method == "REML"), scale)


def rma_mods(yi, vi, mods=None, *, intercept: bool = True, method: str = "REML",
             test: str = "z", level: float = 95, btt=None) -> MetaRegResult:
    """Fit a meta-regression, as metafor's ``rma(yi, vi, mods=mods, method=..., test=...)``.

    Parameters
    ----------
    yi, vi
        Effect sizes and sampling variances.
    mods
        Moderators: an array-like of shape (k,) or (k, m), or ``None`` (intercept only).
    intercept
        Add a column of ones in front of ``mods`` (metafor's default).
    method
        τ² estimator: ``"EE"``/``"FE"`` (no τ²), ``"DL"``, ``"HE"``, ``"SJ"``, ``"PM"``,
        ``"EB"`` (equal to PM), ``"ML"`` or ``"REML"``.
    test
        ``"z"``, ``"knha"`` (Knapp–Hartung: vcov scaled by s2w = Σw·e²/(k−p), t and F with
        k − p df) or ``"adhoc"`` (s2w floored at 1).
    level
        Confidence level in per cent.
    btt
        Indices of the coefficients tested by ``QM``; default all but the intercept.

    Returns
    -------
    MetaRegResult
    """
    method = method.upper()
    if method not in MODS_METHODS:
        raise ValueError(f"rma_mods: unknown method '{method}'")
    if method == "FE":
        method = "EE"
    if test not in ("z", "knha", "adhoc"):
        raise ValueError(f"rma_mods: unknown test '{test}'")
    y = np.asarray(yi, float)
    v = np.asarray(vi, float)
    k = len(y)
    cols = [] if not intercept else [np.ones(k)]
    if mods is not None:
        m = np.asarray(mods, float)
        m = m.reshape(k, -1) if m.ndim == 1 else m
        cols += [m[:, j] for j in range(m.shape[1])]
    X = np.column_stack(cols)
    p = X.shape[1]
    if k <= p:
        raise ValueError(f"rma_mods: {k} studies cannot estimate {p} coefficients")
    if np.linalg.matrix_rank(X) < p:
        raise ValueError("rma_mods: the model matrix is not of full rank")
    if np.any(v <= 0):
        raise ValueError("rma_mods: sampling variances must be positive")

    w0 = 1 / v
    _, inv0, resid0 = _wls(X, y, w0)
    qe = float(np.sum(w0 * resid0 ** 2))
    qe_df = k - p
    qe_p = float(stats.chi2.sf(qe, qe_df))
    tau2 = float(_tau2(method, X, y, v))
    w = 1 / (v + tau2)
    beta, vb, resid = _wls(X, y, w)
    s2w = 1.0
    if test in ("knha", "adhoc"):
        s2w = float(np.sum(w * resid ** 2)) / (k - p)
        if test == "adhoc":
            s2w = max(1.0, s2w)
        vb = vb * s2w
    se = np.sqrt(np.diag(vb))
    alpha = 1 - level / 100
    with np.errstate(divide="ignore", invalid="ignore"):
        zval = beta / se
    if test == "z":
        crit = float(stats.norm.ppf(1 - alpha / 2))
        pval = 2 * stats.norm.sf(np.abs(zval))
        dfs = math.inf
    else:
        crit = float(stats.t.ppf(1 - alpha / 2, k - p))
        pval = 2 * stats.t.sf(np.abs(zval), k - p)
        dfs = float(k - p)
    btt = list(range(1 if intercept else 0, p)) if btt is None else list(btt)
    if btt:
        b = beta[btt]
        qm = float(b @ np.linalg.solve(vb[np.ix_(btt, btt)], b))
        if test == "z":
            qm_df: tuple[int, ...] = (len(btt),)
            qm_p = float(stats.chi2.sf(qm, len(btt)))
        else:
            qm /= len(btt)
            qm_df = (len(btt), k - p)
            qm_p = float(stats.f.sf(qm, len(btt), k - p))
    else:
        qm, qm_df, qm_p = math.nan, (0,), math.nan
    if method == "EE":
        i2 = max(0.0, 100 * (qe - qe_df) / qe) if qe > 0 else 0.0
        h2 = qe / qe_df
    else:
        s2 = (k - p) / _trace_p(X, w0, inv0)
        i2 = 100 * tau2 / (tau2 + s2)
        h2 = (tau2 + s2) / s2
    return MetaRegResult(
        beta=tuple(map(float, beta)), se=tuple(map(float, se)), zval=tuple(map(float, zval)),
        pval=tuple(map(float, pval)), ci_lb=tuple(map(float, beta - crit * se)),
        ci_ub=tuple(map(float, beta + crit * se)), tau2=tau2, i2=i2, h2=h2, qe=qe,
        qe_df=qe_df, qe_p=qe_p, qm=qm, qm_df=qm_df, qm_p=qm_p, s2w=s2w, k=k, p=p,
        method=method, test=test, level=level, dfs=dfs)
