"""EndNote XML exports (``<xml><records><record>…``), as written by EndNote and Bookends.

Each field's text may be split over ``<style>`` runs (italics inside a title); the runs are
joined. The XML parser is the standard library's; a malformed file fails with the parser's
line number.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from sysrev.errors import InputError
from sysrev.imports.records import clean_text, join_list, make_record_table, read_text
from sysrev.lazy import pandas as pd

log = logging.getLogger(__name__)

_RECORD_TAG = re.compile(r"<record[\s>]")
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
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text, count=1)
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
