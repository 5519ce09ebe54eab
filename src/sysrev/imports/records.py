"""Building the record table from parsed records, with stable record ids."""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import html
import logging
import re
import unicodedata
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping
from urllib.parse import unquote

from sysrev.columns import RECORD_COLUMNS
from sysrev.encodings import FALLBACK_ENCODINGS, decode_bytes, decode_single_byte
from sysrev.errors import InputError
from sysrev.lazy import pandas as pd
from sysrev.paths import logical_path

log = logging.getLogger(__name__)

_DOI_PREFIX = re.compile(r"^(?:(?:https?://)?(?:dx\.|www\.)?doi\.org/|urn:doi:|info:doi/|"
                         r"doi\s*:\s*|doi\s+)", re.IGNORECASE)
# A SICI-style DOI (Wiley's 1990s DOIs) with its angle brackets written as underscores by
# some reference managers: "(sici)1097-4636(199603)30:3_329::aid-jbm7_3.0.co;2-m" is
# "(sici)1097-4636(199603)30:3<329::aid-jbm7>3.0.co;2-m", one DOI in one form.
_SICI_UNDERSCORES = re.compile(r"(\(sici\)[^<>_\s]*?)_([^<>_\s]*?::aid-[^<>_\s]*?)_"
                               r"(\d\.\d\.co;\d-[0-9a-z#])")
#: A DOI: the ``10.`` directory indicator, a numeric registrant code, a slash and a suffix
#: without white space (DOI Handbook, section 2.2).
_DOI_VALID = re.compile(r"10\.\d+(?:\.\d+)*/\S+")
# C0 control characters except tab and line feed, DEL, and the C1 range: never valid in a
# bibliographic field, and NUL breaks every downstream tool.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# A year stands alone or starts a YYYYMMDD date: "20201" is not 2020 followed by a 1.
_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?:(?!\d)|(?=\d{4}(?!\d)))")


def decode_export(raw: bytes, path: str | Path = "<bytes>", *,
                  warn: bool = True) -> tuple[str, str]:
    """Decode an export's bytes as :func:`sysrev.encodings.decode_bytes` does (UTF-16 with
    BOM, UTF-8, Windows-1252, Latin-1); return the text and the encoding used.

    Exports from Windows tools (EndNote, Excel-saved CSV, older Embase and ASySD files) are
    often Windows-1252 or Latin-1. Line ends (also CRLF inside quoted CSV fields) are
    normalised to ``\\n``. UTF-16 without a byte-order mark (saved so by some Windows tools)
    is recognised by its NUL bytes.
    ``warn=False`` keeps the log quiet (format detection decodes a file before its reader).
    """
    if (not raw.startswith((b"\xff\xfe", b"\xfe\xff"))
            and (utf16 := _utf16_without_bom(raw)) is not None):
        text, encoding = raw.decode(utf16, errors="replace"), utf16
        if warn:
            log.warning("%s is %s without a byte-order mark; reading it as such", path,
                        utf16)
    else:
        text, encoding, first_bad = decode_bytes(raw)
        if first_bad is not None and warn:
            log.warning("%s is not UTF-8; reading it as %s", path, encoding)
    return text.replace("\r\n", "\n").replace("\r", "\n"), encoding


def _utf16_without_bom(raw: bytes) -> str | None:
    """``utf-16-le`` or ``utf-16-be`` when ``raw`` looks like UTF-16 text without a BOM (as
    some Windows tools save): Latin-script text then has a NUL in every other byte. Text in
    another script (a Cyrillic or Chinese title) has fewer, so a third of the other bytes
    being NUL suffices when the sample also decodes as that UTF-16 (UTF-8 and Windows-1252
    text has no NUL bytes at all)."""
    sample = raw[:4096]
    if len(sample) < 4:
        return None
    sample = sample[:len(sample) // 2 * 2]
    even, odd = sample[0::2], sample[1::2]
    for encoding, high, low in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
        if high.count(0) > 0.3 * len(high) and low.count(0) < 0.1 * len(low):
            # A character cut at the sample's end may leave half a surrogate pair.
            whole = sample if len(raw) == len(sample) else sample[:-2]
            try:
                whole.decode(encoding)
            except UnicodeDecodeError:
                continue
            return encoding
    return None


def read_text(path: str | Path) -> str:
    """Read an export file as text (see :func:`decode_export`); line ends become ``\\n``."""
    return decode_export(Path(path).read_bytes(), path)[0]


def stream_encoding(path: str | Path, *, warn: bool = True,
                    chunk_size: int = 1 << 20) -> str:
    """The encoding :func:`decode_export` would read ``path`` with (its name as
    :func:`decode_export` gives it, also ``utf-8 line by line (cp1252 on lines …)`` for a
    file mixing the two), found by reading the file chunk by chunk or line by line (memory
    bounded by a chunk or a line, not the file), with the same warnings."""
    with open(path, "rb") as handle:
        head = handle.read(8192)  # longer than the sample, as a whole file would be
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if (utf16 := _utf16_without_bom(head)) is not None:
        if warn:
            log.warning("%s is %s without a byte-order mark; reading it as such", path,
                        utf16)
        return utf16
    if _decodes(path, "utf-8-sig", chunk_size):
        return "utf-8"
    encoding = _mixed_encoding(path)
    if encoding is None:
        encoding = next((e for e in FALLBACK_ENCODINGS[:-1] if _decodes(path, e, chunk_size)),
                        FALLBACK_ENCODINGS[-1])
    if warn:
        log.warning("%s is not UTF-8; reading it as %s", path, encoding)
    return encoding


def warn_encoding(path: str | Path, encoding: str) -> None:
    """Log the warning :func:`stream_encoding` logs for a file it finds in ``encoding``
    (for a reader given the encoding that format detection found without warning)."""
    if encoding in ("utf-16-le", "utf-16-be"):
        log.warning("%s is %s without a byte-order mark; reading it as such", path,
                    encoding)
    elif encoding not in ("utf-8", "utf-16"):
        log.warning("%s is not UTF-8; reading it as %s", path, encoding)


def _decodes(path: str | Path, encoding: str, chunk_size: int) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(chunk_size):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _mixed_encoding(path: str | Path) -> str | None:
    """:func:`sysrev.encodings.decode_bytes`'s name for a file whose lines are partly UTF-8
    and partly single-byte, or ``None`` when no line holds UTF-8 beyond ASCII."""
    utf8_lines, single = 0, []
    with open(path, "rb") as handle:
        for number, line in enumerate(_binary_lines(handle), start=1):
            try:
                line.decode("utf-8-sig" if number == 1 else "utf-8")
                utf8_lines += not line.isascii()
            except UnicodeDecodeError:
                single.append(number)
    if not utf8_lines:
        return None
    shown = ", ".join(map(str, single[:10])) + (" ..." if len(single) > 10 else "")
    return f"utf-8 line by line (cp1252 on line{'s' if len(single) > 1 else ''} {shown})"


def _binary_lines(handle) -> Iterator[bytes]:
    """The file's lines split on ``\\n`` only (as ``bytes.split(b"\\n")``)."""
    rest = b""
    while block := handle.read(1 << 20):
        lines = (rest + block).split(b"\n")
        rest = lines.pop()
        yield from lines
    yield rest


def is_mixed(encoding: str) -> bool:
    """Whether :func:`stream_encoding` found a file of UTF-8 and single-byte lines."""
    return encoding.startswith("utf-8 line by line")


def _mixed_lines(path: str | Path) -> Iterator[str]:
    """The lines of a file mixing UTF-8 and single-byte lines, each decoded on its own (as
    :func:`sysrev.encodings.decode_bytes` does), line ends normalised."""
    with open(path, "rb") as handle:
        lines = _binary_lines(handle)
        previous = next(lines)
        number = 1
        for line in lines:
            text = _decode_line(previous, number)
            # "\r\n" is one line end; any other "\r" ends a line too.
            yield from (text[:-1] if text.endswith("\r") else text).split("\r")
            previous, number = line, number + 1
        yield from _decode_line(previous, number).split("\r")


def _decode_line(line: bytes, number: int) -> str:
    try:
        return line.decode("utf-8-sig" if number == 1 else "utf-8")
    except UnicodeDecodeError:
        return decode_single_byte(line)


def iter_lines(path: str | Path, *, warn: bool = True,
               encoding: str | None = None) -> Iterator[str]:
    """The lines of an export file, decoded as :func:`read_text` decodes it and without their
    line ends (``\\r\\n`` and ``\\r`` end a line too), one at a time: what
    ``read_text(path).split("\\n")`` gives, without the file in memory. ``encoding``: what
    :func:`stream_encoding` gave, when already known."""
    if encoding is None:
        encoding = stream_encoding(path, warn=warn)
    if is_mixed(encoding):
        yield from _mixed_lines(path)
        return
    python_encoding = "utf-8-sig" if encoding == "utf-8" else encoding
    errors = "replace" if encoding.startswith("utf-16-") else "strict"
    with open(path, encoding=python_encoding, errors=errors, newline=None) as handle:
        rest = ""
        while block := handle.read(1 << 20):
            lines = (rest + block).split("\n")
            rest = lines.pop()
            yield from lines
        yield rest


def normalise_doi(value: Any) -> str | None:
    """A DOI in canonical form (lower case, no resolver prefix), or ``None`` when ``value``
    is not a DOI.

    Resolver and scheme prefixes (``https://doi.org/``, ``http://dx.doi.org/``, ``doi:``)
    are stripped and percent-escapes decoded (``%28`` -> ``(``), as link resolvers and Ovid
    write them. Text after the first white space is dropped: Rayyan writes the next RIS tag
    into the DOI field (``10.1/x     LK  - https://…``), and a DOI never holds white space.
    What is left must match ``10.<digits>/<suffix>``; anything else is not a DOI.
    """
    if (value.__class__ is str and value.startswith("10.") and value.isprintable()
            and " " not in value and "%" not in value):
        # A bare DOI without white space, control characters or escapes (most DOI fields):
        # no prefix to strip, nothing to split or decode.
        doi = value.rstrip(".,;").lower()
        if _DOI_VALID.fullmatch(doi) and "(sici)" not in doi:
            return doi
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = _CONTROL.sub("", str(value)).strip()
    if "%" in text:
        text = unquote(text)
    doi = _DOI_PREFIX.sub("", text).strip()
    doi = doi.split(maxsplit=1)[0] if doi else ""
    doi = doi.rstrip(".,;").lower()
    if not _DOI_VALID.fullmatch(doi):
        # A DOI after other text in the field: WoS-style "ARTN 106" on the line before it,
        # a publisher link with the DOI in its path.
        found = _DOI_IN_TEXT.search(text)
        if not found:
            return None
        doi = unquote(found.group(0)).rstrip(".,;)").lower()
        if not _DOI_VALID.fullmatch(doi):
            return None
    return _SICI_UNDERSCORES.sub(r"\1<\2>\3", doi)


# In a link the slash may be escaped (``id=doi:10.1038%2Fs41598…``) and ``&`` ends the value.
_DOI_IN_TEXT = re.compile(r"10\.\d{4,9}(?:/|%2F)[^\s\"<>&]+", re.IGNORECASE)


def doi_in_text(text: Any) -> str | None:
    """The first DOI inside free text or a link (``https://doi.org/10.1/x``, Rayyan's
    ``10.1/x     LK  - …``, an Ovid ``L1`` link), normalised; ``None`` when there is none."""
    if not isinstance(text, str):
        return None
    match = _DOI_IN_TEXT.search(text)
    if not match:
        return None
    # A publisher link puts the view after the DOI: ".../doi/10.1002/x.123/full".
    return normalise_doi(_LINK_VIEW.sub("", match.group(0).rstrip(".,;)")))


_LINK_VIEW = re.compile(r"/(?:full|abstract|abs|pdf|epdf|pdfdirect|html|summary|fulltext)/?$",
                        re.IGNORECASE)


def normalise_pmid(value: Any) -> str | None:
    """A PMID as a string of digits, or ``None``."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    digits = re.sub(r"\D", "", str(value))
    return digits.lstrip("0") or None


#: Articles in press may carry next year's date; a later year is a typo or a placeholder.
_LATEST_YEAR = dt.date.today().year + 1


def parse_year(value: Any) -> str | None:
    """The first plausible four-digit year in ``value``."""
    if value.__class__ is str and len(value) == 4 and value.isascii() and value.isdigit():
        # Four ASCII digits (most year fields): a year when they are 18xx, 19xx or 20xx.
        return value if value[:2] in ("18", "19", "20") else None
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    match = _YEAR.search(str(value))
    return match.group(1) if match else None


# Inline formatting that databases and publishers leave in titles ("<i>Staphylococcus</i>",
# "CD4<sup>+</sup>"): only these tags are removed, so that "a<b" or "p<0.05" stay as written.
_INLINE_MARKUP = re.compile(r"</?(?:i|b|em|strong|sup|sub|u|sc|span|scp|smallcaps|inf)"
                            r"(?:\s[^<>]*)?/?>", re.IGNORECASE)


def display_title(value: Any) -> str:
    """A title as a reader should see it: inline markup removed and HTML entities decoded
    (``&#39;`` -> ``'``, ``&amp;`` -> ``&``), white space collapsed. The record table keeps
    the title as the source gave it; this is for what is shown (report tables, screening
    lists, reference exports)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    text = html.unescape(_INLINE_MARKUP.sub("", str(value)))
    return " ".join(text.split())


def clean_text(value: Any) -> str | None:
    """Collapse white space; empty strings become ``None``."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, (list, tuple)):
        value = " ".join(str(v) for v in value)
    text = str(value)
    # Printable ASCII (most fields) holds no control character: no substitution needed.
    if not (text.isascii() and text.isprintable()):
        text = _CONTROL.sub(" ", text)
    return " ".join(text.split()) or None


def strip_control(value: Any) -> Any:
    """``value`` without NUL and other control characters (tab and line feed kept)."""
    if not isinstance(value, str) or (value.isascii() and value.isprintable()):
        return value
    return _CONTROL.sub("", value)


def join_list(values: Iterable[Any] | None) -> str | None:
    """Join a list of names or labels with ``"; "``."""
    if values is None:
        return None
    if isinstance(values, str):
        values = [values]
    items = [clean_text(v) for v in values]
    items = [v for v in items if v]
    return "; ".join(items) or None


def content_key(record: Mapping[str, Any]) -> str:
    """A short hash of a record's bibliographic content, used as its id when the export has none.

    It depends only on title, authors, year and journal, so the same record keeps the same id
    when an export is re-run in another order.
    """
    parts = [record.get(k) or "" for k in ("title", "authors", "year", "journal")]
    text = unicodedata.normalize("NFKC", "|".join(parts)).lower()
    return "h" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def _where(rec: Mapping[str, Any]) -> str:
    if rec.get("line"):
        return f"line {rec['line']}"
    return f"record {rec.get('source_position')}"


def make_record_table(records: list[dict[str, Any]], *, source: str,
                      source_file: str | Path) -> pd.DataFrame:
    """Turn parsed records into the record table of one source.

    Parameters
    ----------
    records
        Dicts with any of the record fields (``title``, ``authors`` …) plus ``source_id`` (the
        database's accession, may be ``None``) and ``source_position`` (1-based position in the
        file).
    source
        The source's short name (``pubmed``, ``embase`` …); it prefixes every record id.
    source_file
        The file the records came from, kept on every row for the audit.

    Raises
    ------
    InputError
        For a record with no title, no authors and no identifier (naming its line): a
        blank row would be counted in PRISMA and could never be screened.
    """
    return RecordTable(source=source, source_file=source_file).table(records)


class RecordTable:
    """Builds one source's record table batch by batch (:meth:`table` once per batch), with
    the state that spans batches: the accessions seen, so that a repeated one gets the same
    ``~2`` id whichever batch it falls in. ``make_record_table`` is one batch."""

    def __init__(self, *, source: str, source_file: str | Path) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", source):
            raise InputError(source_file, f"source name '{source}' must be lower-case "
                                          "letters, digits and underscores")
        self.source, self.source_file = source, source_file
        self.logical_file = logical_path(source_file)
        self.seen: dict[str, int] = {}

    def table(self, records: Iterable[dict[str, Any]]) -> pd.DataFrame:
        """The record-table rows of ``records`` (see :func:`make_record_table`)."""
        return pd.DataFrame([self.row(rec) for rec in records], columns=RECORD_COLUMNS)

    def row(self, rec: Mapping[str, Any]) -> dict[str, Any]:
        """One record-table row of ``rec``."""
        source_file = self.source_file
        row = {col: strip_control(rec.get(col)) for col in _PASSED_COLUMNS}
        row["doi"] = normalise_doi(rec.get("doi"))
        if row["doi"] is None and clean_text(rec.get("doi")):
            log.warning("%s, %s: %r is not a DOI (10.<digits>/<suffix>); left out",
                        source_file, _where(rec), clean_text(rec.get("doi"))[:80])
        row["pmid"] = normalise_pmid(rec.get("pmid"))
        row["year"] = parse_year(rec.get("year"))
        if row["year"] is None and clean_text(rec.get("year")):
            log.warning("%s, %s: year %r holds no four-digit year; left empty",
                        source_file, _where(rec), clean_text(rec.get("year")))
        elif row["year"] is not None and int(row["year"]) > _LATEST_YEAR:
            log.warning("%s, %s: year %s is after next year (%d); kept, check the record",
                        source_file, _where(rec), row["year"], _LATEST_YEAR)
        for col in _CLEANED_COLUMNS:
            row[col] = clean_text(rec.get(col))
        # A control character inside an identifier is dropped, not made a space: the
        # accession (and so the record id) stays the database's.
        accession = clean_text(strip_control(rec.get("source_id")))
        # An abstract alone can still be screened; with nothing at all the row is blank.
        if not (row["title"] or row["authors"] or row["pmid"] or row["doi"] or accession
                or row["abstract"]):
            raise InputError(source_file, "a record with no title, no authors, no abstract "
                                          "and no identifier (PMID, DOI or accession)",
                             line=rec.get("line"),
                             row=None if rec.get("line") else rec.get("source_position"))
        source_id = accession or content_key(row)
        # The same accession twice in one export is a within-source duplicate; keep both rows
        # (deduplication will merge them) under distinct, still deterministic ids.
        count = self.seen.get(source_id, 0) + 1
        self.seen[source_id] = count
        if count > 1:
            log.warning("%s: accession %s occurs %d times", source_file, source_id, count)
            source_id = f"{source_id}~{count}"
        row["source"] = self.source
        row["source_id"] = source_id
        row["record_id"] = f"{self.source}:{source_id}"
        row["source_file"] = self.logical_file
        return row

    def columns(self, data: Mapping[str, list[Any]], lines: list[int] | None = None
                ) -> pd.DataFrame:
        """The record-table rows of records given column by column (``data``: a list per
        field, all of one length, ``source_position`` included; ``lines``: each record's
        first line in the file, for messages): the table :meth:`table` gives for the same
        records as dicts, built a column at a time (one pass per field, no dict per row).
        """
        return record_frame(self.column_data(data, lines))

    def column_data(self, data: Mapping[str, list[Any]], lines: list[int] | None = None
                    ) -> dict[str, list[Any]]:
        """:meth:`columns` as a list per column of :data:`RECORD_COLUMNS` (the table's
        columns, not yet a DataFrame: :func:`record_frame` makes it one)."""
        n = len(data["source_position"])
        source_file = self.source_file

        def where(i: int) -> str:
            if lines is not None and lines[i]:
                return f"line {lines[i]}"
            return f"record {data['source_position'][i]}"

        empty = [None] * n
        out: dict[str, list[Any]] = {}
        for col in _PASSED_COLUMNS:
            values = data.get(col)
            out[col] = empty if values is None else [strip_control(v) for v in values]
        raw = data.get("doi") or empty
        out["doi"] = dois = [None if v is None else normalise_doi(v) for v in raw]
        for i, v in enumerate(raw):
            if dois[i] is None and v is not None and (text := clean_text(v)):
                log.warning("%s, %s: %r is not a DOI (10.<digits>/<suffix>); left out",
                            source_file, where(i), text[:80])
        # ASCII digits (nearly every PMID) need no substitution.
        out["pmid"] = [None if v is None else (v.lstrip("0") or None)
                       if v.__class__ is str and v.isascii() and v.isdecimal()
                       else normalise_pmid(v) for v in data.get("pmid") or empty]
        raw = data.get("year") or empty
        out["year"] = years = [None if v is None else parse_year(v) for v in raw]
        for i, year in enumerate(years):
            if year is None:
                if raw[i] is not None and (text := clean_text(raw[i])):
                    log.warning("%s, %s: year %r holds no four-digit year; left empty",
                                source_file, where(i), text)
            elif int(year) > _LATEST_YEAR:
                log.warning("%s, %s: year %s is after next year (%d); kept, check the "
                            "record", source_file, where(i), year, _LATEST_YEAR)
        for col in _CLEANED_COLUMNS:
            values = data.get(col)
            out[col] = empty if values is None else clean_column(values)
        # A control character inside an identifier is dropped, not made a space (see
        # :meth:`row`); a clean accession is taken as it is.
        accessions = [None if v is None else v if _is_clean(v)
                      else clean_text(strip_control(v))
                      for v in data.get("source_id") or empty]
        title, authors, year, journal = (out["title"], out["authors"], out["year"],
                                         out["journal"])
        pmid, doi, abstract = out["pmid"], out["doi"], out["abstract"]
        source_ids = []
        seen = self.seen
        for i, accession in enumerate(accessions):
            # An abstract alone can still be screened; with nothing at all the row is blank.
            if not (accession or title[i] or authors[i] or pmid[i] or doi[i] or abstract[i]):
                line = lines[i] if lines is not None else None
                raise InputError(source_file, "a record with no title, no authors, no "
                                              "abstract and no identifier (PMID, DOI or "
                                              "accession)", line=line,
                                 row=None if line else data["source_position"][i])
            source_id = accession or content_key({"title": title[i], "authors": authors[i],
                                                  "year": year[i], "journal": journal[i]})
            # The same accession twice in one export is a within-source duplicate (see
            # :meth:`row`).
            count = seen.get(source_id, 0) + 1
            seen[source_id] = count
            if count > 1:
                log.warning("%s: accession %s occurs %d times", source_file, source_id,
                            count)
                source_id = f"{source_id}~{count}"
            source_ids.append(source_id)
        out["source"] = [self.source] * n
        out["source_id"] = source_ids
        prefix = f"{self.source}:"
        out["record_id"] = [prefix + s for s in source_ids]
        out["source_file"] = [self.logical_file] * n
        return {col: out[col] for col in RECORD_COLUMNS}


def batch_reader_start(path: Path, source: str, encoding: str | None
                       ) -> tuple[RecordTable, str]:
    """What a batch reader of a line-based export starts with: the record table it builds
    batch by batch (the accessions seen span batches) and the file's encoding (``encoding``
    when format detection found it, its warning logged again; else found here)."""
    builder = RecordTable(source=source, source_file=path)
    if encoding is None:
        encoding = stream_encoding(path)
    else:
        warn_encoding(path, encoding)
    return builder, encoding


def row_columns(builder: RecordTable, rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """The record-table columns (a list per column of :data:`RECORD_COLUMNS`) of records
    as a reader maps them (dicts of fields with ``source_position`` and ``line``): what
    :meth:`RecordTable.row` gives for each, made a column at a time
    (:meth:`RecordTable.column_data`)."""
    if not rows:
        return {col: [] for col in RECORD_COLUMNS}
    keys = {key for row in rows for key in row} - {"line"}
    data = {key: [row.get(key) for row in rows] for key in keys}
    return builder.column_data(data, [row.get("line") for row in rows])


def with_whole_file_error(batches: Iterator[dict[str, list[Any]]],
                          read_whole: Callable[[], Any]) -> Iterator[dict[str, list[Any]]]:
    """The batches of a batch reader, and on an :class:`InputError` the error its whole-file
    reader names: ``read_whole()`` reads the file whole and raises (a broken file's checks
    run there in their order, over the whole file, so that the error named is the same
    whichever batch found one); if it does not, the batch reader's error is raised."""
    try:
        yield from batches
        return
    except InputError as err:
        error = err
    read_whole()
    raise error


def record_frame(columns: Mapping[str, list[Any]]) -> pd.DataFrame:
    """The record table of :meth:`RecordTable.column_data`'s columns, as a DataFrame."""
    if not len(columns["record_id"]):
        return pd.DataFrame([], columns=RECORD_COLUMNS)
    return pd.DataFrame({col: columns[col] for col in RECORD_COLUMNS}, columns=RECORD_COLUMNS)


def _is_clean(value: Any) -> bool:
    """Whether :func:`clean_text` gives ``value`` back as it is: a printable string (so no
    control character and no white space but the space) without leading, trailing or
    doubled spaces. (Every character ``str.split`` splits on but the space, and every one
    ``_CONTROL`` matches, is unprintable.)"""
    return (value.__class__ is str and value != "" and value.isprintable()
            and value[0] != " " and value[-1] != " " and "  " not in value)


def clean_column(values: Iterable[Any]) -> list[str | None]:
    """:func:`clean_text` of every value: a value that is already clean (printable, no
    leading, trailing or doubled space: see :func:`_is_clean`) is taken as it is, without
    the split and join; a run of values that are all clean is recognised at once."""
    values = list(values)
    out: list[str | None] = []
    append, extend = out.append, out.extend
    for start in range(0, len(values), _RUN):
        run = values[start:start + _RUN]
        if _all_clean(run):
            extend(run)
            continue
        for value in run:
            if (value.__class__ is str and value and value.isprintable() and value[0] != " "
                    and value[-1] != " " and "  " not in value):
                append(value)
            else:
                append(clean_text(value))
    return out


_RUN = 64
_CLEAN_KINDS = {str, type(None)}


def _all_clean(values: list[Any]) -> bool:
    """Whether every value is ``None`` or clean (see :func:`_is_clean`), told from the
    values joined with "|" (a value that holds "|" next to a space, or two, may make it
    say no when they are clean, never yes when one is not): an empty value shows as "||"
    or a "|" at an end, a leading or trailing space as "| ", " |" or a space at an end."""
    if not set(map(type, values)) <= _CLEAN_KINDS:
        return False
    joined = "|".join([v for v in values if v is not None])
    return (joined == "" and None in values and "" not in values) or (
        joined != "" and joined.isprintable() and "  " not in joined and "||" not in joined
        and "| " not in joined and " |" not in joined and joined[0] not in " |"
        and joined[-1] not in " |")


_CLEANED_COLUMNS = ("title", "authors", "journal", "volume", "issue", "pages", "language",
                    "abstract", "publication_types", "mesh_terms")
#: Columns taken as the reader gave them (control characters removed); the others are
#: normalised or set by :meth:`RecordTable.row`.
_PASSED_COLUMNS = [c for c in RECORD_COLUMNS if c not in _CLEANED_COLUMNS + (
    "doi", "pmid", "year", "source", "source_id", "record_id", "source_file")]


def count_tagged_records(text: str, path: str | Path, tag: re.Pattern, start: str,
                         end: str = "ER") -> int:
    """Count the records of a tagged export (RIS ``TY``…``ER``, WoS ``PT``…``ER``).

    ``tag`` matches a line's tag in group 1. A record that is not closed before the next one
    starts, a stray end tag, or a file that ends inside a record is an error naming the line:
    a parser would otherwise return a silently shorter table.
    """
    count, open_line = 0, None
    for number, line in enumerate(text.split("\n"), start=1):
        match = tag.match(line)
        if not match:
            continue
        if match.group(1) == start:
            if open_line is not None:
                raise InputError(path, f"record starting at line {open_line} has no {end} "
                                       f"line before the next {start}", line=number)
            open_line, count = number, count + 1
        elif match.group(1) == end:
            if open_line is None:
                raise InputError(path, f"{end} line without a {start} line before it",
                                 line=number)
            open_line = None
    if open_line is not None:
        raise InputError(path, f"the last record has no {end} line (the file may be "
                               "truncated)", line=open_line)
    return count
