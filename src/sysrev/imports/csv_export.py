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

The generic layout also knows the headers that other tools write, so their CSV exports read
as ``csv`` without a layout of their own: Zotero (``Key``, ``Author``, ``Publication Title``,
``Abstract Note``, ``Publication Year``, ``Extra`` with ``PMID: …``), Rayyan (``key``,
authors joined by `` and ``), Lens.org (``Lens ID``, ``Author/s``, ``Source Title``,
``Issue Number``, ``Start Page``/``End Page``), PubMed's CSV (``Journal/Book``, authors
``Smith J, Li X``, volume/issue/pages from ``Citation``), Cochrane Library CENTRAL
(``Author(s)``, ``Source``, ``Accession Number``), CINAHL/EBSCO (``Article Title``,
``Journal Title``, ``First Page``), the older Embase.com layout (whole citation
``Journal Year Vol:Issue (pages)`` in ``Source``; DOI in ``Digital Object Identifier
(DOI)`` or a full-text link), abstrackr (``(source) id``, ``pubmed id``) and Web of
Science's tab-delimited export (``PT AU … TI SO … UT``). Authors may be
separated by ``;``, `` and `` (BibTeX style), or given as a Python list (``['A', 'B']``).

Other columns are ignored. The delimiter may be comma, semicolon or tab (taken from the
header line). A file with no header row holding a title column is an error listing the
headers found and those expected.
"""

from __future__ import annotations

import ast
import csv
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from itertools import chain, islice
from typing import Any, Iterable, Iterator, Mapping

from sysrev.errors import InputError
from sysrev.imports.records import (RecordTable, doi_in_text, iter_lines, join_list,
                                    make_record_table, parse_year, read_text,
                                    stream_encoding, warn_encoding)
from sysrev.lazy import pandas as pd

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CsvLayout:
    """Where one tool's CSV export keeps each record-table field."""

    name: str
    #: record field -> candidate header names, first present wins
    columns: Mapping[str, tuple[str, ...]]
    #: regular expression splitting the authors cell into names
    author_separator: str = r"\s*;\s*"
    #: (start page, end page) headers, used when no ``pages`` column is present; or a
    #: tuple of such pairs, the first present wins
    page_columns: tuple[str, str] | tuple[tuple[str, str], ...] | None = None
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
             "doi": ("DOI", "Digital Object Identifier (DOI)"), "title": ("Title",), "authors": ("Author Names",),
             "year": ("Publication Year", "Date of Publication", "Year of Publication"),
             "journal": ("Source title", "Source"), "volume": ("Volume",),
             "issue": ("Issue",), "publication_types": ("Publication Type",),
             "language": ("Article Language",), "abstract": ("Abstract",),
             # Older Embase.com layout: DOI as a link, the whole citation in "Source".
             "links": ("Full Text Link", "Embase Link", "Open URL Link")},
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
    columns={"source_id": ("id", "source_id", "record_id", "accession", "key", "Lens ID",
                           "(source) id", "Accession Number", "EID", "UT (Unique WOS ID)"),
             "pmid": ("pmid", "pubmed_id", "PubMed ID", "pubmed id", "Medline PMID"),
             "doi": ("doi", "Digital Object Identifier (DOI)", "DOI Link"),
             "title": ("title", "Article Title", "Document Title", "TI"),
             "authors": ("authors", "author", "Author/s", "Author(s)", "Author Names",
                         "Author full names"),
             "year": ("year", "publication_year", "Publication Year", "Published Year",
                      "Year of Publication", "Date Published", "Publication Date",
                      "Date of Publication", "date"),
             "journal": ("journal", "source_title", "secondary_title", "container_title",
                         "Publication Title", "Source Title", "Journal/Book",
                         "Journal Title", "Source"),  # Source: Cochrane Library
             "volume": ("volume",), "issue": ("issue", "number", "Issue Number"),
             "pages": ("pages",),
             "publication_types": ("publication_types", "type", "document_type",
                                   "Publication Type", "Item Type", "Doctype",
                                   "Document Type"),
             "language": ("language", "Article Language"),
             "abstract": ("abstract", "Abstract Note"),
             # Only for fields that other columns do not give.
             "citation": ("Citation",),
             "extra": ("Extra", "notes"),
             "links": ("Full Text Link", "url", "Url", "External URL", "Source URLs",
                       "Link"),
             "accession": ("Accession Number",)},
    author_separator="auto",
    page_columns=(("start_page", "end_page"), ("Start Page", "End Page"),
                  ("First Page", "Last Page"), ("Page start", "Page end")),
)

#: Web of Science "Tab delimited file" (two-letter field tags as column names); used for
#: ``csv`` when the header has ``PT``, ``UT`` and ``TI`` (its ``ID`` column is Keywords Plus,
#: not an id).
WOS_TAB = CsvLayout(
    name="csv",
    columns={"source_id": ("UT",), "pmid": ("PM",), "doi": ("DI",), "title": ("TI",),
             "authors": ("AU",), "year": ("PY",), "journal": ("SO",), "volume": ("VL",),
             "issue": ("IS",), "article_number": ("AR",), "publication_types": ("DT",),
             "language": ("LA",), "abstract": ("AB",)},
    page_columns=("BP", "EP"),
)

LAYOUTS = {layout.name: layout for layout in (SCOPUS, EMBASE, COVIDENCE, GENERIC)}

#: Records per batch of :func:`iter_csv_columns`.
BATCH_RECORDS = 5000

_FIELD_PLACEHOLDERS = {"", "na", "n/a", "null", "none"}


def _norm(name: str) -> str:
    return name.strip().lstrip("\ufeff").strip().casefold()


def _delimiter(line: str) -> str:
    counts = {d: line.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: (counts[d], d == ","))


def _find_header(lines: list[str], layout: CsvLayout, path: Path) -> tuple[int, str]:
    """The 0-based index of the header line and the delimiter."""
    wanted = [{_norm(h) for h in layout.columns[f]} for f in layout.required]
    first = None
    for index, line in enumerate(lines[:50]):
        if not line.strip():
            continue
        delimiter = _delimiter(line)
        cells = next(csv.reader([line], delimiter=delimiter))
        if first is None:
            first = [c.strip().lstrip("\ufeff") for c in cells if c.strip()]
        if all({_norm(c) for c in cells} & names for names in wanted):
            return index, delimiter
    expected = " / ".join(f"'{h}'" for h in layout.columns[layout.required[0]])
    found = ", ".join(f"'{h}'" for h in (first or [])[:40]) or "none (the file is empty)"
    raise InputError(path, f"no header row with a title column ({expected}) in the first 50 "
                           f"lines (is this a {layout.name} export?); headers found: "
                           f"{found}", line=1)


#: "Smith J, Li XY" (PubMed CSV) or "Smith J., Li X." (Scopus, Embase): comma-separated names
#: that each end in initials.
_INITIALS_NAME = re.compile(r"[^,;]+?\s(?:[A-Z]\.?-?){1,4}")
#: "Nature. 2020 Jan;577(7789):123-130. doi: …" (PubMed CSV citation)
_PUBMED_CITATION = re.compile(
    r";\s*(?P<volume>[^(:;\s]+)?(?:\((?P<issue>[^)]+)\))?(?::(?P<pages>[^.;\s]+))?")
#: "Endoscopic Ultrasound 2014 3:3 (152-160)" and "Endoscopic Ultrasound (2014) 3:3 (152-160).
#: Date of Publication: 2014" (older Embase.com CSV "Source")
_EMBASE_CITATION = re.compile(
    r"^(?P<journal>.+?)\.?\s+\(?(?P<year>(?:1[89]|20)\d\d)\)?(?:\s+(?P<volume>[^\s:(]+))?"
    r"(?::(?P<issue>[^\s(]+))?(?:\s*\((?P<pages>[^)]*)\))?\.?"
    r"(?:\s*Date of Publication:.*)?\s*$")


def split_authors(cell: str, separator: str = "auto") -> list[str]:
    """Split an authors cell into names.

    ``separator="auto"`` recognises a Python list repr (``['Smith, J', 'Li, X']``), names
    separated by ``;``, BibTeX/Rayyan style ``"Smith, J. and Li, X."``, and comma-separated
    names that each end in initials (``"Smith J, Li XY"``, ``"Smith J., Li X."``); anything
    else stays one name.
    """
    cell = cell.strip()
    if separator != "auto":
        return [n for n in re.split(separator, cell) if n.strip()]
    if cell.startswith("[") and cell.endswith("]"):
        try:
            value = ast.literal_eval(cell)
        except (ValueError, SyntaxError):
            value = None
        if isinstance(value, (list, tuple)):
            return [str(v).strip() for v in value if str(v).strip()]
    if ";" in cell:
        return [n.strip() for n in cell.split(";") if n.strip()]
    if re.search(r"\s+and\s+", cell):
        return [n.strip() for n in re.split(r"\s+and\s+", cell) if n.strip()]
    parts = [p.strip() for p in cell.split(",")]
    if len(parts) > 1 and all(_INITIALS_NAME.fullmatch(p) for p in parts):
        return parts
    return [cell]


def _cell(row: Mapping[str, str], headers: tuple[str, ...]) -> str | None:
    for header in headers:
        value = row.get(_norm(header))
        if value is not None and value.strip().casefold() not in _FIELD_PLACEHOLDERS:
            return value.strip()
    return None


def _page_pairs(layout: CsvLayout) -> tuple[tuple[str, str], ...]:
    pairs = layout.page_columns or ()
    return (pairs,) if pairs and isinstance(pairs[0], str) else pairs


def _map_row(row: Mapping[str, str], layout: CsvLayout) -> dict[str, Any]:
    rec = {key: _cell(row, headers) for key, headers in layout.columns.items()}
    if rec.get("authors"):
        rec["authors"] = join_list(split_authors(rec["authors"], layout.author_separator))
    if not rec.get("pages"):
        for start_header, end_header in _page_pairs(layout):
            start, end = _cell(row, (start_header,)), _cell(row, (end_header,))
            if start:
                rec["pages"] = f"{start}-{end}" if end and start != end else start
                break
    if not rec.get("pages") and rec.get("article_number"):
        rec["pages"] = rec["article_number"]
    if not rec.get("pmid") and rec.get("accession") and rec["accession"].isdigit():
        rec["pmid"] = rec["accession"]  # Covidence keeps the PubMed id as accession
    if not rec.get("pmid") and rec.get("extra"):
        # Zotero's "Extra" and Rayyan's notes: "PMID: 123…"
        if m := re.search(r"\bPMID:\s*(\d{1,9})", rec["extra"]):
            rec["pmid"] = m.group(1)
    if not rec.get("doi") and rec.get("links"):
        rec["doi"] = doi_in_text(rec["links"])
    if rec.get("citation"):
        if m := _PUBMED_CITATION.search(rec["citation"]):
            for key in ("volume", "issue", "pages"):
                rec[key] = rec.get(key) or m.group(key)
    journal = rec.get("journal")
    if journal and not parse_year(rec.get("year")) and (m := _EMBASE_CITATION.match(journal)):
        # Older Embase.com CSV: no year column, the whole citation in "Source".
        rec.update({key: rec.get(key) or m.group(key)
                    for key in ("year", "volume", "issue", "pages")})
        rec["journal"] = m.group("journal")
    for key in ("article_number", "accession", "citation", "extra", "links"):
        rec.pop(key, None)
    return rec


def _lines_as_read(lines: Iterable[str]) -> Iterator[str]:
    """``lines`` (a text split at ``\\n``) with their line ends back, as iterating
    ``io.StringIO("\\n".join(lines))`` gives them (a last empty line gives nothing)."""
    previous = None
    for line in lines:
        if previous is not None:
            yield previous + "\n"
        previous = line
    if previous:
        yield previous


def _records(path: Path, lines: Iterable[str], layout: str) -> Iterator[dict[str, Any]]:
    """The mapped records of a CSV export's ``lines`` (its text split at ``\\n``), one at a
    time, in file order: memory holds the first 50 lines and one row, not the file. The
    header is found in the first 50 lines; the layout used is logged at the end."""
    spec = LAYOUTS[layout]
    lines = iter(lines)
    head = list(islice(lines, 50))
    header_index, delimiter = _find_header(head, spec, path)
    body = _lines_as_read(chain(head[header_index:], lines))
    reader = csv.reader(body, delimiter=delimiter, strict=True)
    header: list[str] = []
    position = 0
    start_line = header_index + 1
    try:
        for cells in reader:
            line = start_line
            start_line = header_index + reader.line_num + 1
            if not header:
                header = [_norm(c) for c in cells]
                if layout == "csv" and {"pt", "ut", "ti"} <= set(header):
                    spec = WOS_TAB
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
            rec = _map_row(dict(zip(header, cells)), spec)
            position += 1
            rec["source_position"] = position
            rec["line"] = line
            yield rec
    except csv.Error as err:
        raise InputError(path, f"malformed CSV ({err}); the row starts here",
                         line=start_line) from None
    log.info("%s: %d records (%s layout)", path, position, spec.name)


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
    rows = list(_records(path, read_text(path).split("\n"), layout))
    return make_record_table(rows, source=source, source_file=path)


def iter_csv_columns(path: str | Path, *, source: str, layout: str = "csv",
                     batch_records: int = BATCH_RECORDS, encoding: str | None = None
                     ) -> Iterator[dict[str, list[Any]]]:
    """Read a CSV export as :func:`read_csv_export` does, ``batch_records`` records at a
    time: per batch, in file order, the record table's columns (a list per column of
    :data:`sysrev.columns.RECORD_COLUMNS`); memory holds one batch, not the file. A
    repeated accession gets the same ``~2`` id whichever batch it falls in. ``encoding``:
    the file's as :func:`sysrev.imports.records.stream_encoding` gives it, when known.

    Raises
    ------
    InputError
        As :func:`read_csv_export`, before the batch holding the broken row is yielded.
    """
    path = Path(path)
    if encoding is None:
        encoding = stream_encoding(path)
    else:
        warn_encoding(path, encoding)
    builder = RecordTable(source=source, source_file=path)
    records = _records(path, iter_lines(path, encoding=encoding, warn=False), layout)
    while batch := list(islice(records, batch_records)):
        keys = dict.fromkeys(key for rec in batch for key in rec)
        columns = {key: [rec.get(key) for rec in batch] for key in keys}
        yield builder.column_data(columns, columns["line"])
