"""The data-extraction sheets: validation, conversions and per-study contrasts.

The layout of the sheets, the checks and the conversions are documented in
``docs/extraction.md``. In short:

``studies.csv``
    One row per included study: ``study_id, label, year, design, comparison, source``, plus
    the study-level column named by ``analysis.subgroup`` when subgroups are configured.
``arms.csv``
    One row per study arm, outcome and time point: ``study_id, arm, group, outcome,
    timepoint, n, mean, sd, se, ci_lower, ci_upper, ci_level, events, total, source, note``
    and, optionally, ``median, q1, q3, min, max``. ``group`` is ``treatment`` or
    ``control``. A continuous outcome gives ``n`` and a ``mean`` with one of ``sd``, ``se``
    or a CI, or a ``median`` with its quartiles and/or range; a binary outcome gives
    ``events`` and ``total``. A number the source does not report is written ``NR``; a cell
    that does not apply is left empty. Every row names its ``source`` (URL, table, quote).
``contrasts.csv`` (optional)
    One row per study, outcome and time point whose report gives only a between-group effect:
    ``study_id, outcome, timepoint, measure, estimate, se, ci_lower, ci_upper, ci_level,
    n_treatment, n_control, source, note``. ``estimate`` and the CI are on the scale the
    paper reports (a ratio for RR and OR); ``se`` of a ratio is the SE of its logarithm.

Conversions (Cochrane Handbook v6.5, chapter 6) are flagged on every value they touch:
SE → SD (SD = SE·√n), CI → SD (SD = √n·(upper − lower)/(2·q), with q from the t distribution
with n − 1 df for small arms and from the normal otherwise), median with IQR and/or range →
mean (Luo et al. 2018) and SD (Wan et al. 2014; Shi et al. 2020 when both are given),
several arms of one group combined into one (Handbook Table 6.5.a) or a shared control group
split between the comparisons (Handbook 23.3.4), a missing SD imputed from other studies
(Handbook 6.5.2.7; off unless configured), and for contrast rows SE from CI and the log of
a reported ratio.

References
----------
Higgins JPT et al. (eds). Cochrane Handbook for Systematic Reviews of Interventions v6.5
(2024), sections 6.5.2, 23.3.4.
Wan X, Wang W, Liu J, Tong T. Estimating the sample mean and standard deviation from the
sample size, median, range and/or interquartile range. BMC Med Res Methodol 2014;14:135.
Luo D, Wan X, Liu J, Tong T. Optimally estimating the sample mean from the sample size,
median, mid-range, and/or mid-quartile range. Stat Methods Med Res 2018;27:1785-805.
Shi J, Luo D, Weng H, et al. Optimally estimating the sample standard deviation from the
five-number summary. Res Synth Methods 2020;11:641-54.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from sysrev.columns import (ARM_COLUMNS, ARM_OPTIONAL_COLUMNS, CONTRAST_SHEET_COLUMNS,
                            NOT_REPORTED)
from sysrev.csvtables import LINE, load_csv
from sysrev.errors import InputErrors

log = logging.getLogger(__name__)

STUDY_COLUMNS = ["study_id", "label", "year", "design", "comparison", "source"]
GROUPS = ("treatment", "control")
NUMERIC = ("n", "mean", "sd", "se", "ci_lower", "ci_upper", "ci_level", "events", "total",
           "median", "q1", "q3", "min", "max")
INTEGER = ("n", "events", "total")
#: Handbook 6.5.2.3: below this many participants per arm, use t rather than normal quantiles.
SMALL_ARM = 60
MULTI_ARM = ("combine", "split")
IMPUTE_SD = ("none", "pooled", "max")
MEDIAN_SD = ("shi2020", "wan2014")
RATIO = ("RR", "OR")

VALIDATED_ARM_COLUMNS = (ARM_COLUMNS + ARM_OPTIONAL_COLUMNS
                         + ["mean_used", "sd_used", "conversion", "line"])


@dataclass(frozen=True)
class OutcomeSpec:
    """What the configuration says about one outcome."""

    id: str
    type: str  # "continuous" or "binary"
    timepoint: str
    measure: str | None = None


def _number(value) -> float | None:
    """A cell as a float; ``None`` for empty or NR (callers tell the two apart)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if value in ("", NOT_REPORTED):
        return None
    return float(value)


def load_studies(path: str | Path, extra_columns: list[str] | tuple = ()) -> pd.DataFrame:
    """Load and check ``studies.csv``; ``extra_columns`` (e.g. a subgroup variable) must
    be present and filled in for every study."""
    table = load_csv(path, required=STUDY_COLUMNS + list(extra_columns))
    problems = []
    for _, row in table.iterrows():
        for col in ("study_id", "label", "source", *extra_columns):
            if not row[col]:
                problems.append(f"line {row[LINE]}, field '{col}': empty")
        if row["year"] and not row["year"].isdigit():
            problems.append(f"line {row[LINE]}, field 'year': '{row['year']}' is not a year")
    dup = table[table["study_id"].duplicated(keep=False)]
    for _, row in dup.iterrows():
        problems.append(f"line {row[LINE]}, field 'study_id': '{row['study_id']}' repeated")
    if problems:
        raise InputErrors(path, problems)
    return table


# --- conversions -----------------------------------------------------------------------------

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


# --- validation ------------------------------------------------------------------------------

def _check_arm_row(row: pd.Series, outcome: OutcomeSpec | None, studies: set[str],
                   included: set[str] | None) -> list[str]:
    where = f"line {row[LINE]} (study {row['study_id'] or '?'}, arm {row['arm'] or '?'})"
    problems = []

    def bad(field: str, message: str) -> None:
        problems.append(f"{where}, field '{field}': {message}")

    for col in ("study_id", "arm", "group", "outcome", "timepoint", "source"):
        if not row[col]:
            bad(col, "empty")
    if row["study_id"] and row["study_id"] not in studies:
        bad("study_id", f"'{row['study_id']}' is not in studies.csv")
    elif included is not None and row["study_id"] and row["study_id"] not in included:
        bad("study_id", f"'{row['study_id']}' was not included at full-text screening")
    if row["group"] and row["group"] not in GROUPS:
        bad("group", f"'{row['group']}' is not one of {list(GROUPS)}")
    if row["outcome"] and outcome is None:
        bad("outcome", f"'{row['outcome']}' is not an outcome in the configuration")
    values: dict[str, float | None] = {}
    for col in NUMERIC:
        cell = row[col]
        try:
            values[col] = _number(cell)
        except ValueError:
            bad(col, f"'{cell}' is not a number (write {NOT_REPORTED} when not reported)")
            values[col] = None
            continue
        if values[col] is not None and not math.isfinite(values[col]):
            bad(col, f"'{cell}' is not a finite number")
            values[col] = None
        elif values[col] is not None and col in INTEGER and values[col] != int(values[col]):
            bad(col, f"{cell} is not a whole number")
        elif values[col] is not None and col in INTEGER and not str(cell).strip().isdigit():
            # "1e3" or "1,000.0" from a spreadsheet: a count is written as digits, so that a
            # mistyped exponent is not read as a thousand participants.
            bad(col, f"'{cell}' is a count written otherwise than as digits; write it as "
                     f"{int(values[col])} if that is what the source reports")
    if problems or outcome is None:
        return problems
    n, mean, sd, se = values["n"], values["mean"], values["sd"], values["se"]
    lo, hi, events, total = values["ci_lower"], values["ci_upper"], values["events"], \
        values["total"]
    if n is not None and n < 1:
        bad("n", f"{row['n']} is below 1")
    if sd is not None and sd <= 0:
        bad("sd", f"{row['sd']} must be positive")
    if se is not None and se <= 0:
        bad("se", f"{row['se']} must be positive")
    if (lo is None) != (hi is None) and NOT_REPORTED not in (row["ci_lower"], row["ci_upper"]):
        bad("ci_lower" if lo is None else "ci_upper", "a CI needs both bounds")
    if lo is not None and hi is not None:
        if lo > hi:
            bad("ci_lower", f"lower bound {lo} is above the upper bound {hi}")
        elif mean is not None and not lo <= mean <= hi:
            bad("mean", f"{mean} lies outside its CI [{lo}, {hi}]")
    level = values["ci_level"]
    if level is not None and not 50 <= level < 100:
        bad("ci_level", f"{row['ci_level']} is not a confidence level in per cent")
    _check_quantiles(values, row, bad)
    if outcome.type == "binary":
        if events is not None and events < 0:
            bad("events", "negative")
        if total is not None and total < 1:
            bad("total", f"{row['total']} is below 1")
        if events is not None and total is not None and events > total:
            bad("events", f"{row['events']} events out of {row['total']}")
        for col in ("mean", "sd", "se", "ci_lower", "ci_upper", *ARM_OPTIONAL_COLUMNS):
            if row[col] not in ("", NOT_REPORTED):
                bad(col, "a binary outcome takes events and total, not means")
    else:
        for col in ("events", "total"):
            if row[col] not in ("", NOT_REPORTED):
                bad(col, "a continuous outcome takes means, not events")
    return problems


def _check_quantiles(values: dict, row: pd.Series, bad) -> None:
    q1, q3, lo, hi, med = (values[c] for c in ("q1", "q3", "min", "max", "median"))
    for a, b in (("q1", "q3"), ("min", "max")):
        if (values[a] is None) != (values[b] is None) and NOT_REPORTED not in (row[a], row[b]):
            bad(a if values[a] is None else b, f"'{a}' and '{b}' go together")
    if (q1 is not None or lo is not None) and med is None and values["mean"] is None:
        bad("median", "quartiles or a range need the median (or the mean)")
    # The five numbers must be ordered: min <= q1 <= median <= q3 <= max.
    ordered = [(c, values[c]) for c in ("min", "q1", "median", "q3", "max")
               if values[c] is not None]
    for (a, x), (b, y) in zip(ordered, ordered[1:]):
        if x > y:
            bad(a, f"{a} = {x} is above {b} = {y}")
    if values["n"] is not None and med is not None and values["mean"] is None:
        if q1 is not None and q1 == q3 and lo is None:
            bad("q3", "an IQR of zero gives no SD")
        if lo is not None and lo == hi:
            bad("max", "a range of zero gives no SD")


def validate_arms(path: str | Path, *, outcomes: Mapping[str, OutcomeSpec],
                  studies: pd.DataFrame, included_studies: set[str] | None,
                  ci_distribution: str = "auto", median_sd: str = "shi2020") -> pd.DataFrame:
    """Load ``arms.csv``, check every row, and derive the mean and SD each arm contributes.

    Every problem in the file is reported at once, each with its line, study, arm and field.
    ``mean_used``/``sd_used`` hold the values after conversion and ``conversion`` says which
    conversions were applied (empty when the values were reported as such).
    """
    if median_sd not in MEDIAN_SD:
        raise ValueError(f"median_sd must be one of {MEDIAN_SD}")
    table = load_csv(path, required=ARM_COLUMNS, optional=ARM_OPTIONAL_COLUMNS)
    study_ids = set(studies["study_id"])
    problems: list[str] = []
    for _, row in table.iterrows():
        problems += _check_arm_row(row, outcomes.get(row["outcome"]), study_ids,
                                   included_studies)
    key = ["study_id", "arm", "outcome", "timepoint"]
    for _, row in table[table.duplicated(key, keep=False)].iterrows():
        problems.append(f"line {row[LINE]}: duplicate row for study {row['study_id']}, arm "
                        f"{row['arm']}, outcome {row['outcome']}, {row['timepoint']}")
    if problems:
        raise InputErrors(path, problems)
    derived = [_derive(r, ci_distribution, median_sd) for _, r in table.iterrows()]
    table["mean_used"] = [d[0] for d in derived]
    table["sd_used"] = [d[1] for d in derived]
    table["conversion"] = [d[2] for d in derived]
    table["line"] = table[LINE]
    log.info("%s: %d arm rows valid, %d with a conversion", path, len(table),
             int((table["conversion"] != "").sum()))
    return table.loc[:, VALIDATED_ARM_COLUMNS].sort_values(
        ["outcome", "study_id", "timepoint", "group", "arm"], kind="mergesort").reset_index(
        drop=True)


VALIDATED_CONTRAST_SHEET_COLUMNS = CONTRAST_SHEET_COLUMNS + ["yi", "vi", "conversion", "line"]


def validate_contrast_sheet(path: str | Path, *, outcomes: Mapping[str, OutcomeSpec],
                            studies: pd.DataFrame, included_studies: set[str] | None,
                            ci_distribution: str = "auto") -> pd.DataFrame:
    """Load the contrast-level sheet, check every row and compute ``yi`` and ``vi``.

    ``yi`` is on the analysis scale (the log for RR and OR); ``vi`` is the squared SE, taken
    from ``se`` or else from the CI: SE = (upper − lower)/(2·q), on the log scale for ratios,
    with q the normal quantile, or for MD/SMD the t quantile with n₁ + n₂ − 2 df when either
    group has fewer than 60 participants (``ci_distribution="auto"``; Handbook 6.5.2.3).
    """
    table = load_csv(path, required=CONTRAST_SHEET_COLUMNS)
    study_ids = set(studies["study_id"])
    problems: list[str] = []
    yis, vis, notes = [], [], []
    for _, row in table.iterrows():
        where = f"line {row[LINE]} (study {row['study_id'] or '?'})"
        before = len(problems)

        def bad(field: str, message: str) -> None:
            problems.append(f"{where}, field '{field}': {message}")

        for col in ("study_id", "outcome", "timepoint", "measure", "source"):
            if not row[col]:
                bad(col, "empty")
        if row["study_id"] and row["study_id"] not in study_ids:
            bad("study_id", f"'{row['study_id']}' is not in studies.csv")
        elif (included_studies is not None and row["study_id"]
              and row["study_id"] not in included_studies):
            bad("study_id", f"'{row['study_id']}' was not included at full-text screening")
        spec = outcomes.get(row["outcome"])
        if row["outcome"] and spec is None:
            bad("outcome", f"'{row['outcome']}' is not an outcome in the configuration")
        elif spec is not None and spec.measure and row["measure"] != spec.measure:
            bad("measure", f"'{row['measure']}' is not the outcome's measure "
                           f"'{spec.measure}' (convert it or change the configuration)")
        values = {}
        for col in ("estimate", "se", "ci_lower", "ci_upper", "ci_level", "n_treatment",
                    "n_control"):
            try:
                values[col] = _number(row[col])
            except ValueError:
                bad(col, f"'{row[col]}' is not a number")
                values[col] = None
        est, se, lo, hi = (values[c] for c in ("estimate", "se", "ci_lower", "ci_upper"))
        n1, n2 = values["n_treatment"], values["n_control"]
        for col, n in (("n_treatment", n1), ("n_control", n2)):
            if n is None:
                bad(col, "required (the group size)")
            elif n < 1 or n != int(n):
                bad(col, f"{row[col]} is not a whole number of at least 1")
        if est is None:
            bad("estimate", "required")
        if se is not None and se <= 0:
            bad("se", f"{row['se']} must be positive")
        if se is None and (lo is None or hi is None):
            bad("se", "give the SE or both CI bounds")
        ratio = row["measure"] in RATIO
        if ratio:
            for col in ("estimate", "ci_lower", "ci_upper"):
                if values[col] is not None and values[col] <= 0:
                    bad(col, f"{row[col]} is not a ratio (must be positive)")
        if lo is not None and hi is not None:
            if lo >= hi:
                bad("ci_lower", f"lower bound {lo} is not below the upper bound {hi}")
            elif est is not None and not lo <= est <= hi:
                bad("estimate", f"{est} lies outside its CI [{lo}, {hi}]")
        level = values["ci_level"] or 95.0
        if not 50 <= level < 100:
            bad("ci_level", f"{row['ci_level']} is not a confidence level in per cent")
        if len(problems) > before:
            yis.append(math.nan), vis.append(math.nan), notes.append("")
            continue
        note = []
        yi = math.log(est) if ratio else est
        if ratio:
            note.append(f"log of the reported {row['measure']}")
        if se is None:
            tail = 1 - (1 - level / 100) / 2
            small = min(n1, n2) < SMALL_ARM
            use_t = not ratio and (ci_distribution == "t" or
                                   (ci_distribution == "auto" and small))
            q = float(stats.t.ppf(tail, n1 + n2 - 2)) if use_t else float(stats.norm.ppf(tail))
            width = math.log(hi) - math.log(lo) if ratio else hi - lo
            se = width / (2 * q)
            how = f"t({int(n1 + n2 - 2)})" if use_t else "normal"
            note.append(f"SE from {level:g}% CI ({how} quantile"
                        f"{', log scale' if ratio else ''})")
        yis.append(yi)
        vis.append(se ** 2)
        notes.append("; ".join(note))
    key = ["study_id", "outcome", "timepoint"]
    for _, row in table[table.duplicated(key, keep=False)].iterrows():
        problems.append(f"line {row[LINE]}: duplicate row for study {row['study_id']}, "
                        f"outcome {row['outcome']}, {row['timepoint']}")
    if problems:
        raise InputErrors(path, problems)
    table["yi"], table["vi"], table["conversion"] = yis, vis, notes
    table["line"] = table[LINE]
    log.info("%s: %d contrast rows valid", path, len(table))
    return table.loc[:, VALIDATED_CONTRAST_SHEET_COLUMNS].sort_values(
        key, kind="mergesort").reset_index(drop=True)


# --- combining, splitting and imputing ----------------------------------------------------

def combine_continuous(arms: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    """Combine (n, mean, sd) of several arms into one group (Cochrane Handbook Table 6.5.a)."""
    n, mean, sd = arms[0]
    for n2, m2, s2 in arms[1:]:
        total = n + n2
        combined_mean = (n * mean + n2 * m2) / total
        var = ((n - 1) * sd ** 2 + (n2 - 1) * s2 ** 2
               + n * n2 / total * (mean ** 2 + m2 ** 2 - 2 * mean * m2)) / (total - 1)
        n, mean, sd = total, combined_mean, math.sqrt(var)
    return n, mean, sd


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


CONTRAST_COLUMNS = ["outcome", "study_id", "comparison", "timepoint", "status", "reason",
                    "data_level", "n_treatment", "mean_treatment", "sd_treatment",
                    "events_treatment", "n_control", "mean_control", "sd_control",
                    "events_control", "arms_treatment", "arms_control", "yi", "vi",
                    "conversions"]


def _group_summary(rows: pd.DataFrame, kind: str) -> tuple[dict, list[str], str | None]:
    labels = list(rows["arm"])
    notes = [f"{r['arm']}: {r['conversion']}" for _, r in rows.iterrows() if r["conversion"]]
    if kind == "binary":
        missing = [r["arm"] for _, r in rows.iterrows()
                   if _number(r["events"]) is None or _number(r["total"]) is None]
        if missing:
            return {}, notes, f"events or total not reported for {', '.join(missing)}"
        events = sum(_number(v) for v in rows["events"])
        total = sum(_number(v) for v in rows["total"])
        if len(rows) > 1:
            notes.append(f"arms {' + '.join(labels)} combined (events and totals summed)")
        return {"n": total, "events": events}, notes, None
    missing_mean = [r["arm"] for _, r in rows.iterrows()
                    if pd.isna(r["mean_used"]) or _number(r["n"]) is None]
    if missing_mean:
        return {}, notes, f"mean or n not reported for {', '.join(missing_mean)}"
    missing_sd = [r["arm"] for _, r in rows.iterrows() if pd.isna(r["sd_used"])]
    if missing_sd:
        return {}, notes, (f"SD not reported and not derivable (no SE, CI or quartiles) "
                           f"for {', '.join(missing_sd)}")
    parts = [(_number(r["n"]), float(r["mean_used"]), float(r["sd_used"]))
             for _, r in rows.iterrows()]
    n, mean, sd = combine_continuous(parts)
    if len(parts) > 1:
        notes.append(f"arms {' + '.join(labels)} combined (Cochrane Handbook Table 6.5.a)")
    return {"n": n, "mean": mean, "sd": sd}, notes, None


def _split(summary: dict, parts: int) -> dict:
    out = dict(summary)
    out["n"] = summary["n"] / parts
    if "events" in summary:
        out["events"] = summary["events"] / parts
    return out


def _arm_records(outcome_id: str, spec: OutcomeSpec, study_id: str, group: pd.DataFrame,
                 multi_arm: str) -> list[dict]:
    base = {"outcome": outcome_id, "study_id": study_id, "timepoint": spec.timepoint,
            "data_level": "arms", "yi": None, "vi": None}
    sides = {side: group[group["group"] == side].sort_values("arm", kind="mergesort")
             for side in GROUPS}
    treatment_sets = ([sides["treatment"].iloc[[i]] for i in range(len(sides["treatment"]))]
                      if multi_arm == "split" and len(sides["treatment"]) > 1
                      else [sides["treatment"]])
    records = []
    control_summary, control_notes, control_problem = (
        _group_summary(sides["control"], spec.type) if not sides["control"].empty
        else ({}, [], None))
    for t_rows in treatment_sets:
        record = dict(base, status="analysable", reason="")
        notes: list[str] = []
        reasons = []
        record["arms_treatment"] = "; ".join(t_rows["arm"])
        record["arms_control"] = "; ".join(sides["control"]["arm"])
        record["comparison"] = (f"{record['arms_treatment']} vs {record['arms_control']}"
                                if len(treatment_sets) > 1 else "")
        if t_rows.empty:
            reasons.append("no treatment arm")
        else:
            summary, t_notes, problem = _group_summary(t_rows, spec.type)
            notes += t_notes
            if problem:
                reasons.append(f"treatment: {problem}")
            for key, value in summary.items():
                record[f"{key}_treatment"] = value
        if sides["control"].empty:
            reasons.append("no control arm")
        else:
            notes += control_notes
            if control_problem:
                reasons.append(f"control: {control_problem}")
            summary = control_summary
            if len(treatment_sets) > 1 and summary:
                summary = _split(summary, len(treatment_sets))
                what = "n and events" if spec.type == "binary" else "n"
                notes.append(f"shared control split into {len(treatment_sets)} "
                             f"({what} divided; Cochrane Handbook 23.3.4)")
            for key, value in summary.items():
                record[f"{key}_control"] = value
        if reasons:
            record["status"] = "not_analysable"
            record["reason"] = "; ".join(reasons)
        record["conversions"] = "; ".join(notes)
        records.append(record)
    return records


def _contrast_record(row: pd.Series, spec: OutcomeSpec) -> dict:
    return {"outcome": row["outcome"], "study_id": row["study_id"], "comparison": "",
            "timepoint": spec.timepoint, "status": "analysable", "reason": "",
            "data_level": "contrast", "n_treatment": _number(row["n_treatment"]),
            "n_control": _number(row["n_control"]), "arms_treatment": "", "arms_control": "",
            "yi": float(row["yi"]), "vi": float(row["vi"]),
            "conversions": "; ".join(filter(None, [
                f"contrast-level {row['measure']} as reported (line {row['line']})",
                row["conversion"]]))}


def _fold(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def rows_off_timepoint(rows: pd.DataFrame, outcomes: Mapping[str, OutcomeSpec], *,
                       sheet: str | Path) -> list[dict]:
    """Rows of a validated sheet whose time point is not their outcome's configured one.

    Such rows do not enter any analysis. Most are other time points extracted on purpose
    (6 and 24 months beside a 12-month outcome), but a spelling that differs only in case or
    spacing (``12 Months``) is almost always a typo that would silently drop the study: those
    are flagged ``near_match``. ``rows`` needs ``study_id``, ``outcome``, ``timepoint`` and
    ``line`` columns.
    """
    unused = []
    for row in rows.itertuples(index=False):
        spec = outcomes.get(row.outcome)
        if spec is None or row.timepoint == spec.timepoint:
            continue
        unused.append({"file": str(sheet), "line": int(row.line), "study_id": row.study_id,
                       "outcome": row.outcome, "timepoint": row.timepoint,
                       "configured_timepoint": spec.timepoint,
                       "near_match": _fold(row.timepoint) == _fold(spec.timepoint)})
    return unused


def lost_outcomes(unused: list[dict], tables: list[pd.DataFrame],
                  outcomes: Mapping[str, OutcomeSpec]) -> dict[str, list[str]]:
    """Outcomes that have rows in the sheets (``tables``: arm rows, contrast-level rows), none
    of them at the configured time point, each with the time points its rows are at."""
    with_data = {row.outcome for table in tables for row in table.itertuples(index=False)
                 if row.outcome in outcomes and row.timepoint == outcomes[row.outcome].timepoint}
    lost: dict[str, set[str]] = {}
    for entry in unused:
        if entry["outcome"] not in with_data:
            lost.setdefault(entry["outcome"], set()).add(entry["timepoint"])
    return {outcome: sorted(points) for outcome, points in sorted(lost.items())}


def describe_unused(entry: dict) -> str:
    """One row off its outcome's time point, for the log and error messages."""
    hint = (f"; it differs from the configured '{entry['configured_timepoint']}' only in "
            "case or spacing: a typo?" if entry["near_match"] else "")
    return (f"{entry['file']}, line {entry['line']} (study {entry['study_id']}), field "
            f"'timepoint': '{entry['timepoint']}' is not outcome {entry['outcome']}'s time "
            f"point '{entry['configured_timepoint']}'; the row is not analysed{hint}")


def study_contrasts(arms: pd.DataFrame, outcomes: Mapping[str, OutcomeSpec], *,
                    contrast_rows: pd.DataFrame | None = None, multi_arm: str = "combine",
                    impute_sd: str = "none") -> pd.DataFrame:
    """Treatment-versus-control contrasts per study and outcome at the outcome's time point.

    ``multi_arm="combine"`` (default) combines all treatment arms of a study into one group,
    and all control arms into another, so a multi-arm trial enters the analysis once and no
    participant counts twice. ``multi_arm="split"`` instead compares each treatment arm with
    the control group, whose n (and events) are divided evenly between the comparisons
    (Cochrane Handbook 23.3.4). Contrast-level rows (:func:`validate_contrast_sheet`) enter
    with their ``yi``/``vi``; a study that has both a contrast row and analysable arm rows for
    the same outcome is an error (the same participants would count twice). A study whose
    numbers do not allow a contrast gets ``status = not_analysable`` and the reason.
    """
    if multi_arm not in MULTI_ARM:
        raise ValueError(f"multi_arm must be one of {MULTI_ARM}")
    arms = impute_missing_sd(arms, outcomes, impute_sd)
    rows: list[dict] = []
    for outcome_id, spec in sorted(outcomes.items()):
        subset = arms[(arms["outcome"] == outcome_id) & (arms["timepoint"] == spec.timepoint)]
        by_study = {s: g for s, g in subset.groupby("study_id", sort=True)}
        reported = {}
        if contrast_rows is not None and not contrast_rows.empty:
            part = contrast_rows[(contrast_rows["outcome"] == outcome_id)
                                 & (contrast_rows["timepoint"] == spec.timepoint)]
            reported = {r["study_id"]: r for _, r in part.iterrows()}
        for study_id in sorted(set(by_study) | set(reported)):
            records = (_arm_records(outcome_id, spec, study_id, by_study[study_id], multi_arm)
                       if study_id in by_study else [])
            if study_id in reported:
                usable = [r for r in records if r["status"] == "analysable"]
                if usable:
                    raise ValueError(
                        f"study {study_id}, outcome {outcome_id}: both analysable arm-level "
                        f"rows and a contrast-level row (line {reported[study_id]['line']}); "
                        f"keep one so that no participant counts twice")
                record = _contrast_record(reported[study_id], spec)
                if records:
                    record["conversions"] += ("; arm-level rows not analysable: "
                                              + "; ".join(r["reason"] for r in records))
                records = [record]
            rows += records
    frame = pd.DataFrame(rows, columns=CONTRAST_COLUMNS)
    return frame.sort_values(["outcome", "study_id", "comparison"],
                             kind="mergesort").reset_index(drop=True)
