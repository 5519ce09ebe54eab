"""BibTeX exports (``.bib``), as written by Zotero, JabRef, Mendeley and EndNote.

Parsing is bibtexparser's (v2); LaTeX accents and commands in field values are turned into
Unicode with pylatexenc (bibtexparser's own dependency). Authors (``"Smith, John and Ludwig
van Beethoven and {World Health Organization}"``) are split on the top-level ``and`` and
written ``"von Last, First"``, the form other importers give.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import bibtexparser
from bibtexparser.middlewares.names import parse_single_name_into_parts, \
    split_multiple_persons_names
from bibtexparser.model import DuplicateBlockKeyBlock, Entry
from pylatexenc.latex2text import LatexNodes2Text

from sysrev.errors import InputError
from sysrev.imports.records import join_list, make_record_table, read_text
from sysrev.lazy import pandas as pd

log = logging.getLogger(__name__)

# An entry's first line: "@article{key," (not @string, @comment or @preamble).
_ENTRY_START = re.compile(r"^\s*@(?!(?:string|comment|preamble)\b)[A-Za-z]+\s*[{(]",
                          re.IGNORECASE | re.MULTILINE)
_LATEX = LatexNodes2Text(math_mode="verbatim")
#: What LaTeX decoding changes in text: commands and groups (backslash, braces), math ($),
#: comments (%), alignment (&), ties (~), quote and dash ligatures ('' `` -- ---). A field
#: with none of them is decoded to itself (tested against pylatexenc character by
#: character in tests/unit/imports/test_streaming.py).
_LATEX_MARKUP = re.compile(r"[\\{}$%&~]|''|``|--")
# An entry with no key at all, its first field right after the brace ("@article{author =
# ..."): never valid BibTeX, written by some tools for records without a citation key. Read
# as an entry with an empty key (bibtexparser would stop at the "=").
_NO_KEY = re.compile(r"^(\s*@(?!(?:string|comment|preamble)\b)[A-Za-z]+\s*\{)"
                     r"(?=\s*[A-Za-z][\w-]*\s*=)", re.IGNORECASE | re.MULTILINE)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).replace("--", "-")
    if not _LATEX_MARKUP.search(text):
        # Nothing pylatexenc would change: decoding would give the text back (at about a
        # millisecond a field).
        return " ".join(text.split()) or None
    try:
        # Grouping braces go, escaped ones (\{ \}) stay as literal braces.
        text = _LATEX.latex_to_text(text)
    except Exception:  # pylatexenc is lenient; a failure keeps the value, braces removed
        log.debug("could not decode LaTeX in %r", text[:80])
        text = text.replace("{", "").replace("}", "")
    return " ".join(text.split()) or None


def _name(raw: str) -> str | None:
    """``"Ludwig van Beethoven"`` -> ``"van Beethoven, Ludwig"``; a braced corporate name
    stays whole."""
    raw = raw.strip()
    if raw.startswith("{") and raw.endswith("}"):
        return _text(raw)
    try:
        parts = parse_single_name_into_parts(raw)
    except Exception:  # bibtexparser's InvalidNameError and friends: keep the name as is
        return _text(raw)
    last = " ".join(parts.von + parts.last)
    first = " ".join(parts.first)
    jr = " ".join(parts.jr)
    name = ", ".join(p for p in (last, jr, first) if p)
    return _text(name)


def split_bibtex_authors(value: str | None) -> list[str]:
    """Names of a BibTeX ``author`` field, each as ``"von Last, First"``."""
    if not value:
        return []
    return [n for n in (_name(raw) for raw in split_multiple_persons_names(value)) if n]


def _unwrap(value: Any) -> Any:
    """A field value without the braces or quotes that delimit it. bibtexparser removes
    them, except in the entry it sets aside as a duplicate key (two entries without a key
    are duplicates of ""): there "{A and B and C}" would be one braced, corporate name."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1]
    if len(text) >= 2 and text[0] == "{" and text[-1] == "}":
        depth = 0
        for index, char in enumerate(text):
            depth += (char == "{") - (char == "}")
            if depth == 0 and index < len(text) - 1:
                return value  # "{A} and {B}": the braces are the value's own
        return text[1:-1]
    return value


def map_bibtex_entry(entry: Entry, *, delimited: bool = False) -> dict[str, Any]:
    """Map one bibtexparser entry to record-table fields (``delimited``: its values still
    carry their braces or quotes)."""
    fields = {f.key.lower(): _unwrap(f.value) if delimited else f.value
              for f in entry.fields}
    pmid = fields.get("pmid")
    if not pmid and (m := re.search(r"\bPMID:\s*(\d+)", str(fields.get("note", "")))):
        pmid = m.group(1)
    return {
        "source_id": entry.key,
        "pmid": pmid,
        "doi": fields.get("doi"),
        "title": _text(fields.get("title")),
        "authors": join_list(split_bibtex_authors(fields.get("author"))),
        "year": fields.get("year") or fields.get("date"),
        "journal": _text(fields.get("journal") or fields.get("journaltitle")
                         or fields.get("booktitle")),
        "volume": _text(fields.get("volume")),
        "issue": _text(fields.get("number") or fields.get("issue")),
        "pages": _text(fields.get("pages")),
        "publication_types": entry.entry_type.lower(),
        "language": _text(fields.get("language") or fields.get("langid")),
        "abstract": _text(fields.get("abstract")),
    }


def read_bibtex(path: str | Path, *, source: str) -> pd.DataFrame:
    """Read a BibTeX export into the record table of ``source``.

    Raises
    ------
    InputError
        When an entry cannot be parsed (naming the line where it starts), or fewer entries
        were read than the file has ``@type{`` lines.
    """
    path = Path(path)
    text = _NO_KEY.sub(r"\1,", read_text(path))
    library = bibtexparser.parse_string(text)
    entries: list[Entry] = list(library.entries)
    delimited = set()
    for block in library.failed_blocks:
        if isinstance(block, DuplicateBlockKeyBlock):
            # The same key twice: both are records (a within-source duplicate, kept).
            entries.append(block.ignore_error_block)
            delimited.add(id(block.ignore_error_block))
            continue
        raise InputError(path, f"malformed BibTeX entry ({type(block.error).__name__}: "
                               f"{str(block.error) or 'unbalanced braces or quotes?'})",
                         line=block.start_line + 1)
    expected = len(_ENTRY_START.findall(text))
    if len(entries) != expected:
        raise InputError(path, f"{expected} entries in the file but {len(entries)} parsed")
    entries.sort(key=lambda e: e.start_line)
    rows = []
    for position, entry in enumerate(entries, start=1):
        row = map_bibtex_entry(entry, delimited=id(entry) in delimited)
        row["source_position"] = position
        row["line"] = entry.start_line + 1
        rows.append(row)
    log.info("%s: %d records", path, len(rows))
    return make_record_table(rows, source=source, source_file=path)
