"""Matching screening decisions to records by stable keys.

A decision exported from Rayyan, ASReview or Covidence carries the record's PMID, DOI,
accession number or title, not sysrev's record id. The matcher finds the deduplicated
(unique) record for any of these keys, through every copy of the record in every source, so
a decision survives reruns, search updates and a change of which copy is kept.

A title alone can name several unique records (a trial's protocol and its results paper, an
erratum that repeats the title, two conference abstracts). Such a title is narrowed by the
year and then by the first author's surname; what is still ambiguous is never decided by
picking one: the match fails and names the candidate records.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sysrev.dedup import normalise_title
from sysrev.imports.records import doi_in_text, normalise_doi, normalise_pmid

log = logging.getLogger(__name__)

_WORD = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class Match:
    """The unique record a decision belongs to, and the key that found it.

    ``candidates`` lists the unique records an ambiguous key matched (empty otherwise).
    """

    unique_record_id: str | None
    key: str
    candidates: tuple[str, ...] = ()


def author_words(authors: object) -> frozenset[str]:
    """Name words of the first author, lower case and without diacritics or initials.

    ``"Yang, Z."``, ``"Yang Z"``, ``"Zixiao Yang"`` and ``["Yang, Zixiao", ...]`` all contain
    ``yang``; two first authors agree when their words overlap. Words of one letter and
    upper-case initials (``EJ`` in ``"Reimer EJ"``) are left out.
    """
    if isinstance(authors, (list, tuple)):
        authors = authors[0] if authors else ""
    if not isinstance(authors, str) or not authors.strip():
        return frozenset()
    text = authors.strip().lstrip("[").strip("'\" ")
    first = re.split(r";|\band\b|', '|\", \"", text, maxsplit=1)[0]
    words = set()
    for word in _WORD.findall(first):
        if len(word) < 2 or (word.isupper() and len(word) <= 3):
            continue
        folded = unicodedata.normalize("NFKD", word)
        words.add("".join(c for c in folded if not unicodedata.combining(c)).casefold())
    return frozenset(words)


#: The columns of records.tsv a matcher indexes.
_RECORD_KEY_COLUMNS = ["record_id", "source_id", "pmid", "doi", "title", "year"]


def lookup_keys(pmid: object = None, doi: object = None, accession: object = None,
                title: object = None, year: object = None
                ) -> tuple[str, str, str, str, str]:
    """The normalised PMID, DOI, accession, title and year a lookup searches for (``""``
    for a key not given)."""
    pmid_key = normalise_pmid(pmid) or ""
    doi_key = doi_in_text(doi) or normalise_doi(doi) or ""
    accession_key = accession.strip() if isinstance(accession, str) else ""
    title_key = normalise_title(title) or ""
    year_key = str(year).strip()[:4] if title_key and isinstance(year, (str, int)) and str(
        year).strip() else ""
    return pmid_key, doi_key, accession_key, title_key, year_key


class KeyRecorder:
    """Stands in for a :class:`RecordMatcher` to learn which keys a run looks up: every
    :meth:`match` is recorded and answered "not found". :meth:`RecordMatcher.for_keys` then
    builds a matcher holding only the records those keys can find."""

    def __init__(self) -> None:
        self.record_ids: set[str] = set()
        self.pmids: set[str] = set()
        self.dois: set[str] = set()
        self.accessions: set[str] = set()
        self.titles: set[str] = set()
        self.title_lookups: set[tuple[str, str]] = set()

    def match(self, *, record_id: str | None = None, pmid: object = None, doi: object = None,
              accession: object = None, title: object = None, year: object = None,
              authors: object = None) -> Match:
        if record_id:
            self.record_ids.add(record_id)
            return Match(None, f"no record {record_id}")
        pmid_key, doi_key, accession_key, title_key, year_key = lookup_keys(
            pmid, doi, accession, title, year)
        for keys, key in ((self.pmids, pmid_key), (self.dois, doi_key),
                          (self.accessions, accession_key), (self.titles, title_key)):
            if key:
                keys.add(key)
        if title_key:
            self.title_lookups.add((title_key, year_key))
        return Match(None, "recorded")


def _clusters_of(clusters: str | Path, record_ids: set[str], chunk_rows: int
                 ) -> dict[str, str]:
    """``record_id -> cluster_id`` of ``record_ids`` from ``clusters.tsv``, read in chunks."""
    from sysrev.tables import read_tsv_chunks

    out: dict[str, str] = {}
    for chunk in read_tsv_chunks(clusters, chunk_rows, ["record_id", "cluster_id"]):
        part = chunk[chunk["record_id"].isin(record_ids)]
        out.update(zip(part["record_id"], part["cluster_id"]))
    return out


class RecordMatcher:
    """Look up the unique record of a decision by record id, PMID, DOI, accession or title."""

    def __init__(self, records: pd.DataFrame, clusters: pd.DataFrame):
        cluster_of = dict(zip(clusters["record_id"], clusters["cluster_id"]))
        self._by_record = cluster_of
        self._by_pmid: dict[str, set[str]] = {}
        self._by_doi: dict[str, set[str]] = {}
        self._by_accession: dict[str, set[str]] = {}
        self._by_title: dict[tuple[str, str], set[str]] = {}
        # The author fields of every copy of a unique record (copies may spell the first
        # author apart); their words are worked out only for the records a title leaves
        # ambiguous (_author_words_of), not for every record of a large library.
        self._author_texts: dict[str, list[object]] = {}
        self._authors: dict[str, set[str]] = {}
        self._index(records, cluster_of, [normalise_title(t) for t in records["title"]],
                    "authors" in records.columns)

    def _index(self, records: pd.DataFrame, cluster_of: dict[str, str], titles: list[str],
               authors: bool) -> None:
        """Index ``records`` (their normalised ``titles``) under their unique records."""
        for row, title in zip(records.itertuples(index=False), titles):
            unique = cluster_of.get(row.record_id)
            if unique is None:
                continue
            if isinstance(row.pmid, str) and row.pmid:
                self._by_pmid.setdefault(row.pmid, set()).add(unique)
            if isinstance(row.doi, str) and row.doi:
                self._by_doi.setdefault(row.doi, set()).add(unique)
            if isinstance(row.source_id, str) and row.source_id:
                self._by_accession.setdefault(row.source_id, set()).add(unique)
            if title:
                year = row.year if isinstance(row.year, str) else ""
                self._by_title.setdefault((title, year), set()).add(unique)
                self._by_title.setdefault((title, ""), set()).add(unique)
            if authors:
                self._author_texts.setdefault(unique, []).append(row.authors)

    @classmethod
    def for_keys(cls, records: str | Path, clusters: str | Path, wanted: "KeyRecorder",
                 chunk_rows: int = 100_000) -> "RecordMatcher":
        """A matcher that answers every lookup ``wanted`` recorded exactly as one built from
        the whole tables would, holding only the records those lookups can find.

        ``records.tsv`` and ``clusters.tsv`` are read ``chunk_rows`` rows at a time: the
        record rows with a wanted PMID, DOI, accession or normalised title are kept, then
        the clusters of those rows and of the wanted record ids, and, for a title several
        unique records share, the author fields of every copy of those records (read only
        when such a title was wanted). Memory grows with the lookups, not the library."""
        from sysrev.tables import read_tsv_chunks

        self = cls.__new__(cls)
        self._by_pmid, self._by_doi, self._by_accession = {}, {}, {}
        self._by_title, self._author_texts, self._authors = {}, {}, {}
        kept, kept_titles = [], []
        for chunk in read_tsv_chunks(records, chunk_rows, _RECORD_KEY_COLUMNS):
            titles = [normalise_title(t) for t in chunk["title"]]
            hit = (chunk["pmid"].isin(wanted.pmids) | chunk["doi"].isin(wanted.dois)
                   | chunk["source_id"].isin(wanted.accessions)
                   | pd.Series([t in wanted.titles for t in titles], index=chunk.index,
                               dtype=bool)).to_numpy()
            if hit.any():
                kept.append(chunk[hit])
                kept_titles += [t for t, h in zip(titles, hit) if h]
        rows = (pd.concat(kept, ignore_index=True) if kept
                else pd.DataFrame(columns=_RECORD_KEY_COLUMNS))
        needed = set(wanted.record_ids) | set(rows["record_id"])
        cluster_of = _clusters_of(clusters, needed, chunk_rows)
        self._index(rows, cluster_of, kept_titles, False)
        self._by_record = {r: cluster_of[r] for r in wanted.record_ids if r in cluster_of}
        # Every copy's first author, for the unique records a wanted title leaves ambiguous.
        ambiguous = {u for key in wanted.title_lookups for u in self._by_title.get(key, ())
                     if len(self._by_title[key]) > 1}
        if ambiguous:
            copies: dict[str, str] = {}
            for chunk in read_tsv_chunks(clusters, chunk_rows, ["record_id", "cluster_id"]):
                part = chunk[chunk["cluster_id"].isin(ambiguous)]
                copies.update(zip(part["record_id"], part["cluster_id"]))
            for chunk in read_tsv_chunks(records, chunk_rows, ["record_id", "authors"]):
                part = chunk[chunk["record_id"].isin(copies)]
                for record, authors in zip(part["record_id"], part["authors"]):
                    self._author_texts.setdefault(copies[record], []).append(authors)
        return self

    def _author_words_of(self, unique: str) -> set[str]:
        """First-author words of every copy of ``unique`` (worked out once, when needed)."""
        if unique not in self._authors:
            words: set[str] = set()
            for authors in self._author_texts.get(unique, ()):
                words.update(author_words(authors))
            self._authors[unique] = words
        return self._authors[unique]

    @staticmethod
    def _one(found: set[str] | None, key: str) -> Match:
        if not found:
            return Match(None, f"{key} not found")
        if len(found) > 1:
            ids = tuple(sorted(found))
            return Match(None, f"{key} is ambiguous ({len(found)} records: "
                               f"{', '.join(ids)})", ids)
        return Match(next(iter(found)), key)

    def _by_title_year_author(self, title_key: str, year_key: str,
                              authors: object) -> Match:
        label = f"title '{title_key[:50]}'" + (f" + year {year_key}" if year_key else "")
        found = self._by_title.get((title_key, year_key))
        if not found or len(found) == 1:
            return self._one(found, label)
        words = author_words(authors)
        if words:
            narrowed = {u for u in found if self._author_words_of(u) & words}
            if narrowed:
                return self._one(narrowed, f"{label} + first author "
                                           f"{'/'.join(sorted(words))}")
        return self._one(found, label + (" (first author does not tell them apart)"
                                         if words else " (no first author to tell them "
                                                       "apart)"))

    def match(self, *, record_id: str | None = None, pmid: object = None, doi: object = None,
              accession: object = None, title: object = None, year: object = None,
              authors: object = None) -> Match:
        """The unique record for the first key that identifies exactly one record.

        Keys are tried in the order record id, PMID, DOI, accession, then title (narrowed by
        year and first author when several records share it). When no key identifies one
        record, the match fails with every key tried and, for an ambiguous key, the
        candidate records in ``candidates``.
        """
        if record_id:
            unique = self._by_record.get(record_id)
            return Match(unique, f"record_id {record_id}" if unique else
                         f"no record {record_id}")
        candidates = []
        pmid_key, doi_key, accession_key, title_key, year_key = lookup_keys(
            pmid, doi, accession, title, year)
        if pmid_key:
            candidates.append(self._one(self._by_pmid.get(pmid_key), f"PMID {pmid_key}"))
        if doi_key:
            candidates.append(self._one(self._by_doi.get(doi_key), f"DOI {doi_key}"))
        if accession_key:
            candidates.append(self._one(self._by_accession.get(accession_key),
                                        f"accession {accession_key}"))
        if title_key:
            candidates.append(self._by_title_year_author(title_key, year_key, authors))
        for candidate in candidates:
            if candidate.unique_record_id:
                return candidate
        reasons = [c.key for c in candidates]
        ambiguous = tuple(sorted({u for c in candidates for u in c.candidates}))
        return Match(None, "; ".join(reasons) or "no PMID, DOI, accession or title to match",
                     ambiguous)


def warn_ambiguous(decisions: pd.DataFrame) -> pd.DataFrame:
    """Log one warning listing every decision row whose keys matched several records (and
    no key matched one); return those rows. They stay unmatched: check_decisions reports
    them as errors, so no decision is silently given to one of the candidates."""
    rows = decisions[~decisions["unique_record_id"].astype(bool)
                     & decisions["match"].str.contains(" is ambiguous ", regex=False)]
    if not rows.empty:
        listing = "\n  ".join(f"{r.file}, line {r.line} ({r.record_id}): {r.match}"
                              for r in rows.itertuples(index=False))
        log.warning("%d decision %s several records and none was picked; give "
                    "a record_id, PMID or DOI for %s:\n  %s", len(rows),
                    "row matches" if len(rows) == 1 else "rows match",
                    "it" if len(rows) == 1 else "them", listing)
    return rows
