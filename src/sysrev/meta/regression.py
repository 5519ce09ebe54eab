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
    #: Variance-covariance matrix of the coefficients (rows in the order of ``beta``).
    vcov: tuple[tuple[float, ...], ...] = field(default=(), repr=False)
    #: metafor's pseudo-R² in per cent: max(0, 100 (τ²_RE − τ²) / τ²_RE), τ²_RE from the
    #: intercept-only model with the same estimator (0 when τ²_RE = 0); for EE models the
    #: adjusted R² of the weighted regression; ``None`` without an intercept or moderator.
    r2: float | None = None

    def as_dict(self) -> dict:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["vcov"] = [list(row) for row in self.vcov]
        return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}

    def predict(self, newmods) -> dict:
        """Fitted values ``x₀ᵀβ`` with their SE and CI at rows ``newmods`` of the model
        matrix (intercept column included), as metafor's ``predict(res, newmods)``."""
        X0 = np.atleast_2d(np.asarray(newmods, float))
        beta = np.asarray(self.beta)
        vb = np.asarray(self.vcov)
        pred = X0 @ beta
        se = np.sqrt(np.einsum("ij,jk,ik->i", X0, vb, X0))
        alpha = 1 - self.level / 100
        crit = (float(stats.norm.ppf(1 - alpha / 2)) if self.test == "z"
                else float(stats.t.ppf(1 - alpha / 2, self.dfs)))
        return {"pred": pred, "se": se, "ci_lb": pred - crit * se, "ci_ub": pred + crit * se}


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


def wald_tests(beta: np.ndarray, vb: np.ndarray, df: float | None, level: float,
               btt: list[int]) -> dict:
    """Coefficient tests and the omnibus test of ``btt`` from β̂ and its covariance: z and
    χ² (``df=None``) or t and F with ``df`` denominator degrees of freedom (metafor's
    ``test="knha"``/``"t"``)."""
    se = np.sqrt(np.diag(vb))
    alpha = 1 - level / 100
    with np.errstate(divide="ignore", invalid="ignore"):
        zval = beta / se
    if df is None:
        crit, dfs = float(stats.norm.ppf(1 - alpha / 2)), math.inf
        pval = 2 * stats.norm.sf(np.abs(zval))
    else:
        crit, dfs = float(stats.t.ppf(1 - alpha / 2, df)), float(df)
        pval = 2 * stats.t.sf(np.abs(zval), df)
    if btt:
        b = beta[btt]
        qm = float(b @ np.linalg.solve(vb[np.ix_(btt, btt)], b))
        if df is None:
            qm_df: tuple = (len(btt),)
            qm_p = float(stats.chi2.sf(qm, len(btt)))
        else:
            qm /= len(btt)
            qm_df = (len(btt), int(df))
            qm_p = float(stats.f.sf(qm, len(btt), df))
    else:
        qm, qm_df, qm_p = math.nan, (0,), math.nan
    return {"se": se, "zval": zval, "pval": pval, "crit": crit, "dfs": dfs, "qm": qm,
            "qm_df": qm_df, "qm_p": qm_p}


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
    return _likelihood_tau2(X, y, vi, method == "REML", scale)


def _loglik(tau2: float, X, y, vi, reml: bool) -> float:
    """The (restricted) log-likelihood in τ², up to a constant."""
    w = 1 / (vi + tau2)
    _, inv, resid = _wls(X, y, w)
    ll = -0.5 * float(np.sum(np.log(vi + tau2))) - 0.5 * float(np.sum(w * resid ** 2))
    if reml:
        ll += 0.5 * float(np.linalg.slogdet(inv)[1])
    return ll


def _likelihood_tau2(X, y, vi, reml: bool, scale: float) -> float:
    """τ² maximising the (restricted) likelihood. With moderators the score need not be
    monotone: it can be negative at 0 (a boundary maximum) and still cross zero downwards
    further on (an interior maximum). Every downward crossing on a geometric grid up to
    where the score stays negative is a candidate, as is 0; the one with the highest
    likelihood wins (metafor's Fisher scoring finds the interior one in such data)."""
    score = lambda t: _score(t, X, y, vi, reml)  # noqa: E731
    candidates = [0.0]
    upper = max(scale, 1.0)
    for _ in range(200):
        if score(upper) < 0:
            break
        upper *= 2
    grid = np.concatenate([[0.0], upper * np.geomspace(1e-6, 1.0, 25)])
    values = [score(t) for t in grid]
    for lo, hi, f_lo, f_hi in zip(grid[:-1], grid[1:], values[:-1], values[1:]):
        if f_lo > 0 >= f_hi:
            candidates.append(float(optimize.brentq(score, lo, hi, xtol=1e-14, rtol=1e-14,
                                                    maxiter=500)))
    if len(candidates) == 2 and values[0] > 0:
        return candidates[1]
    return max(candidates, key=lambda t: _loglik(t, X, y, vi, reml))


def rma_mods(yi, vi, mods=None, *, intercept: bool = True, method: str = "REML",
             test: str = "z", level: float = 95, btt=None,
             with_r2: bool = True) -> MetaRegResult:
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
    with_r2
        Compute the pseudo-R² (one more τ² fit; ``False`` skips it, e.g. in permutations).

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
    btt = list(range(1 if intercept else 0, p)) if btt is None else list(btt)
    wald = wald_tests(beta, vb, None if test == "z" else float(k - p), level, btt)
    se, zval, pval, dfs = wald["se"], wald["zval"], wald["pval"], wald["dfs"]
    qm, qm_df, qm_p = wald["qm"], wald["qm_df"], wald["qm_p"]
    crit_se = wald["crit"] * se
    if method == "EE":
        i2 = max(0.0, 100 * (qe - qe_df) / qe) if qe > 0 else 0.0
        h2 = qe / qe_df
    else:
        s2 = (k - p) / _trace_p(X, w0, inv0)
        i2 = 100 * tau2 / (tau2 + s2)
        h2 = (tau2 + s2) / s2
    r2 = None
    if intercept and p > 1 and with_r2:
        if method == "EE":
            # metafor: the adjusted R² of the weighted least-squares regression.
            q0 = float(np.sum(w0 * (y - np.sum(w0 * y) / np.sum(w0)) ** 2))
            r2 = max(0.0, 100 * (1 - (qe / (k - p)) / (q0 / (k - 1)))) if q0 > 0 else 0.0
        else:
            tau2_re = float(_tau2(method, X[:, :1], y, v))
            r2 = 0.0 if tau2_re == 0 else max(0.0, 100 * (tau2_re - tau2) / tau2_re)
    return MetaRegResult(
        beta=tuple(map(float, beta)), se=tuple(map(float, se)), zval=tuple(map(float, zval)),
        pval=tuple(map(float, pval)), ci_lb=tuple(map(float, beta - crit_se)),
        ci_ub=tuple(map(float, beta + crit_se)), tau2=tau2, i2=i2, h2=h2, qe=qe,
        qe_df=qe_df, qe_p=qe_p, qm=qm, qm_df=qm_df, qm_p=qm_p, s2w=s2w, k=k, p=p,
        method=method, test=test, level=level, dfs=dfs,
        vcov=tuple(tuple(map(float, row)) for row in vb), r2=r2)


@dataclass(frozen=True)
class PermutationResult:
    """Permutation p-values of a meta-regression (metafor's ``permutest``): ``pval`` per
    coefficient (two-sided, from |z| or |t|), ``qm_p`` for the omnibus test."""

    pval: tuple[float, ...]
    qm_p: float
    iterations: int
    exact: bool
    seed: int | None

    def as_dict(self) -> dict:
        return {"pval": list(self.pval), "qm_p": self.qm_p, "iterations": self.iterations,
                "exact": self.exact, "seed": self.seed}


def _unique_permutations(codes: list[int]):
    """Every distinct ordering of a multiset, in lexicographic order."""
    items = sorted(codes)
    n = len(items)
    while True:
        yield list(items)
        i = n - 2
        while i >= 0 and items[i] >= items[i + 1]:
            i -= 1
        if i < 0:
            return
        j = n - 1
        while items[j] <= items[i]:
            j -= 1
        items[i], items[j] = items[j], items[i]
        items[i + 1:] = reversed(items[i + 1:])


def _count_permutations(codes: list[int]) -> float:
    count = math.factorial(len(codes))
    for c in set(codes):
        count //= math.factorial(codes.count(c))
    return float(count)


def permutest(yi, vi, mods, *, intercept: bool = True, method: str = "REML",
              test: str = "z", level: float = 95, btt=None, iterations: int = 1000,
              seed: int = 20250101, exact: bool | None = None) -> PermutationResult:
    """Permutation test of a meta-regression, as metafor's ``permutest(res, iter=...)``.

    The rows of the model matrix are permuted against (yi, vi) and the model refitted; a
    coefficient's p-value is the share of permutations whose |z| (or |t|) is at least the
    observed one (less 1.5e-8, metafor's ``comptol``), ``qm_p`` the share with QM at least
    the observed QM.

    When the number of distinct permutations is at most ``iterations`` (or ``exact=True``)
    all of them are used: the test is exact and equals metafor's. Otherwise ``iterations``
    random permutations are drawn with NumPy's PCG64 generator seeded with ``seed`` (the
    first one is the observed order, as metafor): reproducible run to run, but not R's
    random stream, so the p-value differs from metafor's by Monte Carlo error.

    References
    ----------
    Higgins JPT, Thompson SG. Controlling the risk of spurious findings from
    meta-regression. Stat Med 2004;23:1663-82.
    Viechtbauer W, López-López JA, Sánchez-Meca J, Marín-Martínez F. A comparison of
    procedures to test for moderators in mixed-effects meta-regression models. Psychol
    Methods 2015;20:360-74.
    """
    y, v = np.asarray(yi, float), np.asarray(vi, float)
    k = len(y)
    m = np.asarray(mods, float)
    m = m.reshape(k, -1) if m.ndim == 1 else m

    def fit(rows):
        return rma_mods(y, v, m[rows], intercept=intercept, method=method, test=test,
                        level=level, btt=btt, with_r2=False)

    observed = fit(np.arange(k))
    _, codes = np.unique(m, axis=0, return_inverse=True)
    codes = [int(c) for c in np.ravel(codes)]
    total = _count_permutations(codes)
    use_exact = bool(exact) or (exact is None and total <= iterations)
    tol = math.sqrt(np.finfo(float).eps)
    zs, qms = [], []
    if use_exact:
        # Map each distinct ordering of the row classes to row indices.
        by_class = {c: [i for i, cc in enumerate(codes) if cc == c] for c in set(codes)}
        for perm in _unique_permutations(codes):
            taken = {c: iter(rows) for c, rows in by_class.items()}
            rows = np.array([next(taken[c]) for c in perm])
            res = fit(rows)
            zs.append(res.zval)
            qms.append(res.qm)
        n_iter, used_seed = len(zs), None
    else:
        rng = np.random.default_rng(seed)
        zs.append(observed.zval)
        qms.append(observed.qm)
        for _ in range(iterations - 1):
            res = fit(rng.permutation(k))
            zs.append(res.zval)
            qms.append(res.qm)
        n_iter, used_seed = iterations, seed
    z = np.abs(np.array(zs))
    pval = np.mean(z >= np.abs(np.array(observed.zval)) - tol, axis=0)
    qm_p = float(np.mean(np.array(qms) >= observed.qm - tol))
    return PermutationResult(pval=tuple(float(min(p, 1.0)) for p in pval), qm_p=qm_p,
                             iterations=n_iter, exact=use_exact, seed=used_seed)
