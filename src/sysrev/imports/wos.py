"""Web of Science tagged plain-text exports (``FN``/``VR`` header, ``PT`` … ``ER`` records)."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pandas as pd
import rispy

from sysrev.errors import InputError
from sysrev.imports.records import join_list, make_record_table, read_text

log = logging.getLogger(__name__)

_TAG = re.compile(r"^([A-Z][A-Z0-9])(?: |$)")


def _check_structure(text: str, path: Path) -> int:
    """Count ``PT`` … ``ER`` records; fail on one that is not closed."""
    count, open_line = 0, None
    for number, line in enumerate(text.split("\n"), start=1):
        match = _TAG.match(line)
        if not match:
            continue
        tag = match.group(1)
        if tag == "PT":
            if open_line is not None:
                raise InputError(path, f"record starting at line {open_line} has no ER line "
                                       "before the next PT", line=number)
            open_line, count = number, count + 1
        elif tag == "ER":
            if open_line is None:
                raise InputError(path, "ER line without a PT line before it", line=number)
            open_line = None
    if open_line is not None:
        raise InputError(path, "the last record has no ER line (the file may be truncated)",
                         line=open_line)
    return count


def _pages(rec: dict[str, Any]) -> str | None:
    start, end = rec.get("beginning_page"), rec.get("ending_page")
    if start and end and end != start:
        return f"{start}-{end}"
    return start or rec.get("article_number") or None


def read_wos(path: str | Path, *, source: str) -> pd.DataFrame:
    """Read a Web of Science tagged export into the record table of ``source``."""
    path = Path(path)
    text = read_text(path)
    expected = _check_structure(text, path)
    parsed = rispy.loads(text, implementation=rispy.WokParser, skip_unknown_tags=True)
    if len(parsed) != expected:
        raise InputError(path, f"{expected} records in the file but {len(parsed)} parsed")
    rows = []
    for position, rec in enumerate(parsed, start=1):
        rows.append({
            "source_id": rec.get("accession_number"),
            "pmid": rec.get("pubmed_id"),
            "doi": rec.get("doi"),
            "title": rec.get("document_title"),
            "authors": join_list(rec.get("authors")),
            "year": rec.get("publication_year") or rec.get("publication_date"),
            "journal": rec.get("publication_name"),
            "volume": rec.get("volume"),
            "issue": rec.get("issue"),
            "pages": _pages(rec),
            "publication_types": rec.get("document_type"),
            "language": rec.get("language"),
            "abstract": rec.get("abstract"),
            "source_position": position,
        })
    log.info("%s: %d records", path, len(rows))
    return make_record_table(rows, source=source, source_file=path)
