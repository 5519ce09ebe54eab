"""The extraction sheets (studies.csv, arms.csv, the optional contrasts.csv): loaded,
checked row by row, each arm's mean and SD derived, and the rows off their outcome's time
point listed. The layout of the sheets is documented in ``docs/extraction.md`` and in
:mod:`sysrev.extraction`."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Mapping

import pandas as pd
from scipy import stats

from sysrev.columns import (ARM_COLUMNS, ARM_OPTIONAL_COLUMNS, CONTRAST_SHEET_COLUMNS,
                            NOT_REPORTED)
from sysrev.csvtables import LINE, load_csv
from sysrev.errors import InputErrors
from sysrev.extraction.cells import GROUPS, INTEGER, NUMERIC, OutcomeSpec, _number
from sysrev.extraction.conversions import MEDIAN_SD, SMALL_ARM, _derive

log = logging.getLogger(__name__)

STUDY_COLUMNS = ["study_id", "label", "year", "design", "comparison", "source"]
RATIO = ("RR", "OR")

VALIDATED_ARM_COLUMNS = (ARM_COLUMNS + ARM_OPTIONAL_COLUMNS
                         + ["mean_used", "sd_used", "conversion", "line"])

#: Optional column of the arm and contrast sheets: the id of an effect size within its study,
#: outcome and time point (several measures, arm pairs or subscales of one study, analysed
#: by the three-level model). Written to the validated tables only when a sheet gives it, so
#: that a review without it keeps its tables unchanged.
ES_ID = "es_id"


def with_es_id(columns: list[str], table: pd.DataFrame) -> list[str]:
    """``columns`` plus ``es_id`` when ``table`` has a filled-in ``es_id`` cell."""
    has = ES_ID in table.columns and (table[ES_ID].fillna("").astype(str) != "").any()
    return list(columns) + [ES_ID] if has else list(columns)


def _duplicates(table: pd.DataFrame, key: list[str], what) -> list[str]:
    """One problem per row that repeats ``key`` + ``es_id``; ``what(row)`` names the key.
    Without an es_id the message is the one-row rule; with one it names the field."""
    problems = []
    for _, row in table[table.duplicated(key + [ES_ID], keep=False)].iterrows():
        if row[ES_ID]:
            problems.append(f"line {row[LINE]}, field '{ES_ID}': '{row[ES_ID]}' repeated for "
                            f"{what(row)} (an effect-size id is unique within its study, "
                            "outcome and time point)")
        else:
            problems.append(f"line {row[LINE]}: duplicate row for {what(row)}")
    return problems


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
    table = load_csv(path, required=ARM_COLUMNS, optional=ARM_OPTIONAL_COLUMNS + [ES_ID])
    study_ids = set(studies["study_id"])
    problems: list[str] = []
    for _, row in table.iterrows():
        problems += _check_arm_row(row, outcomes.get(row["outcome"]), study_ids,
                                   included_studies)
    problems += _duplicates(table, ["study_id", "arm", "outcome", "timepoint"], lambda row: (
        f"study {row['study_id']}, arm {row['arm']}, outcome {row['outcome']}, "
        f"{row['timepoint']}"))
    if problems:
        raise InputErrors(path, problems)
    derived = [_derive(r, ci_distribution, median_sd) for _, r in table.iterrows()]
    table["mean_used"] = [d[0] for d in derived]
    table["sd_used"] = [d[1] for d in derived]
    table["conversion"] = [d[2] for d in derived]
    table["line"] = table[LINE]
    log.info("%s: %d arm rows valid, %d with a conversion", path, len(table),
             int((table["conversion"] != "").sum()))
    return table.loc[:, VALIDATED_ARM_COLUMNS + [ES_ID]].sort_values(
        ["outcome", "study_id", "timepoint", ES_ID, "group", "arm"],
        kind="mergesort").reset_index(drop=True)


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
    table = load_csv(path, required=CONTRAST_SHEET_COLUMNS, optional=[ES_ID])
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
    problems += _duplicates(table, key, lambda row: (
        f"study {row['study_id']}, outcome {row['outcome']}, {row['timepoint']}"))
    if problems:
        raise InputErrors(path, problems)
    table["yi"], table["vi"], table["conversion"] = yis, vis, notes
    table["line"] = table[LINE]
    log.info("%s: %d contrast rows valid", path, len(table))
    return table.loc[:, VALIDATED_CONTRAST_SHEET_COLUMNS + [ES_ID]].sort_values(
        key + [ES_ID], kind="mergesort").reset_index(drop=True)


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
