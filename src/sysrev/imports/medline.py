"""PubMed MEDLINE / ``.nbib`` exports (``PMID- `` … records separated by blank lines), and
the same tagged format from other hosts (ERIC via EBSCO), whose records have no PMID.

Parsing is Biopython's :func:`Bio.Medline.parse`; this module checks the file's structure
(so that a corrupt file fails with its line number instead of giving a shorter table) and maps
the MEDLINE tags onto the record table.
"""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path
from typing import Any, Iterator

from Bio import Medline

from sysrev.errors import InputError
from sysrev.imports.checks import check_last_record_complete
from sysrev.imports.records import (batch_reader_start, doi_in_text, iter_lines, join_list,
                                    make_record_table, read_text, row_columns,
                                    with_whole_file_error)
from sysrev.lazy import pandas as pd

log = logging.getLogger(__name__)

# A MEDLINE field line: a tag of up to four characters, padded to four, then "- ".
_FIELD = re.compile(r"^[A-Z][A-Z0-9]{0,3} {0,3}- ")
_CONTINUATION = "      "
_DOI_ID = re.compile(r"^\s*(10\.\S+)\s*\[doi\]", re.IGNORECASE)


#: Records parsed and mapped at a time by :func:`iter_medline_columns`.
BATCH_RECORDS = 5000


def _check_structure(text: str, path: Path) -> tuple[int, list[int]]:
    """Count records (blank-line separated; PubMed's start with ``PMID-``, other hosts'
    with any field); fail on a line inside a record that is neither a field nor a
    continuation. A line of text between records (a note someone added, which Biopython's
    reader skips) is returned with the others like it, to be left out with a warning.
    Returns (records, stray lines)."""
    count, in_record = 0, False
    lines = text.split("\n")
    stray = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            in_record = False
            continue
        if line.startswith(_CONTINUATION):
            if not in_record:
                raise InputError(path, "continuation line outside a record", line=number)
            continue
        if not _FIELD.match(line):
            if not in_record:
                stray.append(number)
                continue
            raise InputError(path, f"not a MEDLINE field line: {line[:40]!r}", line=number)
        if not in_record:
            in_record, count = True, count + 1
    return count, stray


def _record_lines(text: str) -> list[int]:
    """The first line of every record."""
    starts, previous_blank = [], True
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip() and previous_blank:
            starts.append(number)
        previous_blank = not line.strip()
    return starts


def _doi(rec: dict[str, Any]) -> str | None:
    values = [rec.get("LID")] + list(rec.get("AID") or [])
    for value in values:
        if value and (m := _DOI_ID.match(str(value))):
            return m.group(1)
    # "AID - http://dx.doi.org/10.1000/xyz" or "doi:10.1000/xyz", without the [doi] label
    # (JabRef and other tools write these; Biopython keeps the field as it is).
    for value in values:
        text = str(value or "")
        if text and ("[" not in text or "[doi]" in text.lower()):
            if doi := doi_in_text(text):
                return doi
    return None


def map_medline_record(rec: dict[str, Any]) -> dict[str, Any]:
    """Map one :mod:`Bio.Medline` record to record-table fields."""
    pmid = str(rec.get("PMID") or "").strip()
    # ERIC (EBSCO) and other non-PubMed hosts: no PMID, or their own accession in its place.
    accession = pmid or rec.get("AN") or rec.get("OID") or rec.get("ID")
    if isinstance(accession, list):
        accession = accession[0] if accession else None
    return {
        "source_id": accession,
        "pmid": pmid if pmid.isdigit() else None,
        "doi": _doi(rec),
        "title": rec.get("TI") or rec.get("BTI") and " ".join(rec["BTI"]),
        "authors": join_list(rec.get("AU") or rec.get("FAU")),
        "year": rec.get("DP") or rec.get("DEP"),
        "journal": rec.get("TA") or rec.get("JT"),
        "volume": rec.get("VI"),
        "issue": rec.get("IP"),
        "pages": rec.get("PG"),
        "publication_types": join_list(rec.get("PT")),
        "mesh_terms": join_list(rec.get("MH")),
        "language": join_list(rec.get("LA")),
        "abstract": rec.get("AB"),
    }


def read_medline(path: str | Path, *, source: str) -> pd.DataFrame:
    """Read a PubMed MEDLINE (``.nbib``/``.txt``) export into the record table of ``source``.

    Raises
    ------
    InputError
        When a line is not MEDLINE (naming it), or Biopython read a different number of records than the file holds.
    """
    path = Path(path)
    text = read_text(path)
    expected, stray = _check_structure(text, path)
    if stray:
        log.warning("%s: line%s %s %s not MEDLINE (text between records); left out",
                    path, "s" if len(stray) > 1 else "", ", ".join(map(str, stray[:10])),
                    "are" if len(stray) > 1 else "is")
        lines = text.split("\n")
        for number in stray:
            lines[number - 1] = ""
        text = "\n".join(lines)
    parsed = list(Medline.parse(io.StringIO(text)))
    if len(parsed) != expected:
        raise InputError(path, f"{expected} records in the file but {len(parsed)} parsed")
    rows = []
    starts = _record_lines(text)
    # PubMed writes SO (the source citation) in every record, after the abstract and authors
    # (other hosts, ERIC's reports, may have none).
    if all(rec.get("PMID") for rec in parsed):
        check_last_record_complete([list(rec) for rec in parsed], path,
                                   starts[-1] if starts else None, closing=("SO",))
    for position, rec in enumerate(parsed, start=1):
        row = map_medline_record(rec)
        row["source_position"] = position
        row["line"] = starts[position - 1] if position <= len(starts) else None
        rows.append(row)
    log.info("%s: %d records", path, len(rows))
    return make_record_table(rows, source=source, source_file=path)


def _stray_warning(path: Path, stray: list[int]) -> None:
    log.warning("%s: line%s %s %s not MEDLINE (text between records); left out",
                path, "s" if len(stray) > 1 else "", ", ".join(map(str, stray[:10])),
                "are" if len(stray) > 1 else "is")


def iter_medline_columns(path: str | Path, *, source: str, batch_records: int = BATCH_RECORDS,
                         encoding: str | None = None) -> Iterator[dict[str, list[Any]]]:
    """Read a MEDLINE export into the record table of ``source``, ``batch_records`` records
    at a time (per batch, in file order, a list per column of
    :data:`sysrev.columns.RECORD_COLUMNS`): the file is read line by line and memory holds
    one batch, not the file. The table is :func:`read_medline`'s.

    ``encoding``: the file's as :func:`sysrev.imports.records.stream_encoding` gives it,
    when already known (format detection finds it).

    A batch ends at an empty line before a record's first field line, where Biopython's
    parse ends a record too, so each batch parses as it would inside the whole file. The
    checks that span the file carry over batches: the record count, the accessions seen
    (a repeated one numbered ``~2`` whichever batch it falls in), the stray lines (warned
    of at the end) and the last record's ``SO`` against every other record's.

    Raises
    ------
    InputError
        As :func:`read_medline`, with its message (a broken file is read again whole, see
        :func:`sysrev.imports.records.with_whole_file_error`); batches already given must
        then be thrown away.
    """
    path = Path(path)
    return with_whole_file_error(_medline_batches(path, source, batch_records, encoding),
                                 lambda: read_medline(path, source=source))


def _medline_batches(path: Path, source: str, batch_records: int,
                     encoding: str | None) -> Iterator[dict[str, list[Any]]]:
    builder, encoding = batch_reader_start(path, source, encoding)
    lines: list[str] = []  # the current batch's lines (stray lines made empty)
    starts: list[int] = []  # the first line of each of its records
    stray: list[int] = []
    state = {"in_record": False, "records": 0, "all_pmid": True, "all_so": True}

    def parse(last: bool) -> dict[str, list[Any]]:
        parsed = list(Medline.parse(line + "\n" for line in lines))
        if len(parsed) != len(starts):
            raise InputError(path, f"{len(starts)} records in the batch but {len(parsed)} "
                                   "parsed")
        first = state["records"] - len(parsed) + 1
        rows = []
        for k, rec in enumerate(parsed):
            state["all_pmid"] = state["all_pmid"] and bool(rec.get("PMID"))
            if last and k == len(parsed) - 1:
                # check_last_record_complete: PubMed writes SO in every record.
                if (state["records"] >= 2 and state["all_pmid"] and state["all_so"]
                        and "SO" not in rec):
                    raise InputError(path, "the last record has no 'SO' field, which every "
                                           "other record of the file has: the file is cut "
                                           "inside it", line=starts[k])
            else:
                state["all_so"] = state["all_so"] and "SO" in rec
            row = map_medline_record(rec)
            row["source_position"] = first + k
            row["line"] = starts[k]
            rows.append(row)
        return row_columns(builder, rows)

    for number, line in enumerate(iter_lines(path, encoding=encoding), start=1):
        if not line.strip():
            state["in_record"] = False
            lines.append(line)
            continue
        if line.startswith(_CONTINUATION):
            if not state["in_record"]:
                raise InputError(path, "continuation line outside a record", line=number)
            lines.append(line)
            continue
        if not _FIELD.match(line):
            if not state["in_record"]:
                stray.append(number)
                lines.append("")
                continue
            raise InputError(path, f"not a MEDLINE field line: {line[:40]!r}", line=number)
        if not state["in_record"]:
            if len(starts) >= batch_records and lines and lines[-1] == "":
                yield parse(last=False)
                lines, starts = [], []
            state["in_record"] = True
            state["records"] += 1
            starts.append(number)
        lines.append(line)
    columns = parse(last=True)
    if stray:
        _stray_warning(path, stray)
    if columns["record_id"]:
        yield columns
    log.info("%s: %d records", path, state["records"])
