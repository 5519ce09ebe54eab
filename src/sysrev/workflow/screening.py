"""Rule of the screening stage: reviewers' decisions to final decisions, agreement, the
records still to screen, and the included reports with their studies."""

from __future__ import annotations

import logging
from typing import Mapping

import pandas as pd

from sysrev.audit import write_audit
from sysrev.columns import FINAL_DECISION_COLUMNS, INCLUDED_COLUMNS
from sysrev.dedup import read_clusters
from sysrev.screening import (RecordMatcher, ScreeningRules, check_decisions, final_decisions,
                              load_generic)
from sysrev.screening.agreement import (AGREEMENT_COLUMNS, CONFLICT_COLUMNS, agreement_table,
                                        conflicts_table)
from sysrev.screening.decisions import DECISION_TABLE_COLUMNS
from sysrev.screening.formats import FORMATS, read_tool_export
from sysrev.screening.matching import warn_ambiguous
from sysrev.screening.rules import unused_full_text_decisions
from sysrev.screening.living import (ASREVIEW_COLUMNS, TO_SCREEN_COLUMNS,
                                    asreview_prior_knowledge, new_since_last_search,
                                    new_since_previous_version, to_screen)
from sysrev.search.update import snapshot_pmids
from sysrev.screening.stopping import RANDOM_SAMPLE, stopping_test
from sysrev.tables import atomic_path, read_tsv, read_tsv_header, write_json, write_tsv

log = logging.getLogger(__name__)

#: Columns of records.tsv that screening reads: what RecordMatcher matches decisions on.
MATCH_COLUMNS = ["record_id", "source", "source_id", "pmid", "doi", "title", "authors", "year"]
#: The columns of unique.tsv that screening reads: what the lists and the included table show
#: (to_screen, asreview_prior_knowledge, prioritise's text, included.tsv).
SCREENING_UNIQUE_COLUMNS = frozenset(["record_id", "pmid", "doi", "title", "authors", "year",
                                      "journal", "abstract", "retraction", "cluster_records",
                                      "cluster_sources"])


def read_decision_source(source: Mapping, matcher: RecordMatcher) -> pd.DataFrame:
    """Read one configured decision file: ``generic`` or a screening tool's export (the
    formats of :data:`sysrev.screening.formats.FORMATS`)."""
    fmt, path = source["format"], source["file"]
    if fmt == "generic":
        return load_generic(path, matcher)
    if fmt in FORMATS:
        return read_tool_export(fmt, path, matcher, stage=source.get("stage"),
                                reviewer=source.get("reviewer"),
                                decision=source.get("decision"))
    raise ValueError(f"unknown decision format '{fmt}' for {path}")


def set_aside_withdrawn(decisions: pd.DataFrame, update_tables: list[str]
                        ) -> tuple[pd.DataFrame, list[dict]]:
    """Decisions on records that a source's new search no longer returns (``withdrawn`` in
    its update table): kept in the reviewers' files, left out of this run's screening, and
    reported (log and audit) instead of failing as "no such record"."""
    if not update_tables or decisions.empty:
        return decisions, []
    from sysrev.workflow.sources import withdrawn_records
    gone = withdrawn_records(update_tables)
    hit = decisions["record_id"].isin(gone) & ~decisions["unique_record_id"].astype(bool)
    kept = decisions[hit]
    for row in kept.itertuples(index=False):
        log.warning("%s, line %s: the %s decision of %s on %s is kept, but the record is no "
                    "longer returned by its source's new search (withdrawn in the update "
                    "table); it is not part of this screening", row.file, row.line,
                    row.stage, row.reviewer, row.record_id)
    report = [{"record_id": r.record_id, "reviewer": r.reviewer, "stage": r.stage,
               "decision": r.decision, "file": str(r.file), "line": int(r.line)}
              for r in kept.itertuples(index=False)]
    return decisions[~hit].reset_index(drop=True), report


def screen_records(*, records: str, unique: str, clusters: str, sources: list[Mapping],
                   studies: str, previous_snapshot: list[str], final: str, included: str,
                   previous_records: str | None = None,
                   to_screen_out: str, agreement: str, conflicts: str, audit: str,
                   rules: ScreeningRules, to_screen_asreview: str | None = None,
                   withdrawn_from: list[str] | None = None,
                   related: str | None = None,
                   stopping: str | None = None, prioritise_records: bool = False,
                   recall_target: float = 0.95, confidence: float = 0.95) -> None:
    """Apply the reviewers' decisions to the unique records; list the included reports,
    the records still to screen (``to_screen_out``) and, for ASReview, every record with
    the team's title/abstract labels as prior knowledge (``to_screen_asreview``).

    ``related`` (``dedup/related.tsv``, given when the review's sources link related
    reports) groups the to-screen list by study candidate: a trial's registration with the
    papers citing its NCT id, a preprint with its journal version
    (:func:`sysrev.screening.living.group_by_study`)."""
    # The fields decisions are matched on (not the abstracts, the bulk of a large table).
    record_table = read_tsv(records, MATCH_COLUMNS)
    # Only the columns screening shows or matches on: the unique-record table's other
    # columns (pages, MeSH terms, cluster details ...) would take half its memory.
    header = read_tsv_header(unique)
    unique_table = read_tsv(unique, [c for c in header if c in SCREENING_UNIQUE_COLUMNS])
    cluster_table = read_clusters(clusters)
    matcher = RecordMatcher(record_table, cluster_table)
    parts = [read_decision_source(source, matcher) for source in sources]
    decisions = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=DECISION_TABLE_COLUMNS)
    warn_ambiguous(decisions)
    decisions, on_withdrawn = set_aside_withdrawn(decisions, withdrawn_from or [])
    check_decisions(decisions)
    check_decisions(decisions, consensus_reviewer=rules.consensus_reviewer)
    finals = final_decisions(decisions, list(unique_table["record_id"]), rules)
    unused_full_text = unused_full_text_decisions(decisions, finals)
    for message in unused_full_text:
        log.warning("%s", message)
    from sysrev.screening.studies import read_study_links
    from sysrev.workflow.sources import withdrawn_records
    # A link to a withdrawn record is kept and reported, like a decision on one.
    links, links_withdrawn = read_study_links(
        studies, matcher, finals,
        withdrawn_records(withdrawn_from) if withdrawn_from else frozenset())

    if previous_records:
        # The archived record table of the previous version knows every source's records.
        newness = new_since_previous_version(unique_table, cluster_table,
                                             set(read_tsv(previous_records)["record_id"]))
    else:
        current = set(record_table.loc[record_table["source"] == "pubmed", "pmid"].dropna())
        previous = snapshot_pmids(previous_snapshot) if previous_snapshot else None
        newness = new_since_last_search(unique_table, current, previous)
    pending = to_screen(unique_table, finals, newness)
    columns = TO_SCREEN_COLUMNS
    if related:
        from sysrev.related_reports import study_candidates
        from sysrev.screening.living import STUDY_CANDIDATE_COLUMNS, group_by_study
        pending = group_by_study(pending, study_candidates(read_tsv(related)))
        columns = TO_SCREEN_COLUMNS + STUDY_CANDIDATE_COLUMNS
    ranking = None
    if prioritise_records:
        from sysrev.screening.prioritise import PRIORITY_COLUMNS, prioritise
        pending, ranking = prioritise(pending, unique_table, finals)
        columns = columns + PRIORITY_COLUMNS
        log.info("prioritised screening: %s", ranking.reason)
    sample_ids = set()
    if "sample" in decisions.columns:
        marked = decisions[decisions["sample"].fillna("") == RANDOM_SAMPLE]
        sample_ids = set(marked.loc[marked["stage"] == "title_abstract", "unique_record_id"])
    stop = stopping_test(finals, sample_ids, recall_target, confidence)
    log.info("stopping: %s", stop.statement)
    prior = asreview_prior_knowledge(unique_table, finals)
    agree = agreement_table(decisions, rules.consensus_reviewer)
    conflict = conflicts_table(decisions, finals, rules.consensus_reviewer)

    write_tsv(finals, final, FINAL_DECISION_COLUMNS, sort_by=["record_id", "stage"])
    info = unique_table.set_index("record_id")
    inc = links.assign(record_id=links["unique_record_id"])
    for col in ("title", "authors", "year", "journal", "doi", "pmid"):
        inc[col] = inc["record_id"].map(info[col])
    inc["sources"] = inc["record_id"].map(info["cluster_sources"])
    # Retracted or under an expression of concern (from dedup's unique records).
    inc["retraction"] = inc["record_id"].map(info["retraction"]) \
        if "retraction" in info.columns else ""
    for row in inc[inc["retraction"].fillna("") != ""].itertuples(index=False):
        log.warning("included report %s (study %s) is %s", row.record_id, row.study_id,
                    row.retraction)
    write_tsv(inc, included, INCLUDED_COLUMNS, sort_by=["study_id", "role", "record_id"])
    with atomic_path(to_screen_out) as handle:
        pending.loc[:, columns].to_csv(handle, index=False, lineterminator="\n")
    if stopping:
        write_json(stop.to_dict(), stopping)
    if to_screen_asreview:
        with atomic_path(to_screen_asreview) as handle:
            prior.loc[:, ASREVIEW_COLUMNS].to_csv(handle, index=False, lineterminator="\n")
    write_tsv(agree, agreement, AGREEMENT_COLUMNS, sort_by=["stage", "reviewer_a",
                                                            "reviewer_b"])
    write_tsv(conflict, conflicts, CONFLICT_COLUMNS, sort_by=["stage", "record_id"])

    stage_counts = {}
    for stage in ("title_abstract", "full_text"):
        part = finals[finals["stage"] == stage]
        stage_counts[stage] = {d: int(n) for d, n in
                               part["final_decision"].value_counts().sort_index().items()}
    write_audit(audit, stage="screening",
                inputs={"records": records, "unique": unique, "clusters": clusters,
                        "decisions": [s["file"] for s in sources], "studies": studies,
                        "previous_snapshot": list(previous_snapshot),
                        **({"previous_records": previous_records} if previous_records
                           else {})},
                outputs={"final_decisions": final, "included": included,
                         "to_screen": to_screen_out,
                         **({"to_screen_asreview": to_screen_asreview} if to_screen_asreview
                            else {}),
                         "agreement": agreement,
                         "conflicts": conflicts,
                         **({"stopping": stopping} if stopping else {})},
                counts={"decision_rows_in": int(len(decisions)),
                        "decision_rows_per_file": {str(k): int(v) for k, v in decisions[
                            "file"].value_counts().sort_index().items()},
                        "records_screened": int(len(unique_table)),
                        "final_decisions": stage_counts,
                        "full_text_decisions_not_used": len(unused_full_text),
                        "conflicts": int(len(conflict)),
                        # Only when there are any: an audit otherwise stays as it was.
                        **({"decisions_on_withdrawn_records": on_withdrawn}
                           if on_withdrawn else {}),
                        **({"study_links_to_withdrawn_records": links_withdrawn}
                           if links_withdrawn else {}),
                        "resolved_by_consensus": int((conflict["resolution"] ==
                                                      "consensus").sum()),
                        "pending": int(len(pending)),
                        "asreview_prior_knowledge": {
                            "included": int((prior["label_included"] == "1").sum()),
                            "excluded": int((prior["label_included"] == "0").sum()),
                            "unlabelled": int((prior["label_included"] == "").sum())},
                        "pending_new_since_last_search": int(
                            (pending["new_since_last_search"] == "yes").sum()),
                        "included_reports": int(len(inc)),
                        "included_studies": int(inc["study_id"].nunique()),
                        "included_reports_retracted_or_concern": int(
                            (inc["retraction"].fillna("") != "").sum()),
                        "agreement": agree.to_dict(orient="records"),
                        **({"prioritised": ranking.to_dict()} if ranking else {}),
                        "stopping": stop.to_dict()},
                parameters={"title_abstract_rule": rules.title_abstract,
                            "full_text_rule": rules.full_text,
                            "rule_text": rules.describe(),
                            "reviewers_required": rules.reviewers_required,
                            "consensus_reviewer": rules.consensus_reviewer,
                            "require_complete": rules.require_complete,
                            "prioritise": prioritise_records,
                            "stopping_recall_target": recall_target,
                            "stopping_confidence": confidence,
                            "decision_sources": [dict(s) for s in sources]})
    if not pending.empty:
        log.warning("%d screening %s pending; listed in %s", len(pending),
                    "decision" if len(pending) == 1 else "decisions", to_screen_out)
    log.info("screen_records: %d unique records, %d reports of %d studies included",
             len(unique_table), len(inc), inc["study_id"].nunique())

