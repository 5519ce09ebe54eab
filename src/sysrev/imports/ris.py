"""RIS exports (Embase, Cochrane CENTRAL with Wiley wrapper lines, Ovid, Scopus, generic).

The file is read once, line by line: the structure check (every ``TY`` closed by ``ER``),
the Cochrane ``Record #n of m`` lines and the parse happen in the same pass, and the
records are mapped onto the record table a column at a time, a batch of records at a time.
The parse reads each record as rispy's ``RisParser`` does (rispy's tag table, list tags and
``UR`` delimiter; continuation lines, repeated tags and unknown tags treated as rispy treats
them), so the table is the one rispy's records gave (``tests/unit/imports/test_ris_columns``
compares the two on the shared exports and a generated file); doing it here saves rispy's
second pass over the lines and a dict of field names per record.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any, Callable, Iterator

import pandas as pd
from rispy.config import DELIMITED_TAG_MAPPING, LIST_TYPE_TAGS, TAG_KEY_MAPPING

from sysrev.errors import InputError
from sysrev.imports.checks import WileyNumbers
from sysrev.imports.records import (RecordTable, clean_column, doi_in_text, iter_lines,
                                    join_list, make_record_table)

log = logging.getLogger(__name__)

_TAG_LINE = re.compile(r"^([A-Z][A-Z0-9])  -( |$)")
_PMID_IN_TEXT = re.compile(r"(?:PUBMED|PMID)\s*:?\s*(\d{1,9})", re.IGNORECASE)

# How each tag's values are kept (rispy's RisParser with list_tags = rispy's + DB):
# 0 the first value (later ones ignored, continuation lines joined to it with a space),
# 1 a list of values, 2 a list of values each split on the tag's delimiter. A tag rispy does
# not know (U2, ...) is kept as a list, as rispy keeps it under ``unknown_tag``.
_SINGLE, _LIST, _DELIMITED = 0, 1, 2
_KIND = {tag: _SINGLE for tag in TAG_KEY_MAPPING if tag not in ("ER", "UK")}
_KIND.update({tag: _LIST for tag in [*LIST_TYPE_TAGS, "DB"]})
_KIND.update({tag: _DELIMITED for tag in DELIMITED_TAG_MAPPING})


def _first(rec: dict[str, Any], *tags: str) -> Any:
    for tag in tags:
        value = rec.get(tag)
        if value.__class__ is list:
            value = value[0] if value else None
        if value is not None and value != "":
            return value
    return None


def _unknown(rec: dict[str, Any], tag: str) -> str | None:
    values = rec.get(tag)
    return values[0] if values else None


# Link-resolver (OpenURL) links of Embase (LK) and Ovid ("Link to the External Link
# Resolver") carry the PMID as ``id=pmid:NNN``; it is empty when the record has none.
_PMID_IN_LINK = re.compile(r"[?&]id=pmid(?::|%3A)(\d{1,9})\b", re.IGNORECASE)
_EMBASE_ACCESSION = re.compile(r"L\d+")


def _values(rec: dict[str, Any], tag: str) -> list[str]:
    value = rec.get(tag)
    values = value if value.__class__ is list else [value]
    return [str(v) for v in values if v is not None and v != ""]


def _pmid(rec: dict[str, Any], chunk: str | Callable[[], str] = "") -> str | None:
    """The PMID from every place Embase and Ovid put it.

    ``chunk`` is the record's text from its ``TY`` line to the next record, including the
    lines Ovid writes after ``ER`` (``Link to the External Link Resolver: …id=pmid:…``);
    or a function that gives it (called only when the other places hold no PMID).
    """
    databases = " ".join(_values(rec, "DB")).lower()
    accession = str(_first(rec, "AN") or _unknown(rec, "U2") or "")
    # Embase.com puts the MEDLINE PMID, bare, in C5 of records also in MEDLINE. The record's
    # DB lines may list "Medline" before "Embase", or be empty, so any DB line counts, and
    # so does an Embase accession (U2 "L123…").
    embase_pmid = str(rec.get("C5") or "").strip()
    if embase_pmid.isdigit() and ("embase" in databases or "medline" in databases
                                  or _EMBASE_ACCESSION.fullmatch(accession)):
        return embase_pmid
    # Ovid MEDLINE: the accession number (AN) is the PMID. EndNote's RIS of records it took
    # from PubMed gives the PMID as AN with "DP  - NLM" (the database provider).
    provider = " ".join(_values(rec, "DP")).strip().lower()
    if accession.isdigit() and (("medline" in databases and "ovid" in databases)
                                or provider in ("nlm", "pubmed", "national library of "
                                                "medicine")):
        return accession
    for tag in ("C3", "AN", "N1", "M1", "ID"):
        for text in _values(rec, tag):
            if m := _PMID_IN_TEXT.search(text):
                return m.group(1)
    if m := _PMID_IN_LINK.search(chunk() if callable(chunk) else chunk):
        return m.group(1)
    return None


_NO_PAGES = re.compile(r"^\s*no(\s+pagination)?(\s+specified)?\s*$", re.IGNORECASE)


def _pages(start: str | None, end: str | None) -> str | None:
    # Ovid writes "No Pagination Specified" as SP "No" and EP "Specified".
    if start and _NO_PAGES.match(f"{start} {end or ''}"):
        return None
    if start and end and str(end) != str(start):
        return f"{start}-{end}"
    return start or None


# Scopus RIS gives the record's EID only in its link: "...record.uri?eid=2-s2.0-850...".
_SCOPUS_EID = re.compile(r"[?&]eid=(2-s2\.0-\d+)", re.IGNORECASE)


def _scopus_eid(rec: dict[str, Any]) -> str | None:
    for text in _values(rec, "UR"):
        if m := _SCOPUS_EID.search(text):
            return m.group(1)
    return None


def _doi_in_links(rec: dict[str, Any]) -> str | None:
    # Ovid and some re-exports give the DOI only as a link (L1, L2, UR).
    for tag in ("L1", "L2", "UR"):
        value = rec.get(tag)
        for text in (value if value.__class__ is list else [value]):
            if d := doi_in_text(text):
                return d
    return None


def _either(*columns: list[Any]) -> list[Any]:
    """Per record, the first value that is not empty among ``columns`` (``None`` if none)."""
    out = list(columns[0])
    for column in columns[1:]:
        for i, value in enumerate(out):
            if not value:
                out[i] = column[i]
    return [v or None for v in out]


def map_ris_columns(records: list[dict[str, Any]],
                    chunks: list[str | Callable[[], str]]) -> dict[str, list[Any]]:
    """Map parsed records (dicts keyed by RIS tag, see :func:`iter_ris_tables`) to
    record-table fields, a column at a time (``chunks``: each record's raw text, or a
    function that gives it)."""
    def tag(name: str) -> list[Any]:
        # Each record's value of a single-valued tag: a string, or None when absent.
        return [rec.get(name) for rec in records]

    source_id = _either(tag("AN"), [_unknown(rec, "U2") for rec in records])
    for i, value in enumerate(source_id):
        if not value:
            source_id[i] = _scopus_eid(records[i]) or (records[i].get("ID") or None)
    doi = tag("DO")
    for i, value in enumerate(doi):
        if not value:
            doi[i] = _doi_in_links(records[i])
    return {
        "source_id": source_id,
        "pmid": [_pmid(rec, chunk) for rec, chunk in zip(records, chunks)],
        "doi": doi,
        "title": _either(tag("TI"), tag("T1"), tag("TT"), tag("ST")),
        "authors": [_authors(rec) if "AU" in rec or "A1" in rec else None
                    for rec in records],
        "year": _either(tag("PY"), tag("Y1"), tag("DA")),
        "journal": _either(tag("JO"), tag("JF"), tag("JA"), tag("T2"), tag("J2")),
        "volume": _either(tag("VL")),
        "issue": _either(tag("IS")),
        "pages": [_pages(rec.get("SP"), rec.get("EP")) for rec in records],
        "publication_types": [join_list(t) if t is not None else None for t in tag("M3")],
        "language": _either(tag("LA")),
        "abstract": _either(tag("AB"), tag("N2")),
    }


def _authors(rec: dict[str, Any]) -> str | None:
    names = (rec.get("AU") or []) + (rec.get("A1") or [])
    return "; ".join(filter(None, clean_column(names))) or None


class _Chunk:
    """A record's raw text, lines ``a:b`` of its batch, joined when called."""

    __slots__ = ("lines", "a", "b")

    def __init__(self, lines: list[str], a: int, b: int) -> None:
        self.lines, self.a, self.b = lines, a, b

    def __call__(self) -> str:
        return "\n".join(self.lines[self.a:self.b])


#: Records parsed and mapped at a time: memory holds one batch of records, not the file's.
BATCH_RECORDS = 5000


def iter_ris_tables(path: str | Path, *, source: str,
                    batch_records: int = BATCH_RECORDS) -> Iterator[pd.DataFrame]:
    """Read a RIS export into the record table of ``source``, ``batch_records`` records at
    a time (a table per batch, in file order): the file is read line by line, and memory
    holds one batch, not the file.

    Raises
    ------
    InputError
        When the file is structurally broken (a record without ``ER``, stray ``ER``) or the
        parser read fewer records than the file holds.
    """
    path = Path(path)
    builder = RecordTable(source=source, source_file=path)
    wiley = WileyNumbers()
    batch: list[str] = []  # the lines from the batch's first TY line on
    starts: list[int] = []  # line numbers of the batch's TY lines
    records: list[dict[str, Any]] = []  # the batch's parsed records
    # The structure check's state, and the parser's: its open record (None between
    # records) and the tag of its last tag line, which a continuation line extends. As in
    # rispy, a batch is parsed afresh (the last tag is forgotten at the batch's start).
    state = {"open": None, "records": 0, "parsed": 0, "first_tag": None, "batches": 0}
    record: dict[str, Any] | None = None
    last_tag: str | None = None
    kinds = _KIND

    def parsed() -> list[tuple[dict[str, Any], int, _Chunk]]:
        """The batch's records, each with its first line and raw text."""
        state["parsed"] += len(records)
        state["batches"] += 1
        if len(records) != len(starts):
            if state["batches"] == 1 and state["records"] == len(starts):
                raise InputError(path, f"{state['records']} records in the file but "
                                       f"{len(records)} parsed")
            raise InputError(path, f"{len(starts)} records in lines {starts[0]}-"
                                   f"{starts[0] + len(batch) - 1} but {len(records)} parsed",
                             line=starts[0])
        first = starts[0]
        bounds = [s - first for s in starts] + [len(batch)]
        lines = list(batch)
        # A record's raw text is joined only when its PMID is looked for in it.
        chunks = [_Chunk(lines, a, b) for a, b in zip(bounds, bounds[1:])]
        return list(zip(list(records), list(starts), chunks))

    def table(batch_records: list[tuple[dict[str, Any], int, _Chunk]]) -> pd.DataFrame:
        first = state["parsed"] - len(batch_records) + 1
        recs = [r for r, _, _ in batch_records]
        lines = [line for _, line, _ in batch_records]
        columns = map_ris_columns(recs, [c for _, _, c in batch_records])
        columns["source_position"] = list(range(first, first + len(recs)))
        return builder.columns(columns, lines)

    for number, line in enumerate(iter_lines(path), start=1):
        if "Record #" in line:
            wiley.add(line, number)
        tag = line[:2]
        if (tag == "TY" or tag == "ER") and _TAG_LINE.match(line):
            if tag == "TY":
                if state["open"] is not None:
                    raise InputError(path, f"record starting at line {state['open']} has no "
                                           "ER line before the next TY", line=number)
                if len(starts) == batch_records:
                    yield table(parsed())
                    batch.clear()
                    starts.clear()
                    records.clear()
                    record, last_tag = None, None
                state["open"] = number
                state["records"] += 1
                starts.append(number)
            else:
                if state["open"] is None:
                    raise InputError(path, "ER line without a TY line before it",
                                     line=number)
                state["open"] = None
        elif state["first_tag"] is None and _TAG_LINE.match(line):
            state["first_tag"] = number
        if not starts:
            continue
        batch.append(line)
        # The parse (rispy's RisParser.parse_lines): between records, a line that starts
        # with TY opens one; inside, a tag line adds its value, ER closes the record, and
        # any other line continues the last tag's value.
        if record is None:
            if line.startswith("TY"):
                is_tag = line[2:5] == "  -" and tag.isupper() and tag[:1].isalpha()
                record = {"TY": line[6:].strip() if is_tag else line.strip()}
            continue
        # A known tag (rispy's table) is a tag line when "  -" follows it; any other two
        # characters when they are upper case and start with a letter (rispy's parse_line).
        kind = kinds.get(tag, -1)
        if line[2:5] == "  -" and (kind != -1 or (tag.isupper() and tag[:1].isalpha())):
            if tag == "ER":
                records.append(record)
                record = None
                continue
            content = line[6:].strip()
            if kind == _SINGLE:
                if tag not in record:
                    record[tag] = content
            elif kind == _LIST or kind == -1:
                values = record.get(tag)
                if values is None:
                    record[tag] = [content]
                else:
                    values.append(content)
            else:
                _add_delimited(record, tag, content)
            last_tag = tag
        else:
            _continue(record, last_tag, line.strip(), path, number)
    if state["open"] is not None:
        raise InputError(path, "the last record has no ER line (the file may be truncated)",
                         line=state["open"])
    if state["records"] == 0 and state["first_tag"] is not None:
        raise InputError(path, "RIS tag lines but no record: no 'TY  - ' line starts one",
                         line=state["first_tag"])
    last = parsed() if starts else []
    wiley.check(path, state["parsed"])
    if last:
        yield table(last)
    log.info("%s: %d records", path, state["parsed"])


def _add_delimited(record: dict[str, Any], tag: str, content: str) -> None:
    parts = [part.strip() for part in content.split(DELIMITED_TAG_MAPPING[tag])]
    values = record.get(tag)
    if values is None:
        record[tag] = parts
    else:
        values.extend(parts)


def _continue(record: dict[str, Any], tag: str | None, content: str, path: Path,
              number: int) -> None:
    """A line without a tag: rispy adds it to the last tag's value (a list tag gets it as
    one more value; a single-valued one has it appended after a space)."""
    kind = _KIND.get(tag) if tag is not None else None
    if kind == _SINGLE:
        if tag not in record:
            # rispy fails here (KeyError): the line continues a tag of the previous record.
            raise InputError(path, f"a line without a tag continues {tag}, which this "
                                   "record does not have", line=number)
        record[tag] = " ".join((record[tag], content))
    elif kind == _DELIMITED:
        _add_delimited(record, tag, content)
    else:
        values = record.get(tag)
        if values is None:
            record[tag] = [content]
        else:
            values.append(content)


def read_ris(path: str | Path, *, source: str) -> pd.DataFrame:
    """Read a RIS export into the record table of ``source`` (see :func:`iter_ris_tables`).

    Raises
    ------
    InputError
        When the file is structurally broken (a record without ``ER``, stray ``ER``) or the
        parser read fewer records than the file holds.
    """
    tables = list(iter_ris_tables(path, source=source))
    if not tables:
        return make_record_table([], source=source, source_file=path)
    return pd.concat(tables, ignore_index=True) if len(tables) > 1 else tables[0]
