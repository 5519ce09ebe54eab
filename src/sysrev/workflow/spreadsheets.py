"""Rule spreadsheet_tables: the record tables as CSV files that are safe to open in a
spreadsheet.

``records.tsv`` and ``unique.tsv`` keep every cell exactly as the sources gave it (a title
may start with ``=`` or ``-``): they are what the pipeline reads. Their copies under
``spreadsheets/`` neutralise formula-like cells (:func:`sysrev.tables.neutralise_cell`), so a
reviewer can open them in Excel or LibreOffice without a title being run as a formula.
"""

from __future__ import annotations

import logging

from sysrev.tables import neutralise_cell, read_tsv, write_spreadsheet_csv

log = logging.getLogger(__name__)


def spreadsheet_tables(*, records: str, unique: str, records_csv: str,
                       unique_csv: str) -> None:
    """Write spreadsheet-safe CSV copies of ``records.tsv`` and ``unique.tsv``."""
    for source, target in ((records, records_csv), (unique, unique_csv)):
        table = read_tsv(source)
        changed = int(sum(table[c].map(lambda v: neutralise_cell(v) != v
                                       if isinstance(v, str) else False).sum()
                          for c in table.columns))
        write_spreadsheet_csv(table, target, list(table.columns), bom=True)
        log.info("%s: %d rows -> %s (%d formula-like cells neutralised)", source, len(table),
                 target, changed)
