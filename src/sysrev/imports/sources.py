"""Importing every configured source and collecting them into one record table."""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

import pandas as pd

from sysrev.columns import RECORD_COLUMNS
from sysrev.errors import InputError
from sysrev.imports.bibtex import read_bibtex
from sysrev.imports.csv_export import read_csv_export
from sysrev.imports.endnote_xml import read_endnote_xml
from sysrev.imports.medline import read_medline
from sysrev.imports.ovid import read_ovid
from sysrev.imports.ris import read_ris
from sysrev.imports.wos import read_wos

log = logging.getLogger(__name__)

#: Export formats (the ``format`` of an export in config.yaml) and their readers.
#: ``ris`` covers every RIS dialect: generic, Embase, Ovid (numbering lines), Cochrane
#: CENTRAL (Wiley wrapper lines), Scopus, and re-exports from EndNote, Zotero and Mendeley.
READERS = {
    "ris": read_ris,
    "wos": read_wos,
    "medline": read_medline,
    "endnote_xml": read_endnote_xml,
    "bibtex": read_bibtex,
    "ovid": read_ovid,
    "csv": partial(read_csv_export, layout="csv"),
    "scopus_csv": partial(read_csv_export, layout="scopus_csv"),
    "embase_csv": partial(read_csv_export, layout="embase_csv"),
    "covidence_csv": partial(read_csv_export, layout="covidence_csv"),
}


def import_records(path: str | Path, *, source: str, fmt: str) -> pd.DataFrame:
    """Read one database export of format ``fmt`` (a key of :data:`READERS`) as ``source``."""
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
