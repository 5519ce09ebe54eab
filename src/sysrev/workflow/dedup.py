"""Rule of the deduplication stage."""

from __future__ import annotations

import logging

from sysrev.audit import write_audit
from sysrev.columns import DEDUP_COLUMNS, DUPLICATE_COLUMNS
from sysrev.dedup import (UNIQUE_COLUMNS, deduplicate, duplicate_counts, duplicate_table,
                          unique_records)
from sysrev.tables import read_tsv, write_tsv

log = logging.getLogger(__name__)


def deduplicate_records(*, records: str, unique: str, duplicates: str, clusters: str,
                        audit: str, source_priority: list[str]) -> None:
    """Deduplicate ``records.tsv``: unique records, removed duplicates with their reasons,
    and every record's cluster."""
    table = read_tsv(records)
    result = deduplicate(table, source_priority=source_priority)
    write_tsv(result.assign(kept=result["kept"].map({True: "yes", False: "no"})), clusters,
              DEDUP_COLUMNS, sort_by=["record_id"])
    write_tsv(unique_records(table, result), unique, UNIQUE_COLUMNS, sort_by=["record_id"])
    write_tsv(duplicate_table(table, result), duplicates, DUPLICATE_COLUMNS,
              sort_by=["removed_record_id"])
    counts = duplicate_counts(table, result)
    write_audit(audit, stage="dedup", inputs={"records": records},
                outputs={"unique": unique, "duplicates": duplicates, "clusters": clusters},
                counts=counts,
                parameters={"source_priority": list(source_priority),
                            "rules": ["doi: equal normalised DOI",
                                      "pmid: equal PMID",
                                      "title_year_author: equal normalised title (>= 25 "
                                      "characters), compatible year and first author, no "
                                      "conflicting DOI or PMID"]})
