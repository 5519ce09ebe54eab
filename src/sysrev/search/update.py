"""What a new search found: records of this PubMed snapshot that the previous one lacked.

Records are followed across searches by PMID, which PubMed never reuses. The previous
snapshot is the latest one whose search date is before this search's date.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Iterable

import pandas as pd

from sysrev.columns import UPDATE_COLUMNS
from sysrev.errors import InputError
from sysrev.search.efetch_scan import EutilsResponseError, scan_pubmed_set

log = logging.getLogger(__name__)

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def snapshot_dates(pubmed_dir: str | Path) -> list[str]:
    """Search dates of the complete snapshots in ``pubmed_dir`` (folders named by date with a
    ``provenance.json``; a ``<date>.partial`` retrieval is not one), oldest first."""
    folder = Path(pubmed_dir)
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir()
                  if _DATE.match(p.name) and (p / "provenance.json").is_file())


def previous_snapshot_dir(pubmed_dir: str | Path, search_date: str) -> Path | None:
    """The latest snapshot before ``search_date``, or None for a review's first search."""
    earlier = [d for d in snapshot_dates(pubmed_dir) if d < search_date]
    return Path(pubmed_dir) / earlier[-1] if earlier else None


def snapshot_pmids(xml_files: Iterable[str | Path]) -> set[str]:
    """The PMIDs in a snapshot's XML files."""
    pmids: set[str] = set()
    for path in xml_files:
        try:
            pmids.update(scan_pubmed_set(Path(path).read_bytes()).pmids)
        except EutilsResponseError as exc:
            raise InputError(path, f"not a readable PubmedArticleSet: {exc}") from None
    return pmids


def new_records(current: pd.DataFrame, previous_pmids: set[str] | None,
                previous_date: str | None) -> pd.DataFrame:
    """Rows of ``current`` (the PubMed record table) whose PMID the previous snapshot lacked.

    With no previous snapshot (``previous_pmids`` None) the table is empty: a first search
    has nothing to be new against.
    """
    if previous_pmids is None:
        return pd.DataFrame(columns=UPDATE_COLUMNS)
    fresh = current[~current["pmid"].isin(previous_pmids)].copy()
    fresh["previous_search_date"] = previous_date
    fresh = fresh.assign(_pmid=pd.to_numeric(fresh["pmid"], errors="coerce"))
    fresh = fresh.sort_values(["_pmid", "record_id"], kind="mergesort")
    return fresh.loc[:, UPDATE_COLUMNS].reset_index(drop=True)
