"""Record tables too large to hold whole: read a chunk of rows at a time.

A record table (``records.tsv``, a source's imported table, an archived version's
``records.tsv``) has a row of text per record, about 1 KB as a pandas frame; at a million
records the whole table is a gigabyte. The functions here read such tables a chunk of
``rows`` rows at a time and keep per record only what they must: a 64-bit hash of its id
(duplicate checks), or its sort key where the rows are not already in order (issue 20).
"""

from __future__ import annotations

import logging
import math
import pickle
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np
import pandas as pd

from sysrev.tables import read_tsv_chunks, read_tsv_header, tsv_batches

log = logging.getLogger(__name__)

#: Rows read at a time: about 25 MB of record text per chunk (150 MiB peak for collect_records
#: at 1M records with 25,000 rows, 330 MiB with 100,000).
CHUNK_ROWS = 25_000


def tsv_chunks(path: str | Path, rows: int | None = None,
               columns: Sequence[str] | None = None) -> Iterator[pd.DataFrame]:
    """:func:`sysrev.tables.read_tsv_chunks` with :data:`CHUNK_ROWS` rows a chunk unless
    ``rows`` says otherwise."""
    return read_tsv_chunks(path, rows or CHUNK_ROWS, columns)


def id_hashes(values: pd.Series) -> np.ndarray:
    """A 64-bit hash of each value (``uint64``), vectorised; NA hashes as the empty text."""
    return pd.util.hash_array(values.fillna("").to_numpy(dtype=object), categorize=False)


def repeated_values(hashes: np.ndarray) -> np.ndarray:
    """The hashes that occur more than once in ``hashes``."""
    ordered = np.sort(hashes, kind="stable")
    return np.unique(ordered[1:][ordered[1:] == ordered[:-1]])


@dataclass
class _Scan:
    """What one pass over the tables' ids and sources found."""

    rows: list[int] = field(default_factory=list)        # rows per table
    per_source: Counter = field(default_factory=Counter)
    hashes: list[np.ndarray] = field(default_factory=list)


def _scan(tables: Sequence[str], rows: int) -> _Scan:
    scan = _Scan()
    for path in tables:
        n = 0
        for chunk in tsv_chunks(path, rows, ["record_id", "source"]):
            scan.per_source.update(chunk["source"].dropna().value_counts().to_dict())
            scan.hashes.append(id_hashes(chunk["record_id"]))
            n += len(chunk)
        scan.rows.append(n)
    return scan


def repeated_record_ids(tables: Sequence[str], hashes: np.ndarray,
                        rows: int | None = None) -> list[str]:
    """The record ids that occur more than once in ``tables`` (sorted), given every row's
    :func:`id_hashes`: the ids of repeated hashes are read again and compared as text, so a
    hash collision is never taken for a repeated id."""
    candidates = repeated_values(hashes)
    if not len(candidates):
        return []
    seen: Counter = Counter()
    for path in tables:
        for chunk in tsv_chunks(path, rows, ["record_id"]):
            ids = chunk["record_id"]
            seen.update(ids[np.isin(id_hashes(ids), candidates)].fillna("").tolist())
    return sorted(k for k, v in seen.items() if v > 1)


def _chunks_in_columns(path: str, rows: int, columns: Sequence[str]) -> Iterator[pd.DataFrame]:
    for chunk in tsv_chunks(path, rows):
        if chunk.empty:
            continue
        yield chunk.reindex(columns=list(columns))


def _write_sorted(tables: Sequence[str], total: int, rows: int, columns: Sequence[str],
                  write: Callable[[pd.DataFrame], None]) -> None:
    """Write the rows of every table in ``(source, record_id)`` order (stable, as one
    concatenated frame sorted by pandas): the sort keys of every row in memory, the rows
    themselves distributed to ``ceil(total / rows)`` temporary files by their place in the
    output, then each file sorted and written in turn."""
    keys = pd.concat([c for path in tables for c in tsv_chunks(path, rows,
                                                               ["record_id", "source"])],
                     ignore_index=True)
    order = keys.sort_values(["source", "record_id"], kind="mergesort").index.to_numpy()
    del keys
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    del order
    buckets = max(1, math.ceil(total / rows))
    with tempfile.TemporaryDirectory(prefix="sysrev-sort-") as tmp:
        offset = 0
        for path in tables:
            for chunk in _chunks_in_columns(path, rows, columns):
                where = rank[offset:offset + len(chunk)]
                offset += len(chunk)
                chunk = chunk.assign(_rank=where)
                for bucket in np.unique(where // rows):
                    with open(Path(tmp) / f"{bucket}.pickle", "ab") as handle:
                        pickle.dump(chunk[where // rows == bucket], handle,
                                    protocol=pickle.HIGHEST_PROTOCOL)
        for bucket in range(buckets):
            part = Path(tmp) / f"{bucket}.pickle"
            if not part.is_file():
                continue
            pieces = []
            with open(part, "rb") as handle:
                while True:
                    try:
                        pieces.append(pickle.load(handle))
                    except EOFError:
                        break
            part.unlink()
            frame = pd.concat(pieces).sort_values("_rank", kind="mergesort")
            write(frame.drop(columns="_rank"))


class _OutOfOrder(Exception):
    """A table is not one source in record-id order (or two tables hold one source): the
    copy in order gives way to the sort."""


def _copy_in_order(tables: Sequence[str], columns: Sequence[str],
                   write: Callable[[pd.DataFrame], None], rows: int) -> tuple[Counter, int]:
    """Copy the tables a chunk at a time, source by source, checking as it goes that each
    holds one source in record-id order (:class:`_OutOfOrder` if not) and, at the end, that
    no record id is repeated (:class:`ValueError`)."""
    firsts = {}
    for path in tables:
        first = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, na_values=[""],
                            nrows=1)
        if first.empty:
            continue
        if "source" not in first.columns or pd.isna(first["source"].iloc[0]):
            raise _OutOfOrder(path)
        firsts[path] = first["source"].iloc[0]
    if len(set(firsts.values())) != len(firsts):
        raise _OutOfOrder("a source in two tables")
    per_source: Counter = Counter()
    hashes = []
    for path, source in sorted(firsts.items(), key=lambda item: item[1]):
        last = None
        for chunk in _chunks_in_columns(path, rows, columns):
            ids = chunk["record_id"]
            if (ids.isna().any() or not (chunk["source"] == source).all()
                    or not ids.is_monotonic_increasing
                    or (last is not None and not ids.iloc[0] > last)):
                raise _OutOfOrder(path)
            last = ids.iloc[-1]
            hashes.append(id_hashes(ids))
            per_source[source] += len(chunk)
            write(chunk)
    _check_repeated(tables, hashes, rows)
    return per_source, sum(per_source.values())


def _check_repeated(tables: Sequence[str], hashes: list[np.ndarray], rows: int) -> None:
    joined = np.concatenate(hashes) if hashes else np.empty(0, dtype=np.uint64)
    repeated = repeated_record_ids(tables, joined, rows)
    if repeated:
        raise ValueError(f"record ids occur in more than one source table: {repeated[:10]}")


def _sort_into(tables: Sequence[str], columns: Sequence[str],
               write: Callable[[pd.DataFrame], None], rows: int) -> tuple[Counter, int]:
    """Every row of the tables, whatever their order, through the external sort (the ids
    checked first)."""
    scan = _scan(tables, rows)
    _check_repeated(tables, scan.hashes, rows)
    scan.hashes.clear()
    filled = [path for path, n in zip(tables, scan.rows) if n]
    _write_sorted(filled, sum(scan.rows), rows, columns, write)
    return scan.per_source, sum(scan.rows)


def write_record_tables(tables: Sequence[str], output: str | Path, columns: Sequence[str],
                        rows: int | None = None) -> tuple[Counter, int]:
    """Write the rows of every record table in ``tables`` to ``output``, sorted by source and
    record id: the bytes :func:`sysrev.tables.write_tsv` writes for the tables'
    concatenation sorted so, with ``rows`` rows in memory at a time.

    A record id in more than one row is a :class:`ValueError`, a column of ``columns`` in no
    table a :class:`KeyError`; ``output`` is then not written. Tables that each hold one
    source, distinct from the others', with rows sorted by record id (as every importer and
    adapter writes them) are copied in one pass; otherwise the rows are sorted through
    temporary files. Returns the rows per source (rows without one not counted) and the
    number of rows.
    """
    rows = rows or CHUNK_ROWS
    present = {c for path in tables for c in read_tsv_header(path)}
    missing = [c for c in columns if c not in present]
    if tables and missing:
        raise KeyError(f"record tables {list(tables)}: missing columns {missing}")
    try:
        with tsv_batches(output, columns) as write:
            return _copy_in_order(tables, columns, write, rows)
    except _OutOfOrder as where:
        log.info("record tables not each one source in record-id order (%s): sorting", where)
    with tsv_batches(output, columns) as write:
        return _sort_into(tables, columns, write, rows)


def read_categories(path: str | Path, columns: Sequence[str],
                    rows: int | None = None) -> pd.DataFrame:
    """``columns`` of a TSV written by :func:`sysrev.tables.write_tsv`, each as a pandas
    categorical (the values as :func:`sysrev.tables.read_tsv` reads them, NA where empty):
    read a chunk at a time, a row costs a small integer code per column, not a string (a
    column of few distinct values: a source, a stage, a decision, a flag)."""
    from pandas.api.types import union_categoricals

    parts: dict[str, list] = {c: [] for c in columns}
    for chunk in tsv_chunks(path, rows, columns):
        for column in columns:
            parts[column].append(pd.Categorical(chunk[column].astype(object)))
    return pd.DataFrame({c: union_categoricals(parts[c]) for c in columns},
                        columns=list(columns))
