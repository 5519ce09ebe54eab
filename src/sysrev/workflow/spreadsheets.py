"""Rule spreadsheet_tables: the record tables as CSV files that are safe to open in a
spreadsheet.

``records.tsv`` and ``unique.tsv`` keep every cell exactly as the sources gave it (a title
may start with ``=`` or ``-``): they are what the pipeline reads. Their copies under
``spreadsheets/`` neutralise formula-like cells (:func:`sysrev.tables.neutralise_cell`), so a
reviewer can open them in Excel or LibreOffice without a title being run as a formula.
"""

from __future__ import annotations

import itertools
import logging

from sysrev.recordtable import tsv_chunks
from sysrev.tables import spreadsheet_csv_batches

log = logging.getLogger(__name__)


def spreadsheet_tables(*, records: str, unique: str, records_csv: str,
                       unique_csv: str) -> None:
    """Write spreadsheet-safe CSV copies of ``records.tsv`` and ``unique.tsv``, a chunk of
    rows at a time (memory does not grow with the review)."""
    for source, target in ((records, records_csv), (unique, unique_csv)):
        rows = changed = 0
        chunks = tsv_chunks(source)
        first = next(chunks)
        with spreadsheet_csv_batches(target, list(first.columns), bom=True) as write:
            for chunk in itertools.chain([first], chunks):
                changed += write(chunk)
                rows += len(chunk)
        log.info("%s: %d rows -> %s (%d formula-like cells neutralised)", source, rows,
                 target, changed)

