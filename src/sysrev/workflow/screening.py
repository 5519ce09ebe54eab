"""Rule of the screening stage: reviewers' decisions to final decisions and included reports."""

from __future__ import annotations

import logging

import pandas as pd

from sysrev.audit import write_audit
from sysrev.columns import FINAL_DECISION_COLUMNS, INCLUDED_COLUMNS
from sysrev.dedup import read_clusters
from sysrev.screening import ScreeningRules, final_decisions, load_decisions, load_study_links
from sysrev.tables import read_tsv, write_tsv

log = logging.getLogger(__name__)


def screen_records(*, unique: str, clusters: str, decisions: str, studies: str,
                   final: str, included: str, audit: str, rules: ScreeningRules) -> None:
    """Apply the reviewers' decisions to the unique records; list the included reports."""
    unique_table = read_tsv(unique)
    cluster_table = read_clusters(clusters)
    raw = load_decisions(decisions, cluster_table)
    finals = final_decisions(raw, list(unique_table["record_id"]), rules)
    links = load_study_links(studies, cluster_table, finals)
    write_tsv(finals, final, FINAL_DECISION_COLUMNS, sort_by=["record_id", "stage"])

    info = unique_table.set_index("record_id")
    inc = links.assign(record_id=links["unique_record_id"])
    for col in ("title", "authors", "year", "journal", "doi", "pmid"):
        inc[col] = inc["record_id"].map(info[col])
    inc["sources"] = inc["record_id"].map(info["cluster_sources"])
    write_tsv(inc, included, INCLUDED_COLUMNS, sort_by=["study_id", "role", "record_id"])

    stage_counts = {}
    for stage in ("title_abstract", "full_text"):
        part = finals[finals["stage"] == stage]
        stage_counts[stage] = {d: int(n) for d, n in
                               part["final_decision"].value_counts().sort_index().items()}
    conflicts = int((finals["basis"] == "consensus").sum())
    pending = finals[finals["final_decision"] == "pending"]
    write_audit(audit, stage="screening",
                inputs={"unique": unique, "clusters": clusters, "decisions": decisions,
                        "studies": studies},
                outputs={"final_decisions": final, "included": included},
                counts={"decision_rows_in": int(len(raw)),
                        "records_screened": int(len(unique_table)),
                        "final_decisions": stage_counts,
                        "resolved_by_consensus": conflicts,
                        "pending": int(len(pending)),
                        "pending_records": sorted(pending["record_id"]),
                        "included_reports": int(len(inc)),
                        "included_studies": int(inc["study_id"].nunique())},
                parameters={"title_abstract_rule": rules.title_abstract,
                            "full_text_rule": rules.full_text,
                            "reviewers_required": rules.reviewers_required,
                            "consensus_reviewer": rules.consensus_reviewer,
                            "require_complete": rules.require_complete})
    if not pending.empty:
        log.warning("%d screening decision(s) pending: %s", len(pending),
                    ", ".join(pending["record_id"]))
    log.info("screen_records: %d unique records, %d reports of %d studies included",
             len(unique_table), len(inc), inc["study_id"].nunique())


def read_included(path: str) -> pd.DataFrame:
    """``included.tsv`` as written by :func:`screen_records`."""
    return read_tsv(path)
