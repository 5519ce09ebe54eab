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


def _pmid(rec: dict[str, Any]) -> str | None:
    # Embase puts the MEDLINE PMID, bare, in C5.
    embase_pmid = rec.get("custom5")
    if str(rec.get("name_of_database", "")).lower().startswith("embase") and embase_pmid \
            and str(embase_pmid).strip().isdigit():
        return str(embase_pmid).strip()
    for key in ("custom3", "accession_number", "notes", "note", "id"):
        value = rec.get(key)
        for text in (value if isinstance(value, list) else [value]):
            if text and (m := _PMID_IN_TEXT.search(str(text))):
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


def map_ris_record(rec: dict[str, Any]) -> dict[str, Any]:
    """Map one rispy record to record-table fields."""
    authors = (rec.get("authors") or []) + (rec.get("first_authors") or [])
    return {
        "source_id": _first(rec, "accession_number") or _unknown(rec, "U2")
        or _first(rec, "id"),
        "pmid": _pmid(rec),
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
    parsed = rispy.loads(text, skip_unknown_tags=False)
    if len(parsed) != expected:
        raise InputError(path, f"{expected} records in the file but {len(parsed)} parsed")
    rows = []
    for position, rec in enumerate(parsed, start=1):
        row = map_ris_record(rec)
        row["source_position"] = position
        rows.append(row)
    log.info("%s: %d records", path, len(rows))
    return make_record_table(rows, source=source, source_file=path)
