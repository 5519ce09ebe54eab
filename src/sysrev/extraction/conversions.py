"""Conversions of reported statistics to the mean and SD an arm contributes.

SE → SD (SD = SE·√n), CI → SD (SD = √n·(upper − lower)/(2·q), with q from the t distribution
with n − 1 df for small arms and from the normal otherwise), median with IQR and/or range →
mean (Luo et al. 2018) and SD (Wan et al. 2014; Shi et al. 2020 when both are given), and a
missing SD imputed from other studies (Handbook 6.5.2.7; off unless configured). Each
converted value is flagged with the conversion that produced it.

References
----------
Higgins JPT et al. (eds). Cochrane Handbook for Systematic Reviews of Interventions v6.5
(2024), section 6.5.2.
Wan X, Wang W, Liu J, Tong T. Estimating the sample mean and standard deviation from the
sample size, median, range and/or interquartile range. BMC Med Res Methodol 2014;14:135.
Luo D, Wan X, Liu J, Tong T. Optimally estimating the sample mean from the sample size,
median, mid-range, and/or mid-quartile range. Stat Methods Med Res 2018;27:1785-805.
Shi J, Luo D, Weng H, et al. Optimally estimating the sample standard deviation from the
five-number summary. Res Synth Methods 2020;11:641-54.
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from sysrev.extraction.cells import NUMERIC, OutcomeSpec, _number

#: Handbook 6.5.2.3: below this many participants per arm, use t rather than normal quantiles.
SMALL_ARM = 60
IMPUTE_SD = ("none", "pooled", "max")
MEDIAN_SD = ("shi2020", "wan2014")


def ci_to_sd(n: float, lower: float, upper: float, level: float = 95,
             distribution: str = "auto") -> tuple[float, str]:
    """SD of one group from the CI of its mean (Cochrane Handbook 6.5.2.3).

    ``distribution`` is ``"t"`` (t with n − 1 df), ``"z"`` (normal) or ``"auto"``: t when
    the arm has fewer than 60 participants, as the Handbook advises, else normal.
    """
    use_t = distribution == "t" or (distribution == "auto" and n < SMALL_ARM)
    tail = 1 - (1 - level / 100) / 2
    q = float(stats.t.ppf(tail, n - 1)) if use_t else float(stats.norm.ppf(tail))
    sd = math.sqrt(n) * (upper - lower) / (2 * q)
    how = f"t({int(n) - 1})" if use_t else "normal"
    return sd, f"SD from {level:g}% CI ({how} quantile)"


def _xi(n: float) -> float:
    # 2·E(largest of n standard normals), approximated as in Wan et al. 2014, eq. 7.
    return 2 * float(stats.norm.ppf((n - 0.375) / (n + 0.25)))


def _eta(n: float) -> float:
    # Expected IQR of n standard normals, Wan et al. 2014, eq. 16.
    return 2 * float(stats.norm.ppf((0.75 * n - 0.125) / (n + 0.25)))


def median_to_mean(n: float, median: float, *, q1: float | None = None,
                   q3: float | None = None, minimum: float | None = None,
                   maximum: float | None = None) -> float:
    """Sample mean from the median with the IQR and/or range (Luo et al. 2018).

    Range only (scenario S1): w = 4/(4 + n^0.75), mean = w·(min + max)/2 + (1 − w)·median.
    IQR only (S2): w = 0.7 + 0.39/n, mean = w·(q1 + q3)/2 + (1 − w)·median. Both (S3):
    w1 = 2.2/(2.2 + n^0.75), w2 = 0.7 − 0.72/n^0.55, mean = w1·(min + max)/2 +
    w2·(q1 + q3)/2 + (1 − w1 − w2)·median.
    """
    has_range = minimum is not None and maximum is not None
    has_iqr = q1 is not None and q3 is not None
    if has_range and has_iqr:
        w1 = 2.2 / (2.2 + n ** 0.75)
        w2 = 0.7 - 0.72 / n ** 0.55
        return w1 * (minimum + maximum) / 2 + w2 * (q1 + q3) / 2 + (1 - w1 - w2) * median
    if has_range:
        w = 4 / (4 + n ** 0.75)
        return w * (minimum + maximum) / 2 + (1 - w) * median
    if has_iqr:
        w = 0.7 + 0.39 / n
        return w * (q1 + q3) / 2 + (1 - w) * median
    raise ValueError("median_to_mean: needs the IQR (q1, q3) and/or the range (min, max)")


def quantiles_to_sd(n: float, *, q1: float | None = None, q3: float | None = None,
                    minimum: float | None = None, maximum: float | None = None,
                    method: str = "shi2020") -> float:
    """Sample SD from the IQR and/or range.

    Range only: (max − min)/ξ(n); IQR only: (q3 − q1)/η(n) (Wan et al. 2014), with
    ξ(n) = 2Φ⁻¹((n − 0.375)/(n + 0.25)) and η(n) = 2Φ⁻¹((0.75n − 0.125)/(n + 0.25)). Both:
    ``"shi2020"`` weights the two, w = 1/(1 + 0.07·n^0.6): SD = w·(max − min)/ξ(n) +
    (1 − w)·(q3 − q1)/η(n) (Shi et al. 2020, eq. 11); ``"wan2014"`` averages them
    (Wan et al. 2014, eq. 12).
    """
    has_range = minimum is not None and maximum is not None
    has_iqr = q1 is not None and q3 is not None
    if has_range and has_iqr:
        if method == "shi2020":
            w = 1 / (1 + 0.07 * n ** 0.6)
            return w * (maximum - minimum) / _xi(n) + (1 - w) * (q3 - q1) / _eta(n)
        if method == "wan2014":
            return (maximum - minimum) / (2 * _xi(n)) + (q3 - q1) / (2 * _eta(n))
        raise ValueError(f"quantiles_to_sd: unknown method '{method}'")
    if has_range:
        return (maximum - minimum) / _xi(n)
    if has_iqr:
        return (q3 - q1) / _eta(n)
    raise ValueError("quantiles_to_sd: needs the IQR (q1, q3) and/or the range (min, max)")


def _derive(row: pd.Series, ci_distribution: str,
            median_sd: str) -> tuple[float | None, float | None, str]:
    """The mean and SD an arm contributes, and the conversions that produced them."""
    get = {c: _number(row[c]) for c in NUMERIC}
    n, mean, sd = get["n"], get["mean"], get["sd"]
    notes = []
    quart = {"q1": get["q1"], "q3": get["q3"], "minimum": get["min"], "maximum": get["max"]}
    has_iqr = get["q1"] is not None and get["q3"] is not None
    has_range = get["min"] is not None and get["max"] is not None
    what = " and ".join(x for x, ok in (("IQR", has_iqr), ("range", has_range)) if ok)
    if mean is None and n is not None and get["median"] is not None and what:
        mean = median_to_mean(n, get["median"], **quart)
        notes.append(f"mean from median and {what} (Luo 2018)")
    if sd is None and n is not None:
        if get["se"] is not None:
            sd = get["se"] * math.sqrt(n)
            notes.append("SD from SE (SD = SE·√n)")
        elif get["ci_lower"] is not None and get["ci_upper"] is not None:
            sd, how = ci_to_sd(n, get["ci_lower"], get["ci_upper"], get["ci_level"] or 95.0,
                               ci_distribution)
            notes.append(how)
        elif what:
            sd = quantiles_to_sd(n, method=median_sd, **quart)
            source = ("Shi 2020" if median_sd == "shi2020" else "Wan 2014") \
                if has_iqr and has_range else "Wan 2014"
            notes.append(f"SD from {what} ({source})")
    return mean, sd, "; ".join(notes)


def impute_missing_sd(arms: pd.DataFrame, outcomes: Mapping[str, OutcomeSpec],
                      method: str = "none") -> pd.DataFrame:
    """Fill a missing SD from the arms of *other* studies (Cochrane Handbook 6.5.2.7).

    ``method``: ``"none"`` (default: no imputation), ``"pooled"`` (the pooled SD
    √(Σ(nᵢ − 1)SDᵢ² / Σ(nᵢ − 1)) of the other studies' arms with an SD for the same outcome
    and time point) or ``"max"`` (the largest of those SDs, a conservative choice). Only
    arms with a mean and n but no SD (reported or converted) are imputed, and each imputed
    value is flagged with the method and the number of donor arms.
    """
    if method not in IMPUTE_SD:
        raise ValueError(f"impute_sd must be one of {IMPUTE_SD}")
    arms = arms.copy()
    if method == "none" or arms.empty:
        return arms
    for outcome_id, spec in outcomes.items():
        if spec.type != "continuous":
            continue
        mask = (arms["outcome"] == outcome_id) & (arms["timepoint"] == spec.timepoint)
        part = arms[mask]
        for idx, row in part.iterrows():
            if not pd.isna(row["sd_used"]) or pd.isna(row["mean_used"]) \
                    or _number(row["n"]) is None:
                continue
            donors = part[(part["study_id"] != row["study_id"]) & part["sd_used"].notna()
                          & ~part["conversion"].str.contains("SD imputed", regex=False)]
            if donors.empty:
                continue
            sds = donors["sd_used"].astype(float).to_numpy()
            ns = donors["n"].map(_number).astype(float).to_numpy()
            if method == "pooled":
                value = float(np.sqrt(np.sum((ns - 1) * sds ** 2) / np.sum(ns - 1)))
                how = "pooled SD"
            else:
                value = float(sds.max())
                how = "largest SD"
            arms.at[idx, "sd_used"] = value
            note = (f"SD imputed: {how} of {len(donors)} {'arm' if len(donors) == 1 else 'arms'} "
                    f"in other studies "
                    f"(Cochrane Handbook 6.5.2.7)")
            arms.at[idx, "conversion"] = "; ".join(filter(None, [row["conversion"], note]))
    return arms
