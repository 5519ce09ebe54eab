"""Rule of the extraction stage: validate the sheets, derive SDs, build study contrasts."""

from __future__ import annotations

import logging
from typing import Mapping

import pandas as pd

from sysrev.audit import write_audit
from sysrev.errors import InputErrors
from sysrev.extraction import (CONTRAST_COLUMNS, CONTRAST_ORDER, ES_ID, STUDY_COLUMNS,
                               VALIDATED_ARM_COLUMNS, OutcomeSpec, describe_unused,
                               load_studies, lost_outcomes, rows_off_timepoint,
                               several_effects, study_contrasts, validate_arms,
                               validate_contrast_sheet, with_es_id)
from sysrev.screening import check_studies_exist
from sysrev.tables import read_tsv, write_tsv

log = logging.getLogger(__name__)

#: studies.tsv: the sheet's columns and the subgroup of each study ('' when not configured).
STUDY_OUT_COLUMNS = STUDY_COLUMNS + ["subgroup"]


def conversion_details(conversions: pd.DataFrame, outcomes: list[Mapping],
                       study_table: pd.DataFrame) -> list[dict]:
    """Each converted contrast with its ids and the labels a reader sees: outcome and
    outcome_label (``analysis.outcomes[].label``), study_id and study_label (studies sheet),
    comparison and the conversions made."""
    labels = dict(zip(study_table["study_id"], study_table["label"]))
    outcome_labels = {o["id"]: o.get("label") or o["id"] for o in outcomes}
    return [{"outcome": r.outcome,
             "outcome_label": outcome_labels.get(r.outcome, r.outcome),
             "study_id": r.study_id, "study_label": labels.get(r.study_id) or r.study_id,
             "comparison": r.comparison if isinstance(r.comparison, str) else "",
             "conversions": r.conversions}
            for r in conversions.itertuples()]


def outcome_specs(outcomes: list[Mapping]) -> dict[str, OutcomeSpec]:
    """The configured outcomes as :class:`OutcomeSpec`, keyed by id."""
    return {o["id"]: OutcomeSpec(o["id"], o["type"], o["timepoint"], o.get("measure"))
            for o in outcomes}


def validate_extraction(*, studies: str, arms: str, included: str, arms_out: str,
                        contrasts_out: str, studies_out: str, audit: str,
                        outcomes: list[Mapping], ci_distribution: str,
                        contrast_sheet: str | list[str] | None = None,
                        multi_arm: str = "combine",
                        impute_sd: str = "none", median_sd: str = "shi2020",
                        subgroup: str | None = None,
                        allow_lost_outcomes: bool = False,
                        moderator_columns: list[str] | tuple = (),
                        multilevel_outcomes: list[str] | tuple = ()) -> None:
    """Check the extraction sheets against the configuration and the included studies.

    Rows whose time point is not their outcome's configured one are not analysed: each is a
    warning in the log and listed in the audit (``unused_rows``) with its file and line; one
    that differs only in case or spacing (``12 Months``) is a typo and an error. An
    outcome whose rows all sit at other time points (every study lost) is an error unless
    ``allow_lost_outcomes``.

    ``contrast_sheet`` is the optional contrast-level sheet (a path, or a list of at most one
    path as Snakemake passes an optional input). ``moderator_columns`` are the studies
    sheet's columns that ``analysis.moderators`` names: allowed, and required filled in.
    Several effect sizes of one study (``es_id``) are an error except for the outcomes of
    ``multilevel_outcomes`` (``analysis.multilevel.outcomes``).
    """
    if isinstance(contrast_sheet, list):
        contrast_sheet = contrast_sheet[0] if contrast_sheet else None
    specs = outcome_specs(outcomes)
    extra = [c for c in dict.fromkeys(([subgroup] if subgroup else [])
                                      + list(moderator_columns)) if c not in STUDY_COLUMNS]
    study_table = load_studies(studies, extra)
    study_table["subgroup"] = study_table[subgroup] if subgroup else ""
    included_table = read_tsv(included)
    included_ids = set(included_table["study_id"])
    check_studies_exist(studies, included_table, set(study_table["study_id"]))
    arm_table = validate_arms(arms, outcomes=specs, studies=study_table,
                              included_studies=included_ids, ci_distribution=ci_distribution,
                              median_sd=median_sd)
    contrast_rows = None
    if contrast_sheet:
        contrast_rows = validate_contrast_sheet(contrast_sheet, outcomes=specs,
                                                studies=study_table,
                                                included_studies=included_ids,
                                                ci_distribution=ci_distribution)
    unused = rows_off_timepoint(arm_table, specs, sheet=arms)
    if contrast_rows is not None:
        unused += rows_off_timepoint(contrast_rows, specs, sheet=contrast_sheet)
    typos = [entry for entry in unused if entry["near_match"]]
    if typos:
        # A time point that differs from the configured one only in case or spacing is a
        # typo, not another time point extracted on purpose: leaving the row out would change
        # a pooled estimate with exit code 0.
        raise InputErrors(", ".join(sorted({e["file"] for e in typos})), [
            describe_unused(e) + "; write the time point exactly as configured"
            for e in typos])
    for entry in unused:
        log.warning("%s", describe_unused(entry))
    lost = lost_outcomes(unused, [arm_table] + ([contrast_rows] if contrast_rows is not None
                                                else []), specs)
    if lost and not allow_lost_outcomes:
        sheets = sorted({e["file"] for e in unused if e["outcome"] in lost})
        raise InputErrors(", ".join(sheets), [
            f"outcome {outcome}: every row is at another time point ({', '.join(points)}) "
            f"than the configured '{specs[outcome].timepoint}', so the outcome would lose all "
            "its studies; fix the time points, change analysis.outcomes[].timepoint, or set "
            "extraction.allow_lost_outcomes: true" for outcome, points in lost.items()]
            + [describe_unused(e) for e in unused if e["outcome"] in lost])
    for outcome, points in lost.items():
        log.warning("outcome %s: no row at its time point '%s' (rows at %s): no studies",
                    outcome, specs[outcome].timepoint, ", ".join(points))
    try:
        contrasts = study_contrasts(arm_table, specs, contrast_rows=contrast_rows,
                                    multi_arm=multi_arm, impute_sd=impute_sd)
    except ValueError as error:
        raise InputErrors(contrast_sheet or arms, [str(error)]) from None
    dependent = several_effects(contrasts, set(multilevel_outcomes))
    if dependent:
        raise InputErrors(", ".join(filter(None, [arms, contrast_sheet])), dependent)
    # Both tables come sorted with es_id; the column is written only when a sheet gives one.
    arm_columns = with_es_id(VALIDATED_ARM_COLUMNS, arm_table)
    write_tsv(arm_table, arms_out, arm_columns, sort_by=[
        c for c in ["outcome", "study_id", "timepoint", ES_ID, "group", "arm"]
        if c in arm_columns])
    contrast_columns = with_es_id(CONTRAST_COLUMNS, contrasts)
    write_tsv(contrasts, contrasts_out, contrast_columns,
              sort_by=[c for c in CONTRAST_ORDER if c in contrast_columns])
    write_tsv(study_table, studies_out, STUDY_OUT_COLUMNS, sort_by=["study_id"])
    per_outcome = {}
    for outcome_id in sorted(specs):
        part = contrasts[contrasts["outcome"] == outcome_id]
        per_outcome[outcome_id] = {
            "contrasts": int(len(part)),
            "analysable": int((part["status"] == "analysable").sum()),
            "contrast_level": int((part["data_level"] == "contrast").sum()),
            "not_analysable": {s: r for s, r in zip(
                part.loc[part["status"] != "analysable", "study_id"],
                part.loc[part["status"] != "analysable", "reason"])},
        }
    conversions = contrasts[contrasts["conversions"].fillna("") != ""]
    log.info("%d arm rows, %d contrast-level rows -> %d contrasts (%d analysable)",
             len(arm_table), 0 if contrast_rows is None else len(contrast_rows),
             len(contrasts), int((contrasts["status"] == "analysable").sum()))
    inputs = {"studies": studies, "arms": arms, "included": included}
    if contrast_sheet:
        inputs["contrasts"] = contrast_sheet
    write_audit(audit, stage="extraction", inputs=inputs,
                outputs={"arms": arms_out, "contrasts": contrasts_out, "studies": studies_out},
                counts={"arm_rows": int(len(arm_table)), "studies": int(len(study_table)),
                        "contrast_rows": 0 if contrast_rows is None else int(len(contrast_rows)),
                        "outcomes": per_outcome,
                        "unused_rows": unused,
                        "lost_outcomes": lost,
                        "conversions": [f"{r.outcome} {r.study_id}"
                                        f"{' ' + r.comparison if r.comparison else ''}: "
                                        f"{r.conversions}" for r in conversions.itertuples()],
                        # The same with labels, for the methods text a reader sees.
                        "conversion_details": conversion_details(conversions, outcomes,
                                                                 study_table)},
                parameters={"ci_distribution": ci_distribution,
                            "multi_arm": ("arms of one group combined (Cochrane Handbook "
                                          "Table 6.5.a)" if multi_arm == "combine" else
                                          "shared control split between comparisons "
                                          "(Cochrane Handbook 23.3.4)"),
                            "impute_sd": impute_sd, "median_sd": median_sd,
                            "allow_lost_outcomes": allow_lost_outcomes,
                            "median_mean": "Luo 2018", "subgroup": subgroup,
                            "outcomes": {k: {"type": v.type, "timepoint": v.timepoint}
                                         for k, v in specs.items()}})
