"""Readers the screening-tool formats share: the kind of a file (CSV/TSV, RIS, ASReview
project), its CSV rows or RIS records, a RIS record's matching keys, and one decision row.
:mod:`sysrev.screening.formats` and :mod:`sysrev.screening.asreview_project` both use them."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from sysrev.errors import InputError
from sysrev.imports.records import decode_export
from sysrev.screening.matching import Match

_RIS_TAG = re.compile(r"^([A-Z][A-Z0-9])  -(?: +(.*))?$")
_PMID_IN_TEXT = re.compile(r"(?:PUBMED|PMID)\s*:?\s*(\d{1,9})", re.IGNORECASE)
_YEAR = re.compile(r"(1[89]\d\d|20\d\d)")

#: File kinds a tool's export can be: comma/tab-separated table, RIS, ASReview project (zip).
KINDS = ("csv", "ris", "project")


def file_kind(path: str | Path) -> str:
    """``project`` for a zip archive (an ASReview project), ``ris`` when the first tagged
    line is a RIS ``TY`` tag, else ``csv``."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    with path.open("rb") as handle:
        head = handle.read(4096)
    if head.startswith(b"PK\x03\x04"):
        return "project"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head.decode("utf-16", errors="replace")
    else:
        text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    for line in text.replace("\r", "\n").split("\n"):
        if line.strip():
            # Wiley/Ovid put "Record #1 of 9" or numbering before the first TY line.
            if _RIS_TAG.match(line.rstrip()):
                return "ris" if line.startswith("TY") else "csv"
            if "," in line or "\t" in line:
                return "csv"
    return "csv"


def _read_rows(path: str | Path, shown_as: str | None = None
               ) -> tuple[list[str], list[tuple[int, dict]]]:
    """Header and ``(line, row)`` pairs of a CSV or TSV file (delimiter from the header)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    text = decode_export(path.read_bytes(), shown_as or path)[0]
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    reader = csv.DictReader(text.splitlines(keepends=True), delimiter=delimiter)
    rows = []
    line = 2
    for row in reader:
        rows.append((line, row))
        line = reader.line_num + 1
    return list(reader.fieldnames or []), rows


def ris_entries(path: str | Path) -> list[tuple[int, dict[str, list[str]]]]:
    """``(line of TY, {tag: [values]})`` for every record of a RIS file.

    Continuation lines (text without a tag inside a record) extend the tag before them.
    A record not closed by ``ER`` before the next ``TY`` or the end of the file is an error
    naming its line, so that no record is silently dropped.
    """
    path = Path(path)
    text = decode_export(path.read_bytes(), path)[0]
    entries: list[tuple[int, dict[str, list[str]]]] = []
    current: dict[str, list[str]] | None = None
    start, last = 0, None
    for number, line in enumerate(text.split("\n"), start=1):
        match = _RIS_TAG.match(line.rstrip())
        if match:
            tag, value = match.group(1), (match.group(2) or "").strip()
            if tag == "TY":
                if current is not None:
                    raise InputError(path, f"record starting at line {start} has no ER line "
                                           "before the next TY", line=number)
                current, start, last = {"TY": [value]}, number, "TY"
            elif tag == "ER":
                if current is None:
                    raise InputError(path, "ER line without a TY line before it", line=number)
                entries.append((start, current))
                current, last = None, None
            elif current is not None:
                current.setdefault(tag, []).append(value)
                last = tag
        elif current is not None and last and line.strip():
            current[last][-1] = f"{current[last][-1]} {line.strip()}".strip()
    if current is not None:
        raise InputError(path, "the last record has no ER line (the file may be truncated)",
                         line=start)
    return entries


def _first(entry: dict[str, list[str]], *tags: str) -> str:
    for tag in tags:
        for value in entry.get(tag, []):
            if value.strip():
                return value.strip()
    return ""


def ris_keys(entry: dict[str, list[str]]) -> dict[str, object]:
    """The matching keys of one RIS record (PMID, DOI, title, year, authors)."""
    pmid = _first(entry, "PM")
    if not pmid:
        for tag in ("AN", "C3", "N1"):
            found = next((m.group(1) for v in entry.get(tag, [])
                          if (m := _PMID_IN_TEXT.search(v))), None)
            if found:
                pmid = found
                break
    year = next((m.group(1) for tag in ("PY", "Y1", "DA", "Y2")
                 for v in entry.get(tag, []) if (m := _YEAR.search(v))), "")
    return {"pmid": pmid, "doi": _first(entry, "DO") or _first(entry, "UR", "L2"),
            "title": _first(entry, "TI", "T1", "CT", "BT"), "year": year,
            "authors": "; ".join(entry.get("AU", []) or entry.get("A1", []))}


def _row(path, line, found: Match, key_text, reviewer, stage, decision, reason="", note=""):
    return {"record_id": key_text, "unique_record_id": found.unique_record_id or "",
            "match": found.key, "reviewer": " ".join(str(reviewer).split()), "stage": stage,
            "decision": decision,
            "reason": reason, "note": note, "file": str(path), "line": line}
