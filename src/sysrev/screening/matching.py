"""Matching screening decisions to records by stable keys.

A decision exported from Rayyan, ASReview or Covidence carries the record's PMID, DOI,
accession number or title, not sysrev's record id. The matcher finds the deduplicated
(unique) record for any of these keys, through every copy of the record in every source, so
a decision survives reruns, search updates and a change of which copy is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from sysrev.dedup import normalise_title
from sysrev.imports.records import doi_in_text, normalise_doi, normalise_pmid

@dataclass(frozen=True)
class Match:
    """The unique record a decision belongs to, and the key that found it."""

    unique_record_id: str | None
    key: str


class RecordMatcher:
    """Look up the unique record of a decision by record id, PMID, DOI, accession or title."""

    def __init__(self, records: pd.DataFrame, clusters: pd.DataFrame):
        cluster_of = dict(zip(clusters["record_id"], clusters["cluster_id"]))
        self._by_record = cluster_of
        self._by_pmid: dict[str, set[str]] = {}
        self._by_doi: dict[str, set[str]] = {}
        self._by_accession: dict[str, set[str]] = {}
        self._by_title: dict[tuple[str, str], set[str]] = {}
        for row in records.itertuples(index=False):
            unique = cluster_of.get(row.record_id)
            if unique is None:
                continue
            if isinstance(row.pmid, str) and row.pmid:
                self._by_pmid.setdefault(row.pmid, set()).add(unique)
            if isinstance(row.doi, str) and row.doi:
                self._by_doi.setdefault(row.doi, set()).add(unique)
            if isinstance(row.source_id, str) and row.source_id:
                self._by_accession.setdefault(row.source_id, set()).add(unique)
            title = normalise_title(row.title)
            if title:
                year = row.year if isinstance(row.year, str) else ""
                self._by_title.setdefault((title, year), set()).add(unique)
                self._by_title.setdefault((title, ""), set()).add(unique)

    @staticmethod
    def _one(found: set[str] | None, key: str) -> Match:
        if not found:
            return Match(None, f"{key} not found")
        if len(found) > 1:
            return Match(None, f"{key} is ambiguous ({len(found)} records)")
        return Match(next(iter(found)), key)

    def match(self, *, record_id: str | None = None, pmid: object = None, doi: object = None,
              accession: object = None, title: object = None, year: object = None) -> Match:
        """The unique record for the first key that identifies exactly one record."""
        if record_id:
            unique = self._by_record.get(record_id)
            return Match(unique, f"record_id {record_id}" if unique else
                         f"no record {record_id}")
        candidates = []
        pmid_key = normalise_pmid(pmid)
        if pmid_key:
            candidates.append(self._one(self._by_pmid.get(pmid_key), f"PMID {pmid_key}"))
        doi_key = doi_in_text(doi) or normalise_doi(doi)
        if doi_key:
            candidates.append(self._one(self._by_doi.get(doi_key), f"DOI {doi_key}"))
        if isinstance(accession, str) and accession.strip():
            candidates.append(self._one(self._by_accession.get(accession.strip()),
                                        f"accession {accession.strip()}"))
        title_key = normalise_title(title)
        if title_key:
            year_key = str(year).strip()[:4] if isinstance(year, (str, int)) and str(
                year).strip() else ""
            candidates.append(self._one(self._by_title.get((title_key, year_key)),
                                        f"title '{title_key[:50]}'"))
        for candidate in candidates:
            if candidate.unique_record_id:
                return candidate
        reasons = [c.key for c in candidates]
        return Match(None, "; ".join(reasons) or "no PMID, DOI, accession or title to match")
