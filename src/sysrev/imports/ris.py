"""RIS exports (Embase, Cochrane CENTRAL with Wiley wrapper lines, Ovid, Scopus, generic).

The file is read once, a block of text at a time, and cut into batches of records at its
``TY`` lines. A batch is read with regular expressions over its whole text: where its
records are (every ``TY`` closed by ``ER``, the structure check), the fields of each record
(one ``findall`` per record), the Cochrane ``Record #n of m`` lines and the link-resolver
links; then it is mapped onto the record table a column at a time. The parse gives the
records rispy's ``RisParser`` gives (rispy's tag table, list tags and ``UR`` delimiter;
continuation lines, repeated tags and unknown tags treated as rispy treats them): a record
with a line that is not a plain field line (a continuation line, a blank line) is read line
by line as rispy reads it, and a batch whose structure is not sound (a record without
``ER``, a stray ``ER``, a line rispy would take as a ``TY`` line between records) is read
line by line with the structure check, so that errors name the line a line-by-line reader
names. ``tests/unit/imports/test_ris_columns`` compares the table with the rispy-based
reader's on the shared exports, generated files and edge cases.
"""

from __future__ import annotations

import logging
import re
from operator import itemgetter
from pathlib import Path
from typing import Any, Iterator

from rispy.config import DELIMITED_TAG_MAPPING, LIST_TYPE_TAGS, TAG_KEY_MAPPING

from sysrev.errors import InputError
from sysrev.imports.checks import WileyNumbers
from sysrev.imports.records import (RecordTable, clean_column, doi_in_text, is_mixed,
                                    iter_lines, make_record_table, record_frame,
                                    stream_encoding, warn_encoding)
from sysrev.lazy import pandas as pd

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

# The record fields are taken from these tags only, and a record is kept as a row of their
# values in this order (None where the record lacks the tag). AU, A1, DB, N1 and UR hold a
# list (every value, in file order); U2, a tag rispy does not know (a list), its first value;
# every other tag is rispy's single-valued kind (its first value).
_MAPPED = ("AN", "U2", "UR", "ID", "DO", "L1", "L2", "TI", "T1", "TT", "ST", "AU", "A1",
           "PY", "Y1", "DA", "JO", "JF", "JA", "T2", "J2", "VL", "IS", "SP", "EP", "M3",
           "LA", "AB", "N2", "DB", "C5", "DP", "C3", "N1", "M1")
_MAPPED_LISTS = ("AU", "A1", "DB", "N1")  # (written out in _Batch.records)
assert all(_KIND[tag] == _LIST for tag in _MAPPED_LISTS) and _KIND["UR"] == _DELIMITED
assert all(_KIND[tag] == _SINGLE for tag in _MAPPED if tag not in _MAPPED_LISTS + ("UR", "U2"))
assert "U2" not in _KIND
_NO_TAGS = dict.fromkeys(_MAPPED)
_ROW = itemgetter(*_MAPPED)

# The batch's text is cut into records and fields by these, over the whole text (not line by
# line): a structural TY line after a line end (the check's), a line rispy closes a record
# at (any "ER  -" line; the character after the hyphen in the group: a space or nothing for
# the check's ER line), and a field line (a tag of an upper-case letter and an upper-case
# letter or digit, which rispy always takes as a tag line) with its value as rispy keeps it:
# line[6:] with white space stripped (``\s`` and ``str.strip`` agree on what is white
# space). A pattern that starts with a line end finds its lines much faster than one that
# starts with ``^``.
_TY_LINE = re.compile(r"^TY  -(?: |$)", re.MULTILINE)
_NEXT_TY_LINE = re.compile(r"\nTY  -(?: |$)", re.MULTILINE)
_ER_LINE = re.compile(r"\nER  -(.?)")
_FIELD = re.compile(r"^([A-Z][A-Z0-9])  -.?[^\S\n]*+(.*\S)?", re.MULTILINE)
_WILEY_LINE = re.compile(r"^.*Record #.*$", re.MULTILINE)
_UR_DELIMITER = DELIMITED_TAG_MAPPING["UR"]


# Link-resolver (OpenURL) links of Embase (LK) and Ovid ("Link to the External Link
# Resolver") carry the PMID as ``id=pmid:NNN``; it is empty when the record has none.
_PMID_IN_LINK = re.compile(r"[?&]id=pmid(?::|%3A)(\d{1,9})\b", re.IGNORECASE)
# Its part from "=" on, which a search finds much faster (a literal first character).
_LINK_PMID_TAIL = re.compile(r"=(?i:pmid)(?::|%3A)(\d{1,9})\b")
_EMBASE_ACCESSION = re.compile(r"L\d+")


def _pmids(c: dict[str, tuple[Any, ...]], links: list[str | None]) -> list[str | None]:
    """The PMID of each record (``c``: the batch's tag columns, see :func:`map_ris_columns`)
    from every place Embase and Ovid put it; ``links``: the PMID of the first link-resolver
    link in the record's text from its ``TY`` line to the next record (including the lines
    Ovid writes after ``ER``: ``Link to the External Link Resolver: …id=pmid:…``), taken
    only when the other places hold no PMID."""
    texts = (c["C3"], c["AN"], c["N1"], c["M1"], c["ID"])
    # A PMID written out ("PMID: 123") in any of these tags of the batch? When none is, the
    # tags are not searched one by one.
    searched = "\n".join(text for column in texts for value in column if value
                         for text in (value if value.__class__ is list else (value,)))
    search = _PMID_IN_TEXT.search(searched) is not None
    out: list[str | None] = []
    append = out.append
    for i, (an, u2, c5, db, dp, link) in enumerate(zip(c["AN"], c["U2"], c["C5"], c["DB"],
                                                        c["DP"], links)):
        accession = an or u2 or ""
        # Embase.com puts the MEDLINE PMID, bare, in C5 of records also in MEDLINE. The
        # record's DB lines may list "Medline" before "Embase", or be empty, so any DB line
        # counts, and so does an Embase accession (U2 "L123…").
        if c5 and (c5 := c5.strip()).isdigit():
            databases = " ".join([v for v in db or () if v]).lower()
            if ("embase" in databases or "medline" in databases
                    or _EMBASE_ACCESSION.fullmatch(accession)):
                append(c5)
                continue
        # Ovid MEDLINE: the accession number (AN) is the PMID. EndNote's RIS of records it
        # took from PubMed gives the PMID as AN with "DP  - NLM" (the database provider).
        if accession.isdigit():
            databases = " ".join([v for v in db or () if v]).lower()
            provider = (dp or "").strip().lower()
            if (("medline" in databases and "ovid" in databases)
                    or provider in ("nlm", "pubmed", "national library of medicine")):
                append(accession)
                continue
        if search:
            found = next((m.group(1) for column in texts if (value := column[i])
                          for text in (value if value.__class__ is list else (value,))
                          if text and (m := _PMID_IN_TEXT.search(text))), None)
            if found is not None:
                append(found)
                continue
        append(link)
    return out


_NO_PAGES = re.compile(r"^\s*no(\s+pagination)?(\s+specified)?\s*$", re.IGNORECASE)


def _pages(start: str | None, end: str | None) -> str | None:
    # Ovid writes "No Pagination Specified" as SP "No" and EP "Specified" (a start of
    # digits is never that).
    if start and not start.isdigit() and _NO_PAGES.match(f"{start} {end or ''}"):
        return None
    if start and end and end != start:
        return f"{start}-{end}"
    return start or None


# Scopus RIS gives the record's EID only in its link: "...record.uri?eid=2-s2.0-850...".
_SCOPUS_EID = re.compile(r"[?&]eid=(2-s2\.0-\d+)", re.IGNORECASE)


def _scopus_eid(urls: list[str] | None) -> str | None:
    for text in urls or ():
        if text and (m := _SCOPUS_EID.search(text)):
            return m.group(1)
    return None


def _doi_in_links(*values: str | list[str] | None) -> str | None:
    # Ovid and some re-exports give the DOI only as a link (L1, L2, UR).
    for value in values:
        for text in (value if value.__class__ is list else [value]):
            if d := doi_in_text(text):
                return d
    return None


def _authors(names: list[str]) -> str | None:
    """The names joined with "; ", each cleaned (:func:`clean_column`), empty ones left
    out."""
    joined = "; ".join(names)
    # Names that are already clean (printable, no leading, trailing or doubled space, none
    # empty) join to a string that shows it: taken as it is.
    if (joined and joined.isprintable() and "  " not in joined and " ;" not in joined
            and joined[0] not in "; " and joined[-1] not in "; "):
        return joined
    return "; ".join(filter(None, clean_column(names))) or None


def map_ris_columns(rows: list[tuple[Any, ...]],
                    links: list[str | None]) -> dict[str, list[Any]]:
    """Map parsed records to record-table fields, a column at a time.

    ``rows``: per record, the values of its tags (see :data:`_MAPPED`): ``AU``, ``A1``,
    ``DB``, ``N1`` and ``UR`` with every value (a list), ``U2`` with its first value, every
    other tag with its value as rispy keeps a single-valued tag; ``None`` for a tag the
    record lacks. ``links``: per record, the PMID of its first link-resolver link (see
    :func:`_pmids`), or ``None``.
    """
    c = dict(zip(_MAPPED, zip(*rows))) if rows else {tag: () for tag in _MAPPED}
    urls = c["UR"]
    source_id = [a or u or _scopus_eid(ur) or i or None
                 for a, u, ur, i in zip(c["AN"], c["U2"], urls, c["ID"])]
    doi = [d or (_doi_in_links(l1, l2, ur) if l1 or l2 or ur else None)
           for d, l1, l2, ur in zip(c["DO"], c["L1"], c["L2"], urls)]
    authors = [None if names is None and first is None
               else _authors((names or []) + first if first else names)
               for names, first in zip(c["AU"], c["A1"])]
    return {
        "source_id": source_id,
        "pmid": _pmids(c, links),
        "doi": doi,
        "title": [a or b or e or d or None
                  for a, b, e, d in zip(c["TI"], c["T1"], c["TT"], c["ST"])],
        "authors": authors,
        "year": [a or b or e or None for a, b, e in zip(c["PY"], c["Y1"], c["DA"])],
        "journal": [a or b or e or d or f or None for a, b, e, d, f in
                    zip(c["JO"], c["JF"], c["JA"], c["T2"], c["J2"])],
        "volume": [v or None for v in c["VL"]],
        "issue": [v or None for v in c["IS"]],
        "pages": list(map(_pages, c["SP"], c["EP"])),
        # join_list of one value is its clean_text, which the record table applies anyway.
        "publication_types": list(c["M3"]),
        "language": [v or None for v in c["LA"]],
        "abstract": [a or b or None for a, b in zip(c["AB"], c["N2"])],
    }


#: Records parsed and mapped at a time: memory holds one batch of records, not the file's.
BATCH_RECORDS = 5000
#: Characters read from the file at a time.
BLOCK_CHARS = 1 << 20


def _text_blocks(path: Path, encoding: str) -> Iterator[str]:
    """The decoded text of the file in blocks: joined, they are
    ``"\\n".join(iter_lines(path))`` (line ends normalised, a BOM dropped)."""
    if is_mixed(encoding):
        lines, first = [], True
        for line in iter_lines(path, encoding=encoding):
            lines.append(line)
            if len(lines) >= max(1, BLOCK_CHARS // 50):
                yield ("" if first else "\n") + "\n".join(lines)
                lines, first = [], False
        if lines:
            yield ("" if first else "\n") + "\n".join(lines)
        return
    python_encoding = "utf-8-sig" if encoding == "utf-8" else encoding
    errors = "replace" if encoding.startswith("utf-16-") else "strict"
    with open(path, encoding=python_encoding, errors=errors, newline=None) as handle:
        while block := handle.read(BLOCK_CHARS):
            yield block


class _Reader:
    """The state of one file's read that spans batches: the structure check's, the Wiley
    record numbers, the records counted and parsed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.wiley = WileyNumbers()
        self.open: int | None = None  # the first line of a record not yet closed by ER
        self.records = 0  # structural TY lines so far
        self.parsed = 0
        self.batch_count = 0
        self.first_tag: int | None = None  # the first tag line before any TY line

    def prelude(self, lines: list[str], number: int) -> None:
        """The lines before the first record (the first at line ``number``): only the
        structure check and the Wiley numbers look at them."""
        for number, line in enumerate(lines, start=number):
            if "Record #" in line:
                self.wiley.add(line, number)
            if line[:2] == "ER" and _TAG_LINE.match(line):
                raise InputError(self.path, "ER line without a TY line before it",
                                 line=number)
            if self.first_tag is None and _TAG_LINE.match(line):
                self.first_tag = number

    def batches(self, blocks: Iterator[str], size: int
                ) -> Iterator[tuple[list[tuple[Any, ...]], list[int], list[str | None]]]:
        """The file's records, ``size`` at a time: per batch the records, the line of each
        one's TY line and the PMID of its first link-resolver link. Errors come in the order
        a line-by-line reader meets them."""
        buf = ""  # the text not yet handed on, from a line's start
        line = 1  # the line number of buf[0]
        in_prelude = True
        positions: list[int] = []  # buf positions of the current batch's TY lines
        numbers: list[int] = []  # their line numbers
        scan = 0  # buf is searched for TY lines from here (a line's start)
        counted_pos, counted_line = 0, 1  # a position in buf and its line number
        eof = False
        while not eof:
            block = next(blocks, None)
            if block is None:
                eof, limit = True, len(buf)
            else:
                buf += block
                # Only whole lines: whether a line is a TY line shows at its end.
                limit = buf.rfind("\n") + 1
                if limit <= scan:
                    continue
            if in_prelude:
                found = _TY_LINE.search(buf, 0, limit)
                stop = found.start() if found else limit
                if eof and not found:
                    lines = buf.split("\n")
                else:
                    lines = buf[:stop - 1].split("\n") if stop else []
                self.prelude(lines, line)
                line += len(lines)
                buf = buf[stop:]
                limit -= stop
                if not found:
                    if eof:
                        buf = ""
                    continue
                in_prelude = False
                self.records = 1
                self.open = line
                positions, numbers = [0], [line]
                counted_pos, counted_line, scan = 0, line, 1
            base = 0
            for found in _NEXT_TY_LINE.finditer(buf, scan - 1, limit):
                at = found.start() + 1
                counted_line += buf.count("\n", counted_pos, at)
                counted_pos = at
                if len(positions) == size:
                    text = buf[base:at - 1]
                    yield self.batch(text, [p - base for p in positions], numbers,
                                     counted_line)
                    base, positions, numbers = at, [], []
                positions.append(at)
                numbers.append(counted_line)
            if base:
                buf = buf[base:]
                limit -= base
                counted_pos -= base
                positions = [p - base for p in positions]
            scan = max(limit, 1)
        if in_prelude:
            if self.first_tag is not None:
                raise InputError(self.path, "RIS tag lines but no record: no 'TY  - ' line "
                                            "starts one", line=self.first_tag)
            self.wiley.check(self.path, self.parsed)
            return
        yield self.batch(buf, positions, numbers, None)

    def batch(self, text: str, positions: list[int], numbers: list[int],
              next_line: int | None
              ) -> tuple[list[tuple[Any, ...]], list[int], list[str | None]]:
        """One batch: ``text`` from its first TY line to the next batch's (without the line
        end before it), its TY lines at ``positions`` (lines ``numbers``); ``next_line``:
        the next batch's first line, ``None`` for the last batch."""
        records = _Batch(text, positions, numbers, self.path).records()
        if records is None:
            records = self.line_by_line(text, numbers, next_line)
        else:
            self.records += len(numbers) - 1  # the first was counted with the previous batch
            self.open = None
            if "Record #" in text:
                self.wiley_lines(text, numbers[0])
        self.batch_count += 1
        if len(records) != len(numbers):
            if self.batch_count == 1 and self.records == len(numbers):
                raise InputError(self.path, f"{self.records} records in the file but "
                                            f"{len(records)} parsed")
            raise InputError(self.path, f"{len(numbers)} records in lines {numbers[0]}-"
                                        f"{numbers[0] + text.count(chr(10))} but "
                                        f"{len(records)} parsed", line=numbers[0])
        self.parsed += len(records)
        if next_line is None:
            self.wiley.check(self.path, self.parsed)
        else:
            self.records += 1  # the next batch's first TY line
            self.open = next_line
        links: list[str | None] = [None] * len(records)
        index = 0
        ends = positions[1:] + [len(text) + 1]
        for found in _LINK_PMID_TAIL.finditer(text):
            # A link's PMID: the tail found fast, the link pattern matched where it would
            # start (neither can start inside the other's match, so finditer finds the same).
            if found.start() < 3 or not (found := _PMID_IN_LINK.match(text,
                                                                       found.start() - 3)):
                continue
            while found.start() >= ends[index]:
                index += 1
            if links[index] is None:
                links[index] = found.group(1)
        return records, numbers, links

    def wiley_lines(self, text: str, number: int) -> None:
        at = 0
        for found in _WILEY_LINE.finditer(text):
            number += text.count("\n", at, found.start())
            at = found.start()
            self.wiley.add(found.group(), number)

    def line_by_line(self, text: str, numbers: list[int], next_line: int | None
                     ) -> list[tuple[Any, ...]]:
        """The batch read line by line: for a batch :class:`_Batch` does not read (a
        structural error, a line rispy would take as a TY line after a record's ER, an ER
        line the check does not take). As the rispy-based reader did, the structure check
        reads the batch's lines first, then rispy's parse, so that a file with both kinds of
        error names the same first one."""
        path, kinds = self.path, _KIND
        lines = text.split("\n")
        self.records -= 1  # the batch's first TY line is counted again here
        self.open = None
        for number, line in enumerate(lines, start=numbers[0]):
            if "Record #" in line:
                self.wiley.add(line, number)
            tag = line[:2]
            if (tag == "TY" or tag == "ER") and _TAG_LINE.match(line):
                if tag == "TY":
                    if self.open is not None:
                        raise InputError(path, f"record starting at line {self.open} has no"
                                               " ER line before the next TY", line=number)
                    self.open = number
                    self.records += 1
                else:
                    if self.open is None:
                        raise InputError(path, "ER line without a TY line before it",
                                         line=number)
                    self.open = None
        if self.open is not None:
            if next_line is not None:
                raise InputError(path, f"record starting at line {self.open} has no ER line "
                                       "before the next TY", line=next_line)
            raise InputError(path, "the last record has no ER line (the file may be "
                                   "truncated)", line=self.open)
        # The parse (rispy's RisParser.parse_lines): between records, a line that starts
        # with TY opens one; inside, a tag line adds its value, ER closes the record, and
        # any other line continues the last tag's value.
        records: list[tuple[Any, ...]] = []
        record: dict[str, Any] | None = None
        last_tag: str | None = None
        for number, line in enumerate(lines, start=numbers[0]):
            tag = line[:2]
            if record is None:
                if line.startswith("TY"):
                    is_tag = line[2:5] == "  -" and tag.isupper() and tag[:1].isalpha()
                    record = {"TY": line[6:].strip() if is_tag else line.strip()}
                continue
            if tag == "ER" and line[2:5] == "  -":
                records.append(_row(record))
                record = None
                continue
            last_tag = _parse_line(record, line, last_tag, path, number, kinds)
        return records


def _parse_line(record: dict[str, Any], line: str, last_tag: str | None, path: Path,
                number: int, kinds: dict[str, int]) -> str | None:
    """A line inside a record (after its TY line, before its ER line) as rispy reads it;
    returns the tag a following continuation line extends."""
    tag = line[:2]
    # A known tag (rispy's table) is a tag line when "  -" follows it; any other two
    # characters when they are upper case and start with a letter (rispy's parse_line).
    kind = kinds.get(tag, -1)
    if line[2:5] == "  -" and (kind != -1 or (tag.isupper() and tag[:1].isalpha())):
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
        return tag
    _continue(record, last_tag, line.strip(), path, number)
    return last_tag


def _row(record: dict[str, Any]) -> tuple[Any, ...]:
    """A record as rispy gives it, as :func:`map_ris_columns` takes it (a row of the values
    of :data:`_MAPPED`, U2 by its first value)."""
    values = _NO_TAGS.copy()
    values.update(record)
    if values["U2"] is not None:
        values["U2"] = values["U2"][0]
    return _ROW(values)


class _Batch:
    """A batch's records read from its whole text with regular expressions (the fields of
    every line of a record in one call) instead of line by line: the same records as
    rispy's line-by-line parse, for a batch whose structure is sound (each record closed by
    the check's ER line, the first line rispy closes it at, and no line after it that rispy
    would take as a TY line). A record with a line that is not a field line (a continuation
    line, a blank line, a tag rispy reads but the pattern does not) is parsed line by line
    as rispy does."""

    def __init__(self, text: str, positions: list[int], numbers: list[int],
                 path: Path) -> None:
        self.text, self.positions, self.numbers, self.path = text, positions, numbers, path

    def records(self) -> list[tuple[Any, ...]] | None:
        """The records (rows, see :func:`_row`), or ``None`` when the batch must be read
        line by line."""
        text, positions = self.text, self.positions
        n = len(positions)
        # Every line that starts with TY is a record's first line, and every line that
        # starts with "ER  -" closes one, as the check reads it.
        if text.count("\nTY") + 1 != n:
            return None
        ends = [(found.start() + 1, found.group(1)) for found in _ER_LINE.finditer(text)]
        if len(ends) != n:
            return None
        nexts = positions[1:] + [len(text) + 1]
        for (end, after), start, following in zip(ends, positions, nexts):
            if not start < end < following or (after and after != " "):
                return None
        findall, count = _FIELD.findall, text.count
        copy, row = _NO_TAGS.copy, _ROW
        records: list[tuple[Any, ...]] = []
        append = records.append
        last_tag: str | None = None
        for k, (start, (end, _)) in enumerate(zip(positions, ends)):
            # The TY line is a field line too (the record's type, its first TY value).
            fields = findall(text, start, end)
            if len(fields) != count("\n", start, end):
                record, last_tag = self.line_by_line(k, start, end, last_tag)
                append(record)
                continue
            if len(fields) > 1:
                last_tag = fields[-1][0]  # rispy's last tag (its TY line sets none)
            values = copy()
            # The first value of each tag (rispy keeps a single-valued tag's first).
            values.update(reversed(fields))
            if values["AU"] is not None:
                values["AU"] = [value for name, value in fields if name == "AU"]
            if values["DB"] is not None:
                values["DB"] = [value for name, value in fields if name == "DB"]
            if values["A1"] is not None:
                values["A1"] = [value for name, value in fields if name == "A1"]
            if values["N1"] is not None:
                values["N1"] = [value for name, value in fields if name == "N1"]
            if values["UR"] is not None:
                values["UR"] = [part.strip() for name, value in fields if name == "UR"
                                for part in value.split(_UR_DELIMITER)]
            append(row(values))
        return records

    def line_by_line(self, k: int, start: int, end: int, last_tag: str | None
                     ) -> tuple[tuple[Any, ...], str | None]:
        text = self.text
        body = text.find("\n", start) + 1
        record = {"TY": text[start + 6:body - 1].strip()}
        number = self.numbers[k] + 1
        for number, line in enumerate(text[body:end].split("\n")[:-1], start=number):
            last_tag = _parse_line(record, line, last_tag, self.path, number, _KIND)
        return _row(record), last_tag


def iter_ris_columns(path: str | Path, *, source: str, batch_records: int = BATCH_RECORDS,
                     encoding: str | None = None) -> Iterator[dict[str, list[Any]]]:
    """Read a RIS export into the record table of ``source``, ``batch_records`` records at
    a time: per batch, in file order, the table's columns (a list per column of
    :data:`sysrev.columns.RECORD_COLUMNS`); memory holds one batch, not the file.
    ``encoding``: the file's as :func:`sysrev.imports.records.stream_encoding` gives it,
    when already known (format detection finds it).

    Raises
    ------
    InputError
        When the file is structurally broken (a record without ``ER``, stray ``ER``) or the
        parser read fewer records than the file holds.
    """
    path = Path(path)
    builder = RecordTable(source=source, source_file=path)
    reader = _Reader(path)
    if encoding is None:
        encoding = stream_encoding(path)
    else:
        warn_encoding(path, encoding)
    blocks = _text_blocks(path, encoding)
    for records, numbers, links in reader.batches(blocks, batch_records):
        columns = map_ris_columns(records, links)
        first = reader.parsed - len(records) + 1
        columns["source_position"] = list(range(first, first + len(records)))
        yield builder.column_data(columns, numbers)
    log.info("%s: %d records", path, reader.parsed)


def iter_ris_tables(path: str | Path, *, source: str,
                    batch_records: int = BATCH_RECORDS) -> Iterator[pd.DataFrame]:
    """Read a RIS export into the record table of ``source``, ``batch_records`` records at
    a time (a table per batch, in file order; see :func:`iter_ris_columns`).

    Raises
    ------
    InputError
        When the file is structurally broken (a record without ``ER``, stray ``ER``) or the
        parser read fewer records than the file holds.
    """
    for columns in iter_ris_columns(path, source=source, batch_records=batch_records):
        yield record_frame(columns)


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
