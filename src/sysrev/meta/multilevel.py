"""Multilevel (three-level) meta-analysis of dependent effect sizes: metafor's
``rma.mv(yi, vi, mods, random = ~ 1 | study/es)``, with cluster-robust CR2 inference.

The model: y_ij = x_ijᵀβ + u_j + w_ij + e_ij for effect size i of study j, with
u_j ~ N(0, σ₁²) (between studies), w_ij ~ N(0, σ₂²) (between effect sizes within a study)
and e_ij ~ N(0, v_ij) (sampling error, independent). The marginal covariance V is block
diagonal by study, each block σ₁²J + diag(v + σ₂²); its inverse, determinant and every
trace the likelihood needs follow from the Sherman–Morrison formula per study, so a fit
costs O(k p²) per likelihood evaluation rather than metafor's O(k³).

σ₁² and σ₂² maximise the restricted (``REML``) or full (``ML``) log-likelihood, found from
the analytic score (Newton steps polished to machine precision, from a bounded quasi-Newton
start). Profile-likelihood CIs of each component are where twice the drop of the profile
log-likelihood (the other component re-maximised) equals the χ²₁ quantile, as metafor's
``confint(res)``; a bound that the likelihood does not reach within [0, ∞) is 0 (lower) or
reported as not found (upper).

``QE`` is the residual heterogeneity test with the sampling variances only (metafor's QE),
``QM`` the Wald-type omnibus test of ``btt`` (χ², or F under ``test="t"`` with k − p df).

:func:`coef_test_cr2` is clubSandwich's ``coef_test(res, vcov = "CR2")``: the sandwich
estimator clustered by study with the bias-reduced linearisation adjustment matrices
A_j = Rⱼᵀ (Rⱼ(V_j − X_j M X_jᵀ)Rⱼᵀ)^(−1/2) Rⱼ (V_j = RⱼᵀRⱼ, the fitted model as working
model) and Satterthwaite degrees of freedom per coefficient.

References
----------
Konstantopoulos S. Fixed effects and variance components estimation in three-level
meta-analysis. Res Synth Methods 2011;2:61-76.
Cheung MWL. Modeling dependent effect sizes with three-level meta-analyses: a structural
equation modeling approach. Psychol Methods 2014;19:211-29.
Viechtbauer W. Conducting meta-analyses in R with the metafor package. J Stat Softw
2010;36(3):1-48.
Bell RM, McCaffrey DF. Bias reduction in standard errors for linear regression with
multi-stage samples. Survey Methodology 2002;28:169-81.
Pustejovsky JE, Tipton E. Small-sample methods for cluster-robust variance estimation and
hypothesis testing in fixed effects models. J Bus Econ Stat 2018;36:672-83.
Tipton E. Small sample adjustments for robust variance estimation with meta-regression.
Psychol Methods 2015;20:375-93.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, stats

from sysrev.meta.regression import wald_tests

MV_METHODS = ("REML", "ML")
MV_TESTS = ("z", "t")


@dataclass(frozen=True)
class MultilevelResult:
    """The result of :func:`rma_mv`. Coefficients are in the column order of ``X``;
    ``sigma2`` is (between studies, between effect sizes within a study), each with its
    profile-likelihood CI in ``sigma2_ci``."""

    beta: tuple[float, ...]
    se: tuple[float, ...]
    zval: tuple[float, ...]
    pval: tuple[float, ...]
    ci_lb: tuple[float, ...]
    ci_ub: tuple[float, ...]
    sigma2: tuple[float, float]
    sigma2_ci: tuple[tuple[float, float], tuple[float, float]]
    n_studies: int
    n_effects: int
    qe: float
    qe_df: int
    qe_p: float
    qm: float
    qm_df: tuple[int, ...]
    qm_p: float
    loglik: float
    deviance: float
    aic: float
    bic: float
    aicc: float
    k: int
    p: int
    method: str
    test: str
    level: float
    dfs: float
    vcov: tuple[tuple[float, ...], ...] = field(repr=False)
    # The data the fit used, for the cluster-robust test (not serialised).
    _X: np.ndarray = field(repr=False, compare=False, default=None)
    _y: np.ndarray = field(repr=False, compare=False, default=None)
    _v: np.ndarray = field(repr=False, compare=False, default=None)
    _g: np.ndarray = field(repr=False, compare=False, default=None)

    def as_dict(self) -> dict:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__
                if not name.startswith("_")}
        out = {}
        for key, value in data.items():
            if isinstance(value, tuple):
                value = [list(v) if isinstance(v, tuple) else v for v in value]
            out[key] = value
        return out


class _Blocks:
    """V = σ₁² Z Zᵀ + diag(v + σ₂²), Z the study indicator, and what the likelihood needs."""

    def __init__(self, X: np.ndarray, y: np.ndarray, v: np.ndarray, g: np.ndarray,
                 n_groups: int):
        self.X, self.y, self.v, self.g, self.n = X, y, v, g, n_groups
        self.k, self.p = X.shape
        self.logdet_xtx = float(np.linalg.slogdet(X.T @ X)[1])

    def _sum(self, values: np.ndarray) -> np.ndarray:
        """Per-study sums of the rows of a vector or matrix."""
        if values.ndim == 1:
            return np.bincount(self.g, weights=values, minlength=self.n)
        return np.column_stack([np.bincount(self.g, weights=values[:, j], minlength=self.n)
                                for j in range(values.shape[1])])

    def state(self, s1: float, s2: float) -> dict:
        X, y, g = self.X, self.y, self.g
        d = self.v + s2
        inv_d = 1 / d
        a = np.bincount(g, weights=inv_d, minlength=self.n)
        c = s1 / (1 + s1 * a)
        Xd = X * inv_d[:, None]
        B = self._sum(Xd)
        by = np.bincount(g, weights=y * inv_d, minlength=self.n)
        xtvx = X.T @ Xd - B.T @ (c[:, None] * B)
        xtvy = Xd.T @ y - B.T @ (c * by)
        chol = np.linalg.cholesky(xtvx)
        M = np.linalg.inv(xtvx)
        M = (M + M.T) / 2
        beta = M @ xtvy
        r = y - X @ beta
        rd = r * inv_d
        br = np.bincount(g, weights=rd, minlength=self.n)
        u = rd - inv_d * (c * br)[g]           # V⁻¹ r = P y
        rss = float(r @ u)
        logdet_v = float(np.sum(np.log(d)) + np.sum(np.log1p(s1 * a)))
        return {"d": d, "inv_d": inv_d, "a": a, "c": c, "B": B, "M": M, "beta": beta,
                "r": r, "u": u, "rss": rss, "logdet_v": logdet_v,
                "logdet_xtvx": 2 * float(np.sum(np.log(np.diag(chol))))}

    def loglik(self, s1: float, s2: float, reml: bool, st: dict | None = None) -> float:
        st = self.state(s1, s2) if st is None else st
        if reml:
            n = self.k - self.p
            return float(-0.5 * n * math.log(2 * math.pi) + 0.5 * self.logdet_xtx
                         - 0.5 * st["logdet_v"] - 0.5 * st["logdet_xtvx"]
                         - 0.5 * st["rss"])
        return float(-0.5 * self.k * math.log(2 * math.pi) - 0.5 * st["logdet_v"]
                     - 0.5 * st["rss"])

    def score(self, s1: float, s2: float, reml: bool, st: dict | None = None) -> np.ndarray:
        """∂ log L / ∂(σ₁², σ₂²)."""
        st = self.state(s1, s2) if st is None else st
        inv_d, a, c, B, M, u = st["inv_d"], st["a"], st["c"], st["B"], st["M"], st["u"]
        g = self.g
        shrink = 1 / (1 + s1 * a)
        tr_v_z = float(np.sum(a * shrink))
        tr_v = float(np.sum(inv_d) - np.sum(c * np.bincount(g, weights=inv_d ** 2,
                                                            minlength=self.n)))
        if reml:
            C = B * shrink[:, None]                      # Zᵀ V⁻¹ X
            tr_v_z -= float(np.sum((C @ M) * C))
            Xd = self.X * inv_d[:, None]
            VX = Xd - inv_d[:, None] * (c[:, None] * B)[g]
            tr_v -= float(np.sum((VX @ M) * VX))
        uz = np.bincount(g, weights=u, minlength=self.n)
        return np.array([0.5 * (float(uz @ uz) - tr_v_z), 0.5 * (float(u @ u) - tr_v)])


def _hessian(blocks: _Blocks, s: np.ndarray, reml: bool, free: np.ndarray) -> np.ndarray:
    """Central differences of the analytic score (only over the free components)."""
    n = len(s)
    H = np.zeros((n, n))
    for j in range(n):
        if not free[j]:
            continue
        h = 1e-5 * max(s[j], 1e-4)
        up, dn = s.copy(), s.copy()
        up[j] += h
        dn[j] = max(dn[j] - h, 0.0)
        H[:, j] = (blocks.score(*up, reml) - blocks.score(*dn, reml)) / (up[j] - dn[j])
    return (H + H.T) / 2


def _maximise(blocks: _Blocks, reml: bool, fixed: dict | None = None,
              start: np.ndarray | None = None) -> np.ndarray:
    """σ² maximising the (restricted) likelihood, components in ``fixed`` held.

    Newton steps on the analytic score (Hessian from central differences of the score),
    damped towards gradient ascent while the Hessian is not negative definite, with step
    halving on the log-likelihood and the bound σ² ≥ 0 (a component at 0 whose score is
    negative stays there: a boundary maximum). Stops when the relative change is below
    1e-13, far tighter than the 1e-6 the tests ask for.
    """
    fixed = fixed or {}
    free = np.array([i not in fixed for i in range(2)])
    if start is None:
        spread = float(np.var(blocks.y)) if blocks.k > 1 else 1.0
        start = np.full(2, max(spread / 2, 1e-4))
    s = np.array(start, float)
    for i, value in fixed.items():
        s[i] = value
    s[free] = np.maximum(s[free], 1e-8)
    if not free.any():
        return s
    scale = max(float(np.var(blocks.y)), float(np.mean(blocks.v)), 1e-8)
    ll = blocks.loglik(*s, reml)
    for _ in range(200):
        grad = blocks.score(*s, reml)
        active = free & ~((s <= 0) & (grad <= 0))
        if not active.any():
            break
        H = _hessian(blocks, s, reml, active)[np.ix_(active, active)]
        lam = 0.0
        for _ in range(60):
            A = H - lam * np.eye(len(H))
            if np.all(np.linalg.eigvalsh(A) < 0):
                break
            lam = max(2 * lam, 1e-3 * float(np.max(np.abs(np.diag(H)))), 1e-12)
        step = np.linalg.solve(A, -grad[active])
        t = 1.0
        while True:
            new = s.copy()
            new[active] = np.maximum(s[active] + t * step, 0.0)
            ll_new = blocks.loglik(*new, reml)
            if ll_new >= ll - 1e-12 * abs(ll) or t < 1e-10:
                break
            t /= 2
        moved = float(np.max(np.abs(new - s))) / scale
        s, ll = new, max(ll, ll_new)
        if moved < 1e-13:
            break
    return s


def _profile_ci(blocks: _Blocks, reml: bool, s_hat: np.ndarray, ll_max: float,
                level: float) -> tuple[tuple[float, float], tuple[float, float]]:
    crit = float(stats.chi2.ppf(level / 100, 1)) / 2
    target = ll_max - crit
    out = []
    for i in range(2):
        other = 1 - i

        def profile(value, i=i, other=other):
            s = _maximise(blocks, reml, fixed={i: value}, start=s_hat)
            return blocks.loglik(*s, reml) - target

        est = float(s_hat[i])
        # Lower bound: 0 when the profile stays above the cut-off down to zero.
        if est <= 0 or profile(0.0) >= 0:
            lb = 0.0
        else:
            lb = float(optimize.brentq(profile, 0.0, est, xtol=1e-15, rtol=1e-13,
                                       maxiter=500))
        upper = max(est, 1e-4) * 2
        for _ in range(100):
            if profile(upper) < 0:
                break
            upper *= 2
        else:
            out.append((lb, math.nan))
            continue
        ub = float(optimize.brentq(profile, est, upper, xtol=1e-15, rtol=1e-13,
                                   maxiter=500))
        out.append((lb, ub))
    return tuple(out[0]), tuple(out[1])


def _groups(study, es, k: int) -> tuple[np.ndarray, int]:
    study = [str(s) for s in study]
    if len(study) != k:
        raise ValueError("rma_mv: 'study' must give one study per effect size")
    codes, g = np.unique(np.array(study, dtype=object), return_inverse=True)
    if es is not None:
        es = [str(e) for e in es]
        if len(es) != k:
            raise ValueError("rma_mv: 'es' must give one id per effect size")
        pairs = list(zip(study, es))
        if len(set(pairs)) != k:
            seen, dup = set(), None
            for pair in pairs:
                if pair in seen:
                    dup = pair
                    break
                seen.add(pair)
            raise ValueError(f"rma_mv: effect size '{dup[1]}' occurs twice in study "
                             f"'{dup[0]}' (the within-study level needs one row per id)")
    return g.astype(np.intp), len(codes)


def _design(yi, vi, mods, intercept: bool, where: str):
    y = np.asarray(yi, float)
    v = np.asarray(vi, float)
    k = len(y)
    if y.ndim != 1 or v.shape != y.shape:
        raise ValueError(f"{where}: yi and vi must be one-dimensional and of equal length")
    if np.any(~np.isfinite(y)) or np.any(~np.isfinite(v)):
        raise ValueError(f"{where}: yi and vi must be finite")
    if np.any(v <= 0):
        raise ValueError(f"{where}: sampling variances must be positive")
    cols = [np.ones(k)] if intercept else []
    if mods is not None:
        m = np.asarray(mods, float)
        m = m.reshape(k, -1) if m.ndim == 1 else m
        cols += [m[:, j] for j in range(m.shape[1])]
    if not cols:
        raise ValueError(f"{where}: no coefficients (no intercept and no moderators)")
    X = np.column_stack(cols)
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise ValueError(f"{where}: the model matrix is not of full rank")
    return X, y, v


def rma_mv(yi, vi, study, es=None, mods=None, *, intercept: bool = True,
           method: str = "REML", test: str = "z", level: float = 95, btt=None,
           profile_ci: bool = True) -> MultilevelResult:
    """Fit the three-level model of metafor's ``rma.mv(yi, vi, mods, random = ~ 1 |
    study/es, method=..., test=...)``.

    Parameters
    ----------
    yi, vi
        Effect sizes and their sampling variances (independent within a study).
    study
        The study (cluster) of each effect size.
    es
        The id of each effect size within its study (unique within a study), only checked:
        every row is its own effect size at the within-study level.
    mods
        Moderators, shape (k,) or (k, m), or ``None``.
    intercept
        Add a column of ones in front of ``mods``.
    method
        ``"REML"`` (default) or ``"ML"``.
    test
        ``"z"`` (normal and χ²) or ``"t"`` (t and F with k − p df, metafor's
        ``test="t"``).
    level
        Confidence level in per cent (coefficients and variance components).
    btt
        Indices of the coefficients tested by ``QM``; default all but the intercept.
    profile_ci
        Compute the profile-likelihood CIs of σ₁² and σ₂² (``False``: NaN bounds).

    Returns
    -------
    MultilevelResult
    """
    method = method.upper()
    if method not in MV_METHODS:
        raise ValueError(f"rma_mv: unknown method '{method}' (known: REML, ML)")
    if test not in MV_TESTS:
        raise ValueError(f"rma_mv: unknown test '{test}' (known: z, t)")
    X, y, v = _design(yi, vi, mods, intercept, "rma_mv")
    k, p = X.shape
    g, n_groups = _groups(study, es, k)
    if k <= p:
        raise ValueError(f"rma_mv: {k} effect sizes cannot estimate {p} coefficients")
    reml = method == "REML"
    blocks = _Blocks(X, y, v, g, n_groups)
    s_hat = _maximise(blocks, reml)
    st = blocks.state(*s_hat)
    ll = blocks.loglik(*s_hat, reml, st)
    beta, vb = st["beta"], st["M"]
    btt = list(range(1 if intercept else 0, p)) if btt is None else list(btt)
    wald = wald_tests(beta, vb, None if test == "z" else float(k - p), level, btt)
    se, zval, pval, dfs = wald["se"], wald["zval"], wald["pval"], wald["dfs"]
    qm, qm_df, qm_p, crit = wald["qm"], wald["qm_df"], wald["qm_p"], wald["crit"]
    w0 = 1 / v
    b0 = np.linalg.solve(X.T @ (w0[:, None] * X), X.T @ (w0 * y))
    qe = float(np.sum(w0 * (y - X @ b0) ** 2))
    qe_p = float(stats.chi2.sf(qe, k - p))
    # metafor: parameters = p + 2 variance components; REML criteria on k - p.
    n_par = p + 2
    n_obs = k - p if reml else k
    aic = -2 * ll + 2 * n_par
    bic = -2 * ll + n_par * math.log(n_obs)
    aicc = -2 * ll + 2 * n_par * max(n_obs, n_par + 2) / (max(n_obs, n_par + 2) - n_par - 1)
    # metafor: the REML deviance is −2 log L; the ML deviance is relative to the saturated
    # model, whose log-likelihood is Σ log φ(0; v_i).
    deviance = -2 * ll if reml else -2 * ll - float(np.sum(np.log(2 * math.pi * v)))
    ci = (_profile_ci(blocks, reml, s_hat, ll, level) if profile_ci
          else ((math.nan, math.nan), (math.nan, math.nan)))
    return MultilevelResult(
        beta=tuple(map(float, beta)), se=tuple(map(float, se)), zval=tuple(map(float, zval)),
        pval=tuple(map(float, pval)), ci_lb=tuple(map(float, beta - crit * se)),
        ci_ub=tuple(map(float, beta + crit * se)),
        sigma2=(float(s_hat[0]), float(s_hat[1])), sigma2_ci=ci,
        n_studies=n_groups, n_effects=k, qe=qe, qe_df=k - p, qe_p=qe_p, qm=qm,
        qm_df=qm_df, qm_p=qm_p, loglik=ll, deviance=deviance, aic=aic, bic=bic, aicc=aicc,
        k=k, p=p, method=method, test=test, level=level, dfs=dfs,
        vcov=tuple(tuple(map(float, row)) for row in vb), _X=X, _y=y, _v=v, _g=g)


@dataclass(frozen=True)
class RobustResult:
    """clubSandwich's ``coef_test(res, vcov = "CR2")`` with Satterthwaite df."""

    beta: tuple[float, ...]
    se: tuple[float, ...]
    tstat: tuple[float, ...]
    df: tuple[float, ...]
    pval: tuple[float, ...]
    ci_lb: tuple[float, ...]
    ci_ub: tuple[float, ...]
    vcov: tuple[tuple[float, ...], ...]
    n_clusters: int
    level: float
    vcov_type: str = "CR2"

    def as_dict(self) -> dict:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["vcov"] = [list(row) for row in self.vcov]
        return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}


def _inv_sqrt_psd(G: np.ndarray) -> np.ndarray:
    """Symmetric G^(-1/2) of a stack of matrices, eigenvalues below 1e-12 set to 0
    (clubSandwich's matrix_power)."""
    vals, vecs = np.linalg.eigh(G)
    with np.errstate(divide="ignore"):
        powered = np.where(vals > 1e-12, vals, np.inf) ** -0.5
    return (vecs * powered[..., None, :]) @ np.swapaxes(vecs, -1, -2)


def coef_test_cr2(fit: MultilevelResult, *, level: float | None = None) -> RobustResult:
    """Cluster-robust (CR2) standard errors and Satterthwaite t tests of a :func:`rma_mv`
    fit, clustered by study, as clubSandwich's ``coef_test(res, vcov = "CR2")`` (and
    ``conf_int(res, vcov = "CR2")`` for the intervals).

    The working model is the fitted one (weights V⁻¹, target V), as clubSandwich takes it
    for an ``rma.mv`` fit without user weights.
    """
    level = fit.level if level is None else level
    X, y, v, g = fit._X, fit._y, fit._v, fit._g
    n_groups = int(g.max()) + 1
    if n_groups < 2:
        raise ValueError("coef_test_cr2: needs at least two studies (clusters)")
    s1, s2 = fit.sigma2
    M = np.array(fit.vcov)
    beta = np.array(fit.beta)
    r = y - X @ beta
    p = X.shape[1]
    order = np.argsort(g, kind="stable")
    sizes = np.bincount(g, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(sizes)])[:-1]
    meat_terms = np.zeros((n_groups, p))    # E_j e_j: X_jᵀ W_j A_j e_j
    mex = np.zeros((n_groups, p, p))        # M E_j X_j
    gdiag = np.zeros((n_groups, p))         # diagonal of (M E_j) V_j (M E_j)ᵀ
    # Clusters of equal size are done together, as stacks of n_j × n_j matrices.
    for n_j in np.unique(sizes):
        groups = np.flatnonzero(sizes == n_j)
        idx = order[starts[groups][:, None] + np.arange(n_j)]               # (m, n_j)
        Xj = X[idx]                                                         # (m, n_j, p)
        Xt = np.swapaxes(Xj, -1, -2)
        d = v[idx] + s2
        eye = np.eye(n_j)
        Vj = s1 + d[:, :, None] * eye
        # V_j⁻¹ by Sherman-Morrison: diag(1/d) − c (1/d)(1/d)ᵀ, c = s1 / (1 + s1 Σ 1/d).
        inv_d = 1 / d
        c = s1 / (1 + s1 * inv_d.sum(axis=1))
        Wj = inv_d[:, :, None] * eye - c[:, None, None] * (inv_d[:, :, None]
                                                          * inv_d[:, None, :])
        L = np.linalg.cholesky(Vj)                        # V_j = L Lᵀ; R = Lᵀ
        R = np.swapaxes(L, -1, -2)
        G = R @ (Vj - Xj @ M @ Xt) @ L
        A = L @ _inv_sqrt_psd(G) @ R
        E = Xt @ Wj @ A                                   # (m, p, n_j)
        meat_terms[groups] = np.einsum("mpi,mi->mp", E, r[idx])
        me = M @ E
        gdiag[groups] = np.einsum("mpi,mij,mpj->mp", me, Vj, me)
        mex[groups] = me @ Xj
    vcov = M @ (meat_terms.T @ meat_terms) @ M
    se = np.sqrt(np.diag(vcov))
    # Satterthwaite df (clubSandwich): P_i = D_i − H_i H_iᵀ, D_i = diag(gdiag[:, i]), row j
    # of H_i = (M E_j X_j)[i] chol(M); df = tr(P_i)² / ‖P_i‖²_F, with
    # ‖P‖² = ‖D‖² − 2 Σ_j D_jj ‖H_j‖² + ‖H_iᵀH_i‖², so no J × J matrix is formed.
    H = mex @ np.linalg.cholesky(M)                                        # (J, p, p)
    dfs = []
    for i in range(p):
        Hi = H[:, i, :]                                                    # (J, p)
        Di = gdiag[:, i]
        h2 = np.sum(Hi ** 2, axis=1)
        trace = float(np.sum(Di) - np.sum(h2))
        frob = float(np.sum(Di ** 2) - 2 * np.sum(Di * h2) + np.sum((Hi.T @ Hi) ** 2))
        dfs.append(trace ** 2 / frob)
    dfs = np.array(dfs)
    tstat = beta / se
    pval = 2 * stats.t.sf(np.abs(tstat), dfs)
    crit = stats.t.ppf(1 - (1 - level / 100) / 2, dfs)
    return RobustResult(
        beta=tuple(map(float, beta)), se=tuple(map(float, se)),
        tstat=tuple(map(float, tstat)), df=tuple(map(float, dfs)),
        pval=tuple(map(float, pval)), ci_lb=tuple(map(float, beta - crit * se)),
        ci_ub=tuple(map(float, beta + crit * se)),
        vcov=tuple(tuple(map(float, row)) for row in vcov), n_clusters=n_groups,
        level=level)
