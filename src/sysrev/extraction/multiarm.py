"""Multi-arm trials: several arms of one group combined into one (Cochrane Handbook
Table 6.5.a), or each treatment arm compared with a shared control group split between the
comparisons (Handbook 23.3.4).

References
----------
Higgins JPT et al. (eds). Cochrane Handbook for Systematic Reviews of Interventions v6.5
(2024), Table 6.5.a and section 23.3.4.
"""

from __future__ import annotations

import math

import pandas as pd

from sysrev.extraction.cells import GROUPS, OutcomeSpec, _number

MULTI_ARM = ("combine", "split")


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
