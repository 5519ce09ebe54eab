"""Web of Science tagged plain-text exports (``FN``/``VR`` header, ``PT`` … ``ER`` records)."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import rispy

from sysrev.errors import InputError
from sysrev.imports.checks import check_wos_end
from sysrev.imports.records import (count_tagged_records, join_list, make_record_table,
                                    read_text)
from sysrev.lazy import pandas as pd

log = logging.getLogger(__name__)

_TAG = re.compile(r"^([A-Z][A-Z0-9])(?: |$)")


#: The tags of Web of Science's field list (rispy's mapping), plus the file header and end.
KNOWN_TAGS = frozenset(rispy.WokParser.DEFAULT_MAPPING) | {"FN", "VR", "EF", "ER", "PT"}


def repair_tags(text: str, path: Path) -> str:
    """Insert the lost space of a malformed tag line (``AUGilles, H`` -> ``AU Gilles, H``),
    logging each with its line; any other line that is neither a tag line nor a
    continuation is an error naming it.

    Without this, the parser would take ``AUGilles, H`` as tag ``AU`` with the value
    ``illes, H``: an author silently altered.
    """
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if not line.strip() or line.startswith("   ") or _TAG.match(line.lstrip("\ufeff")):
            continue
        tag = line.lstrip("\ufeff")[:2]
        if tag in KNOWN_TAGS and line.lstrip("\ufeff")[2:3].strip():
            log.warning("%s, line %d: malformed tag line %r (no space after the tag %s); "
                        "read as %r", path, index + 1, line[:40], tag,
                        f"{tag} {line.lstrip(chr(0xfeff))[2:]}"[:40])
            lines[index] = f"{tag} {line.lstrip(chr(0xfeff))[2:]}"
            continue
        raise InputError(path, f"not a Web of Science tag or continuation line: "
                               f"{line[:40]!r}", line=index + 1)
    return "\n".join(lines)


def _check_structure(text: str, path: Path) -> int:
    """Count records by their ``PT`` lines; fail on one that is not closed by ``ER``."""
    return count_tagged_records(text, path, _TAG, "PT")


def _record_lines(text: str) -> list[int]:
    return [number for number, line in enumerate(text.split("\n"), start=1)
            if line.startswith("PT ")]


def _pages(rec: dict[str, Any]) -> str | None:
    start, end = rec.get("beginning_page"), rec.get("ending_page")
    if start and end and end != start:
        return f"{start}-{end}"
    return start or rec.get("article_number") or None


def read_wos(path: str | Path, *, source: str) -> pd.DataFrame:
    """Read a Web of Science tagged export into the record table of ``source``."""
    path = Path(path)
    text = repair_tags(read_text(path), path)
    expected = _check_structure(text, path)
    check_wos_end(text, path)
    parsed = rispy.loads(text, implementation=rispy.WokParser, skip_unknown_tags=True)
    if len(parsed) != expected:
        raise InputError(path, f"{expected} records in the file but {len(parsed)} parsed")
    starts = _record_lines(text)
    rows = []
    for position, rec in enumerate(parsed, start=1):
        rows.append({
            "line": starts[position - 1] if position <= len(starts) else None,
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
