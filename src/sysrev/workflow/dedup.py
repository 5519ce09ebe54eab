"""Rule of the deduplication stage."""

from __future__ import annotations

import io
import json
import logging
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sysrev.audit import write_audit
from sysrev.columns import DEDUP_COLUMNS, DUPLICATE_COLUMNS
from sysrev.dedup import (MAYBE_COLUMNS, RULES, UNIQUE_COLUMNS, duplicate_counts,
                          duplicate_table, find_duplicates, load_overrides, unique_records)
from sysrev.dedup import incremental as inc
from sysrev.dedup.band import BAND_COLUMNS, MINIMUM, PER_100K, review_band
from sysrev.dedup.related import RELATED_COLUMNS, RELATIONS
from sysrev.related_reports import SOURCE_RELATIONS, cannot_links, load_related_reports
from sysrev.tables import atomic_path, read_tsv, sha256_file, write_json, write_tsv

log = logging.getLogger(__name__)


def deduplicate_records(*, records: str, unique: str, duplicates: str, clusters: str,
                        maybe: str, audit: str, source_priority: list[str],
                        related: str, overrides: str | None = None, errata: str = "related",
                        threads: int = 1, incremental: bool = True,
                        maybe_per_100k: int = PER_100K, maybe_minimum: int = MINIMUM,
                        source_links: str | None = None) -> None:
    """Deduplicate ``records.tsv``: unique records, removed duplicates with their reasons and
    scores, every record's cluster, the pairs left for a human (``maybe.tsv``) and the
    related reports (errata, retraction notices, comments, replies) linked to their article
    (``related.tsv``). ``threads`` is the rule's thread count (worker processes).
    ``maybe.tsv`` carries the review band (:mod:`sysrev.dedup.band`): pairs settled by
    rule, the rest ranked, the first ``max(maybe_minimum, maybe_per_100k per 100,000
    records)`` marked for review.

    With ``incremental``, the index beside the outputs (``dedup/index/``, see
    :mod:`sysrev.dedup.incremental`) is used when it matches this run (an update then
    compares only the new records and writes the tables that list every record as a
    merge of their earlier lines with the new ones), and written again after it.

    The audit's ``counts`` are made from the tables only, the same way whether the run
    updated an index or started from scratch: the same tables give the same audit, byte
    for byte, whatever the run's history. How the run went (from scratch or an update and
    why, the records an update compared, the candidate pairs scored) is in the log and in
    ``dedup/index/last_run.json``, which is not an output.

    ``source_links`` (``search/related_reports.tsv``, the sources' trial/paper and
    preprint/journal links) makes each linked pair ``different`` (never merged, unless the
    reviewers' overrides say ``same``) and adds it to ``related.tsv`` between the unique
    records that stand for the pair, so that screening shows them as one study candidate."""
    clock = _Clock()
    index_dir = Path(clusters).parent / "index"
    outputs = {"unique": unique, "duplicates": duplicates, "clusters": clusters,
               "maybe": maybe, "related": related}
    found_index, why, expected, lines = None, "incremental deduplication is off", None, None
    if incremental:
        # The records as lines (ids and a digest per line); parsed whole only when the
        # run starts from scratch.
        lines = inc.read_records(records)
        clock("records read as lines")
        if lines is None:
            why = f"{records} has a cell that spans lines: deduplicated from scratch, " \
                "the index not written"
        else:
            expected = inc.settings(source_priority, errata, overrides, lines.columns)
            if source_links:
                expected["source_links_sha256"] = sha256_file(source_links)
            found_index, why = inc.load_index(index_dir, lines.ids, expected, lines.digests)
            clock("index checked")
    table = None
    if found_index is None:
        if lines is not None:
            # not needed from scratch (the digests are): memory for the table and matcher
            lines.lines = lines.ids = None
        table = read_tsv(records)
        clock("records parsed")
    ids = table["record_id"] if table is not None else pd.Series(lines.ids)
    override_table = load_overrides(overrides, ids)
    reviewer_overrides = len(override_table)
    links = load_related_reports(source_links)
    if source_links:
        added = cannot_links(links, override_table)
        override_table = pd.concat([override_table, added], ignore_index=True)
        log.info("deduplicate: %d related-report links of the sources kept apart", len(added))
    n_records = len(ids)
    del ids  # a column of the table: it would hold the table's memory after the table
    log.info("deduplicate: %s", why if found_index is None else
             f"updating the earlier run ({len(found_index.new_ids)} new records)")
    step = scratch_index = None
    if found_index is None:
        result = find_duplicates(table, source_priority=source_priority,
                                 overrides=override_table, errata=errata, threads=threads,
                                 index_keys=lines is not None)
        result.pairs = None  # the scored pairs: no table of the rule
        found, maybe_table, related_table = result.clusters, result.maybe, result.related
        if source_links:
            related_table = inc.with_source_links(related_table, links, found)
        clock("matching")
        run_counts = {k: result.counts[k] for k in ("candidate_pairs", "pairs_duplicate",
                                                    "pairs_maybe")}
        write_tsv(found.assign(kept=found["kept"].map({True: "yes", False: "no"})),
                  clusters, DEDUP_COLUMNS, sort_by=["record_id"])
        unique_table = unique_records(table, found, related_table)
        write_tsv(unique_table, unique, UNIQUE_COLUMNS, sort_by=["record_id"])
        retraction_counts = _retraction_counts(unique_table)
        _warn_flagged(unique_table)
        del unique_table
        write_tsv(duplicate_table(table, found), duplicates, DUPLICATE_COLUMNS,
                  sort_by=["removed_record_id"])
        table_counts = {**duplicate_counts(table, found),
                        "errata_merged": int((found["rule"] == "erratum").sum()),
                        **retraction_counts}
        if lines is not None:
            scratch_index = {
                "prepared": result.prepared, "cluster_ids": found["cluster_id"].to_numpy(),
                "digests": _by_record(lines.digests, table, result.prepared.ids),
                "key_hashes_made": result.key_hashes, "title_rank": result.title_rank}
        # The record table and the clusters are written: their memory is the index's.
        del table, found, result
        clock("tables")
    elif not found_index.new_ids:
        for name in ("clusters", "unique", "duplicates"):
            # a new file (the index's copy may be a hard link to the output)
            with open(found_index.table(name), "rb") as source, \
                    atomic_path(outputs[name], "wb") as target:
                shutil.copyfileobj(source, target)
        maybe_table = found_index.read_table("maybe").loc[:, MAYBE_COLUMNS]
        related_table = found_index.read_table("related")
        table_counts = found_index.manifest["counts"]
        run_counts = {"new_records": 0}
    else:
        step = inc.update(lines, found_index, source_priority=source_priority,
                          errata=errata, overrides=override_table, threads=threads,
                          links=links if source_links else None)
        maybe_table, related_table = step.maybe, step.related
        clock("matching")
        table_counts = _write_update(lines, found_index, step, outputs)
        clock("tables")
        run_counts = step.counts
    write_tsv(related_table, related, RELATED_COLUMNS, sort_by=["record_id",
                                                                "related_record_id"])
    band = review_band(maybe_table, n_records, maybe_per_100k, maybe_minimum)
    write_tsv(band, maybe, MAYBE_COLUMNS + BAND_COLUMNS, sort_by=["record_id_a", "record_id_b"])
    counts = {**table_counts,
              "related_reports": {r: int((related_table["relation"] == r).sum())
                                  for r in RELATIONS + (SOURCE_RELATIONS if source_links
                                                        else ())},
              "maybe_pairs_for_review": int(len(maybe_table)),
              "overrides": int(reviewer_overrides),
              "maybe_band": {
                  "settled_by_rule": int((band["settled"] != "").sum()),
                  "ranked": int(band["review_rank"].notna().sum()),
                  "for_review": int((band["for_review"] == "yes").sum())}}
    clock("maybe and related")
    mode = "from scratch" if found_index is None else "update"
    log.info("deduplicate: %s (%s); %s", mode, why, json.dumps(run_counts, sort_keys=True))
    if incremental:
        if lines is None:
            manifest = "none"
        elif step is not None or found_index is None:
            manifest = inc.write_index(
                index_dir, expected=expected, counts=table_counts, tables=outputs,
                workers=threads,
                **(scratch_index if found_index is None else
                   {"index": found_index, "step": step}))
        else:
            manifest = found_index.manifest["manifest_sha256"]
        clock("index written")
        index_dir.mkdir(parents=True, exist_ok=True)
        write_json({"mode": mode, "reason": why, "manifest_sha256": manifest, **run_counts,
                    "seconds": clock.seconds},
                   index_dir / "last_run.json")
    inputs = {"records": records}
    if source_links:
        inputs["source_links"] = source_links
    if overrides:
        inputs["overrides"] = overrides
    write_audit(audit, stage="dedup", inputs=inputs, outputs=outputs, counts=counts,
                parameters={"source_priority": list(source_priority), "errata": errata,
                            "threads": int(threads), "rules": RULES,
                            "incremental": bool(incremental),
                            "maybe_per_100k": int(maybe_per_100k),
                            "maybe_minimum": int(maybe_minimum),
                            "overrides_file": overrides or "none"})


class _Clock:
    """Seconds per step of the rule (for ``last_run.json`` and the benchmark)."""

    def __init__(self):
        self.start, self.seconds = time.perf_counter(), {}

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = round(now - self.start, 2)
        log.info("deduplicate_records: %s in %.2f s", name, now - self.start)
        self.start = now


def _by_record(digests, table: pd.DataFrame, ids) -> np.ndarray:
    """``digests`` (by row of ``table``) in the order of ``ids``."""
    rows = pd.Index(table["record_id"]).get_indexer(ids)
    return np.asarray(digests)[rows]


def _retraction_counts(unique_table: pd.DataFrame) -> dict[str, int]:
    status = unique_table["retraction"].fillna("")
    return {"unique_retracted": int(status.str.startswith("retracted").sum()),
            "unique_expression_of_concern": int(status.str.startswith(
                "expression of concern").sum())}


def _warn_flagged(unique_table: pd.DataFrame) -> None:
    flagged = unique_table[unique_table["retraction"].fillna("") != ""]
    for row in flagged.itertuples(index=False):
        log.warning("%s is %s", row.record_id, row.retraction)


def _write_update(records: inc.Records, index: inc.Index, step: inc.Update,
                  outputs: dict[str, str]) -> dict:
    """Write ``clusters``, ``unique`` and ``duplicates`` of an update: the earlier tables'
    lines merged with the new records' lines and the touched clusters' unique rows (no
    per-row work on the earlier records). Returns the table counts (the earlier run's
    plus the new records')."""
    rows = step.new_rows
    text_rows = rows.assign(kept=rows["kept"].map({True: "yes", False: "no"}))
    inc.merge_lines(index.table("clusters"), outputs["clusters"],
                    inc.header_line(DEDUP_COLUMNS), inc.tsv_lines(text_rows, DEDUP_COLUMNS))
    touched = step.touched
    related_touched = step.related[step.related["related_record_id"].isin(
        set(touched["cluster_id"]))]
    kept_ids = set(rows["kept_record_id"])
    rows_needed = records.rows(set(touched["record_id"]) | set(rows["record_id"]) | kept_ids)
    unique_new = unique_records(rows_needed[rows_needed["record_id"].isin(
        set(touched["record_id"]))], touched, related_touched)
    dropped = inc.merge_lines(index.table("unique"), outputs["unique"],
                              inc.header_line(UNIQUE_COLUMNS),
                              inc.tsv_lines(unique_new, UNIQUE_COLUMNS),
                              drop=set(touched["cluster_id"]))
    involved = rows_needed[rows_needed["record_id"].isin(set(rows["record_id"]) | kept_ids)]
    inc.merge_lines(index.table("duplicates"), outputs["duplicates"],
                    inc.header_line(DUPLICATE_COLUMNS),
                    inc.tsv_lines(duplicate_table(involved, rows), DUPLICATE_COLUMNS))
    # Counts: the earlier run's, plus the new records' (with the earlier kept records they
    # joined, minus those kept records' own), plus the remade unique rows' status minus
    # the status of the rows they replace.
    earlier_kept = np.array(sorted(kept_ids - set(rows["record_id"])), dtype=object)
    kept_rows = pd.DataFrame({"record_id": earlier_kept, "cluster_id": earlier_kept,
                              "kept": True, "kept_record_id": earlier_kept, "rule": ""})
    with_kept = pd.concat([rows[kept_rows.columns], kept_rows], ignore_index=True)
    plus = {**duplicate_counts(involved, with_kept),
            "errata_merged": int((rows["rule"] == "erratum").sum()),
            **_retraction_counts(unique_new)}
    before_rows = pd.read_csv(io.BytesIO(inc.header_line(UNIQUE_COLUMNS) + b"".join(dropped)),
                              sep="\t", dtype=str, keep_default_na=False, na_values=[""])
    minus = {**duplicate_counts(involved[involved["record_id"].isin(earlier_kept)], kept_rows),
             **_retraction_counts(before_rows)}
    _warn_flagged(unique_new)
    return inc.combine_counts(index.manifest["counts"], plus, minus)
