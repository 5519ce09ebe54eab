"""Small-study effects: Egger's regression test and funnel-plot data.

The Cochrane Handbook (v6.5, section 13.3.5.4) advises against tests for funnel-plot
asymmetry with fewer than 10 studies, because their power is too low to tell chance from real
asymmetry; both functions here compute their result but attach a warning below that.

References
----------
Egger M, Davey Smith G, Schneider M, Minder C. Bias in meta-analysis detected by a simple,
graphical test. BMJ 1997;315:629-34.
Sterne JAC, Egger M. Regression methods to detect publication and other bias in
meta-analysis. In: Rothstein HR et al. (eds). Publication Bias in Meta-Analysis. Wiley 2005.
Sterne JAC, Sutton AJ, Ioannidis JPA, et al. Recommendations for examining and interpreting
funnel plot asymmetry in meta-analyses of randomised controlled trials. BMJ 2011;343:d4002.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from sysrev.meta.regression import rma_mods

#: Below this many studies the Handbook advises against asymmetry tests.
MIN_STUDIES_ASYMMETRY = 10


def _few_studies_warning(k: int) -> str | None:
    if k < MIN_STUDIES_ASYMMETRY:
        return (f"only {k} studies: tests for funnel-plot asymmetry have too little power "
                f"below {MIN_STUDIES_ASYMMETRY} studies (Cochrane Handbook 13.3.5.4)")
    return None


@dataclass(frozen=True)
class RegTestResult:
    """Egger's test: ``zval``/``pval`` test the slope on the standard error (``tval`` with
    ``df`` for ``model="lm"`` or a Knapp–Hartung test); ``est`` with its CI is the limit
    estimate (the intercept: the expected effect of a study with SE 0)."""

    model: str
    method: str
    predictor: str
    slope: float
    slope_se: float
    zval: float
    pval: float
    df: float
    est: float
    ci_lb: float
    ci_ub: float
    k: int
    warning: str | None

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def regtest(yi, vi, *, model: str = "lm", method: str = "REML", test: str = "z",
            level: float = 95) -> RegTestResult:
    """Egger's regression test for funnel-plot asymmetry (metafor's ``regtest``).

    Parameters
    ----------
    yi, vi
        Effect sizes and sampling variances (k ≥ 3).
    model
        ``"lm"``: Egger's original test, a weighted linear regression of yi on √vi with
        weights 1/vi and a t test with k − 2 df (metafor ``regtest(res, model="lm")``).
        ``"rma"``: the meta-regression version, √vi as moderator in a model with the given
        ``method`` and ``test`` (metafor's default ``regtest(res)``).
    method, test, level
        For ``model="rma"``, as :func:`sysrev.meta.rma`; ``level`` sets the CI of ``est``.

    Returns
    -------
    RegTestResult
        With ``warning`` set when k < 10.
    """
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)
    k = len(yi)
    if k < 3:
        raise ValueError("regtest: needs at least three studies")
    sei = np.sqrt(vi)
    if model == "lm":
        # A weighted regression whose residual variance is estimated is the equal-effects
        # meta-regression with the Knapp-Hartung scale factor (not floored at 1).
        fit = rma_mods(yi, vi, sei, method="EE", test="knha", level=level)
        used_method = "EE"
    elif model == "rma":
        fit = rma_mods(yi, vi, sei, method=method, test=test, level=level)
        used_method = fit.method
    else:
        raise ValueError(f"regtest: unknown model '{model}' (lm or rma)")
    return RegTestResult(model=model, method=used_method, predictor="sei",
                         slope=fit.beta[1], slope_se=fit.se[1], zval=fit.zval[1],
                         pval=fit.pval[1], df=fit.dfs, est=fit.beta[0], ci_lb=fit.ci_lb[0],
                         ci_ub=fit.ci_ub[0], k=k, warning=_few_studies_warning(k))


def funnel_data(yi, vi, estimate: float, *, level: float = 95, labels=None) -> dict:
    """What a funnel plot draws: each study's effect against its standard error, and the
    pseudo confidence region ``estimate ± z·SE`` from SE = 0 to the largest SE.

    Returns a JSON-ready dict with ``points`` (label, yi, sei), ``pseudo_ci`` (the region's
    corners), ``k`` and ``warning`` (set when k < 10).
    """
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)
    sei = np.sqrt(vi)
    labels = [str(i + 1) for i in range(len(yi))] if labels is None else list(labels)
    z = float(stats.norm.ppf(1 - (1 - level / 100) / 2))
    se_max = float(sei.max()) if len(sei) else math.nan
    return {
        "points": [{"label": lab, "yi": float(y), "sei": float(s)}
                   for lab, y, s in zip(labels, yi, sei)],
        "estimate": float(estimate),
        "pseudo_ci": {"level": level, "se_max": se_max,
                      "lower_at_se_max": float(estimate) - z * se_max,
                      "upper_at_se_max": float(estimate) + z * se_max},
        "k": int(len(yi)),
        "warning": _few_studies_warning(len(yi)),
    }
