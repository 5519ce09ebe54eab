"""Rules of the analysis stage: per-outcome meta-analysis, forest plots, the summary."""

from __future__ import annotations

import json
import logging
from typing import Mapping

import pandas as pd

from sysrev.audit import write_audit
from sysrev.columns import EFFECT_COLUMNS, SUMMARY_COLUMNS, with_es_id
from sysrev.exports import metafor_table
from sysrev.study_order import entered_order
from sysrev.tables import atomic_path, read_tsv, write_json, write_tsv

# The libraries of single rules are imported inside the functions that use them: the
# Snakefile and every job of the stage import this module, and a job should load only
# what its own rule needs (start-up dominates a job's time; BENCHMARKS.md, Start-up).

log = logging.getLogger(__name__)


def outcomes_with_studies(contrasts: str, minimum: int) -> list[str]:
    """Outcomes with at least ``minimum`` analysable studies (for a funnel plot:
    ``analysis.small_study_min_studies``, 10 by default, never fewer than 3; the same rule
    as :func:`sysrev.analysis.small_study_status`)."""
    minimum = max(int(minimum), 3)
    table = read_tsv(contrasts)
    counts = table.loc[table["status"] == "analysable"].groupby("outcome")["study_id"].nunique()
    return sorted(counts[counts >= minimum].index)


def funnel_plot(*, pooled: str, png: str, svg: str, contours: bool) -> None:
    """Draw one outcome's funnel plot with Egger's test."""
    from sysrev.plots.funnel import funnel_plot as draw_funnel
    with open(pooled, encoding="utf-8") as handle:
        draw_funnel(json.load(handle), png, svg, contours=contours)


def outcomes_with_data(contrasts: str) -> list[str]:
    """Outcomes with at least one analysable study (those that get a forest plot)."""
    table = read_tsv(contrasts)
    return sorted(set(table.loc[table["status"] == "analysable", "outcome"]))


#: Numeric columns of effects.tsv, which the forest plot reads back. Here, not in
#: sysrev.analysis, so that a plot job does not import the analysis and its scipy for them
#: (~1 s of CPU per job); not in sysrev.columns either, whose source is part of the dedup
#: index's matcher digest (a change there rebuilds the index).
EFFECT_NUMERIC = ["n_treatment", "n_control", "mean_treatment", "sd_treatment",
                  "mean_control", "sd_control", "events_treatment", "events_control", "yi",
                  "vi", "sei", "ci_lower", "ci_upper", "weight_fixed", "weight_random"]


def meta_analysis(*, contrasts: str, studies: str, effects_out: str, pooled_out: str,
                  metafor_out: str, outcome: Mapping, random_method: str, test: str,
                  level: float, leave1out_out: str | None = None,
                  cumulative_out: str | None = None, preset: str = "custom",
                  prediction_interval: bool = False, subgroup: str | None = None,
                  subgroup_tau2: str = "separate", small_study_min_studies: int = 10,
                  trim_and_fill: str | None = None,
                  effects_html: str | None = None) -> None:
    """Effect sizes, pooled estimates and sensitivity analyses of one outcome; with
    ``effects_html``, also its study-effects page for the report
    (:func:`sysrev.workflow.report.outcome_table`, from the tables just written, as the
    separate job that made it did)."""
    from sysrev.analysis import (SENSITIVITY_COLUMNS, AnalysisSpec, analyse_outcome,
                                 sensitivity_tables)
    spec = AnalysisSpec(outcome=outcome["id"], label=outcome["label"], type=outcome["type"],
                        measure=outcome["measure"], timepoint=outcome["timepoint"],
                        random_method=random_method, test=test, level=level, preset=preset,
                        prediction_interval=prediction_interval, subgroup=subgroup,
                        subgroup_tau2=subgroup_tau2,
                        small_study_min_studies=small_study_min_studies,
                        trim_and_fill=trim_and_fill)
    effects, pooled = analyse_outcome(read_tsv(contrasts), read_tsv(studies), spec)
    # es_id (several effect sizes per study) only when the sheets give one; the rows come
    # sorted by study, es_id and comparison.
    columns = with_es_id(EFFECT_COLUMNS, effects)
    write_tsv(effects, effects_out, columns,
              sort_by=[c for c in ("study_id", "es_id", "comparison") if c in columns])
    write_json(pooled, pooled_out)
    with atomic_path(metafor_out) as handle:
        metafor_table(effects, measure=spec.measure, kind=spec.type).to_csv(
            handle, index=False, lineterminator="\n", float_format="%.17g")
    loo, cum = sensitivity_tables(pooled)
    if leave1out_out:
        write_tsv(loo, leave1out_out, SENSITIVITY_COLUMNS)
    if cumulative_out:
        write_tsv(cum, cumulative_out, SENSITIVITY_COLUMNS)
    if effects_html:
        from sysrev.workflow.report import outcome_table
        outcome_table(effects=effects_out, pooled=pooled_out, level=level, output=effects_html)


def forest_plot(*, effects: str, pooled: str, png: str, svg: str, pdf: str, outcome: Mapping,
                treatment_label: str, control_label: str, studies: str | None = None,
                study_order: str = "year", sheet: str | None = None,
                rob: str | None = None, rob_tool: str = "rob2") -> None:
    """Draw one outcome's forest plot; ``studies`` (studies.tsv) gives the labels of the
    studies named in footnotes, ``study_order`` the order of the rows (``sheet``, the
    extraction sheet, for ``as_entered``). ``rob``, the risk-of-bias judgements sheet
    (validated against ``rob_tool`` and the included studies, as the risk-of-bias figures
    validate it), adds the risk-of-bias columns; none or empty (``report.forest_rob:
    false``) draws the plot without them."""
    from sysrev.rob import TOOLS, load_rob
    from sysrev.plots.forest import forest_plot as draw_forest
    labels, entered = {}, None
    if studies:
        study_table = read_tsv(studies)
        labels = dict(zip(study_table["study_id"], study_table["label"]))
    if study_order == "as_entered":
        entered = entered_order(sheet)
    judgements = tool = None
    if rob:
        tool = TOOLS[rob_tool]
        judgements = load_rob(rob, tool, set(read_tsv(studies)["study_id"]) if studies
                              else set())
    table = read_tsv(effects)
    for col in EFFECT_NUMERIC:
        table[col] = pd.to_numeric(table[col])
    with open(pooled, encoding="utf-8") as handle:
        result = json.load(handle)
    draw_forest(table, result, png, svg, path_pdf=pdf, treatment_label=treatment_label,
                control_label=control_label,
                favours_left=outcome.get("favours_left", "Favours treatment"),
                favours_right=outcome.get("favours_right", "Favours control"),
                prediction_interval=bool(result.get("show_prediction_interval")),
                labels=labels, order=study_order, entered=entered, rob=judgements,
                rob_tool=tool)


def summarise_analyses(*, pooled: list[str], summary_out: str, audit: str,
                       parameters: dict) -> None:
    """``summary.tsv`` across outcomes, and the analysis stage's audit."""
    from sysrev.summary import summarise
    results = []
    for path in pooled:
        with open(path, encoding="utf-8") as handle:
            results.append(json.load(handle))
    summary = summarise(results)
    # A configured outcome without a single extraction row (an outcome id spelled otherwise
    # in the sheet, a sheet not yet filled in) is warned, so that the end-of-run summary
    # repeats it; one whose studies report no usable numbers (NR) lists them in its
    # pooled.json 'not_analysable' and the report.
    for result in sorted(results, key=lambda r: r["outcome"]):
        if result["status"] == "no analysable data" and not result.get("not_analysable"):
            log.warning("outcome %s (%s) is configured but the extraction sheets have no "
                        "row for it: summary.tsv says 'no analysable data'",
                        result["outcome"], result.get("label", result["outcome"]))
    write_tsv(summary, summary_out, SUMMARY_COLUMNS, sort_by=["outcome"])
    write_audit(audit, stage="analysis", inputs={"pooled": pooled},
                outputs={"summary": summary_out},
                counts={r["outcome"]: {"status": r["status"], "k": r["k"],
                                       "participants": r.get("participants", 0)}
                        for r in results},
                parameters=parameters)


def _moderator_sheet(path: str, moderators: list[dict]) -> pd.DataFrame:
    """The studies sheet with the moderator columns checked: present, filled in for every
    study, a number where the moderator is continuous (else the file, line and field)."""
    from sysrev.csvtables import LINE
    from sysrev.errors import InputErrors
    from sysrev.extraction import STUDY_COLUMNS, load_studies
    # A moderator may be one of the sheet's own columns (year): loaded anyway.
    columns = [c for c in dict.fromkeys(m["column"] for m in moderators)
               if c not in STUDY_COLUMNS]
    sheet = load_studies(path, extra_columns=columns)
    problems = []
    for mod in moderators:
        if mod.get("type", "continuous") != "continuous":
            continue
        numbers = pd.to_numeric(sheet[mod["column"]], errors="coerce")
        for line, value in zip(sheet.loc[numbers.isna(), LINE],
                               sheet.loc[numbers.isna(), mod["column"]]):
            problems.append(f"line {line}, field '{mod['column']}': '{value}' is not a "
                            "number (a continuous moderator)")
    if problems:
        raise InputErrors(path, problems)
    return sheet.drop(columns=[LINE])


def meta_regression(*, effects: str, sheet: str, table_out: str, summary_out: str,
                    png: str, svg: str, outcome: Mapping, moderators: list[dict],
                    method: str, test: str, level: float, permutations: int,
                    seed: int) -> None:
    """One outcome's meta-regression on its configured moderators, and its bubble plot."""
    from sysrev.analysis_models import META_REGRESSION_COLUMNS
    from sysrev.analysis_models import meta_regression as fit_meta_regression
    from sysrev.plots.bubble import bubble_plot
    table = read_tsv(effects)
    for col in ("yi", "vi"):
        table[col] = pd.to_numeric(table[col])
    coefficients, summary = fit_meta_regression(
        table, _moderator_sheet(sheet, moderators), moderators, outcome=outcome["id"],
        measure=outcome["measure"], method=method, test=test, level=level,
        permutations=permutations, seed=seed)
    if summary.get("warning"):
        log.warning("%s: %s", outcome["id"], summary["warning"])
    write_tsv(coefficients, table_out, META_REGRESSION_COLUMNS)
    write_json(summary, summary_out)
    bubble_plot(summary, outcome["label"], png, svg)


def multilevel_model(*, effects: str, table_out: str, summary_out: str, outcome: Mapping,
                     method: str, robust: bool, level: float, sheet: str | None = None,
                     moderators: list[dict] | tuple = ()) -> None:
    """One outcome's three-level model (effect sizes within studies) and its CR2 test, with
    the ``analysis.moderators`` that apply to the outcome as covariates (from ``sheet``, the
    studies sheet)."""
    from sysrev.analysis_models import MULTILEVEL_COLUMNS
    from sysrev.analysis_models import multilevel_model as fit_multilevel
    table = read_tsv(effects)
    for col in ("yi", "vi"):
        table[col] = pd.to_numeric(table[col])
    studies = _moderator_sheet(sheet, list(moderators)) if moderators else None
    coefficients, summary = fit_multilevel(table, outcome=outcome["id"],
                                           measure=outcome["measure"], method=method,
                                           robust=robust, level=level, studies=studies,
                                           moderators=list(moderators))
    write_tsv(coefficients, table_out, MULTILEVEL_COLUMNS)
    write_json(summary, summary_out)


def rob_sensitivity(*, effects: list[str], pooled: list[str], rob: str, studies: str,
                    tool: str, restriction: str, table_out: str) -> None:
    """``rob_sensitivity.tsv``: every outcome re-pooled with only the studies at low risk
    of bias (or without those at high risk), with the main analysis's model."""
    from sysrev.analysis_models import ROB_SENSITIVITY_COLUMNS, rob_overall
    from sysrev.analysis_models import rob_sensitivity as restrict
    from sysrev.rob import TOOLS, load_rob
    study_ids = set(read_tsv(studies)["study_id"])
    overall = rob_overall(load_rob(rob, TOOLS[tool], study_ids))
    rows = []
    for effects_path, pooled_path in zip(effects, pooled):
        with open(pooled_path, encoding="utf-8") as handle:
            result = json.load(handle)
        table = read_tsv(effects_path)
        for col in ("yi", "vi"):
            table[col] = pd.to_numeric(table[col])
        random = result.get("random") or {}
        rows.append(restrict(table, result, overall, restriction=restriction,
                             method=random.get("method", "DL"),
                             test=random.get("test", "z"), level=random.get("level", 95)))
    write_tsv(pd.DataFrame(rows, columns=ROB_SENSITIVITY_COLUMNS), table_out,
              ROB_SENSITIVITY_COLUMNS, sort_by=["outcome"])
