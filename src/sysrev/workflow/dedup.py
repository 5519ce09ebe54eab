"""Rule of the deduplication stage."""

from __future__ import annotations

import logging

from sysrev.audit import write_audit
from sysrev.columns import DEDUP_COLUMNS, DUPLICATE_COLUMNS
from sysrev.dedup import (MAYBE_COLUMNS, UNIQUE_COLUMNS, duplicate_counts, duplicate_table,
                          find_duplicates, load_overrides, unique_records)
from sysrev.dedup_related import RELATED_COLUMNS
from sysrev.tables import read_tsv, write_tsv

log = logging.getLogger(__name__)

RULES = [
    "override: a reviewer's 'same' pair in the overrides file ('different' pairs are never "
    "put in one cluster)",
    "doi: equal normalised DOI, titles agreeing (edit ratio >= 80 or one a prefix of the "
    "other), same first page when both have one",
    "pmid: equal PMID, titles agreeing (edit ratio >= 50)",
    "title_year_author: equal normalised title (>= 25 characters), same year and first "
    "author, no conflicting DOI, PMID, volume or pages",
    "fuzzy: title edit ratio >= 93 (or a truncated prefix), authors >= 80 where both have "
    "them, corroborated by authors, first page, or volume and journal; no conflicts",
    "bibliographic: same year, volume, first page and journal, with the same first author "
    "and page ranges, or with titles >= 93",
    "erratum: (errata = duplicate only) an erratum or correction joins the cluster of the "
    "article it corrects (PubMed ErratumFor/ErratumIn, same DOI, or its title after the "
    "'Erratum:' prefix matching the article's)",
    "related reports (never merged; linked in related.tsv): erratum/correction (unless "
    "errata = duplicate), retraction notice, expression of concern, comment, reply, found "
    "by title prefix or publication type and linked by PubMed CommentsCorrections, same "
    "DOI, the title after the prefix (edit ratio >= 90 or a prefix), or a citation of the "
    "article's volume and first page in the same journal",
    "conference abstracts (conference journal or publication type, or a lettered page) and "
    "records without a title are never linked on journal, volume and pages alone",
    "an erratum printed under its article's title (same title, first author, journal and "
    "volume, a single page outside the article's pages) and a correction titled with its "
    "article's citation ('(vol 360, pg 542, 2009)') are errata",
    "kept apart by title, year or first-author rules: different issues of one volume whose "
    "pages do not agree (issues above 60 not compared); one title at two conference venues "
    "or in two plainly different journals in two years; titles naming opposite "
    "populations (children/adults, men/women)",
    "never linked: erratum/retraction, comment/reply or protocol vs other items; conference "
    "vs journal item; different numbers in similar titles (Part 1 / Part 2); different "
    "PMIDs or DOIs; years more than one apart",
]


def deduplicate_records(*, records: str, unique: str, duplicates: str, clusters: str,
                        maybe: str, audit: str, source_priority: list[str],
                        related: str, overrides: str | None = None, errata: str = "related",
                        threads: int = 1) -> None:
    """Deduplicate ``records.tsv``: unique records, removed duplicates with their reasons and
    scores, every record's cluster, the pairs left for a human (``maybe.tsv``) and the
    related reports (errata, retraction notices, comments, replies) linked to their article
    (``related.tsv``). ``threads`` is the rule's thread count (rapidfuzz workers)."""
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
