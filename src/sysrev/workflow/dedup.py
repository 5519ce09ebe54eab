"""Rule of the deduplication stage."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from sysrev.audit import write_audit
from sysrev.columns import DEDUP_COLUMNS, DUPLICATE_COLUMNS
from sysrev.dedup import (MAYBE_COLUMNS, RULES, UNIQUE_COLUMNS, duplicate_counts,
                          duplicate_table, find_duplicates, load_overrides, unique_records)
from sysrev.dedup import incremental as inc
from sysrev.dedup.band import BAND_COLUMNS, MINIMUM, PER_100K, review_band
from sysrev.dedup.related import RELATED_COLUMNS, RELATIONS
from sysrev.related_reports import (SOURCE_RELATIONS, cannot_links, dedup_relations,
                                   load_related_reports)
from sysrev.tables import read_tsv, sha256_file, write_tsv

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
    compares only the new records), and written again after it.

    ``source_links`` (``search/related_reports.tsv``, the sources' trial/paper and
    preprint/journal links) makes each linked pair ``different`` (never merged, unless the
    reviewers' overrides say ``same``) and adds it to ``related.tsv`` between the unique
    records that stand for the pair, so that screening shows them as one study candidate."""
    table = read_tsv(records)
    override_table = load_overrides(overrides, table["record_id"])
    reviewer_overrides = len(override_table)
    links = load_related_reports(source_links)
    if source_links:
        added = cannot_links(links, override_table)
        override_table = pd.concat([override_table, added], ignore_index=True)
        log.info("deduplicate: %d related-report links of the sources kept apart", len(added))
    index_dir = Path(clusters).parent / "index"
    expected = inc.settings(source_priority, errata, overrides, table.columns)
    if source_links:
        expected["source_links_sha256"] = sha256_file(source_links)
    digests = inc.row_digests(table) if incremental else None
    found_index, why = inc.load_index(index_dir, table, expected, digests) \
        if incremental else (None, "incremental deduplication is off")
    log.info("deduplicate: %s", why if found_index is None else
             f"updating the earlier run ({len(found_index.new_ids)} new records)")
    if found_index is None:
        result = find_duplicates(table, source_priority=source_priority,
                                 overrides=override_table, errata=errata, threads=threads)
        keys = inc.blocking_keys(result.prepared) if incremental else None
        result.prepared = None
        found, maybe_table, related_table = result.clusters, result.maybe, result.related
        pair_counts, update_counts = result.counts, {}
    else:
        step = inc.update(table, found_index, source_priority=source_priority,
                          errata=errata, overrides=override_table, threads=threads)
        found, maybe_table, related_table = step.clusters, step.maybe, step.related
        keys, update_counts = step.keys, step.counts
        # The pair counts of a from-scratch run (candidate pairs, pairs scored duplicate or
        # maybe) are not known for the union: the update's own are under "index".
        pair_counts = {
            "related_reports": {r: int((related_table["relation"] == r).sum())
                                for r in RELATIONS},
            "errata_merged": int((found["rule"] == "erratum").sum()),
            "maybe_pairs_for_review": int(len(maybe_table)),
            "overrides": int(0 if override_table is None else len(override_table))}
    if source_links:
        # The index keeps related.tsv: its earlier source-link rows are made again here.
        related_table = pd.concat([
            related_table[~related_table["relation"].isin(SOURCE_RELATIONS)],
            dedup_relations(links, found)], ignore_index=True)
        pair_counts["overrides"] = int(reviewer_overrides)
        pair_counts["related_reports"] = {
            r: int((related_table["relation"] == r).sum()) for r in RELATIONS
            + SOURCE_RELATIONS}
    write_tsv(found.assign(kept=found["kept"].map({True: "yes", False: "no"})), clusters,
              DEDUP_COLUMNS, sort_by=["record_id"])
    unique_table = unique_records(table, found, related_table)
    write_tsv(unique_table, unique, UNIQUE_COLUMNS, sort_by=["record_id"])
    write_tsv(related_table, related, RELATED_COLUMNS, sort_by=["record_id",
                                                                "related_record_id"])
    write_tsv(duplicate_table(table, found), duplicates, DUPLICATE_COLUMNS,
              sort_by=["removed_record_id"])
    band = review_band(maybe_table, len(table), maybe_per_100k, maybe_minimum)
    write_tsv(band, maybe, MAYBE_COLUMNS + BAND_COLUMNS, sort_by=["record_id_a", "record_id_b"])
    index_counts = {}
    if incremental:
        manifest = inc.write_index(index_dir, keys, pd.Series(
            digests, index=table["record_id"].to_numpy()), clusters=clusters, maybe=maybe,
            related=related, expected=expected)
        index_counts = {"index": {"manifest_sha256": manifest,
                                  "mode": "from scratch" if found_index is None
                                  else "update", "reason": why, **update_counts}}
    flagged = unique_table[unique_table["retraction"].fillna("") != ""]
    pair_counts["maybe_band"] = {
        "settled_by_rule": int((band["settled"] != "").sum()),
        "ranked": int(band["review_rank"].notna().sum()),
        "for_review": int((band["for_review"] == "yes").sum())}
    counts = {**duplicate_counts(table, found), **pair_counts, **index_counts,
              "unique_retracted": int(flagged["retraction"].str.startswith("retracted").sum()),
              "unique_expression_of_concern": int(flagged["retraction"].str.startswith(
                  "expression of concern").sum())}
    for row in flagged.itertuples(index=False):
        log.warning("%s is %s", row.record_id, row.retraction)
    inputs = {"records": records}
    if source_links:
        inputs["source_links"] = source_links
    if overrides:
        inputs["overrides"] = overrides
    write_audit(audit, stage="dedup", inputs=inputs,
                outputs={"unique": unique, "duplicates": duplicates, "clusters": clusters,
                         "maybe": maybe, "related": related},
                counts=counts,
                parameters={"source_priority": list(source_priority), "errata": errata,
                            "threads": int(threads), "rules": RULES,
                            "incremental": bool(incremental),
                            "maybe_per_100k": int(maybe_per_100k),
                            "maybe_minimum": int(maybe_minimum),
                            "overrides_file": overrides or "none"})
