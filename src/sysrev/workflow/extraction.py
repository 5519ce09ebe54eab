"""Rule of the extraction stage: validate the sheets, derive SDs, build study contrasts."""

from __future__ import annotations

import logging
from typing import Mapping

from sysrev.audit import write_audit
from sysrev.extraction import (CONTRAST_COLUMNS, VALIDATED_ARM_COLUMNS, OutcomeSpec,
                               load_studies, study_contrasts, validate_arms)
from sysrev.screening import check_studies_exist
from sysrev.tables import read_tsv, write_tsv

log = logging.getLogger(__name__)


def outcome_specs(outcomes: list[Mapping]) -> dict[str, OutcomeSpec]:
    """The configured outcomes as :class:`OutcomeSpec`, keyed by id."""
    return {o["id"]: OutcomeSpec(o["id"], o["type"], o["timepoint"]) for o in outcomes}


def validate_extraction(*, studies: str, arms: str, included: str, arms_out: str,
                        contrasts_out: str, studies_out: str, audit: str,
                        outcomes: list[Mapping], ci_distribution: str) -> None:
    """Check the extraction sheets against the configuration and the included studies."""
    specs = outcome_specs(outcomes)
    study_table = load_studies(studies)
    included_table = read_tsv(included)
    included_ids = set(included_table["study_id"])
    check_studies_exist(studies, included_table, set(study_table["study_id"]))
    arm_table = validate_arms(arms, outcomes=specs, studies=study_table,
                              included_studies=included_ids, ci_distribution=ci_distribution)
    contrasts = study_contrasts(arm_table, specs)
    write_tsv(arm_table, arms_out, VALIDATED_ARM_COLUMNS,
              sort_by=["outcome", "study_id", "timepoint", "group", "arm"])
    write_tsv(contrasts, contrasts_out, CONTRAST_COLUMNS, sort_by=["outcome", "study_id"])
    write_tsv(study_table, studies_out, ["study_id", "label", "year", "design", "comparison",
                                         "source"], sort_by=["study_id"])
    per_outcome = {}
    for outcome_id in sorted(specs):
        part = contrasts[contrasts["outcome"] == outcome_id]
        per_outcome[outcome_id] = {
            "studies_with_rows": int(len(part)),
            "analysable": int((part["status"] == "analysable").sum()),
            "not_analysable": {s: r for s, r in zip(
                part.loc[part["status"] != "analysable", "study_id"],
                part.loc[part["status"] != "analysable", "reason"])},
        }
    conversions = arm_table[arm_table["conversion"] != ""]
    write_audit(audit, stage="extraction",
                inputs={"studies": studies, "arms": arms, "included": included},
                outputs={"arms": arms_out, "contrasts": contrasts_out, "studies": studies_out},
                counts={"arm_rows": int(len(arm_table)), "studies": int(len(study_table)),
                        "outcomes": per_outcome,
                        "conversions": [f"{r.study_id} {r.arm} {r.outcome}: {r.conversion}"
                                        for r in conversions.itertuples()]},
                parameters={"ci_distribution": ci_distribution,
                            "multi_arm": "arms of one group combined (Cochrane Handbook "
                                         "Table 6.5.a)",
                            "outcomes": {k: {"type": v.type, "timepoint": v.timepoint}
                                         for k, v in specs.items()}})
