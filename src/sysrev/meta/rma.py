"""Fixed-effect and random-effects pooling of effect sizes (metafor's ``rma`` with no
moderators).

Heterogeneity: ``q`` is Cochran's Q about the fixed-effect estimate. ``i2`` and ``h2`` follow
metafor's definition, from the estimated τ² and the "typical" within-study variance
s² = (k−1)Σw / ((Σw)² − Σw²) (Higgins & Thompson 2002, eq. 9): I² = τ²/(τ² + s²). ``i2_q`` is
the Q-based I² = max(0, (Q − df)/Q), which RevMan 5 reports; the two agree for DL.

References
----------
DerSimonian R, Laird N. Meta-analysis in clinical trials. Control Clin Trials 1986;7:177-88.
Paule RC, Mandel J. Consensus values and weighting factors. J Res Natl Bur Stand 1982;87:377-85.
Sidik K, Jonkman JN. Simple heterogeneity variance estimation for meta-analysis. J R Stat Soc
C 2005;54:367-84.
Hartung J, Knapp G. On tests of the overall treatment effect in meta-analysis with normally
distributed responses. Stat Med 2001;20:1771-82.
Viechtbauer W. Confidence intervals for the amount of heterogeneity in meta-analysis. Stat Med
2007;26:37-52 (Q-profile).
Viechtbauer W. Bias and efficiency of meta-analytic variance estimators in the random-effects
model. J Educ Behav Stat 2005;30:261-93 (ML, REML, HE).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, stats

METHODS = ("EE", "FE", "DL", "REML", "PM", "SJ", "HE", "ML", "EB")
TESTS = ("z", "knha", "adhoc")


@dataclass(frozen=True)
class RMAResult:
    """The result of :func:`rma`. Confidence and prediction bounds are at ``level`` %."""

    estimate: float
    se: float
    ci_lb: float
    ci_ub: float
    pi_lb: float
    pi_ub: float
    zval: float
    pval: float
    tau2: float
    tau2_ci: tuple[float, float]
    i2: float
    i2_ci: tuple[float, float]
    i2_q: float
    h2: float
    q: float
    q_p: float
    df: int
    k: int
    method: str
    test: str
    level: float
    weights: tuple[float, ...] = field(repr=False)

    def as_dict(self) -> dict:
        """A plain dict for JSON output."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["tau2_ci"] = list(self.tau2_ci)
        data["i2_ci"] = list(self.i2_ci)
        data["weights"] = list(self.weights)
        return data


def _ratio(estimate: float, se: float) -> float:
    if se > 0:
        return estimate / se
    return math.copysign(math.inf, estimate) if estimate != 0 else math.nan


def _weighted_mean(yi: np.ndarray, wi: np.ndarray) -> float:
    return float(np.sum(wi * yi) / np.sum(wi))


def _q_gen(tau2: float, yi: np.ndarray, vi: np.ndarray) -> float:
    """Generalised Q: Σ w(τ²)(y − μ̂(τ²))² with w = 1/(v + τ²)."""
    wi = 1 / (vi + tau2)
    return float(np.sum(wi * (yi - _weighted_mean(yi, wi)) ** 2))


def _upper_bracket(func, start: float) -> float:
    upper = max(start, 1.0)
    for _ in range(200):
        if func(upper) < 0:
            return upper
        upper *= 2
    raise RuntimeError("could not bracket the heterogeneity estimate")


def _solve_decreasing(func, scale: float) -> float:
    """Root of a function that is positive at 0 and eventually negative."""
    if func(0.0) <= 0:
        return 0.0
    upper = _upper_bracket(func, scale)
    return float(optimize.brentq(func, 0.0, upper, xtol=1e-14, rtol=1e-14, maxiter=500))


def _tau2_dl(yi, vi) -> float:
    wi = 1 / vi
    q = _q_gen(0.0, yi, vi)
    c = np.sum(wi) - np.sum(wi ** 2) / np.sum(wi)
    return max(0.0, float((q - (len(yi) - 1)) / c))


def _tau2_he(yi, vi) -> float:
    k = len(yi)
    rss = float(np.sum((yi - yi.mean()) ** 2))
    return max(0.0, (rss - np.sum(vi) * (k - 1) / k) / (k - 1))


def _tau2_sj(yi, vi) -> float:
    k = len(yi)
    tau0 = float(np.sum((yi - yi.mean()) ** 2) / k)
    if tau0 <= 0:
        return 0.0
    wi = 1 / (vi + tau0)
    mu = _weighted_mean(yi, wi)
    return tau0 * float(np.sum(wi * (yi - mu) ** 2)) / (k - 1)


def _tau2_pm(yi, vi) -> float:
    df = len(yi) - 1
    return _solve_decreasing(lambda t: _q_gen(t, yi, vi) - df, float(np.var(yi)))


def _reml_score(tau2, yi, vi) -> float:
    wi = 1 / (vi + tau2)
    mu = _weighted_mean(yi, wi)
    return float(np.sum(wi ** 2 * (yi - mu) ** 2) - (np.sum(wi) - np.sum(wi ** 2) / np.sum(wi)))


def _ml_score(tau2, yi, vi) -> float:
    wi = 1 / (vi + tau2)
    mu = _weighted_mean(yi, wi)
    return float(np.sum(wi ** 2 * (yi - mu) ** 2) - np.sum(wi))


def _tau2_likelihood(yi, vi, score) -> float:
    # The (restricted) log-likelihood in τ² is maximised where its score is zero; a score
    # that is negative at τ² = 0 means the maximum lies on the boundary.
    return _solve_decreasing(lambda t: score(t, yi, vi), float(np.var(yi)))


_ESTIMATORS = {"DL": _tau2_dl, "HE": _tau2_he, "SJ": _tau2_sj, "PM": _tau2_pm,
               # The empirical Bayes estimator equals Paule-Mandel for models without
               # moderators (Viechtbauer et al. 2015, Res Synth Methods 6:106).
               "EB": _tau2_pm,
               "REML": lambda y, v: _tau2_likelihood(y, v, _reml_score),
               "ML": lambda y, v: _tau2_likelihood(y, v, _ml_score)}


def _typical_variance(vi: np.ndarray) -> float:
    wi = 1 / vi
    k = len(vi)
    return float((k - 1) * np.sum(wi) / (np.sum(wi) ** 2 - np.sum(wi ** 2)))


def _i2_from_tau2(tau2: float, s2: float) -> float:
    return 100 * tau2 / (tau2 + s2)


def tau2_q_profile(yi, vi, level: float = 95) -> tuple[float, float]:
    """Q-profile confidence interval for τ² (Viechtbauer 2007)."""
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)
    df = len(yi) - 1
    if df < 1:
        return (math.nan, math.nan)
    alpha = 1 - level / 100
    upper_target = stats.chi2.ppf(alpha / 2, df)
    lower_target = stats.chi2.ppf(1 - alpha / 2, df)
    scale = float(np.var(yi)) + float(np.mean(vi))
    lb = _solve_decreasing(lambda t: _q_gen(t, yi, vi) - lower_target, scale)
    ub = _solve_decreasing(lambda t: _q_gen(t, yi, vi) - upper_target, scale)
    return (lb, ub)


def rma(yi, vi, method: str = "REML", test: str = "z", level: float = 95, *,
        tau2_ci: bool = True) -> RMAResult:
    """Pool effect sizes with an equal-effects or random-effects model.

    Parameters
    ----------
    yi, vi
        Effect sizes and their sampling variances (array-likes of equal length; studies with
        a missing value are left out, as metafor does).
    method
        ``"EE"`` (alias ``"FE"``: inverse-variance fixed effect) or a τ² estimator: ``"DL"``,
        ``"REML"``, ``"PM"``, ``"SJ"``, ``"HE"``, ``"ML"``, ``"EB"``.
    test
        ``"z"`` (Wald, normal quantiles), ``"knha"`` (Hartung-Knapp-Sidik-Jonkman: the
        variance scaled by the weighted residual variance, t with k−1 df) or ``"adhoc"``
        (HKSJ whose scale factor is never below 1, so the interval is never narrower
        than Wald's).
    level
        Confidence level in per cent, for the CI, the prediction interval and the τ² CI.
    tau2_ci
        Compute the Q-profile CI of τ² (and of I²); ``False`` skips it (``NaN`` bounds),
        e.g. in leave-one-out and cumulative analyses that do not report it.

    Returns
    -------
    RMAResult
        Estimate, SE, CI, prediction interval (from se² + τ², with the test's quantiles),
        τ² with its Q-profile CI, I² (τ²-based; see the module docstring) and H², Cochran's
        Q with its p-value.
    """
    method = method.upper()
    if method not in METHODS:
        raise ValueError(f"rma: unknown method '{method}' (known: {', '.join(METHODS)})")
    if test not in TESTS:
        raise ValueError(f"rma: unknown test '{test}' (known: {', '.join(TESTS)})")
    yi, vi = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    if yi.shape != vi.shape or yi.ndim != 1:
        raise ValueError("rma: yi and vi must be one-dimensional and of equal length")
    keep = ~(np.isnan(yi) | np.isnan(vi))
    yi, vi = yi[keep], vi[keep]
    k = len(yi)
    if k == 0:
        raise ValueError("rma: no studies with both yi and vi")
    if np.any(vi <= 0):
        raise ValueError("rma: sampling variances must be positive")
    if method == "FE":
        method = "EE"

    q = _q_gen(0.0, yi, vi)
    df = k - 1
    q_p = float(stats.chi2.sf(q, df)) if df > 0 else math.nan
    if method == "EE" or k == 1:
        tau2 = 0.0
    else:
        tau2 = float(_ESTIMATORS[method](yi, vi))
    wi = 1 / (vi + tau2)
    estimate = _weighted_mean(yi, wi)
    se = math.sqrt(1 / float(np.sum(wi)))
    alpha = 1 - level / 100

    if test in ("knha", "adhoc") and df > 0:
        scale = float(np.sum(wi * (yi - estimate) ** 2)) / df
        if test == "adhoc":
            scale = max(1.0, scale)
        se *= math.sqrt(scale)
        crit = float(stats.t.ppf(1 - alpha / 2, df))
        zval = _ratio(estimate, se)
        pval = float(2 * stats.t.sf(abs(zval), df))
    else:
        crit = float(stats.norm.ppf(1 - alpha / 2))
        zval = _ratio(estimate, se)
        pval = float(2 * stats.norm.sf(abs(zval)))
    ci_lb, ci_ub = estimate - crit * se, estimate + crit * se
    if method == "EE":
        # An equal-effects model has no between-study distribution to predict from.
        pi_lb = pi_ub = math.nan
    else:
        pi_half = crit * math.sqrt(se ** 2 + tau2)
        pi_lb, pi_ub = estimate - pi_half, estimate + pi_half

    if k > 1:
        s2 = _typical_variance(vi)
        i2_q = max(0.0, 100 * (q - df) / q) if q > 0 else 0.0
        if method == "EE":
            # With no τ² to build on, metafor (and RevMan) take I² and H² from Q.
            i2, h2 = i2_q, q / df
        else:
            i2 = _i2_from_tau2(tau2, s2)
            h2 = (tau2 + s2) / s2
        tau2_ci = (tau2_q_profile(yi, vi, level) if method != "EE" and tau2_ci
                   else (math.nan, math.nan))
        i2_ci = tuple(_i2_from_tau2(t, s2) for t in tau2_ci)
    else:
        # One study: no heterogeneity can be seen; metafor reports I² = 0, H² = 1, Q = 0.
        i2, h2, i2_q, q_p = 0.0, 1.0, 0.0, 1.0
        tau2_ci = i2_ci = (math.nan, math.nan)
    weights = tuple(float(w) for w in 100 * wi / np.sum(wi))
    return RMAResult(estimate=estimate, se=se, ci_lb=ci_lb, ci_ub=ci_ub, pi_lb=pi_lb,
                     pi_ub=pi_ub, zval=zval, pval=pval, tau2=tau2, tau2_ci=tuple(tau2_ci),
                     i2=i2, i2_ci=tuple(i2_ci), i2_q=i2_q, h2=h2, q=q, q_p=q_p, df=df, k=k,
                     method=method, test=test, level=level, weights=weights)
