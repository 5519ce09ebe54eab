"""Deterministic, atomic writing of tables and JSON, and file fingerprints.

Tables are written with a fixed column order, sorted rows, ``\\n`` line ends and a fixed float
format, so that two runs on the same inputs give byte-identical files. Every write goes to a
temporary file in the same folder and is renamed into place, so a failure never leaves a
half-written output behind.
"""

from __future__ import annotations

import csv
import glob
import hashlib
import heapq
import io
import json
import math
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from sysrev.lazy import numpy as np
from sysrev.lazy import pandas as pd

FLOAT_FORMAT = "%.10g"


def current_umask() -> int:
    """The process's file-creation mask (read without changing it where Linux allows)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def give_umask_mode(fd: int) -> None:
    """Give a file made by :func:`tempfile.mkstemp` (always 0600) the mode an ordinary
    ``open()`` would have given it under the user's umask (0644 under umask 022), so that
    outputs can be shared like any file the user makes."""
    os.fchmod(fd, 0o666 & ~current_umask())


@contextmanager
def atomic_path(path: str | Path, mode: str = "w") -> Iterator[Any]:
    """Open a temporary file next to ``path``; rename it onto ``path`` only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A job killed mid-write (SIGKILL, power loss) leaves its temporary file; the rerun
    # removes it. It was never renamed onto the output, so nothing half-written was accepted.
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        stale.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        give_umask_mode(fd)
        kwargs = {"encoding": "utf-8", "newline": "\n"} if "b" not in mode else {}
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _columns_in_order(frame: pd.DataFrame, path: str | Path, columns: Sequence[str],
                      sort_by: Sequence[str] | None) -> pd.DataFrame:
    """Exactly ``columns`` of ``frame``, rows stably sorted by ``sort_by``: the fixed layout
    every written table has, so that two runs diff cleanly."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(f"cannot write {path}: missing columns {missing}")
    # No copy of a frame that already has the layout (a large table is written as it is).
    out = frame if list(frame.columns) == list(columns) else frame.loc[:, list(columns)]
    if sort_by and not _sorted_by(out, sort_by):
        out = out.sort_values(list(sort_by), kind="mergesort")
    return out


def _sorted_by(frame: pd.DataFrame, sort_by: Sequence[str]) -> bool:
    """Whether a stable sort of ``frame`` by ``sort_by`` would leave it as it is (checked
    for one column without missing values; else False)."""
    if len(sort_by) != 1:
        return False
    column = frame[sort_by[0]]
    return bool(column.notna().all() and column.is_monotonic_increasing)


def _float_texts(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its float64 columns as the texts ``to_csv(float_format=FLOAT_FORMAT,
    na_rep="")`` writes for them (NaN as ""), each distinct value formatted once: pandas
    formats every cell on its own, most of the time of writing a table of scores. The
    file is the same, byte for byte."""
    floats = [name for name, dtype in frame.dtypes.items() if dtype == np.float64]
    if not floats or not len(frame):
        return frame
    texts = {}
    for name in floats:
        values = np.ascontiguousarray(frame[name].to_numpy(dtype=np.float64))
        # by bit pattern: 0.0 and -0.0 are formatted apart, as pandas does
        codes, uniques = pd.factorize(values.view(np.int64))
        formatted = np.array(["" if v != v else FLOAT_FORMAT % v
                              for v in uniques.view(np.float64)], dtype=object)
        texts[name] = formatted[codes]
    return frame.assign(**texts)


def write_tsv(frame: pd.DataFrame, path: str | Path, columns: Sequence[str],
              sort_by: Sequence[str] | None = None) -> None:
    """Write ``frame`` as TSV with exactly ``columns``, rows sorted by ``sort_by``."""
    out = _float_texts(_columns_in_order(frame, path, columns, sort_by))
    with atomic_path(path) as handle:
        out.to_csv(handle, sep="\t", index=False, lineterminator="\n",
                   float_format=FLOAT_FORMAT, na_rep="")


@contextmanager
def tsv_batches(path: str | Path, columns: Sequence[str],
                sort_by: Sequence[str] | None = None) -> Iterator[Any]:
    """Write a TSV table batch by batch: yields ``write(frame)``, called once per batch in
    the table's order; the file is what :func:`write_tsv` writes for the batches'
    concatenation when the batches come in ``sort_by`` order (each batch is sorted by it),
    and it is renamed into place only when the block ends without an error.

    A batch may also be given as a mapping of column names to lists of text values (or
    ``None`` for an empty cell; integers allowed), which is written as :func:`write_tsv`
    would write the DataFrame of those columns, without making one (see
    :func:`_write_column_rows`)."""
    with atomic_path(path) as handle:
        header = [True]

        def write(frame: pd.DataFrame | Mapping[str, list[Any]]) -> None:
            # (A mapping is told without looking at pandas: the RIS import never needs it.)
            if isinstance(frame, Mapping):
                if _write_column_rows(handle, frame, path, columns, sort_by, header[0]):
                    header[0] = False
                    return
                frame = pd.DataFrame({name: frame[name] for name in columns},
                                     columns=list(columns))
            out = _float_texts(_columns_in_order(frame, path, columns, sort_by))
            out.to_csv(handle, sep="\t", index=False, header=header[0], lineterminator="\n",
                       float_format=FLOAT_FORMAT, na_rep="")
            header[0] = False

        yield write
        if header[0]:
            write(pd.DataFrame(columns=list(columns)))


def _tsv_rows(text: str) -> Iterator[str]:
    """The rows of TSV text as pandas writes it (minimal quoting, ``\\n`` line ends): a
    quoted cell may hold a line break, so a row ends at a line break after an even number
    of quote characters (a quote inside a cell is doubled)."""
    row: list[str] = []
    quotes = 0
    for line in text.split("\n")[:-1]:
        row.append(line)
        quotes += line.count('"')
        if quotes % 2 == 0:
            yield "\n".join(row) + "\n"
            row, quotes = [], 0
    if row:
        raise ValueError("TSV text ends inside a quoted cell")


def _write_run(frame: pd.DataFrame, path: str | Path, columns: Sequence[str], key: str,
               run: Path) -> None:
    out = _columns_in_order(frame, path, columns, [key])
    text = out.to_csv(sep="\t", index=False, header=False, lineterminator="\n",
                      float_format=FLOAT_FORMAT, na_rep="")
    keys = out[key].tolist()
    with open(run, "wb") as handle:
        count = 0
        for k, row in zip(keys, _tsv_rows(text)):
            kb, rb = str(k).encode("utf-8"), row.encode("utf-8")
            handle.write(b"%d %d\n" % (len(kb), len(rb)) + kb + rb)
            count += 1
    if count != len(keys):
        raise ValueError(f"cannot write {path}: {len(keys)} rows but {count} TSV rows")


def _read_run(run: Path) -> Iterator[tuple[str, bytes]]:
    with open(run, "rb") as handle:
        while True:
            head = handle.readline()
            if not head:
                return
            klen, rlen = (int(v) for v in head.split())
            yield handle.read(klen).decode("utf-8"), handle.read(rlen)


@contextmanager
def sorted_tsv_batches(path: str | Path, columns: Sequence[str], key: str,
                       run_rows: int = 10000) -> Iterator[Any]:
    """Write a TSV table sorted by the text column ``key`` from batches given in any order,
    holding at most about ``run_rows`` rows in memory: yields ``write(frame)``; every
    ``run_rows`` rows are sorted and written as a run to a temporary folder beside
    ``path``, and at the end the runs are merged (external merge sort).

    The file is what :func:`write_tsv` writes for the batches' concatenation with
    ``sort_by=[key]`` when ``key`` holds no value twice (each row is formatted as
    :func:`tsv_batches` formats it; the merge only orders the rows). It is renamed into
    place only when the block ends without an error.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{path.name}.runs.", dir=path.parent) as tmp:
        runs: list[Path] = []
        pending: list[pd.DataFrame] = []
        held = [0]

        def flush() -> None:
            if not pending:
                return
            frame = pending[0] if len(pending) == 1 else pd.concat(pending, ignore_index=True)
            run = Path(tmp) / f"run_{len(runs):05d}"
            _write_run(frame, path, columns, key, run)
            runs.append(run)
            pending.clear()
            held[0] = 0

        def write(frame: pd.DataFrame) -> None:
            if len(frame):
                pending.append(frame)
                held[0] += len(frame)
            if held[0] >= run_rows:
                flush()

        yield write
        flush()
        with atomic_path(path) as handle:
            pd.DataFrame(columns=list(columns)).to_csv(handle, sep="\t", index=False,
                                                       lineterminator="\n")
            handle.flush()
            raw = handle.buffer
            for _, row in heapq.merge(*(_read_run(r) for r in runs),
                                      key=lambda item: item[0]):
                raw.write(row)
            raw.flush()
def _write_column_rows(handle: Any, data: Mapping[str, list[Any]], path: str | Path,
                       columns: Sequence[str], sort_by: Sequence[str] | None,
                       header: bool) -> bool:
    """Write the rows of ``data`` (a list per column) as ``DataFrame.to_csv`` writes them in
    :func:`tsv_batches` (pandas hands every row to the ``csv`` module with these settings,
    an empty cell for ``None``, integers as ``str`` gives them), and return ``True``; or
    return ``False`` without writing when the rows are not already in ``sort_by`` order or
    hold a value other than text, ``None`` and integers (the caller then writes a
    DataFrame)."""
    missing = [c for c in columns if c not in data]
    if missing:
        raise KeyError(f"cannot write {path}: missing columns {missing}")
    lists = [data[name] for name in columns]
    if not lists[0]:
        return False
    cells = []
    for values in lists:
        if values[0].__class__ is int:
            # Integers alone (an int64 column; with an empty cell pandas would make it a
            # float column, written otherwise).
            if set(map(type, values)) != {int}:
                return False
            cells.append(list(map(str, values)))
        elif None not in values:
            # Text cells (an object column): anything else fails the join below.
            cells.append(values)
        elif values.count(None) == len(values):
            cells.append([""] * len(values))
        else:
            cells.append(["" if v is None else v for v in values])
    try:
        rows = list(map("\t".join, zip(*cells)))
    except TypeError:
        return False
    for name in sort_by or ():
        keys = data[name]
        if None in keys:
            return False
        try:
            if any(a > b for a, b in zip(keys, keys[1:])):
                return False
        except TypeError:  # text and integers mixed
            return False
    if header:
        handle.write(_csv_row(list(columns)))
    # A row joined with tabs is the csv module's row when no cell holds a tab, a line end
    # or a quote (which it would quote): the tabs and line ends counted tell. The other rows
    # are written by the csv module.
    text = "\n".join(rows)
    tabs = len(lists) - 1
    if ('"' in text or "\r" in text or text.count("\n") != len(rows) - 1
            or text.count("\t") != len(rows) * tabs):
        for i, row in enumerate(rows):
            if '"' in row or "\r" in row or "\n" in row or row.count("\t") != tabs:
                rows[i] = _csv_row([values[i] for values in lists])[:-1]
        text = "\n".join(rows)
    handle.write(text + "\n")
    return True


def _csv_row(cells: list[Any]) -> str:
    """One row as the csv module writes it for :func:`tsv_batches` (its line end included)."""
    out = io.StringIO()
    csv.writer(out, delimiter="\t", lineterminator="\n", quotechar='"',
               quoting=csv.QUOTE_MINIMAL, doublequote=True, escapechar=None).writerow(cells)
    return out.getvalue()


#: A cell a spreadsheet would evaluate as a formula starts with one of these (OWASP, "CSV
#: injection"): ``=``, ``+``, ``-``, ``@``, a tab or a carriage return.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: Any) -> Any:
    """Prefix a text cell that a spreadsheet would evaluate as a formula with ``'``.

    A plain number (``-0.35``, ``+1``) is left as it is: a spreadsheet reads it as the number
    it is, and an analysis program reading the CSV must still see a number.
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_START):
        return value
    try:
        float(value)
    except ValueError:
        return "'" + value
    return value if value.strip() == value else "'" + value


def write_spreadsheet_csv(frame: pd.DataFrame, path: str | Path, columns: Sequence[str],
                          sort_by: Sequence[str] | None = None, bom: bool = False) -> None:
    """Write ``frame`` as a comma-separated UTF-8 file (CRLF line ends) that is safe to open
    in a spreadsheet: every formula-like text cell neutralised (:func:`neutralise_cell`);
    with ``bom``, a byte-order mark first, so that Excel reads accents right. Columns and row order as
    :func:`write_tsv`."""
    with spreadsheet_csv_batches(path, columns, sort_by, bom=bom) as write:
        write(frame)


def neutralise_frame(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """``frame`` with :func:`neutralise_cell` applied to every cell, and the number of cells
    it changed. Only the text cells that start like a formula are looked at one by one."""
    out, changed = frame, 0
    for name in frame.columns:
        column = frame[name]
        if column.dtype != object:
            continue
        try:
            risky = column.str.startswith(FORMULA_START, na=False).astype(bool)
        except AttributeError:  # no text in the column
            continue
        if not risky.any():
            continue
        fixed = column[risky].map(neutralise_cell)
        changed += int((fixed != column[risky]).sum())
        if out is frame:
            out = frame.copy()
        out.loc[risky, name] = fixed
    return out, changed


@contextmanager
def spreadsheet_csv_batches(path: str | Path, columns: Sequence[str],
                            sort_by: Sequence[str] | None = None,
                            bom: bool = False) -> Iterator[Any]:
    """Write a spreadsheet-safe CSV (see :func:`write_spreadsheet_csv`) batch by batch:
    yields ``write(frame)``, which returns the number of cells it neutralised; the file is
    renamed into place only when the block ends without an error."""
    with atomic_path(path) as handle:
        if bom:
            handle.write("\ufeff")
        header = [True]

        def write(frame: pd.DataFrame) -> int:
            out, changed = neutralise_frame(_columns_in_order(frame, path, columns, sort_by))
            # CRLF line ends (RFC 4180, as spreadsheets write them): the csv module then
            # quotes any cell holding a CR or LF, which it does not do for a lone CR under
            # "\n".
            out.to_csv(handle, index=False, header=header[0], lineterminator="\r\n",
                       float_format=FLOAT_FORMAT, na_rep="")
            header[0] = False
            return changed

        yield write
        if header[0]:
            write(pd.DataFrame(columns=list(columns)))


def read_tsv_chunks(path: str | Path, rows: int = 100_000,
                    columns: Sequence[str] | None = None) -> Iterator[pd.DataFrame]:
    """A TSV written by :func:`write_tsv`, read as :func:`read_tsv` reads it, ``rows`` rows at
    a time, only ``columns`` when given (the header only: one empty table)."""
    empty = True
    for chunk in pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False,
                             na_values=[""], chunksize=rows,
                             usecols=list(columns) if columns is not None else None):
        empty = False
        yield chunk
    if empty:
        yield read_tsv(path, columns)


def read_tsv(path: str | Path, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Read a TSV written by :func:`write_tsv`, every column as text (empty cells as NA);
    only ``columns`` (in the file's order) when given: a large record table read for a few
    columns then takes memory for those only."""
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, na_values=[""],
                       usecols=list(columns) if columns is not None else None)


def read_tsv_header(path: str | Path) -> list[str]:
    """The column names of a TSV written by :func:`write_tsv` (its rows are not read)."""
    return list(pd.read_csv(path, sep="\t", dtype=str, nrows=0).columns)


def read_tsv_head(path: str | Path, rows: int, chunk_rows: int = 100_000
                  ) -> tuple[pd.DataFrame, int]:
    """The first ``rows`` rows of a TSV written by :func:`write_tsv` (read as
    :func:`read_tsv` reads them) and its number of rows, in memory that does not grow with
    the table."""
    total, head = 0, None
    for chunk in pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False,
                             na_values=[""], chunksize=chunk_rows):
        if head is None:
            head = chunk.iloc[:rows].reset_index(drop=True)
        total += len(chunk)
    if head is None:
        head = read_tsv(path)
    return head, total


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return float(FLOAT_FORMAT % value)
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return _clean(value.item())
    return value


def write_json(data: Any, path: str | Path) -> None:
    """Write ``data`` as sorted, indented JSON; NaN and infinity become ``null``."""
    with atomic_path(path) as handle:
        json.dump(_clean(data), handle, indent=2, sort_keys=True, ensure_ascii=False)
        handle.write("\n")


def sha256_file(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
