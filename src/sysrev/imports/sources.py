"""Importing every configured source and collecting them into one record table."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from sysrev.columns import RECORD_COLUMNS
from sysrev.errors import InputError
from sysrev.imports.ris import read_ris
from sysrev.imports.wos import read_wos

log = logging.getLogger(__name__)

READERS = {"ris": read_ris, "wos": read_wos}


def import_records(path: str | Path, *, source: str, fmt: str) -> pd.DataFrame:
    """Read one database export of format ``fmt`` (``ris`` or ``wos``) as ``source``."""
    if fmt not in READERS:
        raise InputError(path, f"unknown export format '{fmt}' (known: {sorted(READERS)})",
                         field="format")
    if not Path(path).is_file():
        raise InputError(path, "export file not found")
    return READERS[fmt](path, source=source)


def collect_records(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate per-source record tables; record ids must be unique across sources."""
    combined = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(
        columns=RECORD_COLUMNS)
    clash = combined["record_id"][combined["record_id"].duplicated()]
    if not clash.empty:
        raise ValueError(f"record ids occur in more than one source table: "
                         f"{sorted(set(clash))[:10]}")
    combined = combined.loc[:, RECORD_COLUMNS]
    return combined.sort_values(["source", "record_id"], kind="mergesort").reset_index(
        drop=True)
