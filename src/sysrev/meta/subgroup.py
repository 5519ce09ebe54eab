"""Subgroup analysis and the test for subgroup differences.

Two models, both stated in the result:

``tau2="separate"`` (RevMan, Cochrane Handbook 10.11.3.1)
    Each subgroup is pooled on its own, with its own τ². The test for subgroup differences is
    Cochran's Q across the subgroup estimates, weighted by their inverse squared standard
    errors: Q_between = Σ (θ̂_g − θ̄)² / SE_g², χ² with G − 1 df. In metafor: fit each
    subgroup, then ``rma(estimates, sei=ses, method="EE")`` and read ``QE``.
``tau2="common"`` (metafor ``rma(yi, vi, mods=~factor(group))``)
    One mixed-effects model with a dummy per subgroup and a τ² shared by all; the test is the
    omnibus ``QM`` of the dummies (χ² with G − 1 df, or F under Knapp–Hartung).

References
----------
Borenstein M, Higgins JPT. Meta-analysis and subgroups. Prev Sci 2013;14:134-43.
Cochrane Handbook v6.5, section 10.11.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import stats

from sysrev.meta.regression import rma_mods
from sysrev.meta.rma import RMAResult, rma


@dataclass(frozen=True)
class SubgroupResult:
    """Per-subgroup fits and the test for subgroup differences (``q``, ``df``, ``p``)."""

    groups: tuple[str, ...]
    fits: dict
    tau2: str
    q: float
    df: tuple[int, ...]
    p: float
    statistic: str
    method: str
    test: str

    def as_dict(self) -> dict:
        fits = {g: (f.as_dict() if isinstance(f, RMAResult) else f) for g, f in
                self.fits.items()}
        for fit in fits.values():
            fit.pop("weights", None)
        return {"groups": list(self.groups), "fits": fits, "tau2": self.tau2, "q": self.q,
                "df": list(self.df), "p": self.p, "statistic": self.statistic,
                "method": self.method, "test": self.test}


def subgroup_analysis(yi, vi, groups: Sequence[str], *, method: str = "REML",
                      test: str = "z", level: float = 95,
                      tau2: str = "separate") -> SubgroupResult:
    """Pool within subgroups and test whether the subgroup effects differ.

    Parameters
    ----------
    yi, vi
        Effect sizes and sampling variances.
    groups
        The subgroup of each study (at least two distinct values).
    method, test, level
        As :func:`sysrev.meta.rma`, for every subgroup fit (and the common model).
    tau2
        ``"separate"`` (a τ² per subgroup; the RevMan/Cochrane test) or ``"common"`` (one
        τ² for all; metafor's moderator test). See the module docstring.

    Returns
    -------
    SubgroupResult
        ``fits`` maps each subgroup (sorted) to its :class:`RMAResult` (separate) or to its
        coefficient row (common).
    """
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)
    groups = [str(g) for g in groups]
    levels = sorted(set(groups))
    if len(levels) < 2:
        raise ValueError("subgroup_analysis: needs at least two subgroups")
    labels = np.array(groups)
    if tau2 == "separate":
        fits = {g: rma(yi[labels == g], vi[labels == g], method=method, test=test,
                       level=level) for g in levels}
        est = np.array([fits[g].estimate for g in levels])
        se = np.array([fits[g].se for g in levels])
        w = 1 / se ** 2
        pooled = np.sum(w * est) / np.sum(w)
        q = float(np.sum(w * (est - pooled) ** 2))
        df = len(levels) - 1
        return SubgroupResult(tuple(levels), fits, "separate", q, (df,),
                              float(stats.chi2.sf(q, df)), "Q_between (chi2)", method, test)
    if tau2 != "common":
        raise ValueError(f"subgroup_analysis: unknown tau2 '{tau2}' (separate or common)")
    dummies = np.column_stack([(labels == g).astype(float) for g in levels[1:]])
    fit = rma_mods(yi, vi, dummies, method=method, test=test, level=level)
    # Subgroup means from the same model (no intercept parametrisation gives them directly).
    cells = np.column_stack([(labels == g).astype(float) for g in levels])
    means = rma_mods(yi, vi, cells, intercept=False, method=method, test=test, level=level,
                     btt=[])
    fits = {g: {"estimate": means.beta[i], "se": means.se[i], "ci_lb": means.ci_lb[i],
                "ci_ub": means.ci_ub[i], "k": int(np.sum(labels == g)),
                "tau2": fit.tau2} for i, g in enumerate(levels)}
    statistic = "QM (chi2)" if test == "z" else "QM (F)"
    return SubgroupResult(tuple(levels), fits, "common", fit.qm, fit.qm_df, fit.qm_p,
                          statistic, fit.method, test)
