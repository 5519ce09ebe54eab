"""Recognising an export's format from its content (``format: auto``).

The signatures, tried in this order, are each format's structural marks, not its file name:

=================  =========================================================================
format             signature
=================  =========================================================================
``endnote_xml``    an XML document whose root is ``<xml>`` with ``<records>``/``<record>``
``ovid``           Ovid field-label text: a ``<1>`` line, a label, an indented value
``ris``            a ``TY  - `` or ``ER  -`` line (RIS tag, two spaces, hyphen)
``wos``            an ``FN``/``VR`` header or ``PT`` … ``ER`` records with two-letter tags
                   followed by one space
``medline``        MEDLINE tags (``PMID- ``, ``TI  - ``, ``AU  - `` …) with no ``TY`` line
``bibtex``         an ``@type{key,`` line
``*_csv``/``csv``  a header row with a title column; the layout from its headers (Scopus
                   ``EID``, Embase ``Embase Accession ID``, Covidence ``Covidence #``)
=================  =========================================================================

Empty files and binary content are recognised as such, so that the error says what the file
is rather than that no records were found.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from sysrev.imports.ovid import looks_like_ovid_text
from sysrev.imports.records import iter_lines, stream_encoding

#: Formats read by the same parser family; a declared format matches a detected one of its
#: family.
FAMILY = {"csv": "csv", "scopus_csv": "csv", "embase_csv": "csv", "covidence_csv": "csv"}

EMPTY, BINARY = "empty", "binary"

#: Characters of an export's start that its format is recognised from.
HEAD_CHARS = 200_000

_RIS = re.compile(r"^(?:TY  - |ER  -\s*$)", re.MULTILINE)
_WOS_HEADER = re.compile(r"\A\s*(?:FN |VR )", re.MULTILINE)
_WOS_RECORD = re.compile(r"^PT [A-Z]\s*$(?:\n(?:[A-Z][A-Z0-9] |   ).*$)*\n^ER\s*$",
                         re.MULTILINE)
_MEDLINE = re.compile(r"^(?:PMID|[A-Z][A-Z0-9]{1,3}) {0,3}- \S", re.MULTILINE)
_BIBTEX = re.compile(r"^\s*@[A-Za-z]+\s*[{(]\s*[^\s,]*\s*,", re.MULTILINE)
_XML = re.compile(r"\A\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*<xml>\s*<records>", re.DOTALL)
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")


#: Headers of older layouts without an accession column (Embase.com's CSV before the PUI and
#: accession columns: ASReview's embase.csv test file).
_OLDER_MARKERS = {"embase_csv": ("Emtree Medical Index Terms", "Emtree Drug Index Terms")}


def _csv_layout(text: str) -> str | None:
    from sysrev.imports.csv_export import GENERIC, LAYOUTS, _delimiter, _norm

    for line in text.split("\n")[:50]:
        if line.count(",") + line.count(";") + line.count("\t") < 1:
            continue
        cells = {_norm(c) for c in next(csv.reader([line], delimiter=_delimiter(line)))}
        for name in ("scopus_csv", "embase_csv", "covidence_csv"):
            layout = LAYOUTS[name]
            marker = {_norm(h) for h in layout.columns["source_id"]
                      + _OLDER_MARKERS.get(name, ())}
            if cells & marker and cells & {_norm(h) for h in layout.columns["title"]}:
                return name
        if cells & {_norm(h) for h in GENERIC.columns["title"]}:
            return "csv"
    return None


def detect_text_format(text: str) -> str | None:
    """The format of an export's decoded text; ``"empty"``, ``"binary"`` or ``None`` (not
    recognised)."""
    if not text.strip():
        return EMPTY
    head = text[:HEAD_CHARS]
    if len(_CONTROL.findall(head[:20_000])) > max(8, len(head[:20_000]) // 100):
        return BINARY
    if _XML.match(head):
        return "endnote_xml"
    if looks_like_ovid_text(head):
        return "ovid"
    if _RIS.search(head):
        return "ris"
    if _WOS_HEADER.match(head) or _WOS_RECORD.search(head):
        return "wos"
    if re.search(r"^PMID- ", head, re.MULTILINE) or len(_MEDLINE.findall(head[:5000])) >= 3:
        return "medline"
    if _BIBTEX.search(head):
        return "bibtex"
    return _csv_layout(head)


def detect_format(path: str | Path) -> tuple[str | None, str]:
    """The format of an export file (see :func:`detect_text_format`) and its encoding."""
    encoding = stream_encoding(path, warn=False)
    # Only the head is looked at (and, when it is blank, whether anything follows).
    head, more = [], 0
    lines = iter_lines(path, encoding=encoding)
    for line in lines:
        head.append(line)
        more += len(line) + 1
        if more > HEAD_CHARS:
            break
    text = "\n".join(head)
    if not text[:HEAD_CHARS].strip() and (text.strip() or any(l.strip() for l in lines)):
        text = text[:HEAD_CHARS].ljust(HEAD_CHARS) + "x"  # blank head, content after it
    return detect_text_format(text), encoding


def same_family(declared: str, detected: str | None) -> bool:
    """Whether a declared format is read by the same parser as the detected one."""
    return FAMILY.get(declared, declared) == FAMILY.get(detected or "", detected)


def conflicting_layouts(declared: str, detected: str | None) -> bool:
    """Whether a declared CSV layout is another tool's than the detected one (a Covidence
    CSV declared ``scopus_csv``): read so, the file parses but loses the fields the layouts
    name differently (the accession number, the year). The generic ``csv`` conflicts with
    no layout."""
    specific = set(FAMILY) - {"csv"}
    return declared in specific and detected in specific and declared != detected
