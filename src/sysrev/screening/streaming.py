"""Screening a large library in bounded memory: compact key sets, the final decisions of a
batch of unique records, and the to-screen list's rows kept on disk until their order is
known.

The screening rule reads the unique-record table a batch at a time
(:func:`sysrev.workflow.screening.screen_records`). What it keeps for every record is
small: a few bytes of sort key and a file offset per row still to screen
(:class:`PendingRows`), and the identifiers of earlier versions as sorted byte strings
(:class:`KeySet`); the decisions, the study links and the records they name are held whole
(they grow with the team's work, not with the library).
"""

from __future__ import annotations

import csv
import ctypes
import gc
import math
import sys
import tempfile
from array import array
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from sysrev.columns import FINAL_DECISION_COLUMNS


class KeySet:
    """A set of strings held as one sorted array of UTF-8 byte strings (as many bytes per
    key as the longest key), searched with :func:`numpy.searchsorted`: exact, without a
    Python object per key."""

    def __init__(self, parts: Iterable[Iterable[object]] = ()):
        arrays = []
        for part in parts:
            encoded = [v.encode("utf-8") for v in part if isinstance(v, str)]
            if encoded:
                arrays.append(np.unique(np.array(encoded, dtype=bytes)))
        self._keys = (np.unique(np.concatenate(arrays)) if arrays
                      else np.array([], dtype="S1"))

    def __len__(self) -> int:
        return int(self._keys.size)

    @property
    def nbytes(self) -> int:
        return int(self._keys.nbytes)

    def isin(self, values: Sequence[object]) -> np.ndarray:
        """True for each value that is a string in the set."""
        values = list(values)
        out = np.zeros(len(values), dtype=bool)
        if not self._keys.size:
            return out
        width = self._keys.dtype.itemsize
        where, probe = [], []
        for i, value in enumerate(values):
            if isinstance(value, str):
                encoded = value.encode("utf-8")
                # Longer than every key: not in the set (and never truncated to match one).
                if len(encoded) <= width:
                    where.append(i)
                    probe.append(encoded)
        if not probe:
            return out
        probe = np.array(probe, dtype=self._keys.dtype)
        at = np.minimum(np.searchsorted(self._keys, probe), self._keys.size - 1)
        out[np.array(where)] = self._keys[at] == probe
        return out


def _pending_values(record: str) -> tuple:
    return (record, "title_abstract", "pending", "", "not screened", "", "")


def finals_of_batch(ids: Iterable[str], decided: dict[str, list[tuple]]) -> pd.DataFrame:
    """The final decisions of a batch of unique records, as
    :func:`sysrev.screening.rules.final_decisions` gives them for the whole table: the rows
    of ``decided`` (record id -> its rows, from ``final_decisions`` of the records with
    decisions) and ``pending`` / ``not screened`` at title/abstract for every other record;
    records in sorted order."""
    columns: list[list] = [[] for _ in FINAL_DECISION_COLUMNS]
    for record in sorted(ids):
        for values in decided.get(record) or (_pending_values(record),):
            for column, value in zip(columns, values):
                column.append(value)
    return pd.DataFrame(dict(zip(FINAL_DECISION_COLUMNS, columns)),
                        columns=FINAL_DECISION_COLUMNS)


def decided_rows(finals: pd.DataFrame) -> dict[str, list[tuple]]:
    """Record id -> its rows of ``finals`` (values in :data:`FINAL_DECISION_COLUMNS` order)."""
    out: dict[str, list[tuple]] = {}
    for values in finals.loc[:, FINAL_DECISION_COLUMNS].itertuples(index=False, name=None):
        out.setdefault(values[0], []).append(values)
    return out


def release_memory() -> None:
    """Give the memory of a finished batch back: collect its cycles and, with glibc, return
    the freed heap to the system (``malloc_trim``). Without it the heap's high-water mark
    creeps up batch after batch (1M records: 333 MB peak without, 219 MB with)."""
    gc.collect()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # not glibc
            pass


class _Lines:
    """A file-like object that keeps each line :func:`csv.writer` writes (one per row)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, text: str) -> None:
        self.lines.append(text)


def _cell(value: object) -> str:
    """A cell as :meth:`pandas.DataFrame.to_csv` writes it (``na_rep=""``)."""
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return str(value)


def csv_lines(rows: Iterable[Sequence[object]]) -> list[str]:
    """Each row as the line :meth:`pandas.DataFrame.to_csv` (``lineterminator="\\n"``)
    writes for it."""
    sink = _Lines()
    csv.writer(sink, lineterminator="\n").writerows(
        [_cell(v) for v in row] for row in rows)
    return sink.lines


class PendingRows:
    """The to-screen list's rows, written to a temporary file as CSV lines in the order
    they arrive, with a sort key (one byte) and a file offset (eight bytes) per row; written
    out in any order at the end (:meth:`write`)."""

    def __init__(self, folder: str | Path):
        self._file = tempfile.TemporaryFile(dir=folder, prefix=".to_screen.", suffix=".tmp")
        self._offsets = array("q", [0])
        self._keys = array("b")

    def add(self, table: pd.DataFrame, columns: Sequence[str], keys: Sequence[int]) -> None:
        """Add ``table``'s rows (its ``columns``) with their sort ``keys``."""
        end = self._offsets[-1]
        for line in csv_lines(table.loc[:, list(columns)].itertuples(index=False, name=None)):
            data = line.encode("utf-8")
            self._file.write(data)
            end += len(data)
            self._offsets.append(end)
        self._keys.extend(int(k) for k in keys)

    def __len__(self) -> int:
        return len(self._keys)

    def keys(self) -> np.ndarray:
        return np.frombuffer(self._keys, dtype=np.int8) if len(self._keys) else np.zeros(
            0, dtype=np.int8)

    def write(self, handle, order: np.ndarray, suffixes: Iterable[str] | None = None,
              block: int = 1 << 20) -> None:
        """Write the rows in ``order`` (row numbers) to the binary ``handle``; with
        ``suffixes`` (one per output row), each line gets its suffix before the newline.
        Runs of consecutive rows are copied in one piece."""
        self._file.flush()
        offsets = np.frombuffer(self._offsets, dtype=np.int64)
        raw = self._file
        if suffixes is not None:
            for row, suffix in zip(order, suffixes):
                raw.seek(int(offsets[row]))
                line = raw.read(int(offsets[row + 1] - offsets[row]))
                handle.write(line[:-1] + suffix.encode("utf-8") + b"\n")
            return
        if not len(order):
            return
        breaks = np.flatnonzero(np.diff(order) != 1) + 1
        for start, stop in zip(np.concatenate([[0], breaks]).tolist(),
                               np.concatenate([breaks, [len(order)]]).tolist()):
            position = int(offsets[order[start]])
            end = int(offsets[order[stop - 1] + 1])
            raw.seek(position)
            while position < end:
                data = raw.read(min(block, end - position))
                handle.write(data)
                position += len(data)

    def close(self) -> None:
        self._file.close()
