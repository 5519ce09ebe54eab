"""Per-study contrasts: one treatment-versus-control row per study, outcome (at its
configured time point) and comparison, from the arm rows or a reported contrast."""

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


def _contrast_record(row: pd.Series, spec: OutcomeSpec) -> dict:
    return {"outcome": row["outcome"], "study_id": row["study_id"], "comparison": "",
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
