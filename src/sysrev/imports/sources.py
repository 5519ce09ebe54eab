"""Importing every configured source and collecting them into one record table."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable

from sysrev.columns import RECORD_COLUMNS
from sysrev.errors import InputError
from sysrev.imports.bibtex import read_bibtex
from sysrev.imports.csv_export import iter_csv_columns, read_csv_export
from sysrev.imports.detect import (BINARY, EMPTY, conflicting_layouts, detect_format,
                                   same_family)
from sysrev.imports.endnote_xml import iter_endnote_xml_columns, read_endnote_xml
from sysrev.imports.medline import iter_medline_columns, read_medline
from sysrev.imports.ovid import iter_ovid_columns, read_ovid
from sysrev.imports.ris import iter_ris_columns, read_ris
from sysrev.imports.records import make_record_table
from sysrev.imports.wos import iter_wos_columns, read_wos
from sysrev.lazy import pandas as pd
from sysrev.paths import logical_path

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

#: Formats read a batch of records at a time when the records go to a sink; a batch is the
#: record table's columns (a list per column of RECORD_COLUMNS), not yet a DataFrame.
BATCH_READERS = {"ris": iter_ris_columns, "endnote_xml": iter_endnote_xml_columns,
                 "medline": iter_medline_columns, "wos": iter_wos_columns,
                 "ovid": iter_ovid_columns,
                 **{name: partial(iter_csv_columns, layout=name)
                    for name in ("csv", "scopus_csv", "embase_csv", "covidence_csv")}}


@dataclass(frozen=True)
class ImportReport:
    """What was read from one export: for the log and the search audit."""

    file: str
    declared_format: str
    detected_format: str | None
    format_read: str
    encoding: str
    records: int
    allow_empty: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _describe(detected: str | None) -> str:
    if detected == EMPTY:
        return "the file is empty"
    if detected == BINARY:
        return "the file is not text (binary content, or an encoding that is not text)"
    if detected is None:
        return "its content matches none of the known formats"
    return f"it looks like '{detected}'"


def import_export_file(path: str | Path, *, source: str, fmt: str = "auto",
                       allow_empty: bool = False,
                       sink: Callable[[pd.DataFrame | dict[str, list]], None] | None = None
                       ) -> tuple[pd.DataFrame | None, ImportReport]:
    """Read one database export as ``source``; return its records and what was read.

    Parameters
    ----------
    fmt
        A key of :data:`READERS`, or ``"auto"`` to recognise the format from the content
        (:func:`sysrev.imports.detect.detect_text_format`).
    allow_empty
        Accept an export with no records (a search that truly found nothing). Otherwise no
        records is an error: an empty, cut, binary or wrongly declared file would give a
        PRISMA count of zero with exit code 0.
    sink
        When given, the records are passed to it table by table, in file order, and not
        returned (the table returned is ``None``): a format with a batch reader
        (:data:`BATCH_READERS`) is then read a batch at a time, in memory that does not
        grow with the file, and each batch is passed as its columns (a dict of lists, as
        :func:`sysrev.tables.tsv_batches` writes them), other formats as a DataFrame. A sink must not keep anything final before the function returns:
        a later batch can still fail.

    Raises
    ------
    InputError
        Naming the file and the format tried: an unknown or unrecognisable format; a file
        that does not parse as its declared format (saying which format it looks like); no
        records without ``allow_empty``.
    """
    if fmt != "auto" and fmt not in READERS:
        raise InputError(path, f"unknown export format '{fmt}' (known: auto, "
                               f"{', '.join(sorted(READERS))})", field="format")
    if not Path(path).is_file():
        raise InputError(path, "export file not found")
    detected, encoding = detect_format(path)
    if fmt == "auto":
        if detected in (None, EMPTY, BINARY):
            if detected == EMPTY and allow_empty:
                log.info("%s: empty file, allowed (allow_empty)", path)
                return _empty(path, source), ImportReport(
                    logical_path(path), fmt, detected, "none", encoding, 0, allow_empty)
            raise InputError(path, f"cannot recognise the export format: {_describe(detected)} "
                                   f"(known: {', '.join(sorted(READERS))})", field="format")
        used = detected
        log.info("%s: format detected as %s (%s)", path, used, encoding)
    else:
        used = fmt
    mismatch = detected not in (None, EMPTY) and (not same_family(used, detected)
                                                   or conflicting_layouts(used, detected))
    try:
        if sink is not None and used in BATCH_READERS:
            table, count = None, 0
            for batch in BATCH_READERS[used](path, source=source, encoding=encoding):
                sink(batch)
                count += len(batch["record_id"])
        else:
            table = READERS[used](path, source=source)
            count = len(table)
            if sink is not None:
                sink(table)
    except InputError as err:
        if mismatch:
            raise InputError(path, f"does not parse as the declared format '{used}' "
                                   f"({err}); {_describe(detected)}", field="format") from None
        raise
    if mismatch and not (count == 0 and allow_empty):
        # Parsed, but as another format's text (RIS read as MEDLINE gives records with
        # misplaced fields; a Covidence CSV read as Scopus loses its accession numbers and
        # years): the declaration is wrong.
        raise InputError(path, f"declared format '{used}' but {_describe(detected)} "
                               f"({count} records read as '{used}'): correct 'format' "
                               "in the configuration, or use auto", field="format")
    if count == 0 and not allow_empty:
        hint = "" if same_family(used, detected) else f"; {_describe(detected)}"
        raise InputError(path, f"no records read as '{used}'{hint}. If the search truly "
                               "found nothing, set allow_empty: true for this export",
                         field="format")
    log.info("%s: %d records read as %s (declared %s)", path, count, used, fmt)
    return table, ImportReport(logical_path(path), fmt, detected, used, encoding, count,
                               allow_empty)


def _empty(path: str | Path, source: str) -> pd.DataFrame:
    return make_record_table([], source=source, source_file=path)


def import_records(path: str | Path, *, source: str, fmt: str = "auto",
                   allow_empty: bool = False) -> pd.DataFrame:
    """Read one database export of format ``fmt`` (a key of :data:`READERS`, or ``auto``)
    as ``source``; see :func:`import_export_file`."""
    return import_export_file(path, source=source, fmt=fmt, allow_empty=allow_empty)[0]


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
