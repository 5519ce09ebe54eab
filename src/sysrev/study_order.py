"""The order of studies shared by every figure and table that lists them (forest plots,
risk-of-bias plots, the summary of findings): one rule, so a study sits at the same place in
each.

Orders (config ``report.study_order``):

year
    by year of publication, then label (RevMan's "study ID" order with years first; the
    default). Studies without a year come last.
label
    by label (alphabetical, case-insensitive), then year.
as_entered
    as the rows of the extraction sheet (studies.csv), i.e. as the reviewers listed them.

Ties are broken by study id, so the order never depends on the input's row order except
for ``as_entered``.
"""

from __future__ import annotations

import csv
import logging
import math
from pathlib import Path
from typing import Iterable, Mapping

import pandas as pd

log = logging.getLogger(__name__)

ORDERS = ("year", "label", "as_entered")


def _year(value) -> float:
    """The year as a number; missing (None, NaN, '') sorts last."""
    try:
        year = float(value)
    except (TypeError, ValueError):
        return float("inf")
    return year if math.isfinite(year) else float("inf")


def order_key(order: str, label: str, year, study_id: str, position: int) -> tuple:
    """The sort key of one study under ``order``."""
    if order not in ORDERS:
        raise ValueError(f"study order '{order}' is not one of {list(ORDERS)}")
    label = str(label if label is not None and label == label else study_id)
    if order == "year":
        return (_year(year), label.casefold(), study_id)
    if order == "label":
        return (label.casefold(), _year(year), study_id)
    return (position, study_id)


def ordered_ids(study_ids: Iterable[str], order: str, *,
                labels: Mapping[str, str] | None = None,
                years: Mapping[str, object] | None = None,
                entered: Iterable[str] | None = None) -> list[str]:
    """``study_ids`` sorted by ``order``.

    Parameters
    ----------
    study_ids
        The studies to order (duplicates are dropped).
    order
        One of :data:`ORDERS`.
    labels, years
        Study id to label and to year (from studies.csv).
    entered
        Study ids in the order of studies.csv, for ``as_entered``; studies not in it come
        last, by id.
    """
    labels, years = labels or {}, years or {}
    position = {s: i for i, s in enumerate(entered or [])}
    unique = list(dict.fromkeys(study_ids))
    result = sorted(unique, key=lambda s: order_key(order, labels.get(s, s), years.get(s), s,
                                                    position.get(s, len(position))))
    log.debug("ordered %d studies by %s", len(result), order)
    return result


def sort_studies(table: pd.DataFrame, order: str = "year", *, group: str | None = None,
                 entered: Iterable[str] | None = None) -> pd.DataFrame:
    """Rows of a per-study table (with ``study_id``, ``label`` and ``year`` columns) in the
    study order, within ``group`` (a column, e.g. the subgroup) when given. Rows of the same
    study keep their relative order. ``entered`` as in :func:`ordered_ids`; without it,
    ``as_entered`` keeps the table's own row order."""
    if table.empty:
        return table.reset_index(drop=True)
    first = list(dict.fromkeys(table["study_id"]))
    labels = dict(zip(table["study_id"], table["label"] if "label" in table else
                      table["study_id"]))
    years = dict(zip(table["study_id"], table["year"] if "year" in table else
                     [None] * len(table)))
    rank = {s: i for i, s in enumerate(ordered_ids(first, order, labels=labels, years=years,
                                                   entered=entered if entered is not None
                                                   else first))}
    keyed = table.assign(_rank=table["study_id"].map(rank))
    by = ([group] if group else []) + ["_rank"]
    return keyed.sort_values(by, kind="mergesort").drop(columns="_rank").reset_index(drop=True)


def entered_order(sheet: str | Path | None) -> list[str] | None:
    """Study ids in the order of the extraction sheet (``extraction.studies``), for
    ``as_entered``; None without a sheet."""
    if not sheet:
        return None
    with open(sheet, encoding="utf-8-sig", newline="") as handle:
        ids = [row.get("study_id", "").strip() for row in csv.DictReader(handle)]
    return list(dict.fromkeys(i for i in ids if i))


def study_order(studies: pd.DataFrame, order: str = "year",
                sheet: str | Path | None = None) -> list[str]:
    """All study ids of studies.tsv (``study_id``, ``label``, ``year``) in the study order;
    ``sheet`` is the extraction sheet, read for ``as_entered``."""
    return ordered_ids(studies["study_id"], order,
                       labels=dict(zip(studies["study_id"], studies["label"])),
                       years=dict(zip(studies["study_id"], studies["year"])),
                       entered=entered_order(sheet) if order == "as_entered" else None)
