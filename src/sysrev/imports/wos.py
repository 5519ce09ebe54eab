"""Web of Science tagged plain-text exports (``FN``/``VR`` header, ``PT`` … ``ER`` records)."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pandas as pd
import rispy

from sysrev.errors import InputError
from sysrev.imports.checks import check_wos_end
from sysrev.imports.records import (count_tagged_records, join_list, make_record_table,
                                    read_text)

log = logging.getLogger(__name__)

_TAG = re.compile(r"^([A-Z][A-Z0-9])(?: |$)")


def _check_structure(text: str, path: Path) -> int:
    """Count records by their ``PT`` lines; fail on one that is not closed by ``ER``."""
    return count_tagged_records(text, path, _TAG, "PT")


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
    check_wos_end(text, path)
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
