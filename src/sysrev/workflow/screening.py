"""Rule of the screening stage: reviewers' decisions to final decisions, agreement, the
records still to screen, and the included reports with their studies."""

from __future__ import annotations

import logging
from array import array
from collections import Counter
from contextlib import ExitStack
from dataclasses import replace
from itertools import chain, repeat
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from sysrev.audit import write_audit
from sysrev.columns import FINAL_DECISION_COLUMNS, INCLUDED_COLUMNS
from sysrev.screening import (RecordMatcher, ScreeningRules, check_decisions, final_decisions,
                              load_generic)
from sysrev.screening.agreement import (AGREEMENT_COLUMNS, CONFLICT_COLUMNS, agreement_table,
                                        conflicts_table)
from sysrev.screening.decisions import DECISION_TABLE_COLUMNS
from sysrev.screening.formats import FORMATS, read_tool_export
from sysrev.screening.matching import KeyRecorder, warn_ambiguous
from sysrev.screening.rules import unused_full_text_decisions
from sysrev.screening.living import (ASREVIEW_COLUMNS, TO_SCREEN_COLUMNS,
                                    asreview_prior_knowledge, new_since_last_search,
                                    new_since_seen, to_screen, with_study_candidates)
from sysrev.screening.streaming import (KeySet, PendingRows, csv_lines, decided_rows,
                                        finals_of_batch, release_memory)
from sysrev.search.update import snapshot_pmids
from sysrev.screening.stopping import RANDOM_SAMPLE, stopping_test
from sysrev.columns import STUDY_LINK_COLUMNS
from sysrev.csvtables import load_csv
from sysrev.errors import InputError
from sysrev.tables import (atomic_path, read_tsv, read_tsv_chunks, read_tsv_header,
                           tsv_batches, write_json, write_tsv)

log = logging.getLogger(__name__)

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


#: Unique records screened per batch: the rule's memory is one batch plus a few bytes per
#: record (the sort key and file offset of each row still to screen).
CHUNK_ROWS = 20_000
_NEWNESS_ORDER = {"yes": 0, "unknown": 1, "no": 2}
_STAGE_ORDER = {"full_text": 0, "title_abstract": 1}


def _decision_keys(sources: list[Mapping], studies: str) -> KeyRecorder:
    """Every key the decision files and the study links look records up by."""
    recorder = KeyRecorder()
    for source in sources:
        read_decision_source(source, recorder)
    try:
        links = load_csv(studies, required=STUDY_LINK_COLUMNS)
    except InputError:
        return recorder  # reported when the links are read for the run
    for record in links["record_id"]:
        recorder.match(record_id=record)
    return recorder


def _scan_unique(unique: str, chunk_rows: int, decided_ids: set[str], text: bool
                 ) -> tuple[int, bool, list[str], pd.DataFrame | None]:
    """One pass over unique.tsv's ids: the number of unique records, whether the ids are
    strictly increasing (so that batches in file order are batches in id order), the ids
    with decisions found in it (sorted), and, with ``text``, their title and abstract."""
    count, ordered, last, found, texts = 0, True, None, set(), []
    columns = ["record_id"] + (["title", "abstract"] if text else [])
    header = read_tsv_header(unique)
    columns = [c for c in columns if c in header]
    for chunk in read_tsv_chunks(unique, chunk_rows, columns):
        ids = chunk["record_id"].tolist()
        count += len(ids)
        if ids and ordered:
            ordered = (last is None or last < ids[0]) and all(
                a < b for a, b in zip(ids, ids[1:]))
            last = ids[-1]
        hit = chunk["record_id"].isin(decided_ids)
        found.update(chunk.loc[hit, "record_id"])
        if text:
            texts.append(chunk[hit])
    table = pd.concat(texts, ignore_index=True) if text else None
    return count, ordered, sorted(found), table


def _pubmed_pmids(records: str, chunk_rows: int) -> KeySet:
    """The PMIDs of the record table's PubMed records."""
    return KeySet(chunk.loc[chunk["source"] == "pubmed", "pmid"].dropna()
                  for chunk in read_tsv_chunks(records, chunk_rows, ["source", "pmid"]))


def _seen_before(clusters: str, previous_records: str, chunk_rows: int) -> KeySet:
    """The unique records some copy of which the previous version's record table had."""
    previous = KeySet(chunk["record_id"] for chunk in
                      read_tsv_chunks(previous_records, chunk_rows, ["record_id"]))
    return KeySet(chunk.loc[previous.isin(chunk["record_id"]), "cluster_id"]
                  for chunk in read_tsv_chunks(clusters, chunk_rows,
                                               ["record_id", "cluster_id"]))


def _pending_message(finals: pd.DataFrame) -> str:
    pending = finals[finals["final_decision"] == "pending"]
    return ", ".join(f"{r} ({s}: {b})" for r, s, b in
                     zip(pending["record_id"], pending["stage"], pending["basis"]))


def _grouped_order(order: np.ndarray, names: dict[int, str]) -> np.ndarray:
    """``order`` with the rows of one study candidate (``names``: row -> candidate, for the
    rows in a candidate) moved together to where the first of them stands
    (:func:`sysrev.screening.living.group_by_study`)."""
    if not names:
        return order
    key = np.arange(len(order), dtype=np.int64)
    first: dict[str, int] = {}
    members = np.fromiter(names, dtype=np.int64, count=len(names))
    for position in np.flatnonzero(np.isin(order, members)).tolist():
        key[position] = first.setdefault(names[int(order[position])], position)
    return order[np.argsort(key, kind="stable")]


def screen_records(*, records: str, unique: str, clusters: str, sources: list[Mapping],
                   studies: str, previous_snapshot: list[str], final: str, included: str,
                   previous_records: str | None = None,
                   to_screen_out: str, agreement: str, conflicts: str, audit: str,
                   rules: ScreeningRules, to_screen_asreview: str | None = None,
                   withdrawn_from: list[str] | None = None,
                   related: str | None = None,
                   stopping: str | None = None, prioritise_records: bool = False,
                   recall_target: float = 0.95, confidence: float = 0.95,
                   chunk_rows: int = CHUNK_ROWS) -> None:
    """Apply the reviewers' decisions to the unique records; list the included reports,
    the records still to screen (``to_screen_out``) and, for ASReview, every record with
    the team's title/abstract labels as prior knowledge (``to_screen_asreview``).

    ``related`` (``dedup/related.tsv``, given when the review's sources link related
    reports) groups the to-screen list by study candidate: a trial's registration with the
    papers citing its NCT id, a preprint with its journal version
    (:func:`sysrev.screening.living.group_by_study`).

    Memory stays bounded as the library grows: the record, cluster and unique-record tables
    are read ``chunk_rows`` rows at a time; the matcher holds only the records the
    decision files and study links name (:meth:`RecordMatcher.for_keys`); every output is
    written batch by batch, the to-screen list from its rows kept in a temporary file
    (:class:`~sysrev.screening.streaming.PendingRows`). The outputs are those of the whole
    tables at once (a unique-record table not sorted by id, never written by dedup, is
    read as one batch)."""
    matcher = RecordMatcher.for_keys(records, clusters, _decision_keys(sources, studies),
                                     chunk_rows)
    parts = [read_decision_source(source, matcher) for source in sources]
    decisions = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=DECISION_TABLE_COLUMNS)
    warn_ambiguous(decisions)
    decisions, on_withdrawn = set_aside_withdrawn(decisions, withdrawn_from or [])
    check_decisions(decisions)
    check_decisions(decisions, consensus_reviewer=rules.consensus_reviewer)

    decided_ids = set(decisions["unique_record_id"]) - {""}
    n_unique, ordered, present, texts = _scan_unique(unique, chunk_rows, decided_ids,
                                                     prioritise_records)
    batch_rows = chunk_rows if ordered else max(n_unique, 1)
    # The final decisions of the records with decisions; every other record is pending.
    decided = final_decisions(decisions, present, replace(rules, require_complete=False))
    by_record = decided_rows(decided)
    if rules.require_complete and (n_unique > len(present) or
                                   (decided["final_decision"] == "pending").any()):
        listing, count = [], 0
        for chunk in read_tsv_chunks(unique, batch_rows, ["record_id"]):
            part = finals_of_batch(chunk["record_id"], by_record)
            part = part[part["final_decision"] == "pending"]
            count += len(part)
            listing.append(_pending_message(part))
        raise ValueError(f"screening.require_complete is set and {count} "
                         f"{'decision is' if count == 1 else 'decisions are'} "
                         f"pending: {', '.join(x for x in listing if x)}")
    unused_full_text = unused_full_text_decisions(decisions, decided)
    for message in unused_full_text:
        log.warning("%s", message)
    from sysrev.screening.studies import read_study_links
    from sysrev.workflow.sources import withdrawn_records
    # A link to a withdrawn record is kept and reported, like a decision on one.
    links, links_withdrawn = read_study_links(
        studies, matcher, decided,
        withdrawn_records(withdrawn_from) if withdrawn_from else frozenset())

    if previous_records:
        # The archived record table of the previous version knows every source's records.
        seen = _seen_before(clusters, previous_records, chunk_rows)
        current = previous = None
    else:
        seen = None
        # Without an earlier snapshot every record's newness is unknown.
        previous = (KeySet([snapshot_pmids(previous_snapshot)]) if previous_snapshot
                    else None)
        current = _pubmed_pmids(records, chunk_rows) if previous is not None else None
    columns = TO_SCREEN_COLUMNS
    candidates = members = None
    if related:
        from sysrev.related_reports import study_candidates
        from sysrev.screening.living import STUDY_CANDIDATE_COLUMNS, study_members
        candidates = study_candidates(read_tsv(related))
        members = study_members(candidates)
        columns = TO_SCREEN_COLUMNS + STUDY_CANDIDATE_COLUMNS
    ranking, score = None, None
    if prioritise_records:
        from sysrev.screening.prioritise import (PRIORITY_COLUMNS, not_ranked, ranker,
                                                 record_text, training_labels)
        labels = training_labels(decided)
        labels = labels[labels.index.isin(set(texts["record_id"]))]
        ranking = not_ranked(labels)
        if ranking is None:
            text = record_text(texts.set_index("record_id", drop=False))
            score = ranker(text.loc[labels.index].tolist(), labels.tolist())
    sample_ids = set()
    if "sample" in decisions.columns:
        marked = decisions[decisions["sample"].fillna("") == RANDOM_SAMPLE]
        sample_ids = set(marked.loc[marked["stage"] == "title_abstract", "unique_record_id"])
    stop = stopping_test(decided, sample_ids, recall_target, confidence, records=n_unique)
    log.info("stopping: %s", stop.statement)
    ta_labels = decided[decided["stage"] == "title_abstract"]
    agree = agreement_table(decisions, rules.consensus_reviewer)
    conflict = conflicts_table(decisions, decided, rules.consensus_reviewer)

    header = read_tsv_header(unique)
    unique_columns = [c for c in header if c in SCREENING_UNIQUE_COLUMNS]
    linked = set(links["unique_record_id"])
    stage_counts: dict[str, Counter] = {"title_abstract": Counter(), "full_text": Counter()}
    labelled = Counter()
    n_pending = n_new = 0
    info_parts, names, scores = [], {}, array("d")
    rows = PendingRows(Path(to_screen_out).parent)
    try:
        with ExitStack() as outputs:
            write_finals = outputs.enter_context(
                tsv_batches(final, FINAL_DECISION_COLUMNS, sort_by=["record_id", "stage"]))
            asreview = (outputs.enter_context(atomic_path(to_screen_asreview))
                        if to_screen_asreview else None)
            for chunk in read_tsv_chunks(unique, batch_rows, unique_columns):
                finals = finals_of_batch(chunk["record_id"], by_record)
                write_finals(finals)
                for stage, counts in stage_counts.items():
                    counts.update(finals.loc[finals["stage"] == stage, "final_decision"])
                newness = (new_since_seen(chunk, seen) if seen is not None else
                           new_since_last_search(chunk, current, previous))
                pending = to_screen(chunk, finals, newness)
                if candidates is not None:
                    pending = with_study_candidates(pending, candidates, members)
                    for offset, record in enumerate(pending["record_id"].tolist()):
                        if record in candidates:
                            names[len(rows) + offset] = candidates[record]
                stage_code = pending["stage"].map(_STAGE_ORDER).to_numpy()
                keys = pending["new_since_last_search"].map(_NEWNESS_ORDER).to_numpy() * 2 \
                    + stage_code
                if score is not None:
                    chunk_scores = np.full(len(pending), np.nan)
                    ta = stage_code == 1
                    if ta.any():
                        text = record_text(chunk.set_index("record_id", drop=False))
                        chunk_scores[ta] = score(
                            text.loc[pending.loc[ta, "record_id"]].tolist())
                    scores.extend(chunk_scores.tolist())
                rows.add(pending, columns, keys)
                n_pending += len(pending)
                n_new += int((pending["new_since_last_search"] == "yes").sum())
                prior = asreview_prior_knowledge(chunk, ta_labels)
                labelled.update(prior["label_included"])
                if asreview is not None:
                    prior.loc[:, ASREVIEW_COLUMNS].to_csv(
                        asreview, index=False, header=asreview.tell() == 0,
                        lineterminator="\n")
                info_parts.append(chunk[chunk["record_id"].isin(linked)])
                # Nothing of this batch is held while the next one is read.
                del chunk, finals, newness, pending, prior
                release_memory()

            # The to-screen list: newest first, full text before title/abstract, then by
            # id (batches come in id order), the records of one study candidate together.
            order = _grouped_order(np.argsort(rows.keys(), kind="stable"), names)
            suffixes = None
            if prioritise_records:
                trained = ranking.training_records if ranking else len(labels)
                if score is None:
                    suffixes = repeat(f",,,{trained}", len(order))
                else:
                    is_ta = (rows.keys() % 2 == 1)[order]
                    ta_rows = order[is_ta]
                    rounded = np.round(np.frombuffer(scores, dtype=np.float64)[ta_rows], 6)
                    ranked_order = np.lexsort((np.arange(len(ta_rows)), -rounded))
                    order = np.concatenate([order[~is_ta], ta_rows[ranked_order]])
                    # Made one row at a time as the rows are written.
                    suffixes = chain(
                        repeat(f",,,{trained}", int((~is_ta).sum())),
                        (f",{rank},{rounded[i]:.6f},{trained}"
                         for rank, i in enumerate(ranked_order, start=1)))
                    from sysrev.screening.prioritise import ranked
                    ranking = ranked(len(ta_rows), labels)
                columns = columns + PRIORITY_COLUMNS
                log.info("prioritised screening: %s", ranking.reason)
            with atomic_path(to_screen_out, "wb") as handle:
                handle.write("".join(csv_lines([columns])).encode("utf-8"))
                rows.write(handle, order, suffixes)
    finally:
        rows.close()
    if stopping:
        write_json(stop.to_dict(), stopping)

    info = pd.concat(info_parts, ignore_index=True).set_index("record_id")
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
    write_tsv(agree, agreement, AGREEMENT_COLUMNS, sort_by=["stage", "reviewer_a",
                                                            "reviewer_b"])
    write_tsv(conflict, conflicts, CONFLICT_COLUMNS, sort_by=["stage", "record_id"])

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
                        "records_screened": int(n_unique),
                        "final_decisions": {stage: {d: int(n) for d, n in
                                                    sorted(counts.items())}
                                            for stage, counts in stage_counts.items()},
                        "full_text_decisions_not_used": len(unused_full_text),
                        "conflicts": int(len(conflict)),
                        # Only when there are any: an audit otherwise stays as it was.
                        **({"decisions_on_withdrawn_records": on_withdrawn}
                           if on_withdrawn else {}),
                        **({"study_links_to_withdrawn_records": links_withdrawn}
                           if links_withdrawn else {}),
                        "resolved_by_consensus": int((conflict["resolution"] ==
                                                      "consensus").sum()),
                        "pending": int(n_pending),
                        "asreview_prior_knowledge": {
                            "included": int(labelled["1"]),
                            "excluded": int(labelled["0"]),
                            "unlabelled": int(labelled[""])},
                        "pending_new_since_last_search": int(n_new),
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
    if n_pending:
        log.warning("%d screening %s pending; listed in %s", n_pending,
                    "decision" if n_pending == 1 else "decisions", to_screen_out)
    log.info("screen_records: %d unique records, %d reports of %d studies included",
             n_unique, len(inc), inc["study_id"].nunique())
