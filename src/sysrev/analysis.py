"""Meta-analysis of one outcome: per-study effects from the extraction contrasts, pooled
with a fixed-effect (inverse-variance) and a random-effects model, plus, for binary outcomes,
Mantel–Haenszel (and Peto for OR); leave-one-out and cumulative analyses, Egger's test and
funnel-plot data, and subgroups when configured.

The random-effects choices come from a preset (:mod:`sysrev.meta.presets`): ``revman5``,
``cochrane2025`` or ``custom`` (the configuration's ``random_method``, ``test`` and
``prediction_interval``). Every choice is written into ``pooled.json["methods"]``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from sysrev.columns import EFFECT_COLUMNS
from sysrev.meta import (cumul, escalc, funnel_data, leave1out, regtest, resolve_preset, rma,
                         rma_mh, rma_peto, subgroup_analysis)
from sysrev.meta.presets import MIN_STUDIES_PI, Preset
# Re-exported: summary.tsv's rows live in sysrev.summary, which a job imports without scipy.
from sysrev.summary import RATIO_MEASURES, summarise, summary_row  # noqa: F401

log = logging.getLogger(__name__)


#: Columns of leave1out.tsv and cumulative.tsv (``study`` is the study left out / added).
SENSITIVITY_COLUMNS = ["step", "study", "k", "estimate", "ci_lower", "ci_upper", "se",
                       "pval", "tau2", "i2", "h2", "q", "q_p"]

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
    preset: str = "custom"
    prediction_interval: bool = False
    subgroup: str | None = None
    subgroup_tau2: str = "separate"
    #: Funnel plot and small-study (Egger) test only from this many studies (Cochrane
    #: Handbook 13.3.5.4: at least 10).
    small_study_min_studies: int = 10
    #: Trim-and-fill estimator (``"L0"`` or ``"R0"``), or ``None`` for none; done only
    #: where the funnel plot is (from ``small_study_min_studies`` studies).
    trim_and_fill: str | None = None

    def resolved(self) -> Preset:
        return resolve_preset(self.preset, method=self.random_method, test=self.test,
                              prediction_interval=self.prediction_interval)


def _arm_effects(rows: pd.DataFrame, spec: AnalysisSpec):
    if spec.type == "binary":
        return escalc(spec.measure, ai=rows["events_treatment"].astype(float),
                      n1i=rows["n_treatment"].astype(float),
                      ci=rows["events_control"].astype(float),
                      n2i=rows["n_control"].astype(float))
    return escalc(spec.measure, m1i=rows["mean_treatment"].astype(float),
                  sd1i=rows["sd_treatment"].astype(float),
                  n1i=rows["n_treatment"].astype(float),
                  m2i=rows["mean_control"].astype(float),
                  sd2i=rows["sd_control"].astype(float),
                  n2i=rows["n_control"].astype(float))


def _ratio_scale(data: dict, measure: str) -> dict:
    if measure in RATIO_MEASURES:
        for key in ("estimate", "ci_lb", "ci_ub", "pi_lb", "pi_ub"):
            value = data.get(key)
            data[f"exp_{key}"] = (math.exp(value) if value is not None
                                  and math.isfinite(value) else None)
    return data


def _model_summary(result, measure: str, preset: Preset | None = None,
                   show_pi: bool = True) -> dict:
    data = result.as_dict()
    if preset is not None:
        if preset.i2 == "q":
            data["i2"] = data["i2_q"]
        if not show_pi:
            data["pi_lb"] = data["pi_ub"] = None
        if not preset.tau2_ci:
            data["tau2_ci"] = [None, None]
            data["i2_ci"] = [None, None]
    return _ratio_scale(data, measure)


def _study_label(info: pd.DataFrame, study_id: str) -> str:
    """The study's label from studies.tsv ("Cohen 2008"), or its id when it has none."""
    if "label" not in info.columns or study_id not in info.index:
        return str(study_id)
    label = info.at[study_id, "label"]
    return str(label) if isinstance(label, str) and label.strip() else str(study_id)


def _labels(usable: pd.DataFrame, info: pd.DataFrame) -> list[str]:
    labels = []
    for sid, es_id, comp in zip(usable["study_id"], usable["es_id"],
                                usable["comparison"].fillna("")):
        label = str(info["label"].get(sid, sid))
        labels.append(": ".join(filter(None, [label, es_id, comp])))
    return labels


def _sensitivity_table(rows: list[dict], key: str) -> pd.DataFrame:
    out = [{"step": i + 1, "study": r[key], "k": r["k"], "estimate": r["estimate"],
            "ci_lower": r["ci_lb"], "ci_upper": r["ci_ub"], "se": r["se"], "pval": r["pval"],
            "tau2": r["tau2"], "i2": r["i2"], "h2": r["h2"], "q": r["q"], "q_p": r["q_p"]}
           for i, r in enumerate(rows)]
    return pd.DataFrame(out, columns=SENSITIVITY_COLUMNS)


def _binary_tables(usable: pd.DataFrame, spec: AnalysisSpec, level: float) -> dict:
    """Mantel-Haenszel (and Peto for OR) on the studies with 2x2 tables."""
    tables = usable[usable["data_level"] == "arms"]
    out: dict = {}
    if tables.empty:
        return out
    cells = {"ai": tables["events_treatment"].astype(float),
             "n1i": tables["n_treatment"].astype(float),
             "ci": tables["events_control"].astype(float),
             "n2i": tables["n_control"].astype(float)}
    left_out = sorted(set(usable["study_id"]) - set(tables["study_id"]))
    note = (f"contrast-level studies not in the 2x2 pooling: {', '.join(left_out)}"
            if left_out else None)
    mh = rma_mh(spec.measure, level=level, **cells).as_dict()
    mh.update(description="Mantel-Haenszel fixed effect (metafor rma.mh defaults: 1/2 "
                          "added to zero cells for Q only)", note=note)
    out["mh"] = mh
    if spec.measure == "OR":
        try:
            peto = rma_peto(level=level, **cells).as_dict()
            peto.update(description="Peto one-step odds ratio", note=note)
        except ValueError as error:
            peto = {"error": str(error)}
        out["peto"] = peto
    return out


def small_study_status(n_studies: int, minimum: int) -> dict:
    """Whether an outcome gets a funnel plot and Egger's test, and why not.

    Tests for funnel-plot asymmetry have too little power below 10 studies (Cochrane
    Handbook 13.3.5.4), so both are done only from ``minimum`` studies (10 by default;
    never below 3, where Egger's regression has no degree of freedom left).
    """
    minimum = max(int(minimum), 3)
    if n_studies >= minimum:
        return {"min_studies": minimum, "assessed": True,
                "note": f"funnel plot and Egger's test ({n_studies} studies)"}
    if n_studies == 0:
        why = "no analysable study"
    else:
        why = (f"{n_studies} {'study' if n_studies == 1 else 'studies'}, fewer than "
               f"{minimum} (Cochrane Handbook 13.3.5.4)")
    return {"min_studies": minimum, "assessed": False,
            "note": f"no funnel plot or Egger's test: {why}"}


def analyse_outcome(contrasts: pd.DataFrame, studies: pd.DataFrame,
                    spec: AnalysisSpec) -> tuple[pd.DataFrame, dict]:
    """Effect sizes per study and pooled results for one outcome.

    Returns the per-study table (``EFFECT_COLUMNS``) and a JSON-ready dict with the fixed-
    and random-effects results (and Mantel–Haenszel/Peto for binary outcomes), leave-one-out
    and cumulative results, Egger's test, funnel-plot data, subgroups when configured, the
    studies left out and why, and the methods used. ``pooled["leave_one_out"]`` and
    ``pooled["cumulative"]`` hold plain rows (see :data:`SENSITIVITY_COLUMNS`).
    """
    preset = spec.resolved()
    rows = contrasts[contrasts["outcome"] == spec.outcome].copy()
    for col in ("comparison", "data_level"):
        if col not in rows.columns:
            rows[col] = "" if col == "comparison" else "arms"
    rows["comparison"] = rows["comparison"].fillna("")
    # The effect-size id within a study (several measures or subscales; '' when the sheets
    # give none): the three-level model's within-study level.
    rows["es_id"] = (rows["es_id"].fillna("").astype(str) if "es_id" in rows.columns
                     else "")
    usable = rows[rows["status"] == "analysable"].sort_values(
        ["study_id", "es_id", "comparison"], kind="mergesort").reset_index(drop=True)
    left_out = rows[rows["status"] != "analysable"]
    info = studies.set_index("study_id")
    pooled: dict = {
        "outcome": spec.outcome, "label": spec.label, "measure": spec.measure,
        "type": spec.type, "timepoint": spec.timepoint,
        "scale": "log" if spec.measure in RATIO_MEASURES else "raw",
        "k": int(len(usable)),
        "preset": preset.name,
        "methods": {
            "effect_size": spec.measure, "fixed": "inverse variance (EE)",
            "random": f"{preset.method} estimator of tau2",
            "test": preset.test, "level": spec.level,
            **preset.describe(),
            "zero_cells": "0.5 added to every cell of a study with a zero cell (metafor "
                          "escalc defaults)" if spec.type == "binary" else None,
            "prediction_interval_rule": f"shown from {MIN_STUDIES_PI} studies on; "
                                        "t or z quantile of the test (metafor predict())",
            "small_study_tests": "Egger's regression test (weighted linear regression of yi "
                                 "on sei, t with k - 2 df) and the funnel plot, from "
                                 f"{spec.small_study_min_studies} studies on (Cochrane "
                                 "Handbook 13.3.5.4: at least 10)",
        },
        # Ids for programs, labels ("Cohen 2008") for what a reader sees.
        "not_analysable": [{"study_id": s, "label": _study_label(info, s), "reason": r}
                           for s, r in zip(left_out["study_id"], left_out["reason"])],
        "show_prediction_interval": False,
    }
    empty = {"fixed": None, "random": None, "participants": 0, "studies": [],
             "leave_one_out": [], "cumulative": [], "egger": None, "funnel": None,
             "subgroups": None}
    pooled["small_study"] = small_study_status(int(usable["study_id"].nunique()),
                                               spec.small_study_min_studies)
    if usable.empty:
        pooled.update(status="no analysable data", **empty)
        return pd.DataFrame(columns=EFFECT_COLUMNS + ["es_id"]), pooled

    yi = np.full(len(usable), np.nan)
    vi = np.full(len(usable), np.nan)
    adjusted = np.zeros(len(usable), dtype=bool)
    arm_level = (usable["data_level"] == "arms").to_numpy()
    if arm_level.any():
        es = _arm_effects(usable[arm_level], spec)
        yi[arm_level], vi[arm_level], adjusted[arm_level] = es.yi, es.vi, es.adjusted
    if (~arm_level).any():
        yi[~arm_level] = usable.loc[~arm_level, "yi"].astype(float)
        vi[~arm_level] = usable.loc[~arm_level, "vi"].astype(float)
    k = len(usable)
    show_pi = preset.prediction_interval and k >= MIN_STUDIES_PI
    fixed = rma(yi, vi, method="EE", test="z", level=spec.level)
    random = rma(yi, vi, method=preset.method, test=preset.test, level=spec.level)
    z = float(stats.norm.ppf(1 - (1 - spec.level / 100) / 2))
    sei = np.sqrt(vi)
    labels = _labels(usable, info)
    # studies.tsv carries the configured column as "subgroup"; a raw sheet keeps its name.
    column = (spec.subgroup if spec.subgroup in info.columns else
              "subgroup" if spec.subgroup and "subgroup" in info.columns else None)
    subgroups = (usable["study_id"].map(info[column]).fillna("") if column
                 else pd.Series([""] * k))
    effects = pd.DataFrame({
        "study_id": usable["study_id"], "label": labels,
        "year": usable["study_id"].map(info["year"]),
        "n_treatment": usable["n_treatment"], "n_control": usable["n_control"],
        "mean_treatment": usable.get("mean_treatment"),
        "sd_treatment": usable.get("sd_treatment"),
        "mean_control": usable.get("mean_control"), "sd_control": usable.get("sd_control"),
        "events_treatment": usable.get("events_treatment"),
        "events_control": usable.get("events_control"),
        "yi": yi, "vi": vi, "sei": sei,
        "ci_lower": yi - z * sei, "ci_upper": yi + z * sei,
        "weight_fixed": fixed.weights, "weight_random": random.weights,
        "conversions": [
            "; ".join(filter(None, [c if isinstance(c, str) else "",
                                    "0.5 added to each cell (zero cell)" if a else ""]))
            for c, a in zip(usable["conversions"], adjusted)],
        "comparison": usable["comparison"], "data_level": usable["data_level"],
        "subgroup": list(subgroups), "es_id": usable["es_id"],
    }, columns=EFFECT_COLUMNS + ["es_id"])
    participants = float(usable["n_treatment"].astype(float).sum()
                         + usable["n_control"].astype(float).sum())
    method, test = preset.method, preset.test
    loo = (leave1out(yi, vi, method=method, test=test, level=spec.level, labels=labels)
           if k >= 2 else [])
    years = pd.to_numeric(usable["study_id"].map(info["year"]), errors="coerce")
    order = years.fillna(np.inf).to_numpy()
    cum = cumul(yi, vi, order=order, method=method, test=test, level=spec.level,
                labels=labels)
    egger = None
    if pooled["small_study"]["assessed"] and k >= 3:
        egger = regtest(yi, vi, model="lm", level=spec.level).as_dict()
    funnel = funnel_data(yi, vi, fixed.estimate, level=spec.level, labels=labels)
    funnel["centre"] = "fixed-effect estimate"
    extra = {}
    if spec.trim_and_fill:
        # Only configured reviews get the key, so other outputs stay byte-identical.
        from sysrev.analysis_models import trim_and_fill
        extra["trim_and_fill"] = (
            trim_and_fill(yi, vi, estimator=spec.trim_and_fill, method=method,
                          level=spec.level, measure=spec.measure, labels=labels)
            if pooled["small_study"]["assessed"] else
            {"status": "not done: " + pooled["small_study"]["note"]})
    sub = None
    if spec.subgroup:
        levels = sorted(set(subgroups))
        if len(levels) >= 2:
            sub = subgroup_analysis(yi, vi, list(subgroups), method=method, test=test,
                                    level=spec.level, tau2=spec.subgroup_tau2).as_dict()
            sub["variable"] = spec.subgroup
            for name, fit in sub["fits"].items():
                sub["fits"][name] = _ratio_scale(fit, spec.measure)
        else:
            sub = {"variable": spec.subgroup, "groups": levels,
                   "status": "fewer than two subgroups with data: no test"}
    pooled.update({
        "status": "pooled" if k > 1 else "single study",
        "participants": int(participants) if participants.is_integer() else participants,
        "studies": sorted(set(usable["study_id"])),
        "study_labels": [_study_label(info, s) for s in sorted(set(usable["study_id"]))],
        "fixed": _model_summary(fixed, spec.measure),
        "random": _model_summary(random, spec.measure, preset, show_pi),
        "show_prediction_interval": bool(show_pi),
        "leave_one_out": loo, "cumulative": cum, "egger": egger, "funnel": funnel,
        "subgroups": sub,
        **extra,
    })
    if spec.type == "binary":
        pooled.update(_binary_tables(usable, spec, spec.level))
    log.info("%s: k=%d, %s/%s estimate %.4g", spec.outcome, k, method, test,
             random.estimate)
    return effects.reset_index(drop=True), pooled


def sensitivity_tables(pooled: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``leave1out.tsv`` and ``cumulative.tsv`` of one outcome from its pooled result."""
    return (_sensitivity_table(pooled.get("leave_one_out") or [], "left_out"),
            _sensitivity_table(pooled.get("cumulative") or [], "added"))
