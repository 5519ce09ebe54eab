"""The RIS reader as it was before the one-pass parse and the column-wise mapping (issue 20;
``src/sysrev/imports/ris.py`` at be78a81, unchanged but for this docstring): rispy parses
each batch of lines and every record is mapped row by row. Kept only as the reference that
``test_ris_columns.py`` compares the current reader with, record for record."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any, Callable, Iterator

import pandas as pd
import rispy

from sysrev.errors import InputError
from sysrev.imports.checks import WileyNumbers
from sysrev.imports.records import (RecordTable, doi_in_text, iter_lines, join_list,
                                    make_record_table)

log = logging.getLogger(__name__)

_TAG_LINE = re.compile(r"^([A-Z][A-Z0-9])  -( |$)")
_LIST_TAGS = list(rispy.LIST_TYPE_TAGS) + ["DB"]
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


def _pmid(rec: dict[str, Any], chunk: str | Callable[[], str] = "") -> str | None:
    """The PMID from every place Embase and Ovid put it.

    ``chunk`` is the record's text from its ``TY`` line to the next record, including the
    lines Ovid writes after ``ER`` (``Link to the External Link Resolver: …id=pmid:…``);
    or a function that gives it (called only when the other places hold no PMID).
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
    if m := _PMID_IN_LINK.search(chunk() if callable(chunk) else chunk):
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


# Scopus RIS gives the record's EID only in its link: "...record.uri?eid=2-s2.0-850...".
_SCOPUS_EID = re.compile(r"[?&]eid=(2-s2\.0-\d+)", re.IGNORECASE)


def _scopus_eid(rec: dict[str, Any]) -> str | None:
    for text in _values(rec, "urls"):
        if m := _SCOPUS_EID.search(text):
            return m.group(1)
    return None


def map_ris_record(rec: dict[str, Any], chunk: str | Callable[[], str] = "") -> dict[str, Any]:
    """Map one rispy record to record-table fields (``chunk``: the record's raw text, or a
    function that gives it)."""
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


class _Chunk:
    """A record's raw text, lines ``a:b`` of its batch, joined when called."""

    __slots__ = ("lines", "a", "b")

    def __init__(self, lines: list[str], a: int, b: int) -> None:
        self.lines, self.a, self.b = lines, a, b

    def __call__(self) -> str:
        return "\n".join(self.lines[self.a:self.b])


#: Records parsed and mapped at a time: memory holds one batch of rispy records, not the
#: file's.
BATCH_RECORDS = 5000


def iter_ris_tables(path: str | Path, *, source: str,
                    batch_records: int = BATCH_RECORDS) -> Iterator[pd.DataFrame]:
    """Read a RIS export into the record table of ``source``, ``batch_records`` records at
    a time (a table per batch, in file order): the file is read line by line, and memory
    holds one batch, not the file.

    Raises
    ------
    InputError
        When the file is structurally broken (a record without ``ER``, stray ``ER``) or the
        parser read fewer records than the file holds.
    """
    path = Path(path)
    builder = RecordTable(source=source, source_file=path)
    wiley = WileyNumbers()
    batch: list[str] = []  # the lines from the batch's first TY line on
    starts: list[int] = []  # line numbers of the batch's TY lines
    state = {"open": None, "records": 0, "parsed": 0, "first_tag": None, "batches": 0}

    def parse() -> list[tuple[dict[str, Any], int, str]]:
        """rispy's records of the batch, each with its first line and raw text."""
        parsed = rispy.parser.RisParser(skip_unknown_tags=False, list_tags=_LIST_TAGS
                                        ).parse_lines(iter(batch))
        state["parsed"] += len(parsed)
        state["batches"] += 1
        if len(parsed) != len(starts):
            if state["batches"] == 1 and state["records"] == len(starts):
                raise InputError(path, f"{state['records']} records in the file but "
                                       f"{len(parsed)} parsed")
            raise InputError(path, f"{len(starts)} records in lines {starts[0]}-"
                                   f"{starts[0] + len(batch) - 1} but {len(parsed)} parsed",
                             line=starts[0])
        first = starts[0]
        bounds = [s - first for s in starts] + [len(batch)]
        lines = list(batch)
        # A record's raw text is joined only when its PMID is looked for in it.
        chunks = [_Chunk(lines, a, b) for a, b in zip(bounds, bounds[1:])]
        return list(zip(parsed, starts, chunks))

    def table(records: list[tuple[dict[str, Any], int, str]]) -> pd.DataFrame:
        position = state["parsed"] - len(records)
        rows = []
        for position, (rec, line, chunk) in enumerate(records, start=position + 1):
            row = map_ris_record(rec, chunk)
            row["source_position"] = position
            row["line"] = line
            rows.append(row)
        return builder.table(rows)

    for number, line in enumerate(iter_lines(path), start=1):
        if "Record #" in line:
            wiley.add(line, number)
        tag = line[:2]
        if (tag == "TY" or tag == "ER") and _TAG_LINE.match(line):
            if tag == "TY":
                if state["open"] is not None:
                    raise InputError(path, f"record starting at line {state['open']} has no "
                                           "ER line before the next TY", line=number)
                if len(starts) == batch_records:
                    yield table(parse())
                    batch.clear()
                    starts.clear()
                state["open"] = number
                state["records"] += 1
                starts.append(number)
            else:
                if state["open"] is None:
                    raise InputError(path, "ER line without a TY line before it",
                                     line=number)
                state["open"] = None
        elif state["first_tag"] is None and _TAG_LINE.match(line):
            state["first_tag"] = number
        if starts:
            batch.append(line)
    if state["open"] is not None:
        raise InputError(path, "the last record has no ER line (the file may be truncated)",
                         line=state["open"])
    if state["records"] == 0 and state["first_tag"] is not None:
        raise InputError(path, "RIS tag lines but no record: no 'TY  - ' line starts one",
                         line=state["first_tag"])
    last = parse() if starts else []
    wiley.check(path, state["parsed"])
    if last:
        yield table(last)
    log.info("%s: %d records", path, state["parsed"])


def read_ris(path: str | Path, *, source: str) -> pd.DataFrame:
    """Read a RIS export into the record table of ``source`` (see :func:`iter_ris_tables`).

    Raises
    ------
    InputError
        When the file is structurally broken (a record without ``ER``, stray ``ER``) or the
        parser read fewer records than the file holds.
    """
    tables = list(iter_ris_tables(path, source=source))
    if not tables:
        return make_record_table([], source=source, source_file=path)
    return pd.concat(tables, ignore_index=True) if len(tables) > 1 else tables[0]
