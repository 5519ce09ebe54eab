"""Loading user-provided CSV tables with the line number of every row kept for messages."""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path
from typing import Sequence

from sysrev.encodings import decode_bytes
from sysrev.errors import InputError
from sysrev.errors import columns_word as _columns
from sysrev.lazy import pandas as pd

LINE = "_line"

log = logging.getLogger(__name__)


def read_user_text(path: str | Path) -> str:
    """The text of a user-provided sheet: UTF-8 (with or without BOM), UTF-16 with a BOM,
    else Windows-1252, else Latin-1, as exports are read.

    Sheets saved by Excel on Windows ("CSV" rather than "CSV UTF-8") are Windows-1252; reading
    them with a warning beats a bare UnicodeDecodeError. Latin-1 decodes any byte, so a file
    is never rejected for its encoding; the warning names the file and the encoding used.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    try:
        text, encoding, first_bad = decode_bytes(path.read_bytes())
    except UnicodeDecodeError as error:
        raise InputError(path, f"not valid UTF-16 despite its byte-order mark: {error}") \
            from None
    if first_bad is not None:
        log.warning("%s is not UTF-8 (first non-UTF-8 byte on line %d); reading it as %s",
                    path, first_bad, encoding)
    return text


def load_csv(path: str | Path, *, required: Sequence[str],
             optional: Sequence[str] = ()) -> pd.DataFrame:
    """Read a CSV (UTF-8, or Windows-1252: see :func:`read_user_text`) whose header must hold ``required`` columns and may hold ``optional``.

    Every cell is text with surrounding white space removed ('' where empty). The file line
    of each row is kept in the ``_line`` column. An unknown column is an error, so that a
    misspelt header is caught rather than silently ignored.
    """
    path = Path(path)
    with io.StringIO(read_user_text(path), newline="") as handle:
        reader = csv.reader(handle)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise InputError(path, "the file is empty (no header line)", line=1) from None
        missing = [c for c in required if c not in header]
        if missing:
            raise InputError(path, f"missing {_columns(missing)} {missing}; the header is {header}",
                             line=1)
        unknown = [c for c in header if c not in required and c not in optional]
        if unknown:
            raise InputError(path, f"unknown {_columns(unknown)} {unknown}; allowed: "
                                   f"{list(required) + list(optional)}", line=1)
        duplicated = sorted({c for c in header if header.count(c) > 1})
        if duplicated:
            raise InputError(path, f"{_columns(duplicated)} {duplicated} "
                                   f"{'appears' if len(duplicated) == 1 else 'appear'} more "
                                   "than once", line=1)
        rows = []
        start = reader.line_num + 1
        for cells in reader:
            line = start
            start = reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                raise InputError(path, f"{len(cells)} cells but the header has {len(header)}",
                                 line=line)
            row = {h: c.strip() for h, c in zip(header, cells)}
            row[LINE] = line
            rows.append(row)
    columns = list(required) + [c for c in optional if c in header]
    frame = pd.DataFrame(rows, columns=header + [LINE])
    for col in optional:
        if col not in frame.columns:
            frame[col] = ""
            columns.append(col)
    return frame.loc[:, list(required) + list(optional) + [LINE]]
