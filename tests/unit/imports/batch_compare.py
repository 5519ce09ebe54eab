"""Comparing a format's batch reader with its whole-file reader (tests of streaming imports,
issue 20): same table, same TSV bytes, or the same error."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pandas as pd

from sysrev.columns import RECORD_COLUMNS
from sysrev.errors import InputError
from sysrev.imports.records import record_frame
from sysrev.tables import tsv_batches, write_tsv


def _outcome(call):
    try:
        return call(), None
    except InputError as err:
        return None, str(err)


def assert_batches_equal_whole(whole_reader: Callable[[], pd.DataFrame],
                               batch_reader: Callable[[int], object], sizes: tuple[int, ...],
                               tmp_path: Path, *, label: object = None,
                               largest: Callable[[int], int] = lambda size: size
                               ) -> pd.DataFrame | None:
    """``batch_reader(size)`` (an iterator of column batches) in each batch size gives
    ``whole_reader()``'s table and TSV bytes, or raises its error (the same text); return
    the whole-file table (None on an error). ``largest(size)``: the most records a batch may
    hold."""
    whole, whole_error = _outcome(whole_reader)
    if whole is not None:
        write_tsv(whole, tmp_path / "whole.tsv", RECORD_COLUMNS, sort_by=["source_position"])
    for size in sizes:
        batches, error = _outcome(lambda: list(batch_reader(size)))
        assert error == whole_error, (label, size)
        if whole is None:
            continue
        assert all(0 < len(b["record_id"]) <= largest(size) for b in batches)
        frame = pd.concat([record_frame(b) for b in batches] or [whole.iloc[:0]],
                          ignore_index=True)
        pd.testing.assert_frame_equal(frame, whole, check_dtype=False)
        out = tmp_path / f"batches{size}.tsv"
        with tsv_batches(out, RECORD_COLUMNS, sort_by=["source_position"]) as write:
            for batch in batches:
                write(batch)
        assert out.read_bytes() == (tmp_path / "whole.tsv").read_bytes(), (label, size)
    return whole
