"""Step 1: normalise every record once (title, authors, journal, year, volume, pages,
identifiers, kind of item, numbers in the title)."""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from sysrev.dedup import related
from sysrev.imports.records import display_title

log = logging.getLogger(__name__)

#: Fields counted when choosing the most complete record, and filled in from its duplicates.
COMPLETENESS_FIELDS = ("pmid", "doi", "title", "authors", "year", "journal", "volume",
                       "issue", "pages", "abstract", "publication_types", "language")

#: Largest issue number compared between records (see ``_prepare``).
MAX_ISSUE = 60

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
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
    # Each pattern runs only on titles holding a word it needs (``title`` is normalised):
    # most titles hold none, and the patterns scan the whole title.
    if "erratum" in types or "retraction" in types or (
            any(word in title for word in _ERRATUM_WORDS) and _ERRATUM.search(title)):
        flags |= 1
    if "comment" in types or ((title.startswith(_COMMENT_STARTS) or any(
            word in title for word in _COMMENT_WORDS)) and _COMMENT.search(title)):
        flags |= 2
    if ("protocol" in title or "rationale" in title) and _PROTOCOL.search(title):
        flags |= 4
    return flags


# Words without which _ERRATUM / _COMMENT cannot match (a normalised title).
_ERRATUM_WORDS = ("errat", "corrig", "correction", "retract", "withdraw",
                  "expression of concern", "notice of")
_COMMENT_STARTS = ("re", "comment", "author", "in reply", "letter", "editorial comment")
_COMMENT_WORDS = ("comment", "reply", "response", "letter")


@functools.lru_cache(maxsize=1 << 16)
def _is_conference(pubtypes: str, journal: str) -> bool:
    return bool(_CONFERENCE.search(normalise_title(f"{pubtypes} {journal}")))


def _format(pubtypes: str, journal: str, first_page: str) -> int:
    """1 conference abstract/paper, 2 journal article with regular pages, 0 unknown.

    Only the publication type and the journal's name count as evidence of a conference
    item. A supplement volume or an "S" page does not: databases record the same abstract
    with and without them, so they would keep its copies apart.
    """
    if _is_conference(pubtypes, journal):
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


# Where a bilingual title joins its two languages ("Utilidad de …; Are antimicrobials …",
# "Titre = Title", "Título [Title]").
_TITLE_JOINS = re.compile(r"\s*;\s+|\s+=\s+(?=[^\W\d])|\s*\[|\]\s*")
_NO_PARTS: tuple[str, ...] = ()


def _title_parts(title: str) -> tuple[str, ...]:
    """The normalised parts of a title written in two languages; ``()`` for a title in one
    part (most titles: nothing is stored for them)."""
    if not (";" in title or "=" in title or "[" in title):
        return _NO_PARTS
    parts = tuple(p for p in (normalise_title(x) for x in _TITLE_JOINS.split(title)) if p)
    return parts if len(parts) > 1 else _NO_PARTS


def _first_int(value: str) -> int:
    m = _FIRST_INT.search(value)
    return int(m.group(0)) if m else -1


# A SICI DOI with every bracket written as an underscore, parentheses too
# ("10.1002/_sici_1097-0258_19980430_17:8_857::aid-sim777_3.0.co;2-e"): rebuilt in the
# "(sici)…(…)…<…::…>…" form that the imports' DOI normaliser gives the other spellings.
_SICI_ALL_UNDERSCORES = re.compile(
    r"^(10\.\d{4,9}/)_sici_([^_()<>]+?)_([^_()<>]+?)_([^_()<>]+?)_([^_()<>]+?::[^_()<>]+?)_"
    r"(\d\.\d\.co;\d-[0-9a-z#])$")


def _normalise_doi(value: str) -> str:
    from urllib.parse import unquote

    from sysrev.imports.records import normalise_doi
    # Some databases export DOIs URL-encoded ("%28" for "(").
    doi = (normalise_doi(unquote(value)) or "") if value else ""
    if "_sici_" in doi:
        doi = _SICI_ALL_UNDERSCORES.sub(r"\1(sici)\2(\3)\4<\5>\6", doi)
    return doi


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
    report: np.ndarray  # related-report kind ('' for an article), see sysrev.dedup.related
    core: list[str]  # title without its related-report prefix
    raw_title: list[str]
    parts: list[tuple[str, ...]]  # a bilingual title's parts, normalised (see _title_parts)
    corrections: list[str]
    retraction: list[str]

    @staticmethod
    def concat(parts: list["_Prepared"]) -> "_Prepared":
        """The records of ``parts``, one after the other (the parts are emptied on the
        way, so that the records are not held twice)."""
        if len(parts) == 1:
            return parts[0]
        joined = {}
        for f in fields(_Prepared):
            values = [getattr(p, f.name) for p in parts]
            joined[f.name] = np.concatenate(values) if isinstance(values[0], np.ndarray) \
                else [v for part in values for v in part]
            del values
            for part in parts:
                setattr(part, f.name, None)
        return _Prepared(**joined)


def prepare(records: pd.DataFrame, errata: str = "related", workers: int = 1) -> _Prepared:
    """:func:`_prepare` on ``workers`` processes (consecutive slices of the table)."""
    from sysrev.dedup.parallel import map_ranges

    def task(start: int, stop: int) -> _Prepared:
        part = _prepare(records.iloc[start:stop], errata)
        # Taken from the table below instead: a worker's copies would be new strings.
        part.ids, part.raw_title = part.ids[:0], []
        return part

    prepared = _Prepared.concat(map_ranges(task, len(records), workers,
                                           chunk=PREPARE_CHUNK))
    # The record ids and raw titles are the table's own strings (no second copy).
    prepared.ids = _record_ids(records)
    prepared.raw_title = _column(records, "title")
    # One object per distinct set of title numbers (most titles share a few).
    distinct: dict[frozenset, frozenset] = {}
    prepared.numbers = [distinct.setdefault(x, x) for x in prepared.numbers]
    return prepared


#: Records normalised per call (bounds a worker's memory).
PREPARE_CHUNK = 100_000


def _each_distinct(func, values: list[str]) -> list:
    """``[func(v) for v in values]``, calling ``func`` once per distinct value (journal
    names, years, volumes repeat across records)."""
    done: dict = {}
    out = []
    for value in values:
        got = done.get(value)
        if got is None:
            got = done[value] = func(value)
        out.append(got)
    return out


def _column(records: pd.DataFrame, name: str) -> list[str]:
    """The column's values as stripped text ("" where missing)."""
    if name not in records.columns:
        return [""] * len(records)
    return [_text(v) for v in records[name].tolist()]


def _record_ids(records: pd.DataFrame) -> np.ndarray:
    return records["record_id"].astype(str).to_numpy()


def _shared(values: list[str]) -> list[str]:
    """``values`` with one object per distinct value (first pages, surnames and page ranges
    repeat across records; a million records hold each a few thousand times)."""
    seen: dict[str, str] = {}
    return [seen.setdefault(v, v) for v in values]


def _prepare(records: pd.DataFrame, errata: str = "related") -> _Prepared:
    def col(name: str) -> list[str]:
        return _column(records, name)

    raw_titles = col("title")
    # Inline markup and HTML entities ("<i>E. coli</i>", "Women&#39;s") are no part of
    # the title: matched as a reader sees the title (the record table keeps the source's).
    noted = [display_title(t) if "<" in t or "&" in t else t for t in raw_titles]
    # A publisher's "RETRACTED:" in front of an article's title is no part of the title.
    noted = [related.strip_retracted_prefix(t) for t in noted]
    noted = [_TITLE_NOTES.sub(" ", t) if "[" in t or "(" in t else t for t in noted]
    titles = [normalise_title(t) for t in noted]
    raw_authors = col("authors")
    pubtypes = col("publication_types")
    reports = np.array(related.report_kinds(noted, pubtypes), dtype=object)
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
    pages = _shared([_first_page(p) for p in raw_pages])
    complete = np.zeros(len(records), dtype=np.int64)
    for name in COMPLETENESS_FIELDS:
        if name in records.columns:
            values = records[name]
            complete += (values.notna() & (values.astype(str).str.strip() != "")).to_numpy()
    return _Prepared(
        ids=_record_ids(records),
        title=titles,
        authors=[author_surnames(a) for a in raw_authors],
        first_author=_shared([first_author_key(a) for a in raw_authors]),
        journal=_each_distinct(lambda j: normalise_title(_JOURNAL_SUBTITLE.sub("", j)),
                               journals),
        year=np.array(_each_distinct(lambda y: _first_int(y) if re.search(r"\d{4}", y)
                                     else -1, col("year")), dtype=np.int64),
        volume=np.array(_each_distinct(_first_int, volumes), dtype=np.int64),
        # Issue numbers above MAX_ISSUE are not compared: some exports put a record number
        # in the issue field, and running issue numbers (weekly journals) rarely help.
        issue=np.array([i if 0 <= i <= MAX_ISSUE else -1 for i in
                        _each_distinct(_first_int, col("issue"))], dtype=np.int64),
        page=pages,
        page_number=np.array([int(p.lstrip("abcdefghijklmnopqrstuvwxyz") or -1)
                              if p else -1 for p in pages], dtype=np.int64),
        page_range=np.array([bool(_PAGE_RANGE.search(p)) for p in raw_pages], dtype=bool),
        pages_norm=_shared([_page_range_key(p) for p in raw_pages]),
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
        parts=[_title_parts(t) for t in noted],
        corrections=col("comments_corrections"),
        retraction=col("retraction"),
    )
