"""The data-extraction sheets: validation, conversions and per-study contrasts.

Layout (documented in ``docs/extraction.md``):

``studies.csv``
    One row per included study: ``study_id, label, year, design, comparison, source``.
``arms.csv``
    One row per study arm, outcome and time point: ``study_id, arm, group, outcome,
    timepoint, n, mean, sd, se, ci_lower, ci_upper, ci_level, events, total, source, note``.
    ``group`` is ``treatment`` or ``control``. A continuous outcome gives ``n`` and ``mean``
    with one of ``sd``, ``se`` or a CI; a binary outcome gives ``events`` and ``total``.
    A number the source does not report is written ``NR``; a cell that does not apply is
    left empty. Every row names its ``source`` (URL, table, quote).

Conversions (Cochrane Handbook v6.5, section 6.5.2) are flagged on every value they touch:
SE → SD (SD = SE·√n), CI → SD (SD = √n·(upper − lower)/(2·q), with q from the t distribution
with n − 1 df for small arms and from the normal otherwise), and combining several arms of
one group into one (Handbook Table 6.5.a).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import pandas as pd
from scipy import stats

from sysrev.columns import ARM_COLUMNS, NOT_REPORTED
from sysrev.csvtables import LINE, load_csv
from sysrev.errors import InputErrors

log = logging.getLogger(__name__)

STUDY_COLUMNS = ["study_id", "label", "year", "design", "comparison", "source"]
GROUPS = ("treatment", "control")
NUMERIC = ("n", "mean", "sd", "se", "ci_lower", "ci_upper", "ci_level", "events", "total")
INTEGER = ("n", "events", "total")
#: Handbook 6.5.2.3: below this many participants per arm, use t rather than normal quantiles.
SMALL_ARM = 60

VALIDATED_ARM_COLUMNS = ARM_COLUMNS + ["sd_used", "conversion", "line"]


@dataclass(frozen=True)
class OutcomeSpec:
    """What the configuration says about one outcome."""

    id: str
    type: str  # "continuous" or "binary"
    timepoint: str


def _number(value: str) -> float | None:
    """A cell as a float; ``None`` for empty or NR (callers tell the two apart)."""
    if value in ("", NOT_REPORTED):
        return None
    return float(value)


def load_studies(path: str | Path) -> pd.DataFrame:
    """Load and check ``studies.csv``."""
    table = load_csv(path, required=STUDY_COLUMNS)
    problems = []
    for _, row in table.iterrows():
        for col in ("study_id", "label", "source"):
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
        if values[col] is not None and col in INTEGER and values[col] != int(values[col]):
            bad(col, f"{cell} is not a whole number")
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
    if outcome.type == "binary":
        if events is not None and events < 0:
            bad("events", "negative")
        if total is not None and total < 1:
            bad("total", f"{row['total']} is below 1")
        if events is not None and total is not None and events > total:
            bad("events", f"{row['events']} events out of {row['total']}")
        for col in ("mean", "sd", "se", "ci_lower", "ci_upper"):
            if row[col] not in ("", NOT_REPORTED):
                bad(col, "a binary outcome takes events and total, not means")
    else:
        for col in ("events", "total"):
            if row[col] not in ("", NOT_REPORTED):
                bad(col, "a continuous outcome takes means, not events")
    return problems


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


def _sd_used(row: pd.Series, ci_distribution: str) -> tuple[float | None, str]:
    n, sd, se = _number(row["n"]), _number(row["sd"]), _number(row["se"])
    lo, hi = _number(row["ci_lower"]), _number(row["ci_upper"])
    if sd is not None:
        return sd, ""
    if n is None:
        return None, ""
    if se is not None:
        return se * math.sqrt(n), "SD from SE (SD = SE·√n)"
    if lo is not None and hi is not None:
        level = _number(row["ci_level"]) or 95.0
        return ci_to_sd(n, lo, hi, level, ci_distribution)
    return None, ""


def validate_arms(path: str | Path, *, outcomes: Mapping[str, OutcomeSpec],
                  studies: pd.DataFrame, included_studies: set[str] | None,
                  ci_distribution: str = "auto") -> pd.DataFrame:
    """Load ``arms.csv``, check every row, and derive the SD each arm contributes.

    Every problem in the file is reported at once, each with its line, study, arm and field.
    """
    table = load_csv(path, required=ARM_COLUMNS)
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
    derived = table.apply(lambda r: _sd_used(r, ci_distribution), axis=1)
    table["sd_used"] = [d[0] for d in derived]
    table["conversion"] = [d[1] for d in derived]
    table["line"] = table[LINE]
    log.info("%s: %d arm rows valid", path, len(table))
    return table.loc[:, VALIDATED_ARM_COLUMNS].sort_values(
        ["outcome", "study_id", "timepoint", "group", "arm"], kind="mergesort").reset_index(
        drop=True)


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


CONTRAST_COLUMNS = ["outcome", "study_id", "timepoint", "status", "reason",
                    "n_treatment", "mean_treatment", "sd_treatment", "events_treatment",
                    "n_control", "mean_control", "sd_control", "events_control",
                    "arms_treatment", "arms_control", "conversions"]


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
                    if _number(r["mean"]) is None or _number(r["n"]) is None]
    if missing_mean:
        return {}, notes, f"mean or n not reported for {', '.join(missing_mean)}"
    missing_sd = [r["arm"] for _, r in rows.iterrows() if pd.isna(r["sd_used"])]
    if missing_sd:
        return {}, notes, (f"SD not reported and not derivable (no SE or CI) for "
                           f"{', '.join(missing_sd)}")
    parts = [(_number(r["n"]), _number(r["mean"]), float(r["sd_used"]))
             for _, r in rows.iterrows()]
    n, mean, sd = combine_continuous(parts)
    if len(parts) > 1:
        notes.append(f"arms {' + '.join(labels)} combined (Cochrane Handbook Table 6.5.a)")
    return {"n": n, "mean": mean, "sd": sd}, notes, None


def study_contrasts(arms: pd.DataFrame, outcomes: Mapping[str, OutcomeSpec]) -> pd.DataFrame:
    """One treatment-versus-control contrast per study and outcome at the outcome's time point.

    All treatment arms of a study are combined into one group, and all control arms into
    another, so a multi-arm trial enters the analysis once and no participant counts twice.
    A study whose numbers do not allow a contrast gets ``status = not_analysable`` and the
    reason.
    """
    rows = []
    for outcome_id, spec in sorted(outcomes.items()):
        subset = arms[(arms["outcome"] == outcome_id) & (arms["timepoint"] == spec.timepoint)]
        for study_id, group in subset.groupby("study_id", sort=True):
            record = {"outcome": outcome_id, "study_id": study_id,
                      "timepoint": spec.timepoint, "status": "analysable", "reason": ""}
            notes: list[str] = []
            reasons = []
            for side in GROUPS:
                side_rows = group[group["group"] == side].sort_values("arm", kind="mergesort")
                record[f"arms_{side}"] = "; ".join(side_rows["arm"])
                if side_rows.empty:
                    reasons.append(f"no {side} arm")
                    continue
                summary, side_notes, problem = _group_summary(side_rows, spec.type)
                notes += side_notes
                if problem:
                    reasons.append(f"{side}: {problem}")
                for key, value in summary.items():
                    record[f"{key}_{side}"] = value
            if reasons:
                record["status"] = "not_analysable"
                record["reason"] = "; ".join(reasons)
            record["conversions"] = "; ".join(notes)
            rows.append(record)
    frame = pd.DataFrame(rows, columns=CONTRAST_COLUMNS)
    return frame.sort_values(["outcome", "study_id"], kind="mergesort").reset_index(drop=True)
