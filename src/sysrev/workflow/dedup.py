"""Rule of the deduplication stage."""

from __future__ import annotations

import logging

from sysrev.audit import write_audit
from sysrev.columns import DEDUP_COLUMNS, DUPLICATE_COLUMNS
from sysrev.dedup import (MAYBE_COLUMNS, RULES, UNIQUE_COLUMNS, duplicate_counts,
                          duplicate_table, find_duplicates, load_overrides, unique_records)
from sysrev.dedup.related import RELATED_COLUMNS
from sysrev.tables import read_tsv, write_tsv

log = logging.getLogger(__name__)


def deduplicate_records(*, records: str, unique: str, duplicates: str, clusters: str,
                        maybe: str, audit: str, source_priority: list[str],
                        related: str, overrides: str | None = None, errata: str = "related",
                        threads: int = 1) -> None:
    """Deduplicate ``records.tsv``: unique records, removed duplicates with their reasons and
    scores, every record's cluster, the pairs left for a human (``maybe.tsv``) and the
    related reports (errata, retraction notices, comments, replies) linked to their article
    (``related.tsv``). ``threads`` is the rule's thread count (worker processes)."""
    table = read_tsv(records)
    override_table = load_overrides(overrides, table["record_id"])
    result = find_duplicates(table, source_priority=source_priority,
                             overrides=override_table, errata=errata, threads=threads)
    found = result.clusters
    write_tsv(found.assign(kept=found["kept"].map({True: "yes", False: "no"})), clusters,
              DEDUP_COLUMNS, sort_by=["record_id"])
    unique_table = unique_records(table, found, result.related)
    write_tsv(unique_table, unique, UNIQUE_COLUMNS, sort_by=["record_id"])
    write_tsv(result.related, related, RELATED_COLUMNS, sort_by=["record_id",
                                                                 "related_record_id"])
    write_tsv(duplicate_table(table, found), duplicates, DUPLICATE_COLUMNS,
              sort_by=["removed_record_id"])
    write_tsv(result.maybe, maybe, MAYBE_COLUMNS, sort_by=["record_id_a", "record_id_b"])
    flagged = unique_table[unique_table["retraction"].fillna("") != ""]
    counts = {**duplicate_counts(table, found), **result.counts,
              "unique_retracted": int(flagged["retraction"].str.startswith("retracted").sum()),
              "unique_expression_of_concern": int(flagged["retraction"].str.startswith(
                  "expression of concern").sum())}
    for row in flagged.itertuples(index=False):
        log.warning("%s is %s", row.record_id, row.retraction)
    inputs = {"records": records}
    if overrides:
        inputs["overrides"] = overrides
    write_audit(audit, stage="dedup", inputs=inputs,
                outputs={"unique": unique, "duplicates": duplicates, "clusters": clusters,
                         "maybe": maybe, "related": related},
                counts=counts,
                parameters={"source_priority": list(source_priority), "errata": errata,
                            "threads": int(threads), "rules": RULES,
                            "overrides_file": overrides or "none"})
