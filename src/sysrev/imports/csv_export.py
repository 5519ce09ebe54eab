"""CSV exports: Scopus, Embase, Covidence, and a documented generic layout.

Every layout maps record-table fields to the header names that database writes; a field may
have several candidate headers (the first one present is used). Headers are matched ignoring
case and surrounding space. Lines before the header row (Embase writes the search query and
a rule of dashes first) are skipped. Cells may hold line breaks (CRLF or LF) inside quotes.

The generic layout (format ``csv``), for sources with no layout of their own:

========================  ===============================================================
column                    content
========================  ===============================================================
``title``                 required
``id``                    the record's id in its source (else a content hash is used);
                          also accepted: ``source_id``, ``record_id``, ``accession``
``authors``               ``"; "``-separated (``author`` also accepted)
``year``                  any text holding a four-digit year (``publication_year``, ``date``)
``journal``               (``source_title``, ``secondary_title``, ``container_title``)
``volume``, ``issue``     (``number`` for issue)
``pages``                 ``"899-907"``; or ``start_page`` and ``end_page``
``doi``, ``pmid``         any common form (``https://doi.org/…``)
``abstract``, ``language``, ``publication_types`` (``type``, ``document_type``)
========================  ===============================================================

Other columns are ignored. The delimiter may be comma, semicolon or tab (taken from the
header line).
"""

from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from sysrev.errors import InputError
from sysrev.imports.records import join_list, make_record_table, read_text

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CsvLayout:
    """Where one tool's CSV export keeps each record-table field."""

    name: str
    #: record field -> candidate header names, first present wins
    columns: Mapping[str, tuple[str, ...]]
    #: regular expression splitting the authors cell into names
    author_separator: str = r"\s*;\s*"
    #: (start page, end page) headers, used when no ``pages`` column is present
    page_columns: tuple[str, str] | None = None
    required: tuple[str, ...] = field(default=("title",))


SCOPUS = CsvLayout(
    name="scopus_csv",
    columns={"source_id": ("EID",), "pmid": ("PubMed ID",), "doi": ("DOI",),
             "title": ("Title",), "authors": ("Authors",), "year": ("Year",),
             "journal": ("Source title", "Abbreviated Source Title"), "volume": ("Volume",),
             "issue": ("Issue",), "article_number": ("Art. No.",),
             "publication_types": ("Document Type",),
             "language": ("Language of Original Document",), "abstract": ("Abstract",)},
    # Scopus separates authors with "; " (since 2023) or ", " (before): "Smith J., Li X."
    author_separator=r"\s*;\s*|(?<=\.),\s+",
    page_columns=("Page start", "Page end"),
)

EMBASE = CsvLayout(
    name="embase_csv",
    columns={"source_id": ("Embase Accession ID", "PUI"), "pmid": ("Medline PMID",),
             "doi": ("DOI",), "title": ("Title",), "authors": ("Author Names",),
             "year": ("Publication Year", "Date of Publication"),
             "journal": ("Source title", "Source"), "volume": ("Volume",),
             "issue": ("Issue",), "publication_types": ("Publication Type",),
             "language": ("Article Language",), "abstract": ("Abstract",)},
    # Embase writes "Yang Z., Jiang B., McNamara M.E."
    author_separator=r"\s*;\s*|(?<=\.),\s+",
    page_columns=("First Page", "Last Page"),
)

COVIDENCE = CsvLayout(
    name="covidence_csv",
    columns={"source_id": ("Covidence #",), "doi": ("DOI",), "title": ("Title",),
             "authors": ("Authors",), "year": ("Published Year",),
             "journal": ("Journal",), "volume": ("Volume",), "issue": ("Issue",),
             "pages": ("Pages",), "accession": ("Accession Number",),
             "abstract": ("Abstract",)},
)

GENERIC = CsvLayout(
    name="csv",
    columns={"source_id": ("id", "source_id", "record_id", "accession"),
             "pmid": ("pmid", "pubmed_id"), "doi": ("doi",), "title": ("title",),
             "authors": ("authors", "author"),
             "year": ("year", "publication_year", "date"),
             "journal": ("journal", "source_title", "secondary_title", "container_title"),
             "volume": ("volume",), "issue": ("issue", "number"), "pages": ("pages",),
             "publication_types": ("publication_types", "type", "document_type"),
             "language": ("language",), "abstract": ("abstract",)},
    page_columns=("start_page", "end_page"),
)

LAYOUTS = {layout.name: layout for layout in (SCOPUS, EMBASE, COVIDENCE, GENERIC)}

_FIELD_PLACEHOLDERS = {"", "na", "n/a", "null", "none"}


def _norm(name: str) -> str:
    return name.strip().lstrip("\ufeff").strip().casefold()


def _delimiter(line: str) -> str:
    counts = {d: line.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: (counts[d], d == ","))


def _find_header(lines: list[str], layout: CsvLayout, path: Path) -> tuple[int, str]:
    """The 0-based index of the header line and the delimiter."""
    wanted = [{_norm(h) for h in layout.columns[f]} for f in layout.required]
    for index, line in enumerate(lines[:50]):
        if not line.strip():
            continue
        delimiter = _delimiter(line)
        cells = {_norm(c) for c in next(csv.reader([line], delimiter=delimiter))}
        if all(cells & names for names in wanted):
            return index, delimiter
    names = " / ".join(layout.columns[layout.required[0]])
    raise InputError(path, f"no header row with a '{names}' column in the first 50 lines "
                           f"(is this a {layout.name} export?)", line=1)


def _cell(row: Mapping[str, str], headers: tuple[str, ...]) -> str | None:
    for header in headers:
        value = row.get(_norm(header))
        if value is not None and value.strip().casefold() not in _FIELD_PLACEHOLDERS:
            return value.strip()
    return None


def _map_row(row: Mapping[str, str], layout: CsvLayout) -> dict[str, Any]:
    rec = {key: _cell(row, headers) for key, headers in layout.columns.items()}
    if rec.get("authors"):
        rec["authors"] = join_list(re.split(layout.author_separator, rec["authors"]))
    if not rec.get("pages") and layout.page_columns:
        start, end = (_cell(row, (h,)) for h in layout.page_columns)
        rec["pages"] = f"{start}-{end}" if start and end and start != end else start
    if not rec.get("pages") and rec.get("article_number"):
        rec["pages"] = rec["article_number"]
    if not rec.get("pmid") and rec.get("accession") and rec["accession"].isdigit():
        rec["pmid"] = rec["accession"]  # Covidence keeps the PubMed id as accession
    rec.pop("article_number", None)
    rec.pop("accession", None)
    return rec


def read_csv_export(path: str | Path, *, source: str, layout: str = "csv") -> pd.DataFrame:
    """Read a CSV export of the given ``layout`` (``scopus_csv``, ``embase_csv``,
    ``covidence_csv`` or the generic ``csv``) into the record table of ``source``.

    Raises
    ------
    InputError
        When no header row is found, a row has another number of cells than the header,
        or a quoted cell is never closed (naming the line where the row starts).
    """
    path = Path(path)
    spec = LAYOUTS[layout]
    text = read_text(path)
    lines = text.split("\n")
    header_index, delimiter = _find_header(lines, spec, path)
    body = "\n".join(lines[header_index:])
    reader = csv.reader(io.StringIO(body), delimiter=delimiter, strict=True)
    rows: list[dict[str, Any]] = []
    header: list[str] = []
    start_line = header_index + 1
    try:
        for cells in reader:
            line = start_line
            start_line = header_index + reader.line_num + 1
            if not header:
                header = [_norm(c) for c in cells]
                continue
            if not any(c.strip() for c in cells):
                continue
            # Export tools write every cell of every row: another count means a stray
            # delimiter, quote or line break, and reading on would shift or split records.
            extra = cells[len(header):]
            if len(cells) < len(header) or any(c.strip() for c in extra):
                raise InputError(path, f"{len(cells)} cells but the header has "
                                       f"{len(header)} (a stray delimiter, quote or line "
                                       "break?)", line=line)
            row = dict(zip(header, cells))
            rec = _map_row(row, spec)
            rec["source_position"] = len(rows) + 1
            rows.append(rec)
    except csv.Error as err:
        raise InputError(path, f"malformed CSV ({err}); the row starts here",
                         line=start_line) from None
    log.info("%s: %d records (%s layout)", path, len(rows), spec.name)
    return make_record_table(rows, source=source, source_file=path)
