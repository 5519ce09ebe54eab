"""RIS exports (Embase, Cochrane CENTRAL with Wiley wrapper lines, Ovid, Scopus, generic).

Parsing is rispy's; this module maps rispy's fields onto the record table and checks that
every record in the file was read.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pandas as pd
import rispy

from sysrev.errors import InputError
from sysrev.imports.checks import check_wiley_record_numbers
from sysrev.imports.records import (count_tagged_records, doi_in_text, join_list,
                                    make_record_table, read_text)

log = logging.getLogger(__name__)

_TAG_LINE = re.compile(r"^([A-Z][A-Z0-9])  -( |$)")
_PMID_IN_TEXT = re.compile(r"(?:PUBMED|PMID)\s*:?\s*(\d{1,9})", re.IGNORECASE)


def _first(rec: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        value = rec.get(key)
        if isinstance(value, list):
            value = value[0] if value else None
        if value not in (None, ""):
            return value
    return None


def _unknown(rec: dict[str, Any], tag: str) -> str | None:
    values = (rec.get("unknown_tag") or {}).get(tag)
    return values[0] if values else None


# Link-resolver (OpenURL) links of Embase (LK) and Ovid ("Link to the External Link
# Resolver") carry the PMID as ``id=pmid:NNN``; it is empty when the record has none.
_PMID_IN_LINK = re.compile(r"[?&]id=pmid(?::|%3A)(\d{1,9})\b", re.IGNORECASE)


def _values(rec: dict[str, Any], key: str) -> list[str]:
    value = rec.get(key)
    values = value if isinstance(value, list) else [value]
    return [str(v) for v in values if v not in (None, "")]


def _pmid(rec: dict[str, Any], chunk: str = "") -> str | None:
    """The PMID from every place Embase and Ovid put it.

    ``chunk`` is the record's text from its ``TY`` line to the next record, including the
    lines Ovid writes after ``ER`` (``Link to the External Link Resolver: …id=pmid:…``).
    """
    databases = " ".join(_values(rec, "name_of_database")).lower()
    accession = str(_first(rec, "accession_number") or _unknown(rec, "U2") or "")
    # Embase.com puts the MEDLINE PMID, bare, in C5 of records also in MEDLINE. The record's
    # DB lines may list "Medline" before "Embase", or be empty, so any DB line counts, and
    # so does an Embase accession (U2 "L123…").
    embase_pmid = str(rec.get("custom5") or "").strip()
    if embase_pmid.isdigit() and ("embase" in databases or "medline" in databases
                                  or re.fullmatch(r"L\d+", accession)):
        return embase_pmid
    # Ovid MEDLINE: the accession number (AN) is the PMID. EndNote's RIS of records it took
    # from PubMed gives the PMID as AN with "DP  - NLM" (the database provider).
    provider = " ".join(_values(rec, "database_provider")).strip().lower()
    if accession.isdigit() and (("medline" in databases and "ovid" in databases)
                                or provider in ("nlm", "pubmed", "national library of "
                                                "medicine")):
        return accession
    for key in ("custom3", "accession_number", "notes", "note", "id"):
        for text in _values(rec, key):
            if m := _PMID_IN_TEXT.search(text):
                return m.group(1)
    if m := _PMID_IN_LINK.search(chunk):
        return m.group(1)
    return None


_NO_PAGES = re.compile(r"^\s*no(\s+pagination)?(\s+specified)?\s*$", re.IGNORECASE)


def _pages(rec: dict[str, Any]) -> str | None:
    start, end = rec.get("start_page"), rec.get("end_page")
    # Ovid writes "No Pagination Specified" as SP "No" and EP "Specified".
    if start and _NO_PAGES.match(f"{start} {end or ''}"):
        return None
    if start and end and str(end) != str(start):
        return f"{start}-{end}"
    return start or None


def _check_structure(text: str, path: Path) -> int:
    """Count records by their ``TY`` lines; fail on one that is not closed by ``ER``."""
    return count_tagged_records(text, path, _TAG_LINE, "TY")


def _record_chunks(text: str) -> list[tuple[int, str]]:
    """(first line, text) of each record, from its ``TY`` line to the next ``TY`` line."""
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if _TAG_LINE.match(line)
              and line.startswith("TY")]
    bounds = starts + [len(lines)]
    return [(start + 1, "\n".join(lines[start:end])) for start, end in zip(bounds, bounds[1:])]


# Scopus RIS gives the record's EID only in its link: "...record.uri?eid=2-s2.0-850...".
_SCOPUS_EID = re.compile(r"[?&]eid=(2-s2\.0-\d+)", re.IGNORECASE)


def _scopus_eid(rec: dict[str, Any]) -> str | None:
    for text in _values(rec, "urls"):
        if m := _SCOPUS_EID.search(text):
            return m.group(1)
    return None


def map_ris_record(rec: dict[str, Any], chunk: str = "") -> dict[str, Any]:
    """Map one rispy record to record-table fields (``chunk``: the record's raw text)."""
    authors = (rec.get("authors") or []) + (rec.get("first_authors") or [])
    return {
        "source_id": _first(rec, "accession_number") or _unknown(rec, "U2")
        or _scopus_eid(rec) or _first(rec, "id"),
        "pmid": _pmid(rec, chunk),
        # Ovid and some re-exports give the DOI only as a link (L1, L2, UR).
        "doi": _first(rec, "doi") or next(
            (d for key in ("file_attachments1", "file_attachments2", "urls")
             for value in (rec.get(key) if isinstance(rec.get(key), list) else [rec.get(key)])
             if (d := doi_in_text(value))), None),
        "title": _first(rec, "title", "primary_title", "translated_title", "short_title"),
        "authors": join_list(authors),
        "year": _first(rec, "year", "publication_year", "date"),
        "journal": _first(rec, "journal_name", "alternate_title3", "alternate_title2",
                          "secondary_title", "alternate_title1"),
        "volume": _first(rec, "volume"),
        "issue": _first(rec, "number"),
        "pages": _pages(rec),
        "publication_types": join_list(rec.get("type_of_work")),
        "language": _first(rec, "language"),
        "abstract": _first(rec, "abstract", "notes_abstract"),
    }


def read_ris(path: str | Path, *, source: str) -> pd.DataFrame:
    """Read a RIS export into the record table of ``source``.

    Raises
    ------
    InputError
        When the file is structurally broken (a record without ``ER``, stray ``ER``) or the
        parser read fewer records than the file holds.
    """
    path = Path(path)
    text = read_text(path)
    expected = _check_structure(text, path)
    if expected == 0 and (first := next((n for n, line in enumerate(text.split("\n"), 1)
                                         if _TAG_LINE.match(line)), None)):
        raise InputError(path, "RIS tag lines but no record: no 'TY  - ' line starts one",
                         line=first)
    parsed = rispy.loads(text, skip_unknown_tags=False,
                         list_tags=list(rispy.LIST_TYPE_TAGS) + ["DB"])
    if len(parsed) != expected:
        raise InputError(path, f"{expected} records in the file but {len(parsed)} parsed")
    check_wiley_record_numbers(text, path, len(parsed))
    chunks = _record_chunks(text)
    rows = []
    for position, (rec, (line, chunk)) in enumerate(zip(parsed, chunks), start=1):
        row = map_ris_record(rec, chunk)
        row["source_position"] = position
        row["line"] = line
        rows.append(row)
    log.info("%s: %d records", path, len(rows))
    return make_record_table(rows, source=source, source_file=path)
