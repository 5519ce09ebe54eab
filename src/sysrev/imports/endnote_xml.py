"""EndNote XML exports (``<xml><records><record>…``), as written by EndNote and Bookends.

Each field's text may be split over ``<style>`` runs (italics inside a title); the runs are
joined. The XML parser is the standard library's; a malformed file fails with the parser's
line number. :func:`iter_endnote_xml_columns` reads the same records a batch at a time
(``XMLPullParser``, each ``<record>`` cleared once mapped), with the same parser settings (the
standard library's expat: no external entities or DTDs fetched) and the same errors.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Iterator

from sysrev.errors import InputError
from sysrev.imports.records import (RecordTable, clean_text, iter_lines, join_list,
                                    make_record_table, read_text, stream_encoding,
                                    warn_encoding)
from sysrev.lazy import pandas as pd

log = logging.getLogger(__name__)

_RECORD_TAG = re.compile(r"<record[\s>]")
_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
#: Records per batch of :func:`iter_endnote_xml_columns`.
BATCH_RECORDS = 5000
#: Characters fed to the XML parser at a time.
FEED_CHARS = 1 << 20
_PMID_IN_URL = re.compile(r"ncbi\.nlm\.nih\.gov/pubmed/(\d+)|PMID:?\s*(\d+)", re.IGNORECASE)


def _text(element: ET.Element | None) -> str | None:
    if element is None:
        return None
    return clean_text(" ".join(t for t in element.itertext()))


def _all(record: ET.Element, path: str) -> list[str]:
    return [t for t in (_text(e) for e in record.findall(path)) if t]


def map_endnote_record(record: ET.Element) -> dict[str, Any]:
    """Map one ``<record>`` element to record-table fields."""
    accession = _text(record.find("accession-num"))
    urls = _all(record, "urls/related-urls/url") + _all(record, "notes")
    pmid = None
    if accession and accession.isdigit():
        pmid = accession  # EndNote's PubMed import puts the PMID in accession-num
    for text in urls:
        if not pmid and (m := _PMID_IN_URL.search(text)):
            pmid = m.group(1) or m.group(2)
    ref_type = record.find("ref-type")
    return {
        "source_id": accession,
        "pmid": pmid,
        "doi": _text(record.find("electronic-resource-num")),
        "title": _text(record.find("titles/title")),
        "authors": join_list(_all(record, "contributors/authors/author")),
        "year": _text(record.find("dates/year")),
        "journal": _text(record.find("titles/secondary-title"))
        or _text(record.find("periodical/full-title"))
        or _text(record.find("periodical/abbr-1")),
        "volume": _text(record.find("volume")),
        "issue": _text(record.find("number")),
        "pages": _text(record.find("pages")),
        "publication_types": ref_type.get("name") if ref_type is not None else None,
        "language": _text(record.find("language")),
        "abstract": _text(record.find("abstract")),
    }


def read_endnote_xml(path: str | Path, *, source: str) -> pd.DataFrame:
    """Read an EndNote XML export into the record table of ``source``.

    Raises
    ------
    InputError
        When the XML is malformed (with the parser's line) or the number of ``<record>``
        elements read differs from the number of ``<record>`` tags in the file.
    """
    path = Path(path)
    text = read_text(path)
    # The declared encoding no longer applies: the text is already decoded.
    text = _DECLARATION.sub("", text, count=1)
    try:
        root = ET.fromstring(text)
    except ET.ParseError as err:
        line = err.position[0] if err.position else None
        # The declaration removed above held no line break, so line numbers still match.
        raise InputError(path, f"malformed EndNote XML ({err})", line=line) from None
    records = root.findall("./records/record") if root.tag == "xml" else root.findall(
        ".//record")
    expected = len(_RECORD_TAG.findall(text))
    if len(records) != expected:
        raise InputError(path, f"{expected} <record> tags in the file but {len(records)} "
                               "records read (records outside <xml><records>?)")
    rows = []
    for position, record in enumerate(records, start=1):
        row = map_endnote_record(record)
        row["source_position"] = position
        rows.append(row)
    log.info("%s: %d records", path, len(rows))
    return make_record_table(rows, source=source, source_file=path)


def _chunks(path: Path, encoding: str) -> Iterator[str]:
    """The decoded text of ``path`` (as :func:`read_text` gives it) in chunks of about
    :data:`FEED_CHARS`, its XML declaration removed as :func:`read_endnote_xml` removes it."""
    lines = iter_lines(path, encoding=encoding, warn=False)
    buffer: list[str] = []
    size = 0
    head = True
    first = True
    for line in lines:
        if not first:
            buffer.append("\n")
        first = False
        buffer.append(line)
        size += len(line) + 1
        if head:
            text = "".join(buffer)
            stripped = text.lstrip()
            # Enough text to see the whole declaration, if there is one.
            if not stripped or (stripped.startswith("<?xml") and ">" not in stripped) or (
                    "<?xml".startswith(stripped)):
                continue
            buffer, size, head = [_DECLARATION.sub("", text, count=1)], len(text), False
        if size >= FEED_CHARS:
            yield "".join(buffer)
            buffer, size = [], 0
    text = "".join(buffer)
    yield _DECLARATION.sub("", text, count=1) if head else text


def iter_endnote_xml_columns(path: str | Path, *, source: str,
                             batch_records: int = BATCH_RECORDS,
                             encoding: str | None = None) -> Iterator[dict[str, list[Any]]]:
    """Read an EndNote XML export as :func:`read_endnote_xml` does, ``batch_records`` records
    at a time: per batch, in file order, the record table's columns (a list per column of
    :data:`sysrev.columns.RECORD_COLUMNS`); memory holds one batch and the element being
    read, not the file. ``encoding``: the file's as
    :func:`sysrev.imports.records.stream_encoding` gives it, when known.

    Raises
    ------
    InputError
        As :func:`read_endnote_xml`, with its precedence: malformed XML first, then the
        count of ``<record>`` tags, then a record's own error (a blank record), whichever
        batch each falls in.
    """
    path = Path(path)
    if encoding is None:
        encoding = stream_encoding(path)
    else:
        warn_encoding(path, encoding)
    builder: RecordTable | None = None
    parser = ET.XMLPullParser(events=("start", "end"))
    stack: list[ET.Element] = []   # open elements, the root first
    counted: list[bool] = []        # for each, whether it is a record read
    pending: list[ET.Element] = []  # records started, in document order, not yet mapped
    nested = 0                      # counted records open
    descendants: bool | None = None  # root <xml>: ./records/record; else .//record
    batch: list[dict[str, Any]] = []
    tags = position = 0
    deferred: InputError | None = None

    def counts(element: ET.Element) -> bool:
        if element.tag != "record" or not stack:
            return False
        if descendants:
            return True
        return len(stack) == 2 and stack[1].tag == "records"

    def flush() -> Iterator[dict[str, list[Any]]]:
        nonlocal builder, deferred, batch
        if builder is None:
            builder = RecordTable(source=source, source_file=path)
        if batch and deferred is None:
            keys = dict.fromkeys(key for rec in batch for key in rec)
            try:
                columns = builder.column_data({k: [r.get(k) for r in batch] for k in keys})
            except InputError as err:
                # The whole-file reader checks the XML and the tag count first.
                deferred = err
            else:
                yield columns
        batch = []

    def events() -> Iterator[tuple[str, ET.Element]]:
        nonlocal tags
        last = ""
        try:
            for chunk in _chunks(path, encoding):
                # "<record" then white space or ">", the next character possibly in the
                # next chunk: count in the text so far minus what was counted.
                text = last + chunk
                tags += len(_RECORD_TAG.findall(text)) - len(_RECORD_TAG.findall(last))
                last = text[-8:]
                parser.feed(chunk)
                yield from parser.read_events()
            parser.close()
            yield from parser.read_events()
        except ET.ParseError as err:
            line = err.position[0] if err.position else None
            raise InputError(path, f"malformed EndNote XML ({err})", line=line) from None

    for event, element in events():
        if event == "start":
            if descendants is None:
                descendants = element.tag != "xml"
            count = counts(element)
            if count:
                pending.append(element)
                nested += 1
            stack.append(element)
            counted.append(count)
            continue
        stack.pop()
        if not counted.pop():
            continue
        nested -= 1
        if nested:
            continue
        # The outermost record read has ended: map it and those inside it, in document
        # order, then let it go.
        for record in pending:
            position += 1
            row = map_endnote_record(record)
            row["source_position"] = position
            batch.append(row)
        pending = []
        element.clear()
        if stack:
            stack[-1].remove(element)
        if len(batch) >= batch_records:
            yield from flush()
    if position != tags:
        raise InputError(path, f"{tags} <record> tags in the file but {position} "
                               "records read (records outside <xml><records>?)")
    yield from flush()
    if deferred is not None:
        raise deferred
    log.info("%s: %d records", path, position)
