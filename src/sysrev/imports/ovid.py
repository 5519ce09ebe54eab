"""Ovid field-label text exports ("Display" / "Complete Reference" saved as text).

Each record starts with its number in angle brackets (``<1>``); a field is a label line at
the left margin (``Title``, ``Authors``, ``Source`` …) followed by its value on lines indented
by two or more spaces::

    <1>
    Unique Identifier
      31234567
    Title
      Effect of X on Y.
    Source
      Journal of Z. 12(3):45-67, 2019 Mar.

Labels differ a little between Ovid databases (MEDLINE, Embase, PsycINFO, ERIC); the map
below takes the first label present for each field. Year, volume, issue and pages come from
their own fields when present, else from the ``Source`` citation.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any, Iterator

from sysrev.errors import InputError
from sysrev.imports.checks import check_last_record_complete
from sysrev.imports.records import (batch_reader_start, doi_in_text, iter_lines, join_list,
                                    make_record_table, read_text, row_columns,
                                    with_whole_file_error)
from sysrev.lazy import pandas as pd

log = logging.getLogger(__name__)

RECORD_START = re.compile(r"^<(\d+)>\s*$")
_LABEL = re.compile(r"^[A-Z][A-Za-z0-9 ()/&.,'-]{1,60}$")

#: record field -> Ovid labels, first present wins (matched ignoring case)
LABELS: dict[str, tuple[str, ...]] = {
    "accession": ("Accession Number", "Embase Accession Number", "Unique Identifier",
                  "ERIC Accession Number"),
    "pmid": ("PubMed ID", "PMID", "MEDLINE PMID"),
    "unique_identifier": ("Unique Identifier",),
    "database": ("Database",),
    "doi": ("Digital Object Identifier", "DOI"),
    "title": ("Title", "Article Title"),
    "authors": ("Authors", "Author", "Authors Full Name"),
    "year": ("Year of Publication", "Publication Year", "Date of Publication",
             "Publication Date"),
    "journal": ("Journal Name", "Journal Title", "Journal Abbreviation", "Journal"),
    "source": ("Source",),
    "volume": ("Volume",),
    "issue": ("Issue", "Issue/Part"),
    "pages": ("Pages", "Page"),
    "publication_types": ("Publication Type",),
    "language": ("Language",),
    "abstract": ("Abstract",),
    "links": ("Link to the Ovid Full Text or citation", "Link to the External Link Resolver",
              "URL", "Full Text"),
}

# "Journal of Z. 12(3):45-67, 2019 Mar."  /  "Journal of Z. Vol.12(3), pp. 45-67. Mar 2019."
_SOURCE = re.compile(
    r"^(?P<journal>.+?)\.\s+(?:Vol\.\s*)?(?P<volume>[^\s(:,]+)?(?:\((?P<issue>[^)]+)\))?"
    r"(?::|,\s*pp?\.\s*)?(?P<pages>[A-Za-z]?\d+(?:-[A-Za-z]?\d+)?)?")
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
_PMID_IN_LINK = re.compile(r"id=pmid(?::|%3A)(\d{1,9})\b", re.IGNORECASE)


#: Records mapped at a time by :func:`iter_ovid_columns`.
BATCH_RECORDS = 5000
#: Fields Ovid writes in every record: one missing from the last record only (and present
#: in every other) tells a file cut inside it.
_CLOSING = ("source", "link to the ovid full text or citation",
            "link to the external link resolver")


def looks_like_ovid_text(text: str) -> bool:
    """Whether ``text`` has an Ovid record number line (``<1>``, after any search-history
    header) followed by a field label and an indented value."""
    lines = [line for line in text.split("\n")[:400] if line.strip()]
    for index, line in enumerate(lines[:-2]):
        if RECORD_START.match(line) and not line.startswith(" "):
            return bool(_LABEL.match(lines[index + 1].strip())) and \
                lines[index + 1][:1] not in (" ", "\t") and lines[index + 2].startswith("  ")
    return False


def _split(text: str, path: Path) -> list[tuple[int, dict[str, list[str]]]]:
    """(first line, {label: value lines}) of every record."""
    records: list[tuple[int, dict[str, list[str]]]] = []
    fields: dict[str, list[str]] | None = None
    label: str | None = None
    for number, line in enumerate(text.split("\n"), start=1):
        if RECORD_START.match(line.strip()) and not line.startswith(" "):
            fields, label = {}, None
            records.append((number, fields))
            continue
        if not line.strip():
            continue
        if fields is None:
            # Ovid writes a search-history header before the first record; skip it.
            continue
        label = _field_line(fields, label, line, number, path)
    return records


def _field_line(fields: dict[str, list[str]], label: str | None, line: str, number: int,
                path: Path) -> str | None:
    """Add ``line`` (line ``number``, not blank, inside a record) to the record's
    ``fields``: a value line to the field ``label``, or a label line starting a field;
    return the label now current."""
    if line.startswith(" "):
        if label is None:
            raise InputError(path, "a value line with no field label before it", line=number)
        fields[label].append(line.strip())
        return label
    label = line.strip().casefold()
    fields.setdefault(label, [])
    return label


def _get(fields: dict[str, list[str]], key: str) -> list[str]:
    for label in LABELS[key]:
        values = fields.get(label.casefold())
        if values:
            return values
    return []


def _one(fields: dict[str, list[str]], key: str) -> str | None:
    values = _get(fields, key)
    return " ".join(values) if values else None


def map_ovid_record(fields: dict[str, list[str]]) -> dict[str, Any]:
    """Map one record's labelled fields to record-table fields."""
    authors = [name.strip() for line in _get(fields, "authors")
               for name in line.split(";") if name.strip()]
    source = _one(fields, "source") or ""
    cite = _SOURCE.match(source)
    database = (_one(fields, "database") or "").lower()
    accession = _one(fields, "accession")
    pmid = _one(fields, "pmid")
    unique = _one(fields, "unique_identifier")
    if not pmid and unique and unique.isdigit() and "medline" in database:
        pmid = unique  # Ovid MEDLINE: the Unique Identifier is the PMID
    links = " ".join(_get(fields, "links"))
    if not pmid and (m := _PMID_IN_LINK.search(links)):
        pmid = m.group(1)
    year = _one(fields, "year") or (m.group(1) if (m := _YEAR.search(source)) else None)
    return {
        "source_id": accession,
        "pmid": pmid,
        "doi": _one(fields, "doi") or doi_in_text(links),
        "title": _one(fields, "title"),
        "authors": join_list(authors),
        "year": year,
        "journal": _one(fields, "journal") or (cite.group("journal") if cite else None),
        "volume": _one(fields, "volume") or (cite.group("volume") if cite else None),
        "issue": _one(fields, "issue") or (cite.group("issue") if cite else None),
        "pages": _one(fields, "pages") or (cite.group("pages") if cite else None),
        "publication_types": join_list(_get(fields, "publication_types")),
        "language": join_list(_get(fields, "language")),
        "abstract": _one(fields, "abstract"),
    }


def read_ovid(path: str | Path, *, source: str) -> pd.DataFrame:
    """Read an Ovid field-label text export into the record table of ``source``.

    Raises
    ------
    InputError
        When the records are not numbered consecutively (a record lost), or a
        value line has no label before it.
    """
    path = Path(path)
    text = read_text(path)
    records = _split(text, path)
    check_last_record_complete([list(fields) for _, fields in records], path,
                               records[-1][0] if records else None, closing=_CLOSING)
    lines = text.split("\n")
    rows = []
    first = None
    for position, (line, fields) in enumerate(records, start=1):
        number = int(RECORD_START.match(lines[line - 1].strip()).group(1))
        first = number if first is None else first
        if number != first + position - 1:
            raise InputError(path, f"record <{number}> where <{first + position - 1}> was "
                                   "expected (a record is missing or the file was edited)",
                             line=line)
        row = map_ovid_record(fields)
        row["source_position"] = position
        row["line"] = line
        rows.append(row)
    log.info("%s: %d records", path, len(rows))
    return make_record_table(rows, source=source, source_file=path)


def iter_ovid_columns(path: str | Path, *, source: str, batch_records: int = BATCH_RECORDS,
                      encoding: str | None = None) -> Iterator[dict[str, list[Any]]]:
    """Read an Ovid field-label text export into the record table of ``source``,
    ``batch_records`` records at a time (per batch, in file order, a list per column of
    :data:`sysrev.columns.RECORD_COLUMNS`): the file is read line by line and memory holds
    one batch, not the file. The table is :func:`read_ovid`'s.

    ``encoding``: the file's as :func:`sysrev.imports.records.stream_encoding` gives it,
    when already known (format detection finds it). The checks that span the file carry
    over batches: the record numbers (``<n>`` following ``<n-1>``), the accessions seen (a
    repeated one numbered ``~2`` whichever batch it falls in) and the last record's closing
    fields against every other record's.

    Raises
    ------
    InputError
        As :func:`read_ovid`, with its message (a broken file is read again whole, see
        :func:`sysrev.imports.records.with_whole_file_error`); batches already given must
        then be thrown away.
    """
    path = Path(path)
    return with_whole_file_error(_ovid_batches(path, source, batch_records, encoding),
                                 lambda: read_ovid(path, source=source))


def _ovid_batches(path: Path, source: str, batch_records: int,
                  encoding: str | None) -> Iterator[dict[str, list[Any]]]:
    builder, encoding = batch_reader_start(path, source, encoding)
    batch: list[tuple[int, dict[str, list[str]]]] = []  # (first line, fields)
    every = dict.fromkeys(_CLOSING, True)  # each closing field in every record but the last
    records, first = 0, None
    fields: dict[str, list[str]] | None = None
    label: str | None = None

    def columns(batch: list[tuple[int, dict[str, list[str]]]]) -> dict[str, list[Any]]:
        rows = []
        for k, (line, record) in enumerate(batch):
            row = map_ovid_record(record)
            row["source_position"] = records - len(batch) + k + 1
            row["line"] = line
            rows.append(row)
        return row_columns(builder, rows)

    for number, line in enumerate(iter_lines(path, encoding=encoding), start=1):
        if (match := RECORD_START.match(line.strip())) and not line.startswith(" "):
            if fields is not None:  # the record before is not the last
                for tag in _CLOSING:
                    every[tag] = every[tag] and tag in fields
            if len(batch) >= batch_records:
                yield columns(batch)
                batch = []
            records += 1
            first = int(match.group(1)) if first is None else first
            if int(match.group(1)) != first + records - 1:
                raise InputError(path, f"record <{match.group(1)}> where "
                                       f"<{first + records - 1}> was expected", line=number)
            fields, label = {}, None
            batch.append((number, fields))
            continue
        if not line.strip() or fields is None:
            continue
        label = _field_line(fields, label, line, number, path)
    if records >= 2 and fields is not None:
        for tag in _CLOSING:
            if every[tag] and tag not in fields:
                raise InputError(path, f"the last record has no '{tag}' field",
                                 line=batch[-1][0])
    if batch:
        yield columns(batch)
    log.info("%s: %d records", path, records)
