"""Reviewers' overrides (``same`` / ``different`` pairs): the loader that validates them."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterable

import pandas as pd

from sysrev.errors import InputErrors

log = logging.getLogger(__name__)

#: Columns of the overrides file (``data/<review>/dedup/overrides.csv``).
OVERRIDE_COLUMNS = ["record_id_a", "record_id_b", "decision"]
OVERRIDE_OPTIONAL = ["note"]


def load_overrides(path: str | Path | None, record_ids: Iterable[str]) -> pd.DataFrame:
    """Read a reviewer's overrides: ``record_id_a, record_id_b, decision[, note]`` with
    decision ``same`` or ``different``. A missing path (or ``None``) means no overrides.

    Raises
    ------
    InputErrors
        Listing every row with an unknown record id, an unknown decision, a record paired
        with itself, or a pair given twice with different decisions.
    """
    empty = pd.DataFrame(columns=OVERRIDE_COLUMNS + OVERRIDE_OPTIONAL)
    if path is None or not Path(path).is_file():
        return empty
    from sysrev.csvtables import LINE, load_csv

    table = load_csv(path, required=OVERRIDE_COLUMNS, optional=OVERRIDE_OPTIONAL)
    known = set(record_ids)
    problems = []
    seen: dict[tuple[str, str], tuple[str, int]] = {}
    for record in table.to_dict("records"):
        row = pd.Series(record)
        line = record[LINE]
        for column in ("record_id_a", "record_id_b"):
            value = record[column]
            if value not in known:
                problems.append(f"line {line}, column {column}: record id '{value}' is not "
                                "in the record table")
        if row.decision not in ("same", "different"):
            problems.append(f"line {line}, column decision: '{row.decision}' is not 'same' "
                            "or 'different'")
        if row.record_id_a == row.record_id_b:
            problems.append(f"line {line}: a record paired with itself "
                            f"('{row.record_id_a}')")
        pair = tuple(sorted((row.record_id_a, row.record_id_b)))
        if pair in seen and seen[pair][0] != row.decision:
            problems.append(f"line {line}: pair {pair[0]} / {pair[1]} is '{row.decision}' "
                            f"here but '{seen[pair][0]}' on line {seen[pair][1]}")
        seen.setdefault(pair, (row.decision, line))
    if problems:
        raise InputErrors(path, problems)
    return table.loc[:, OVERRIDE_COLUMNS + OVERRIDE_OPTIONAL].reset_index(drop=True)
