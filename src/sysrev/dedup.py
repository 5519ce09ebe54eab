"""Deduplication of the record table, with the reason and the evidence for every removal.

The method, in order:

1. **Normalise** every record once: title (case, diacritics, punctuation folded), author
   surnames (initials dropped, so ``Takeuchi T.`` and ``Takeuchi, Tsutomu`` agree), first
   author, year, journal, volume, first page, DOI, PMID, and markers of what *kind* of item
   it is (erratum or retraction, comment or reply, protocol, conference abstract) and the
   numbers in its title (``Part 1``, ``phase II``, ``5-year``).
2. **Candidate pairs by blocking**, never all pairs: records are sorted by several keys
   (DOI; PMID; first and last four title words; first author and year; year, volume and
   first page; first author and first page) and each record is compared with its
   :data:`WINDOW` nearest neighbours that share the key (sorted-neighbourhood blocking).
   Work therefore grows linearly with the number of records.
3. **Scores** (rapidfuzz, vectorised over all candidate pairs): title similarity (edit
   ratio; a truncated title that is a prefix of the other counts as equal), author
   similarity (token-set ratio of surnames), journal similarity (abbreviation-aware:
   ``Ann Rheum Dis`` = ``Annals of the Rheumatic Diseases``), and agreement of year,
   volume and first page.
4. **Decision** per pair: ``duplicate``, ``maybe`` (for a human) or ``distinct``. Pairs of
   different kinds (erratum and article, comment and article, protocol and results,
   conference abstract and journal paper), with different numbers in their titles (Part 1
   and Part 2), conflicting PMIDs or DOIs, or years more than one apart are *distinct* and
   also **may not end up in one cluster** through other links (cannot-link constraints).
5. **Clusters**: links are merged strongest first (reviewer overrides, DOI, PMID, identical
   title, scored links) with union-find, skipping any merge that would join a cannot-link
   pair. Reviewer overrides (``same`` / ``different``) come first and always win.
6. **Kept record**: an article before a related report, then the most complete record of
   each cluster (ties: source priority, then record id); :func:`unique_records` fills its
   empty fields from the others and names the record each filled value came from.
7. **Related reports** (:mod:`sysrev.dedup_related`): errata, corrections, retraction
   notices, expressions of concern, comments and replies are never merged with their
   article; each is linked to it (``related.tsv``: relation and evidence). With
   ``errata="duplicate"`` errata join their article's cluster instead (rule ``erratum``),
   as bib-dedupe counts them. A retracted article, or one under an expression of concern,
   carries that status into :func:`unique_records`' ``retraction`` column.

Conference abstracts (a conference journal or publication type, or a lettered page) and
records without a title are never linked on journal, volume and pages alone: several
abstracts share one supplement page range, and a record with no title links only by DOI or
PMID. Scores run on ``threads`` rapidfuzz workers.

Everything is deterministic: records are processed in record-id order and every sort is
stable, so two runs, or one run on shuffled input, give identical output.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from sysrev import dedup_related as related
from sysrev.columns import DEDUP_COLUMNS, DUPLICATE_COLUMNS, RECORD_COLUMNS
from sysrev.errors import InputErrors

log = logging.getLogger(__name__)

#: Fields counted when choosing the most complete record, and filled in from its duplicates.
COMPLETENESS_FIELDS = ("pmid", "doi", "title", "authors", "year", "journal", "volume",
                       "issue", "pages", "abstract", "publication_types", "language")

#: Titles shorter than this (after normalisation) are too generic to link records on by
#: title alone ("Erratum", "Editorial", "Reply").
MIN_TITLE_LENGTH = 25

#: Neighbours compared per record and blocking key (sorted-neighbourhood window).
WINDOW = 8

#: Score thresholds (0-100). A duplicate needs a near-identical title *and* corroboration.
TITLE_DUPLICATE = 93.0
TITLE_MAYBE = 80.0
AUTHOR_MATCH = 80.0
JOURNAL_MATCH = 80.0
#: Below this journal score (and neither name a word-prefix of the other) two venues differ.
JOURNAL_CONFLICT = 60.0

#: How errata count (``dedup.errata``): ``related`` (linked to their article in
#: ``related.tsv``, the default) or ``duplicate`` (merged into the article's cluster, as
#: bib-dedupe counts them). Retraction notices, expressions of concern, comments and replies
#: are always related reports.
ERRATA_MODES = ("related", "duplicate")

#: Largest issue number compared between records (see ``_prepare``).
MAX_ISSUE = 60

#: Pair decisions.
DUPLICATE, MAYBE, DISTINCT = "duplicate", "maybe", "distinct"

#: Columns of ``maybe.tsv``.
MAYBE_COLUMNS = ["record_id_a", "record_id_b", "reason", "title_score", "author_score",
                 "journal_score", "year_match", "volume_match", "pages_match", "title_a",
                 "title_b"]

#: Columns of the overrides file (``data/<review>/dedup/overrides.csv``).
OVERRIDE_COLUMNS = ["record_id_a", "record_id_b", "decision"]
OVERRIDE_OPTIONAL = ["note"]

SCORE_COLUMNS = ["linked_to", "title_score", "author_score", "journal_score", "year_match",
                 "volume_match", "pages_match"]

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_STOPWORDS = frozenset(
    "a an the of and or in on for to with by at from as is are be its into vs versus via "
    "und der die das le la les de des du el los".split())
_JOURNAL_STOP = frozenset("of the and in on for a an".split())
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8,
          "ix": 9, "x": 10}
_WORD_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "first": 1,
                 "second": 2, "third": 3, "fourth": 4}
_NUMBERED = frozenset("part phase type stage section chapter volume series trial study "
                      "wave report paper".split())
_ERRATUM = re.compile(
    r"^(erratum|errata|corrigendum|corrigenda|correction|corrections|retraction|retracted|"
    r"withdrawn|withdrawal|expression of concern|notice of (retraction|correction))\b"
    r"|\b(erratum|corrigendum|correction to|retraction of|retraction note|retracted article)\b")
_COMMENT = re.compile(
    r"^(re|comment|comments|commentary|reply|response|author reply|authors reply|in reply|"
    r"letter|editorial comment)\b"
    r"|\b(comment on|comments on|commentary on|reply to|response to|in response to|"
    r"letter to the editor|reply from the authors)\b")
_PROTOCOL = re.compile(r"\b(protocol|design and rationale|rationale and design)\b")
_CONFERENCE = re.compile(r"\b(conf|conference|congr|congress|meeting|symp|symposium|"
                         r"workshop|inproceedings|poster|conference abstract|"
                         r"meeting abstract)\b")
_FIRST_PAGE = re.compile(r"^\s*([a-z]?)0*(\d+)")
# Annotations databases append to titles: "[Review] [45 refs]", "[Erratum appears in …]",
# "(Provisional abstract)". They say nothing about which publication a record is.
_TITLE_NOTES = re.compile(
    r"\[(review|\d+\s*refs?|erratum|comment|retraction|see|published|update|corrected|"
    r"summary for patients|article in|english abstract)[^\]]*(\]|$)"
    r"|\((provisional|structured) abstract\)", re.IGNORECASE)
# "…Cancer : official journal of the International Gynecological Cancer Society": the
# society line PubMed's full journal titles carry says nothing about which journal it is.
_JOURNAL_SUBTITLE = re.compile(r"\s*:\s*(the\s+)?(official|an?\s+international|journal\s+"
                               r"of\s+the|organ\s+of|a\s+journal)\b.*$", re.IGNORECASE)
_FIRST_INT = re.compile(r"\d+")
_DIGITS = re.compile(r"\d+")
_PAGE_RANGE = re.compile(r"\d+\s*[-\u2013]\s*[a-z]?\d+", re.IGNORECASE)


# --------------------------------------------------------------------------- normalising

def normalise_title(title: object) -> str:
    """Lower case, diacritics removed, punctuation and spacing folded; other scripts kept."""
    if not isinstance(title, str) or not title.strip():
        return ""
    if title.isascii():  # nothing to decompose: skip the per-character pass
        return " ".join(_NON_WORD.sub(" ", title.casefold()).split())
    text = unicodedata.normalize("NFKD", title)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(_NON_WORD.sub(" ", text.casefold()).split())


def first_author_key(authors: object) -> str:
    """The first author's surname, normalised (``"Takeuchi, T"`` and ``"Takeuchi T"`` agree)."""
    if not isinstance(authors, str) or not authors.strip():
        return ""
    first = re.split(r";", authors)[0].strip()
    surname = first.split(",")[0] if "," in first else first.rsplit(" ", 1)[0]
    return normalise_title(surname)


def author_surnames(authors: object, limit: int = 12) -> str:
    """The first ``limit`` authors as normalised words without initials (one-letter words)."""
    if not isinstance(authors, str) or not authors.strip():
        return ""
    names = authors.split(";")[:limit]
    words = normalise_title(" ".join(names)).split()
    return " ".join(w for w in words if len(w) > 1 and w not in ("et", "al"))


def title_numbers(title: str) -> frozenset[int]:
    """Numbers in a normalised title: digits, and Roman or spelled numbers after
    ``part``/``phase``/``type``… (``part ii`` and ``part 2`` give the same number)."""
    # Digit runs with the spaces removed, so "10 000" = "10000" and "CO 2" = "CO2".
    out = {int(d) for d in _DIGITS.findall(title.replace(" ", ""))}
    words = title.split()
    for k, word in enumerate(words):
        if word in _ROMAN and (len(word) > 1 and word != "x" or
                                 k and words[k - 1] in _NUMBERED):
            out.add(_ROMAN[word])
        elif word in _WORD_NUMBERS and k and words[k - 1] in _NUMBERED:
            out.add(_WORD_NUMBERS[word])
    return frozenset(out)


def _kind_flags(title: str, pubtypes: str) -> int:
    """Bit flags: 1 erratum/retraction, 2 comment/reply/letter, 4 protocol."""
    flags = 0
    types = pubtypes.casefold()
    if _ERRATUM.search(title) or "erratum" in types or "retraction" in types:
        flags |= 1
    if _COMMENT.search(title) or "comment" in types:
        flags |= 2
    if _PROTOCOL.search(title):
        flags |= 4
    return flags


def _format(pubtypes: str, journal: str, first_page: str) -> int:
    """1 conference abstract/paper, 2 journal article with regular pages, 0 unknown.

    Only the publication type and the journal's name count as evidence of a conference
    item. A supplement volume or an "S" page does not: databases record the same abstract
    with and without them, so they would keep its copies apart.
    """
    if _CONFERENCE.search(normalise_title(f"{pubtypes} {journal}")):
        return 1
    return 2 if first_page and not first_page.startswith("s") else 0


def _text(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value).strip()


def _first_page(pages: str) -> str:
    m = _FIRST_PAGE.search(pages.casefold())
    return f"{m.group(1)}{m.group(2)}" if m else ""


def _single_page(range_key: str) -> bool:
    """``"2205-2205"`` (a range of one page)."""
    first, _, last = range_key.partition("-")
    return bool(first) and first.lstrip("abcdefghijklmnopqrstuvwxyz") == last


def _page_range_key(pages: str) -> str:
    """``"1099-1103"``, ``"1099-103"`` and ``"1099 - 1103"`` -> ``"1099-1103"``; else ``""``."""
    m = re.match(r"^\s*([a-z]?)0*(\d+)\s*[-\u2013]+\s*[a-z]?0*(\d+)", pages.casefold())
    if not m:
        return ""
    first, last = m.group(2), m.group(3)
    if len(last) < len(first):  # abbreviated end page
        last = first[:len(first) - len(last)] + last
    return f"{m.group(1)}{first}-{last}"


def _first_int(value: str) -> int:
    m = _FIRST_INT.search(value)
    return int(m.group(0)) if m else -1


def _normalise_doi(value: str) -> str:
    from urllib.parse import unquote

    from sysrev.imports.records import normalise_doi
    # Some databases export DOIs URL-encoded ("%28" for "(").
    return (normalise_doi(unquote(value)) or "") if value else ""


def _normalise_pmid(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    return digits.lstrip("0")


@dataclass
class _Prepared:
    """Normalised columns of the record table, as arrays in record-id order."""

    ids: np.ndarray
    title: list[str]
    authors: list[str]
    first_author: list[str]
    journal: list[str]
    year: np.ndarray
    volume: np.ndarray
    issue: np.ndarray
    page: list[str]
    page_number: np.ndarray
    page_range: np.ndarray
    pages_norm: list[str]
    doi: list[str]
    pmid: list[str]
    kind: np.ndarray
    fmt: np.ndarray
    numbers: list[frozenset]
    completeness: np.ndarray
    source: list[str]
    report: np.ndarray  # related-report kind ('' for an article), see dedup_related
    core: list[str]  # title without its related-report prefix
    raw_title: list[str]
    corrections: list[str]
    retraction: list[str]


def _prepare(records: pd.DataFrame, errata: str = "related") -> _Prepared:
    def col(name: str) -> list[str]:
        if name not in records.columns:
            return [""] * len(records)
        return [_text(v) for v in records[name].tolist()]

    raw_titles = col("title")
    # A publisher's "RETRACTED:" in front of an article's title is no part of the title.
    noted = [_TITLE_NOTES.sub(" ", related.strip_retracted_prefix(t)) for t in raw_titles]
    titles = [normalise_title(t) for t in noted]
    raw_authors = col("authors")
    pubtypes = col("publication_types")
    reports = np.array([related.report_kind(t, pt) for t, pt in zip(noted, pubtypes)],
                       dtype=object)
    cores = [related.split_report_title(n)[1] if k else t
             for n, k, t in zip(noted, reports, titles)]
    kinds = np.array([_kind_flags(t, p) for t, p in zip(titles, pubtypes)], dtype=np.int64)
    # What a title announces by prefix or suffix ("… AUTHORS REPLY") is a kind too; the
    # publication type alone is not (databases disagree on it for one item).
    title_kinds = np.array([related.title_report_kind(t) if k else "" for t, k in
                            zip(noted, reports)], dtype=object)
    kinds |= np.isin(title_kinds, (related.COMMENT, related.REPLY)).astype(np.int64) << 1
    kinds |= np.isin(title_kinds, (related.ERRATUM, related.RETRACTION,
                                   related.CONCERN)).astype(np.int64)
    if errata == "duplicate":
        # Errata may join their article's cluster (through the erratum links only).
        kinds = np.where(reports == related.ERRATUM, kinds & ~1, kinds)
    journals = col("journal")
    volumes = col("volume")
    raw_pages = col("pages")
    pages = [_first_page(p) for p in raw_pages]
    complete = np.zeros(len(records), dtype=np.int64)
    for name in COMPLETENESS_FIELDS:
        if name in records.columns:
            values = records[name]
            complete += (values.notna() & (values.astype(str).str.strip() != "")).to_numpy()
    return _Prepared(
        ids=records["record_id"].astype(str).to_numpy(),
        title=titles,
        authors=[author_surnames(a) for a in raw_authors],
        first_author=[first_author_key(a) for a in raw_authors],
        journal=[normalise_title(_JOURNAL_SUBTITLE.sub("", j)) for j in journals],
        year=np.array([_first_int(y) if re.search(r"\d{4}", y) else -1 for y in col("year")],
                      dtype=np.int64),
        volume=np.array([_first_int(v) for v in volumes], dtype=np.int64),
        # Issue numbers above MAX_ISSUE are not compared: some exports put a record number
        # in the issue field, and running issue numbers (weekly journals) rarely help.
        issue=np.array([i if 0 <= i <= MAX_ISSUE else -1 for i in
                        (_first_int(v) for v in col("issue"))], dtype=np.int64),
        page=pages,
        page_number=np.array([int(p.lstrip("abcdefghijklmnopqrstuvwxyz") or -1)
                              if p else -1 for p in pages], dtype=np.int64),
        page_range=np.array([bool(_PAGE_RANGE.search(p)) for p in raw_pages], dtype=bool),
        pages_norm=[_page_range_key(p) for p in raw_pages],
        doi=[_normalise_doi(d) for d in col("doi")],
        pmid=[_normalise_pmid(p) for p in col("pmid")],
        kind=kinds,
        fmt=np.array([_format(p, j, pg) for p, j, pg in zip(pubtypes, journals, pages)],
                     dtype=np.int64),
        numbers=[title_numbers(c) for c in cores],
        completeness=complete,
        source=col("source"),
        report=reports,
        core=cores,
        raw_title=raw_titles,
        corrections=col("comments_corrections"),
        retraction=col("retraction"),
    )


# ----------------------------------------------------------------------------- blocking

def _codes(keys: Sequence[str]) -> np.ndarray:
    """Integer code per key; -1 where the key is empty."""
    codes, uniques = pd.factorize(pd.Series(list(keys), dtype=object), sort=True)
    codes = codes.astype(np.int64)
    if len(uniques):
        empty = np.nonzero(np.asarray(uniques, dtype=object) == "")[0]
        if len(empty):
            codes[codes == empty[0]] = -1
    return codes


def _window_pairs(codes: np.ndarray, rank: np.ndarray, window: int) -> np.ndarray:
    """Pairs of records that share a code and are within ``window`` of each other when
    sorted by (code, rank)."""
    idx = np.nonzero(codes >= 0)[0]
    if len(idx) < 2:
        return np.empty((0, 2), dtype=np.int64)
    order = idx[np.lexsort((rank[idx], codes[idx]))]
    sorted_codes = codes[order]
    chunks = []
    for w in range(1, min(window, len(order) - 1) + 1):
        same = sorted_codes[w:] == sorted_codes[:-w]
        if not same.any():
            break
        a, b = order[:-w][same], order[w:][same]
        chunks.append(np.stack([np.minimum(a, b), np.maximum(a, b)], axis=1))
    return np.concatenate(chunks) if chunks else np.empty((0, 2), dtype=np.int64)


def _blocking_keys(p: _Prepared) -> dict[str, list[str]]:
    words = [[w for w in t.split() if w not in _STOPWORDS] for t in p.title]
    year = [str(y) if y >= 0 else "" for y in p.year]
    vol = [str(v) if v >= 0 else "" for v in p.volume]
    # A related report's title without its prefix ("Erratum:") starts like its article's.
    core_words = [[w for w in c.split() if w not in _STOPWORDS] if k else []
                  for c, k in zip(p.core, p.report)]
    return {
        "doi": p.doi,
        "pmid": p.pmid,
        "title_start": [" ".join(w[:4]) if len(w) >= 3 else "" for w in words],
        "core_start": [" ".join(c[:4]) if len(c) >= 3 else " ".join(w[:4]) if len(w) >= 3
                       else "" for w, c in zip(words, core_words)],
        "title_end": [" ".join(w[-4:]) if len(w) >= 5 else "" for w in words],
        "author_year": [f"{a}|{y}" if a and y else "" for a, y in zip(p.first_author, year)],
        "year_volume_page": [f"{y}|{v}|{pg}" if y and v and pg else ""
                             for y, v, pg in zip(year, vol, p.page)],
        "author_page": [f"{a}|{pg}" if a and pg else ""
                        for a, pg in zip(p.first_author, p.page)],
    }


def candidate_pairs(p: _Prepared, window: int = WINDOW) -> np.ndarray:
    """Unique candidate pairs ``(i, j)``, ``i < j``, from all blocking keys."""
    n = len(p.ids)
    rank = np.argsort(np.argsort(np.asarray(p.title, dtype=object), kind="stable"),
                      kind="stable").astype(np.int64)
    chunks = [_window_pairs(_codes(keys), rank, window)
              for keys in _blocking_keys(p).values()]
    pairs = np.concatenate(chunks) if chunks else np.empty((0, 2), dtype=np.int64)
    if not len(pairs):
        return pairs
    keys = np.unique(pairs[:, 0] * n + pairs[:, 1])
    return np.stack([keys // n, keys % n], axis=1)


# ------------------------------------------------------------------------------ scoring

_JOURNAL_CACHE: dict[tuple[str, str], float] = {}


def _is_abbreviation(short: list[str], full: list[str]) -> bool:
    """Each word of ``short`` starts a later word of ``full``, in order, and every word of
    ``full`` left out is short (so ``Ann Rheum Dis`` abbreviates ``Annals of the Rheumatic
    Diseases`` but ``Arthritis`` does not abbreviate ``Arthritis Research Therapy``)."""
    k = 0
    skipped = 0
    for word in short:
        while k < len(full) and not full[k].startswith(word):
            skipped += 1
            k += 1
        if k == len(full):
            return False
        k += 1
    skipped += len(full) - k
    return skipped == 0


_POPULATIONS = (
    (frozenset("children child paediatric pediatric adolescents adolescent infants infant "
               "neonates neonatal newborns".split()), frozenset("adult adults".split())),
    (frozenset("men male males".split()), frozenset("women female females".split())),
)


def _population_conflict(a: str, b: str) -> bool:
    """One title names a population the other replaces by its counterpart."""
    wa, wb = set(a.split()), set(b.split())
    for x, y in _POPULATIONS:
        if (wa & x and wb & y and not wa & y and not wb & x) or \
                (wa & y and wb & x and not wa & x and not wb & y):
            return True
    return False


def _journal_prefix(a: str, b: str) -> bool:
    """One normalised journal name is the other's first words (a supplement's name)."""
    wa, wb = a.split(), b.split()
    short, long_ = (wa, wb) if len(wa) <= len(wb) else (wb, wa)
    return bool(short) and long_[:len(short)] == short


def journal_score(a: str, b: str) -> float:
    """Similarity of two normalised journal names (0-100), abbreviations counted as equal."""
    if a == b:
        return 100.0
    key = (a, b) if a < b else (b, a)
    cached = _JOURNAL_CACHE.get(key)
    if cached is not None:
        return cached
    wa = [w for w in a.split() if w not in _JOURNAL_STOP]
    wb = [w for w in b.split() if w not in _JOURNAL_STOP]
    if wa == wb or (wa and wb and (_is_abbreviation(wa, wb) or _is_abbreviation(wb, wa))):
        score = 100.0
    else:
        score = float(fuzz.token_sort_ratio(" ".join(wa), " ".join(wb)))
    if len(_JOURNAL_CACHE) < 1_000_000:
        _JOURNAL_CACHE[key] = score
    return score


@dataclass
class PairScores:
    """Scores and decisions of the candidate pairs (parallel arrays)."""

    a: np.ndarray
    b: np.ndarray
    title: np.ndarray
    author: np.ndarray
    journal: np.ndarray
    year: np.ndarray  # 0 same, 1 one apart, 2 further, -1 missing
    volume: np.ndarray  # 0 same, 2 different, -1 missing
    pages: np.ndarray
    decision: np.ndarray
    rule: np.ndarray
    cannot_link: np.ndarray
    reason: np.ndarray
    erratum: np.ndarray  # 1: a is an unmarked erratum of b, 2: b of a, 0: neither


def _agreement(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = np.where(x == y, 0, 2)
    return np.where((x < 0) | (y < 0), -1, out)


def score_pairs(p: _Prepared, pairs: np.ndarray, threads: int = 1) -> PairScores:
    """Score every candidate pair and decide duplicate / maybe / distinct, with rapidfuzz
    on ``threads`` worker threads."""
    a, b = pairs[:, 0], pairs[:, 1]
    m = len(a)
    # Related reports are compared by their title without the prefix or citation, so two
    # databases' copies of one erratum ("Erratum: X", "X (vol 360, pg 542, 2009)") agree;
    # a report and its article stay apart by their kinds.
    titles = np.asarray(p.core, dtype=object)
    authors = np.asarray(p.authors, dtype=object)
    ta, tb = titles[a], titles[b]
    title = process.cpdist(ta, tb, scorer=fuzz.ratio, workers=threads).astype(np.float64) \
        if m else np.zeros(0)
    la = np.fromiter((len(t) for t in ta), dtype=np.int64, count=m)
    lb = np.fromiter((len(t) for t in tb), dtype=np.int64, count=m)
    no_title = (la == 0) | (lb == 0)
    # A title cut short by a database (field length limits) is a prefix of the full one.
    maybe_truncated = np.nonzero((title < 100) & (np.minimum(la, lb) >= 40))[0]
    truncated = np.zeros(m, dtype=bool)
    for k in maybe_truncated:
        s, t = (ta[k], tb[k]) if la[k] <= lb[k] else (tb[k], ta[k])
        if t.startswith(s):
            truncated[k] = True
    title = np.where(truncated, 100.0, title)
    title = np.where(no_title, np.nan, title)

    aa, ab = authors[a], authors[b]
    author = process.cpdist(aa, ab, scorer=fuzz.token_set_ratio, workers=threads).astype(
        np.float64) if m else np.zeros(0)
    no_author = np.fromiter((not x or not y for x, y in zip(aa, ab)), dtype=bool, count=m)
    author = np.where(no_author, np.nan, author)

    journals = np.asarray(p.journal, dtype=object)
    ja, jb = journals[a], journals[b]
    journal = np.full(m, np.nan)
    # Journal names are compared only where they can change the decision.
    same_place = (p.year[a] == p.year[b]) & (p.volume[a] == p.volume[b]) & \
        (p.page_number[a] == p.page_number[b]) & (p.page_number[a] >= 0)
    need = np.nonzero(~(title < TITLE_MAYBE) | np.isnan(title) | same_place)[0]
    for k in need:
        if ja[k] and jb[k]:
            journal[k] = journal_score(ja[k], jb[k])

    year_gap = np.abs(p.year[a] - p.year[b])
    year = np.where((p.year[a] < 0) | (p.year[b] < 0), -1,
                    np.where(year_gap == 0, 0, np.where(year_gap == 1, 1, 2)))
    volume = _agreement(p.volume[a], p.volume[b])
    pages = _agreement(p.page_number[a], p.page_number[b])
    # First pages that differ under one last page ("2141-2147" / "2142-2147") are a typo.
    range_keys = np.asarray(p.pages_norm, dtype=object)
    last_a = np.asarray([r.partition("-")[2] for r in range_keys[a]], dtype=object)
    last_b = np.asarray([r.partition("-")[2] for r in range_keys[b]], dtype=object)
    same_last = (last_a != "") & (last_a == last_b)
    pages = np.where((pages == 2) & same_last, 0, pages)

    doi = np.asarray(p.doi, dtype=object)
    pmid = np.asarray(p.pmid, dtype=object)
    da, db, pa, pb = doi[a], doi[b], pmid[a], pmid[b]
    doi_present = (da != "") & (db != "")
    pmid_present = (pa != "") & (pb != "")
    same_doi = doi_present & (da == db)
    same_pmid = pmid_present & (pa == pb)
    doi_conflict = doi_present & (da != db)
    pmid_conflict = pmid_present & (pa != pb)

    kind_conflict = p.kind[a] != p.kind[b]
    format_conflict = ((p.fmt[a] == 1) & (p.fmt[b] == 2)) | ((p.fmt[a] == 2) & (p.fmt[b] == 1))
    # "Pediatric Nephrology.Conference: …" is that journal's supplement: the abstract and
    # a "Pediatric Nephrology" record may be one item, so other fields decide.
    prefix = np.zeros(m, dtype=bool)
    for k in np.nonzero(format_conflict | (~np.isnan(journal) & (journal < JOURNAL_CONFLICT))
                        )[0]:
        prefix[k] = _journal_prefix(ja[k], jb[k])
    format_conflict &= ~prefix
    # Two venues that are plainly not one journal, in different years: a paper presented at
    # two conferences, or an abstract and the later article, are two records.
    journal_conflict = ~np.isnan(journal) & (journal < JOURNAL_CONFLICT) & ~prefix
    issue = _agreement(p.issue[a], p.issue[b])
    numbers = np.asarray(p.numbers, dtype=object)
    number_conflict = np.zeros(m, dtype=bool)
    for k in np.nonzero(numbers[a] != numbers[b])[0]:
        na, nb = numbers[a[k]], numbers[b[k]]
        if truncated[k]:
            short = ta[k] if la[k] <= lb[k] else tb[k]
            longer_prefix = (tb[k] if la[k] <= lb[k] else ta[k])[:len(short)]
            na, nb = title_numbers(short), title_numbers(longer_prefix)
        # Numbers are compared between similar titles only: between a title and its
        # translation the other fields decide.
        number_conflict[k] = na != nb and not no_title[k] and title[k] >= TITLE_MAYBE
    # Titles that differ in the population they study (children / adults, men / women).
    for k in np.nonzero(~number_conflict & (title >= TITLE_MAYBE) & (title < 100))[0]:
        number_conflict[k] = _population_conflict(ta[k], tb[k])

    first_a = np.asarray(p.first_author, dtype=object)
    same_first = (first_a[a] == first_a[b]) & (first_a[a] != "")
    author_ok = np.isnan(author) | (author >= AUTHOR_MATCH)
    author_match = ~np.isnan(author) & (author >= AUTHOR_MATCH)
    journal_match = ~np.isnan(journal) & (journal >= JOURNAL_MATCH)
    short_title = np.minimum(la, lb) < MIN_TITLE_LENGTH
    volume_eq, page_eq = volume == 0, pages == 0
    # Different issues of one volume, where the pages do not agree: a recurring column
    # ("Editor's Comments") or the article and its erratum in a later issue. Where the
    # pages agree the issue field is not trusted (some exports put a record number there).
    # Two conference papers of one title at two venues in two years: two presentations.
    venues = (p.fmt[a] == 1) & (p.fmt[b] == 1) & ~np.isnan(journal) & \
        (journal < JOURNAL_MATCH) & ~prefix & (year != 0)
    soft_conflict = (volume == 2) | (pages == 2) | (year == 2) | \
        ((issue == 2) & (pages != 0)) | (journal_conflict & (year != 0)) | venues

    # An identifier links two records only when their titles agree too: publishers give
    # one DOI to a whole supplement of conference abstracts, and databases copy DOIs and
    # PMIDs onto the wrong record.
    # (A PMID is never shared by a supplement, so for PMIDs a weaker title agreement will do.)
    ident_title_ok = no_title | (title >= TITLE_MAYBE) | (same_pmid & (title >= 50))
    for k in np.nonzero((same_doi | same_pmid) & ~ident_title_ok)[0]:
        s_, t_ = (ta[k], tb[k]) if la[k] <= lb[k] else (tb[k], ta[k])
        ident_title_ok[k] = len(s_) >= MIN_TITLE_LENGTH and t_.startswith(s_)
    # Different first pages under one DOI: two abstracts of one supplement, as a rule.
    ident_link = (same_doi | same_pmid) & ~kind_conflict & ~pmid_conflict & ident_title_ok \
        & ~(same_doi & ~same_pmid & (pages == 2))
    # Cannot-link: evidence that two records are different items, whatever else agrees.
    shared_identifier = (same_doi | same_pmid) & (title < 60) & ~author_match
    hard_ids = kind_conflict | pmid_conflict | (doi_conflict & ~same_pmid) | shared_identifier
    hard = hard_ids | ~ident_link & (format_conflict | number_conflict | (year == 2))

    decision = np.full(m, DISTINCT, dtype=object)
    rule = np.full(m, "", dtype=object)

    dup_doi = ident_link & same_doi & ident_title_ok
    dup_pmid = ident_link & same_pmid & ~dup_doi & ident_title_ok
    # A volume conflict alone does not part records with one long title, first author,
    # year, journal and first page: databases put the supplement or issue number in the
    # volume field ("1)" for "Suppl 1)").
    volume_only = (volume == 2) & (pages == 0) & (year == 0) & same_first & \
        (np.isnan(journal) | journal_match)
    exact_title = (title == 100) & ~truncated & ~short_title & ~hard & \
        (~soft_conflict | (volume_only & ~(year == 2) & ~(pages == 2))) & \
        (year != 1) & (same_first | (first_a[a] == "") | (first_a[b] == "")) & \
        ~doi_conflict & ~pmid_conflict
    corroborated = author_match | page_eq | (volume_eq & journal_match) | \
        (np.isnan(author) & journal_match & (year == 0))
    fuzzy = ~hard & ~soft_conflict & ~short_title & (title >= TITLE_DUPLICATE) & \
        author_ok & corroborated
    # The same authors, year, journal, volume and first page: one article whatever its title
    # (translated titles, titles with typos in many words).
    # Page *ranges* only: abstracts on one supplement page share their single page. Not
    # for conference abstracts (several share a supplement page range) unless they share
    # the DOI and the whole page range too, nor for a record without a title (one with no
    # title links by DOI or PMID only).
    page_letter = np.asarray([pg[:1].isalpha() for pg in p.page], dtype=bool)
    conference = (p.fmt[a] == 1) | (p.fmt[b] == 1) | page_letter[a] | page_letter[b]
    # Identical page ranges outweigh different numbers in the titles (a typo, "p6INK4a" for
    # "p16INK4a"): Part 1 and Part 2 are never on the same pages.
    same_range = np.asarray(p.pages_norm, dtype=object)
    same_range = (same_range[a] == same_range[b]) & p.page_range[a] & p.page_range[b]
    bib_hard = hard_ids | ~ident_link & (format_conflict | (year == 2) |
                                         (number_conflict & ~same_range))
    bibliographic = ~bib_hard & (year == 0) & volume_eq & page_eq & journal_match & \
        (issue != 2) & \
        same_first & author_match & ~doi_conflict & p.page_range[a] & p.page_range[b] & \
        ~no_title & (~conference | (same_doi & same_range))
    # The same title in the same journal, year, volume and first page is one article even
    # when the author lists disagree (given names and surnames swapped, "Tong H" / "Hua T"),
    # unless the two are conference abstracts: then differing authors mean two abstracts.
    bibliographic |= ~hard & ~short_title & (title >= TITLE_DUPLICATE) & (year == 0) & \
        volume_eq & page_eq & journal_match & ~doi_conflict & ~(conference & ~author_ok) & \
        (issue != 2)
    # Page numbers are the field databases garble most ("314-320" / "t-20"); a conflict of
    # pages alone does not keep apart records that agree on everything else.
    # An erratum printed under its article's title: the same title, first author, journal
    # and volume, on a single page outside the article's page range. Never merged by the
    # garbled-pages rule; linked to the article as an erratum (page evidence).
    # (Electronic locators such as "e12724" or "a1754" are not single pages.)
    single = (np.asarray([_single_page(r) for r in p.pages_norm], dtype=bool) |
              ((p.page_number >= 0) & ~p.page_range)) & ~page_letter
    outside = np.zeros(m, dtype=bool)
    for k in np.nonzero((single[a] ^ single[b]) & (pages == 2))[0]:
        s_, r_ = (a[k], b[k]) if single[a[k]] else (b[k], a[k])
        first, _, last = p.pages_norm[r_].partition("-")
        page = p.page_number[s_]
        outside[k] = bool(last) and not (int(first.lstrip("abcdefghijklmnopqrstuvwxyz"))
                                          <= page <= int(last))
    unmarked_erratum = (title >= TITLE_DUPLICATE) & ~short_title & same_first & \
        volume_eq & journal_match & (pages == 2) & (year >= 0) & (year <= 1) & \
        (p.kind[a] == 0) & (p.kind[b] == 0) & ~(same_doi | same_pmid) & outside
    fuzzy |= ~hard & ~short_title & (title == 100) & ~truncated & (pages == 2) & (year == 0) & \
        (issue != 2) & ~unmarked_erratum & \
        volume_eq & journal_match & ~np.isnan(author) & (author >= 95) & ~doi_conflict

    for mask, name in ((dup_doi, "doi"), (dup_pmid, "pmid"),
                       (exact_title & ~dup_doi & ~dup_pmid, "title_year_author")):
        free = mask & (rule == "")
        decision[free], rule[free] = DUPLICATE, name
    free = fuzzy & (rule == "")
    decision[free], rule[free] = DUPLICATE, "fuzzy"
    free = bibliographic & (rule == "")
    decision[free], rule[free] = DUPLICATE, "bibliographic"

    maybe = (rule == "") & ~hard & (
        (title >= TITLE_MAYBE) & (author_ok | journal_match) |
        (same_first & (year <= 1) & (year >= 0) & volume_eq & page_eq) |
        ((same_doi | same_pmid) & ~ident_title_ok))
    maybe |= (rule == "") & doi_conflict & ~kind_conflict & ~pmid_conflict & \
        (title >= 98) & author_match & (year == 0) & ~(volume == 2) & ~(pages == 2)
    decision[maybe] = MAYBE

    # Reasons as bit flags (rendered to text only for the pairs that are reported).
    reason = np.zeros(m, dtype=np.int64)
    for bit, mask in enumerate((kind_conflict, pmid_conflict, doi_conflict, format_conflict,
                                number_conflict, year == 2, volume == 2, pages == 2,
                                year == 1, short_title, title < TITLE_DUPLICATE,
                                ~author_ok)):
        reason |= mask.astype(np.int64) << bit
    reason[decision == DUPLICATE] = 0
    return PairScores(a=a, b=b, title=title, author=author, journal=journal, year=year,
                      volume=volume, pages=pages, decision=decision, rule=rule,
                      cannot_link=hard & (decision != DUPLICATE), reason=reason,
                      erratum=np.where(unmarked_erratum & (decision != DUPLICATE),
                                       np.where(single[a], 1, 2), 0))


# ---------------------------------------------------------------------------- overrides

def load_overrides(path: str | Path | None, record_ids: Iterable[str]) -> pd.DataFrame:
    """Read a reviewer's overrides: ``record_id_a, record_id_b, decision[, note]`` with
    decision ``same`` or ``different``. A missing path (or ``None``) means no overrides.

    Raises
    ------
    InputErrors
        Listing every row with an unknown record id, an unknown decision, a record paired
        with itself, or a pair given twice with different decisions.
    """
    empty = pd.DataFrame(columns=OVERRIDE_COLUMNS + OVERRIDE_OPTIONAL)
    if path is None or not Path(path).is_file():
        return empty
    from sysrev.csvtables import LINE, load_csv

    table = load_csv(path, required=OVERRIDE_COLUMNS, optional=OVERRIDE_OPTIONAL)
    known = set(record_ids)
    problems = []
    seen: dict[tuple[str, str], tuple[str, int]] = {}
    for record in table.to_dict("records"):
        row = pd.Series(record)
        line = record[LINE]
        for column in ("record_id_a", "record_id_b"):
            value = record[column]
            if value not in known:
                problems.append(f"line {line}, column {column}: record id '{value}' is not "
                                "in the record table")
        if row.decision not in ("same", "different"):
            problems.append(f"line {line}, column decision: '{row.decision}' is not 'same' "
                            "or 'different'")
        if row.record_id_a == row.record_id_b:
            problems.append(f"line {line}: a record paired with itself "
                            f"('{row.record_id_a}')")
        pair = tuple(sorted((row.record_id_a, row.record_id_b)))
        if pair in seen and seen[pair][0] != row.decision:
            problems.append(f"line {line}: pair {pair[0]} / {pair[1]} is '{row.decision}' "
                            f"here but '{seen[pair][0]}' on line {seen[pair][1]}")
        seen.setdefault(pair, (row.decision, line))
    if problems:
        raise InputErrors(path, problems)
    return table.loc[:, OVERRIDE_COLUMNS + OVERRIDE_OPTIONAL].reset_index(drop=True)


# ----------------------------------------------------------------------------- clusters

class _Clusters:
    """Union-find with cannot-link constraints between clusters."""

    def __init__(self, n: int):
        self.parent = np.arange(n)
        self.cannot: dict[int, set[int]] = {}

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return int(root)

    def forbid(self, x: int, y: int) -> None:
        rx, ry = self.find(x), self.find(y)
        if rx != ry:
            self.cannot.setdefault(rx, set()).add(ry)
            self.cannot.setdefault(ry, set()).add(rx)

    def union(self, x: int, y: int) -> bool:
        """Merge unless forbidden; True when the two are now in one cluster."""
        rx, ry = self.find(x), self.find(y)
        if rx == ry:
            return True
        cx, cy = self.cannot.get(rx, set()), self.cannot.get(ry, set())
        if ry in cx:
            return False
        keep, gone = (rx, ry) if rx < ry else (ry, rx)
        self.parent[gone] = keep
        merged = cx | cy
        merged.discard(rx)
        merged.discard(ry)
        self.cannot.pop(gone, None)
        if merged:
            self.cannot[keep] = merged
            for other in merged:
                peers = self.cannot[other]
                peers.discard(gone)
                peers.add(keep)
        else:
            self.cannot.pop(keep, None)
        return True


_RULE_ORDER = {"override": 0, "doi": 1, "pmid": 2, "title_year_author": 3, "fuzzy": 4,
               "bibliographic": 5, "erratum": 6}


@dataclass
class DedupResult:
    """Everything deduplication found: one row per record, the scored candidate pairs and
    the pairs left for a human."""

    clusters: pd.DataFrame
    pairs: pd.DataFrame
    maybe: pd.DataFrame
    counts: dict = field(default_factory=dict)
    related: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=related.RELATED_COLUMNS))


_REASONS = ("different kinds (erratum/comment/protocol)", "different PMIDs", "different DOIs",
            "conference abstract vs journal article", "different numbers in title",
            "years more than one apart", "different volumes", "different pages",
            "years one apart", "short title", "titles differ", "authors differ")


def _reason_text(flags: int) -> str:
    return "; ".join(text for bit, text in enumerate(_REASONS) if flags >> bit & 1)


def _fmt_match(code: int) -> str:
    return {0: "same", 1: "one apart", 2: "different", -1: ""}[int(code)]


def find_duplicates(records: pd.DataFrame, source_priority: Sequence[str] = ("pubmed",),
                    overrides: pd.DataFrame | None = None,
                    window: int = WINDOW, errata: str = "related",
                    threads: int = 1) -> DedupResult:
    """Deduplicate ``records`` and return clusters, scored pairs, ``maybe`` pairs and the
    related reports (errata, retraction notices, comments, replies) linked to their article.

    See the module docstring for the method and :func:`deduplicate` for the parameters.
    """
    if records["record_id"].duplicated().any():
        raise ValueError("record ids must be unique before deduplication")
    if errata not in ERRATA_MODES:
        raise ValueError(f"errata must be one of {ERRATA_MODES}, not '{errata}'")
    threads = max(1, int(threads))
    work = records.sort_values("record_id", kind="mergesort").reset_index(drop=True)
    prep = _prepare(work, errata)
    n = len(work)
    pairs = candidate_pairs(prep, window)
    scores = score_pairs(prep, pairs, threads)
    log.info("deduplicate: %d records, %d candidate pairs, %d threads", n, len(pairs),
             threads)
    links_related = related.find_related(
        prep.ids, prep.report, prep.core, prep.title, pairs, doi=prep.doi, pmid=prep.pmid,
        journal_match=lambda i, j: bool(prep.journal[i] and prep.journal[j]) and
        journal_score(prep.journal[i], prep.journal[j]) == 100, year=prep.year,
        volume=prep.volume, first_page=prep.page_number, raw_titles=prep.raw_title,
        corrections=prep.corrections, threads=threads)
    unmarked = []
    for k in np.nonzero(scores.erratum)[0]:
        r, t = (int(scores.a[k]), int(scores.b[k])) if scores.erratum[k] == 1 else \
            (int(scores.b[k]), int(scores.a[k]))
        unmarked.append((r, t, related.ERRATUM, f"same title, first author, journal and "
                         f"volume; single page {prep.page[r]} outside the article's pages "
                         f"{prep.page[t]}", 3))
    if unmarked:
        links_related = pd.concat([links_related, pd.DataFrame(
            unmarked, columns=links_related.columns)], ignore_index=True)
    erratum_links = links_related[links_related["relation"] == related.ERRATUM] \
        if errata == "duplicate" else links_related.iloc[:0]
    erratum_pairs = {(min(r, t), max(r, t)) for r, t in
                     zip(erratum_links["report"], erratum_links["article"])}

    index = {rid: i for i, rid in enumerate(prep.ids)}
    clusters = _Clusters(n)
    accepted: list[tuple[int, int, str, str, int]] = []  # (i, j, rule, detail, pair)
    forced_apart: set[tuple[int, int]] = set()
    # Reviewer overrides first: 'different' constrains every later merge, and 'same' is
    # merged before any automatic cannot-link exists, so only 'different' can refuse it.
    rows_by_decision = [] if overrides is None else sorted(
        overrides.itertuples(index=False), key=lambda r: r.decision != "different")
    for row in rows_by_decision:
        i, j = sorted((index[row.record_id_a], index[row.record_id_b]))
        if row.decision == "different":
            clusters.forbid(i, j)
            forced_apart.add((i, j))
        else:
            note = _text(getattr(row, "note", ""))
            if clusters.union(i, j):
                accepted.append((i, j, "override",
                                 "reviewer: same" + (f" ({note})" if note else ""), -1))
            else:
                log.warning("override 'same' %s / %s conflicts with a 'different' override; "
                            "not applied", row.record_id_a, row.record_id_b)
    both_errata = (prep.report[scores.a] == related.ERRATUM) & \
        (prep.report[scores.b] == related.ERRATUM) if errata == "duplicate" else \
        np.zeros(len(scores.a), dtype=bool)
    for k in np.nonzero(scores.cannot_link & ~both_errata)[0]:
        # errata = duplicate: an erratum may join its article, and two errata of one
        # article then share its cluster.
        if (int(scores.a[k]), int(scores.b[k])) not in erratum_pairs:
            clusters.forbid(int(scores.a[k]), int(scores.b[k]))
    links = []
    erratum_detail: list[str] = []
    for k in np.nonzero(scores.decision == DUPLICATE)[0]:
        i, j = int(scores.a[k]), int(scores.b[k])
        if (i, j) not in forced_apart:
            title = scores.title[k]
            links.append((_RULE_ORDER[scores.rule[k]], -(101.0 if np.isnan(title) else title),
                          i, j, int(k)))
    # errata = duplicate: an erratum joins its article's cluster, after every other link.
    for row in erratum_links.itertuples(index=False):
        i, j = sorted((int(row.report), int(row.article)))
        if (i, j) not in forced_apart:
            links.append((_RULE_ORDER["erratum"], -float(3 - row.strength), i, j,
                          -1 - len(erratum_detail)))
            erratum_detail.append(f"erratum: {row.evidence}")
    # Strongest evidence first; within a rule, the most similar titles first.
    links.sort()
    for _, _, i, j, k in links:
        if clusters.union(i, j):
            if k < 0:
                accepted.append((i, j, "erratum", erratum_detail[-1 - k], -1))
                continue
            rule = scores.rule[k]
            accepted.append((i, j, rule, _detail(prep, scores, k, rule), k))

    roots = np.fromiter((clusters.find(i) for i in range(n)), dtype=np.int64, count=n)
    # Kept record per cluster: most complete, then preferred source, then record id (the
    # rows are in record-id order, so a stable sort leaves ties in that order).
    # An article is kept before an erratum merged into its cluster.
    priority = {s: r for r, s in enumerate(source_priority)}
    rank = np.fromiter((priority.get(src, len(priority)) for src in prep.source),
                       dtype=np.int64, count=n)
    is_report = (prep.report != "").astype(np.int64)
    order = np.lexsort((np.arange(n), rank, -prep.completeness, is_report, roots))
    first = np.ones(n, dtype=bool)
    first[1:] = roots[order[1:]] != roots[order[:-1]]
    kept_of_root = dict(zip(roots[order[first]].tolist(), order[first].tolist()))
    kept = np.fromiter((kept_of_root[r] for r in roots.tolist()), dtype=np.int64, count=n)

    # Each removed record is reported with the link that first reaches it breadth-first
    # from the kept record: the most direct evidence available.
    adjacency: dict[int, list[tuple[int, str, str, int]]] = defaultdict(list)
    for i, j, rule, detail, k in accepted:
        adjacency[i].append((j, rule, detail, k))
        adjacency[j].append((i, rule, detail, k))
    via: dict[int, tuple[int, str, str, int]] = {}
    for start in sorted({int(kept[i]) for i in adjacency}):
        queue, seen = deque([start]), {start}
        while queue:
            current = queue.popleft()
            for other, rule, detail, k in sorted(adjacency[current],
                                                 key=lambda e: (_RULE_ORDER[e[1]],
                                                                prep.ids[e[0]])):
                if other not in seen:
                    seen.add(other)
                    via[other] = (current, rule, detail, k)
                    queue.append(other)
    linked = np.array(sorted(via), dtype=np.int64)
    rule_col = np.full(n, "", dtype=object)
    detail_col = np.full(n, "", dtype=object)
    linked_col = np.full(n, "", dtype=object)
    pair_of = np.full(n, -1, dtype=np.int64)
    for i in linked.tolist():
        current, rule, detail, k = via[i]
        rule_col[i], detail_col[i], linked_col[i], pair_of[i] = rule, detail, \
            prep.ids[current], k
    has = pair_of >= 0
    kk = np.where(has, pair_of, 0)

    def scored(values: np.ndarray) -> np.ndarray:
        out = np.full(n, np.nan)
        if len(values):
            out[has] = np.round(values[kk[has]], 1)
        return out

    def matched(values: np.ndarray) -> list[str]:
        return [_fmt_match(values[k]) if h else "" for k, h in zip(kk.tolist(),
                                                                    has.tolist())]

    result = pd.DataFrame({
        "record_id": prep.ids, "cluster_id": prep.ids[kept], "kept": kept == np.arange(n),
        "kept_record_id": prep.ids[kept], "rule": rule_col, "detail": detail_col,
        "linked_to": linked_col, "title_score": scored(scores.title),
        "author_score": scored(scores.author), "journal_score": scored(scores.journal),
        "year_match": matched(scores.year), "volume_match": matched(scores.volume),
        "pages_match": matched(scores.pages)}, columns=DEDUP_COLUMNS)

    # Pairs reported: duplicates and maybes (distinct pairs are the bulk and say little).
    pair_table = _pair_table(prep, scores, scores.decision != DISTINCT)
    cluster_of = dict(zip(prep.ids, roots))
    maybe = pair_table[(pair_table["decision"] == MAYBE)
                       & (pair_table["record_id_a"].map(cluster_of)
                          != pair_table["record_id_b"].map(cluster_of))]
    maybe = maybe.assign(title_a=[work["title"].iat[index[r]] for r in maybe["record_id_a"]],
                         title_b=[work["title"].iat[index[r]] for r in maybe["record_id_b"]])
    maybe = maybe.loc[:, MAYBE_COLUMNS].reset_index(drop=True)
    related_table = _related_table(prep, links_related, prep.ids[kept])
    counts = {"candidate_pairs": int(len(pairs)),
              "related_reports": {r: int((related_table["relation"] == r).sum())
                                  for r in related.RELATIONS},
              "errata_merged": int(sum(1 for e in accepted if e[2] == "erratum")),
              "pairs_duplicate": int((scores.decision == DUPLICATE).sum()),
              "pairs_maybe": int((scores.decision == MAYBE).sum()),
              "maybe_pairs_for_review": int(len(maybe)),
              "overrides": int(0 if overrides is None else len(overrides))}
    log.info("deduplicate: %d records, %d kept, %d removed, %d maybe pairs", len(result),
             int(result["kept"].sum()), int((~result["kept"]).sum()), len(maybe))
    return DedupResult(clusters=result, pairs=pair_table, maybe=maybe, counts=counts,
                       related=related_table)


def _related_table(p: _Prepared, links: pd.DataFrame, kept_ids: np.ndarray) -> pd.DataFrame:
    """``related.tsv``: one row per (report, article) pair of *kept* records, the strongest
    evidence first; pairs that ended in one cluster (errata counted as duplicates) are left
    out. The evidence names the records it was found on when those are not the kept ones."""
    rows = {}
    for row in links.sort_values(["strength", "report", "article"],
                                 kind="mergesort").itertuples(index=False):
        rep, art = kept_ids[row.report], kept_ids[row.article]
        if rep == art:
            continue
        evidence = row.evidence
        if (p.ids[row.report], p.ids[row.article]) != (rep, art):
            evidence += f" (on {p.ids[row.report]} / {p.ids[row.article]})"
        rows.setdefault((rep, art), (row.relation, evidence))
    table = pd.DataFrame([(r, a, rel, ev) for (r, a), (rel, ev) in rows.items()],
                         columns=related.RELATED_COLUMNS)
    return table.sort_values(["record_id", "related_record_id"], kind="mergesort"
                             ).reset_index(drop=True)


def _detail(p: _Prepared, s: PairScores, k: int, rule: str) -> str:
    i = s.a[k]
    if rule == "doi":
        return f"doi {p.doi[i]}"
    if rule == "pmid":
        return f"pmid {p.pmid[i]}"
    year = p.year[i] if p.year[i] >= 0 else p.year[s.b[k]]
    if rule == "title_year_author":
        return f"title '{p.title[i][:60]}', year {year if year >= 0 else '?'}"
    parts = [f"title {s.title[k]:.0f}"]
    if not np.isnan(s.author[k]):
        parts.append(f"authors {s.author[k]:.0f}")
    if not np.isnan(s.journal[k]):
        parts.append(f"journal {s.journal[k]:.0f}")
    for name, code in (("year", s.year[k]), ("volume", s.volume[k]), ("pages", s.pages[k])):
        if code >= 0:
            parts.append(f"{name} {_fmt_match(code)}")
    return ", ".join(parts)


def _pair_table(p: _Prepared, s: PairScores, keep: np.ndarray) -> pd.DataFrame:
    """The pairs selected by ``keep`` with their scores, decision and reasons."""
    k = np.nonzero(keep)[0]
    table = pd.DataFrame({
        "record_id_a": p.ids[s.a[k]], "record_id_b": p.ids[s.b[k]],
        "decision": s.decision[k], "rule": s.rule[k],
        "reason": [_reason_text(r) for r in s.reason[k]],
        "title_score": np.round(s.title[k], 1), "author_score": np.round(s.author[k], 1),
        "journal_score": np.round(s.journal[k], 1),
        "year_match": [_fmt_match(c) for c in s.year[k]],
        "volume_match": [_fmt_match(c) for c in s.volume[k]],
        "pages_match": [_fmt_match(c) for c in s.pages[k]]})
    return table.sort_values(["record_id_a", "record_id_b"], kind="mergesort").reset_index(
        drop=True)


def deduplicate(records: pd.DataFrame,
                source_priority: Sequence[str] = ("pubmed",),
                overrides: pd.DataFrame | None = None, errata: str = "related",
                threads: int = 1) -> pd.DataFrame:
    """Find duplicate records and choose one record to keep per publication.

    Parameters
    ----------
    records
        The record table; at least ``record_id, title, authors, year, journal, volume,
        issue, pages, doi, pmid`` (``source``, ``publication_types`` and the other record
        columns are used when present).
    source_priority
        Sources preferred, in order, when two records are equally complete.
    overrides
        Reviewer decisions on pairs (:func:`load_overrides`): ``same`` links two records
        whatever the scores say; ``different`` keeps them in different clusters.
    errata
        ``related`` (default): an erratum or correction is a report of its own, linked to
        its article in :attr:`DedupResult.related`. ``duplicate``: an erratum joins its
        article's cluster (rule ``erratum``), as bib-dedupe counts errata. Retraction
        notices, expressions of concern, comments and replies are never duplicates.
    threads
        Worker threads for the rapidfuzz scores (the rule's ``threads``).

    Returns
    -------
    pandas.DataFrame
        One row per input record, sorted by record id: ``record_id, cluster_id, kept,
        kept_record_id, rule, detail`` and the evidence of the link that brought the record
        into its cluster (``linked_to``, ``title_score``, ``author_score``,
        ``journal_score``, ``year_match``, ``volume_match``, ``pages_match``). ``rule`` is
        ``doi``, ``pmid``, ``title_year_author`` (identical normalised title, same year,
        same first author), ``fuzzy`` (near-identical title with corroborating authors,
        pages or journal), ``bibliographic`` (same first author, year, journal, volume
        and first page), ``erratum`` (``errata="duplicate"`` only) or ``override``; empty
        for a record that was not linked.

    Notes
    -----
    Records are never compared all against all: see the module docstring. Time and memory
    grow linearly with the number of records (see BENCHMARKS.md).
    """
    return find_duplicates(records, source_priority, overrides, errata=errata,
                           threads=threads).clusters


UNIQUE_COLUMNS = RECORD_COLUMNS + ["cluster_size", "cluster_records", "cluster_sources",
                                   "filled_fields", "report_kind", "related_reports"]


def _present(value: object) -> bool:
    return isinstance(value, str) and value != "" or (
        value is not None and not isinstance(value, str) and not pd.isna(value))


def unique_records(records: pd.DataFrame, clusters: pd.DataFrame,
                   related_reports: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per cluster: the kept record with empty fields filled from its duplicates.

    ``filled_fields`` lists each filled field with the record it came from
    (``doi<-embase:SYSREV-EMB-0003``). ``retraction`` is the cluster's status: any of its
    records marked retracted or under an expression of concern (PubMed publication type or
    CommentsCorrections, a ``RETRACTED:`` title), or a retraction notice or expression of
    concern linked to it in ``related_reports`` (:attr:`DedupResult.related`).
    ``report_kind`` says what the kept record is (``erratum``, ``comment``…; empty for an
    article) and ``related_reports`` lists the reports linked to it (``erratum:<id>``).
    """
    merged = records.merge(clusters[["record_id", "cluster_id", "kept"]], on="record_id",
                           how="inner", validate="one_to_one")
    for name in ("retraction", "comments_corrections", "publication_types", "title"):
        if name not in merged.columns:
            merged[name] = None
    notices: dict[str, list[str]] = defaultdict(list)
    linked: dict[str, list[str]] = defaultdict(list)
    if related_reports is not None:
        for row in related_reports.itertuples(index=False):
            linked[row.related_record_id].append(f"{row.relation}:{row.record_id}")
            if row.relation == related.RETRACTION:
                notices[row.related_record_id].append(
                    f"{related.RETRACTED} (retraction notice {row.record_id})")
            elif row.relation == related.CONCERN:
                notices[row.related_record_id].append(
                    f"{related.EXPRESSION_OF_CONCERN} (notice {row.record_id})")
    out = []
    for cluster_id, group in merged.groupby("cluster_id", sort=True):
        group = group.sort_values("record_id", kind="mergesort")
        kept = group[group["kept"]].iloc[0].copy()
        others = group[~group["kept"]]
        filled = []
        for name in COMPLETENESS_FIELDS:
            if _present(kept[name]):
                continue
            for _, other in others.iterrows():
                if _present(other[name]):
                    kept[name] = other[name]
                    filled.append(f"{name}<-{other['record_id']}")
                    break
        kept["cluster_size"] = len(group)
        kept["cluster_records"] = "; ".join(group["record_id"])
        kept["cluster_sources"] = "; ".join(sorted(set(group["source"])))
        kept["filled_fields"] = "; ".join(filled)
        statuses = [_text(v) for v in group["retraction"]] + [
            related.retraction_status(_text(t), _text(c), _text(ti)) for t, c, ti in
            zip(group["publication_types"], group["comments_corrections"], group["title"])]
        kept["retraction"] = related.combine_status(statuses + notices.get(cluster_id, []))
        kept["report_kind"] = related.report_kind(
            related.strip_retracted_prefix(_text(kept["title"])),
            _text(kept["publication_types"]))
        kept["related_reports"] = "; ".join(linked.get(cluster_id, []))
        out.append(kept)
    table = pd.DataFrame(out, columns=UNIQUE_COLUMNS) if out else pd.DataFrame(
        columns=UNIQUE_COLUMNS)
    return table.sort_values("record_id", kind="mergesort").reset_index(drop=True)


def duplicate_table(records: pd.DataFrame, clusters: pd.DataFrame) -> pd.DataFrame:
    """The removed records: which record each was removed for, by which rule, with scores."""
    removed = clusters[~clusters["kept"]]
    source = records.set_index("record_id")["source"]
    table = pd.DataFrame({
        "removed_record_id": removed["record_id"],
        "kept_record_id": removed["kept_record_id"],
        "cluster_id": removed["cluster_id"],
        "rule": removed["rule"],
        "detail": removed["detail"],
        "removed_source": removed["record_id"].map(source),
        "kept_source": removed["kept_record_id"].map(source),
        **{c: removed[c] for c in SCORE_COLUMNS if c in removed.columns},
    }, columns=DUPLICATE_COLUMNS)
    return table.sort_values("removed_record_id", kind="mergesort").reset_index(drop=True)


def duplicate_counts(records: pd.DataFrame, clusters: pd.DataFrame) -> dict[str, object]:
    """Counts for the audit and PRISMA: per source, and duplicates within and across sources."""
    merged = records[["record_id", "source"]].merge(clusters, on="record_id")
    kept_source = merged.set_index("record_id")["source"]
    removed = merged[~merged["kept"]]
    same_source = removed["source"].values == removed["kept_record_id"].map(kept_source).values
    within = int(same_source.sum())
    by_source = {}
    for src, group in merged.groupby("source", sort=True):
        gone = group[~group["kept"]]
        g_same = gone["source"].values == gone["kept_record_id"].map(kept_source).values
        by_source[str(src)] = {"records": int(len(group)), "kept": int(group["kept"].sum()),
                               "removed_within_source": int(g_same.sum()),
                               "removed_across_sources": int(len(gone) - g_same.sum())}
    return {
        "records_in": int(len(records)),
        "records_per_source": {s: int(n) for s, n in
                               records["source"].value_counts().sort_index().items()},
        "unique_records": int(clusters["kept"].sum()),
        "duplicates_removed": int(len(removed)),
        "duplicates_within_source": within,
        "duplicates_across_sources": int(len(removed)) - within,
        "duplicates_by_rule": {r: int(n) for r, n in
                               removed["rule"].value_counts().sort_index().items()},
        "by_source": by_source,
    }


def read_clusters(path) -> pd.DataFrame:
    """Read ``clusters.tsv`` back, with ``kept`` as booleans."""
    from sysrev.tables import read_tsv

    table = read_tsv(path)
    table["kept"] = table["kept"] == "yes"
    return table
