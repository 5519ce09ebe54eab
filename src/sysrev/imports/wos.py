"""Web of Science tagged plain-text exports (``FN``/``VR`` header, ``PT`` … ``ER`` records)."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from collections import deque
from typing import Any, Iterator

import rispy

from sysrev.errors import InputError
from sysrev.imports.checks import check_wos_end
from sysrev.imports.records import (batch_reader_start, count_tagged_records, iter_lines,
                                    join_list, make_record_table, read_text, row_columns,
                                    with_whole_file_error)
from sysrev.lazy import pandas as pd

log = logging.getLogger(__name__)

_TAG = re.compile(r"^([A-Z][A-Z0-9])(?: |$)")


#: The tags of Web of Science's field list (rispy's mapping), plus the file header and end.
KNOWN_TAGS = frozenset(rispy.WokParser.DEFAULT_MAPPING) | {"FN", "VR", "EF", "ER", "PT"}


#: Records parsed and mapped at a time by :func:`iter_wos_columns`.
BATCH_RECORDS = 5000


def repair_tags(text: str, path: Path) -> str:
    """Insert the lost space of a malformed tag line (``AUGilles, H`` -> ``AU Gilles, H``),
    logging each with its line; any other line that is neither a tag line nor a
    continuation is an error naming it.

    Without this, the parser would take ``AUGilles, H`` as tag ``AU`` with the value
    ``illes, H``: an author silently altered.
    """
    lines = text.split("\n")
    for index, line in enumerate(lines):
        lines[index] = repair_line(line, index + 1, path)
    return "\n".join(lines)


def repair_line(line: str, number: int, path: Path) -> str:
    """One line of :func:`repair_tags` (line ``number`` of the file)."""
    if not line.strip() or line.startswith("   ") or _TAG.match(line.lstrip("\ufeff")):
        return line
    tag = line.lstrip("\ufeff")[:2]
    if tag in KNOWN_TAGS and line.lstrip("\ufeff")[2:3].strip():
        log.warning("%s, line %d: malformed tag line %r (no space after the tag %s); "
                    "read as %r", path, number, line[:40], tag,
                    f"{tag} {line.lstrip(chr(0xfeff))[2:]}"[:40])
        return f"{tag} {line.lstrip(chr(0xfeff))[2:]}"
    raise InputError(path, f"not a Web of Science tag or continuation line: "
                           f"{line[:40]!r}", line=number)


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
    rows = [_row(rec, position, starts[position - 1] if position <= len(starts) else None)
            for position, rec in enumerate(parsed, start=1)]
    log.info("%s: %d records", path, len(rows))
    return make_record_table(rows, source=source, source_file=path)


def _row(rec: dict[str, Any], position: int, line: int | None) -> dict[str, Any]:
    """The record-table fields of one record rispy read."""
    return {
        "line": line,
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
    }


#: Tags rispy's Web of Science parser skips (they never become its last tag).
_IGNORED = frozenset(rispy.WokParser.DEFAULT_IGNORE)


def iter_wos_columns(path: str | Path, *, source: str, batch_records: int = BATCH_RECORDS,
                     encoding: str | None = None) -> Iterator[dict[str, list[Any]]]:
    """Read a Web of Science tagged export into the record table of ``source``,
    ``batch_records`` records at a time (per batch, in file order, a list per column of
    :data:`sysrev.columns.RECORD_COLUMNS`): the file is read line by line and memory holds
    one batch, not the file. The table is :func:`read_wos`'s.

    ``encoding``: the file's as :func:`sysrev.imports.records.stream_encoding` gives it,
    when already known (format detection finds it).

    A batch starts at a record's ``PT`` line. The checks that span the file carry over
    batches: tag lines repaired as they come, the ``PT``…``ER`` structure and the record
    count, the ``FN`` header against the ``EF`` end, the accessions seen (a repeated one
    numbered ``~2`` whichever batch it falls in), and rispy's last tag (a continuation line
    right after a ``PT`` line continues it, as in the whole file).

    Raises
    ------
    InputError
        As :func:`read_wos`, with its message (a broken file is read again whole, see
        :func:`sysrev.imports.records.with_whole_file_error`); batches already given must
        then be thrown away.
    """
    path = Path(path)
    return with_whole_file_error(_wos_batches(path, source, batch_records, encoding),
                                 lambda: read_wos(path, source=source))


def _wos_batches(path: Path, source: str, batch_records: int,
                 encoding: str | None) -> Iterator[dict[str, list[Any]]]:
    builder, encoding = batch_reader_start(path, source, encoding)
    lines: list[str] = []  # the current batch's lines, repaired
    records = 0  # PT lines so far (the structure check's count)
    batch_records_seen = 0
    parsed_total = 0
    open_line: int | None = None  # the PT line of a record not yet closed by ER
    pt_lines: deque[int] = deque()  # "PT " lines not yet given to a record (read_wos's)
    last_tag: str | None = None  # rispy's at the end of the batch so far
    prefix_tag: str | None = None  # rispy's at the start of the current batch
    header = False
    last_content: tuple[int, str] = (0, "")  # the last line that is not white space

    def parse() -> dict[str, list[Any]]:
        nonlocal parsed_total
        text = "\n".join(lines)
        if prefix_tag is not None:
            # A record that sets rispy's last tag, as the records before the batch left it.
            text = f"PT J\n{prefix_tag}\nER\n" + text
        parsed = rispy.loads(text, implementation=rispy.WokParser, skip_unknown_tags=True)
        if prefix_tag is not None:
            parsed = parsed[1:]
        if len(parsed) != batch_records_seen:
            raise InputError(path, f"{batch_records_seen} records in the batch but "
                                   f"{len(parsed)} parsed")
        rows = []
        for rec in parsed:
            parsed_total += 1
            line = pt_lines.popleft() if pt_lines else None
            rows.append(_row(rec, parsed_total, line))
        return row_columns(builder, rows)

    for number, line in enumerate(iter_lines(path, encoding=encoding), start=1):
        line = repair_line(line, number, path)
        if number == 1:
            header = line.lstrip("\ufeff").startswith("FN ")
        if line.strip():
            last_content = (number, line)
        if line.startswith("PT "):
            pt_lines.append(number)
        if match := _TAG.match(line):
            tag = match.group(1)
            if tag == "PT":
                if open_line is not None:
                    raise InputError(path, f"record starting at line {open_line} has no ER "
                                           "line before the next PT", line=number)
                if batch_records_seen >= batch_records:
                    columns = parse()
                    yield columns
                    lines, batch_records_seen, prefix_tag = [], 0, last_tag
                open_line, records = number, records + 1
                batch_records_seen += 1
                lines.append(line)
                continue
            if tag == "ER":
                if open_line is None:
                    raise InputError(path, "ER line without a PT line before it",
                                     line=number)
                open_line = None
                lines.append(line)
                continue
        if open_line is not None and line[0:2] != "  ":
            tag = line[0:2]
            if tag not in _IGNORED:
                last_tag = tag
        lines.append(line)
    if open_line is not None:
        raise InputError(path, "the last record has no ER line (the file may be truncated)",
                         line=open_line)
    if header and last_content[1].strip() != "EF":
        raise InputError(path, "no 'EF' line at the end of the Web of Science export")
    columns = parse()
    if columns["record_id"]:
        yield columns
    log.info("%s: %d records", path, parsed_total)
