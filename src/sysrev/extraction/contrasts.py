"""Per-study contrasts: one treatment-versus-control row per study, outcome (at its
configured time point), effect-size id (``es_id``, when the sheets give one) and comparison,
from the arm rows or a reported contrast."""

from __future__ import annotations

from typing import Mapping

import pandas as pd

from sysrev.extraction.cells import OutcomeSpec, _number
from sysrev.extraction.conversions import impute_missing_sd
from sysrev.extraction.multiarm import MULTI_ARM, _arm_records

CONTRAST_COLUMNS = ["outcome", "study_id", "comparison", "timepoint", "status", "reason",
                    "data_level", "n_treatment", "mean_treatment", "sd_treatment",
                    "events_treatment", "n_control", "mean_control", "sd_control",
                    "events_control", "arms_treatment", "arms_control", "yi", "vi",
                    "conversions"]
#: Sort order of contrasts.tsv (``es_id`` is '' when no sheet gives one).
CONTRAST_ORDER = ["outcome", "study_id", "es_id", "comparison"]


def _es_id(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with an ``es_id`` column ('' where the sheet gives none)."""
    table = table.copy()
    table["es_id"] = (table["es_id"].fillna("").astype(str) if "es_id" in table.columns
                      else "")
    return table


def several_effects(contrasts: pd.DataFrame, allowed: set[str] | frozenset = frozenset()
                    ) -> list[str]:
    """One problem per study and outcome with several effect sizes (``es_id``) at the
    outcome's time point when the outcome is not in ``allowed`` (the outcomes of
    ``analysis.multilevel.outcomes``): a standard random-effects model assumes independent
    effects, one per study."""
    if "es_id" not in contrasts.columns:
        return []
    usable = contrasts[contrasts["es_id"].fillna("") != ""]
    problems = []
    for (outcome, study), part in usable.groupby(["outcome", "study_id"], sort=True):
        ids = sorted(set(part["es_id"]))
        if len(ids) > 1 and outcome not in allowed:
            problems.append(
                f"outcome {outcome}, study {study}: {len(ids)} effect sizes (es_id "
                f"{', '.join(ids)}); a standard random-effects model assumes one independent "
                f"effect per study: add {outcome} to analysis.multilevel.outcomes (the "
                "three-level model), or keep one es_id per study")
    return problems


def _contrast_record(row: pd.Series, spec: OutcomeSpec) -> dict:
    return {"outcome": row["outcome"], "study_id": row["study_id"], "comparison": "",
            "es_id": row["es_id"],
            "timepoint": spec.timepoint, "status": "analysable", "reason": "",
            "data_level": "contrast", "n_treatment": _number(row["n_treatment"]),
            "n_control": _number(row["n_control"]), "arms_treatment": "", "arms_control": "",
            "yi": float(row["yi"]), "vi": float(row["vi"]),
            "conversions": "; ".join(filter(None, [
                f"contrast-level {row['measure']} as reported (line {row['line']})",
                row["conversion"]]))}


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
    arms = _es_id(impute_missing_sd(arms, outcomes, impute_sd))
    if contrast_rows is not None:
        contrast_rows = _es_id(contrast_rows)
    rows: list[dict] = []
    for outcome_id, spec in sorted(outcomes.items()):
        subset = arms[(arms["outcome"] == outcome_id) & (arms["timepoint"] == spec.timepoint)]
        by_study = {s: g for s, g in subset.groupby(["study_id", "es_id"], sort=True)}
        reported = {}
        if contrast_rows is not None and not contrast_rows.empty:
            part = contrast_rows[(contrast_rows["outcome"] == outcome_id)
                                 & (contrast_rows["timepoint"] == spec.timepoint)]
            reported = {(r["study_id"], r["es_id"]): r for _, r in part.iterrows()}
        for key in sorted(set(by_study) | set(reported)):
            study_id, es_id = key
            records = (_arm_records(outcome_id, spec, study_id, by_study[key], multi_arm)
                       if key in by_study else [])
            for record in records:
                record["es_id"] = es_id
            if key in reported:
                usable = [r for r in records if r["status"] == "analysable"]
                if usable:
                    which = f", es_id {es_id}" if es_id else ""
                    raise ValueError(
                        f"study {study_id}, outcome {outcome_id}{which}: both analysable "
                        f"arm-level rows and a contrast-level row (line "
                        f"{reported[key]['line']}); keep one so that no participant counts "
                        "twice")
                record = _contrast_record(reported[key], spec)
                if records:
                    record["conversions"] += ("; arm-level rows not analysable: "
                                              + "; ".join(r["reason"] for r in records))
                records = [record]
            rows += records
    frame = pd.DataFrame(rows, columns=CONTRAST_COLUMNS + ["es_id"])
    return frame.sort_values(CONTRAST_ORDER, kind="mergesort").reset_index(drop=True)
