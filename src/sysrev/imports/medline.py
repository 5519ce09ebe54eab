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
from typing import Any

from Bio import Medline

from sysrev.errors import InputError
from sysrev.imports.checks import check_last_record_complete
from sysrev.imports.records import doi_in_text, join_list, make_record_table, read_text
from sysrev.lazy import pandas as pd

log = logging.getLogger(__name__)

# A MEDLINE field line: a tag of up to four characters, padded to four, then "- ".
_FIELD = re.compile(r"^[A-Z][A-Z0-9]{0,3} {0,3}- ")
_CONTINUATION = "      "
_DOI_ID = re.compile(r"^\s*(10\.\S+)\s*\[doi\]", re.IGNORECASE)


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
