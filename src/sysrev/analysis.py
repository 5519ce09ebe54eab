"""Meta-analysis of one outcome: per-study effects from the extraction contrasts, pooled
with a fixed-effect (inverse-variance) and a random-effects model.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from sysrev.columns import EFFECT_COLUMNS, SUMMARY_COLUMNS
from sysrev.meta import escalc, rma

log = logging.getLogger(__name__)

RATIO_MEASURES = ("RR", "OR")


@dataclass(frozen=True)
class AnalysisSpec:
    """How one outcome is analysed."""

    outcome: str
    label: str
    type: str
    measure: str
    timepoint: str
    random_method: str = "DL"
    test: str = "z"
    level: float = 95


def _effects(contrasts: pd.DataFrame, spec: AnalysisSpec):
    if spec.type == "binary":
        return escalc(spec.measure, ai=contrasts["events_treatment"].astype(float),
                      n1i=contrasts["n_treatment"].astype(float),
                      ci=contrasts["events_control"].astype(float),
                      n2i=contrasts["n_control"].astype(float))
    return escalc(spec.measure, m1i=contrasts["mean_treatment"].astype(float),
                  sd1i=contrasts["sd_treatment"].astype(float),
                  n1i=contrasts["n_treatment"].astype(float),
                  m2i=contrasts["mean_control"].astype(float),
                  sd2i=contrasts["sd_control"].astype(float),
                  n2i=contrasts["n_control"].astype(float))


def _model_summary(result, measure: str) -> dict:
    data = result.as_dict()
    if measure in RATIO_MEASURES:
        for key in ("estimate", "ci_lb", "ci_ub", "pi_lb", "pi_ub"):
            value = data[key]
            data[f"exp_{key}"] = math.exp(value) if value is not None and math.isfinite(
                value) else None
    return data


def analyse_outcome(contrasts: pd.DataFrame, studies: pd.DataFrame,
                    spec: AnalysisSpec) -> tuple[pd.DataFrame, dict]:
    """Effect sizes per study and pooled results for one outcome.

    Returns the per-study table (``EFFECT_COLUMNS``) and a JSON-ready dict with the fixed-
    and random-effects results, the studies left out and why, and the methods used.
    """
    rows = contrasts[contrasts["outcome"] == spec.outcome]
    usable = rows[rows["status"] == "analysable"].reset_index(drop=True)
    left_out = rows[rows["status"] != "analysable"]
    info = studies.set_index("study_id")
    pooled: dict = {
        "outcome": spec.outcome, "label": spec.label, "measure": spec.measure,
        "type": spec.type, "timepoint": spec.timepoint,
        "scale": "log" if spec.measure in RATIO_MEASURES else "raw",
        "k": int(len(usable)),
        "methods": {
            "effect_size": spec.measure, "fixed": "inverse variance (EE)",
            "random": f"{spec.random_method} estimator of tau2",
            "test": spec.test, "level": spec.level,
            "i2_definition": "I2 = tau2 / (tau2 + s2), s2 the typical within-study variance "
                             "(metafor); i2_q = (Q - df) / Q is reported too",
            "zero_cells": "0.5 added to every cell of a study with a zero cell (metafor "
                          "escalc defaults)" if spec.type == "binary" else None,
        },
        "not_analysable": [{"study_id": s, "reason": r}
                           for s, r in zip(left_out["study_id"], left_out["reason"])],
    }
    if usable.empty:
        pooled.update({"status": "no analysable data", "fixed": None, "random": None,
                       "participants": 0, "studies": []})
        return pd.DataFrame(columns=EFFECT_COLUMNS), pooled
    es = _effects(usable, spec)
    fixed = rma(es.yi, es.vi, method="EE", test="z", level=spec.level)
    random = rma(es.yi, es.vi, method=spec.random_method, test=spec.test, level=spec.level)
    z = float(stats.norm.ppf(1 - (1 - spec.level / 100) / 2))
    sei = np.sqrt(es.vi)
    effects = pd.DataFrame({
        "study_id": usable["study_id"],
        "label": usable["study_id"].map(info["label"]),
        "year": usable["study_id"].map(info["year"]),
        "n_treatment": usable["n_treatment"], "n_control": usable["n_control"],
        "mean_treatment": usable.get("mean_treatment"), "sd_treatment": usable.get(
            "sd_treatment"),
        "mean_control": usable.get("mean_control"), "sd_control": usable.get("sd_control"),
        "events_treatment": usable.get("events_treatment"),
        "events_control": usable.get("events_control"),
        "yi": es.yi, "vi": es.vi, "sei": sei,
        "ci_lower": es.yi - z * sei, "ci_upper": es.yi + z * sei,
        "weight_fixed": fixed.weights, "weight_random": random.weights,
        "conversions": list(usable["conversions"]),
    }, columns=EFFECT_COLUMNS)
    adjusted = [s for s, a in zip(usable["study_id"], es.adjusted) if a]
    if adjusted:
        effects.loc[effects["study_id"].isin(adjusted), "conversions"] = [
            "; ".join(filter(None, [c, "0.5 added to each cell (zero cell)"]))
            for c in effects.loc[effects["study_id"].isin(adjusted), "conversions"]]
    participants = int(usable["n_treatment"].astype(float).sum()
                       + usable["n_control"].astype(float).sum())
    pooled.update({"status": "pooled" if len(usable) > 1 else "single study",
                   "participants": participants,
                   "studies": sorted(usable["study_id"]),
                   "fixed": _model_summary(fixed, spec.measure),
                   "random": _model_summary(random, spec.measure)})
    log.info("%s: k=%d, %s estimate %.4g", spec.outcome, len(usable), spec.random_method,
             random.estimate)
    return effects.sort_values("study_id", kind="mergesort").reset_index(drop=True), pooled


def summary_row(pooled: dict) -> dict:
    """One line of ``summary.tsv`` from an outcome's pooled result."""
    random, fixed = pooled.get("random"), pooled.get("fixed")
    ratio = pooled["measure"] in RATIO_MEASURES

    def value(model, key):
        if model is None:
            return None
        return model.get(f"exp_{key}") if ratio else model.get(key)

    return {
        "outcome": pooled["outcome"], "label": pooled["label"], "measure": pooled["measure"],
        "status": pooled["status"], "k": pooled["k"],
        "participants": pooled.get("participants", 0),
        "model": f"random ({random['method']}, {random['test']})" if random else "",
        "estimate": value(random, "estimate"), "ci_lower": value(random, "ci_lb"),
        "ci_upper": value(random, "ci_ub"), "p_value": random["pval"] if random else None,
        "tau2": random["tau2"] if random else None, "i2": random["i2"] if random else None,
        "q": random["q"] if random else None, "q_p": random["q_p"] if random else None,
        "fixed_estimate": value(fixed, "estimate"), "fixed_ci_lower": value(fixed, "ci_lb"),
        "fixed_ci_upper": value(fixed, "ci_ub"),
        "studies": "; ".join(pooled.get("studies", [])),
        "not_analysable": "; ".join(f"{x['study_id']}: {x['reason']}"
                                    for x in pooled["not_analysable"]),
    }


def summarise(pooled_results: list[dict]) -> pd.DataFrame:
    """``summary.tsv``: one row per configured outcome, analysed or not."""
    rows = [summary_row(p) for p in pooled_results]
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS).sort_values("outcome",
                                                                   kind="mergesort")
