"""Loading user-provided CSV tables with the line number of every row kept for messages."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Sequence

import pandas as pd

from sysrev.errors import InputError

LINE = "_line"


def load_csv(path: str | Path, *, required: Sequence[str],
             optional: Sequence[str] = ()) -> pd.DataFrame:
    """Read a UTF-8 CSV whose header must hold ``required`` columns and may hold ``optional``.

    Every cell is text with surrounding white space removed ('' where empty). The file line
    of each row is kept in the ``_line`` column. An unknown column is an error, so that a
    misspelt header is caught rather than silently ignored.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise InputError(path, "the file is empty (no header line)", line=1) from None
        missing = [c for c in required if c not in header]
        if missing:
            raise InputError(path, f"missing column(s) {missing}; the header is {header}",
                             line=1)
        unknown = [c for c in header if c not in required and c not in optional]
        if unknown:
            raise InputError(path, f"unknown column(s) {unknown}; allowed: "
                                   f"{list(required) + list(optional)}", line=1)
        duplicated = sorted({c for c in header if header.count(c) > 1})
        if duplicated:
            raise InputError(path, f"column(s) {duplicated} appear more than once", line=1)
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
