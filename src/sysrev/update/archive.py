"""Archived versions of a review: the tables of a published version, frozen in a folder.

A version's archive (``data/<review>/versions/<search date>/``) holds the tables below,
copied from that version's ``results/<review>/`` by :func:`archive_version` (or by hand),
and ``version.json`` with its search date. Archives are read, never written, by the
pipeline; an archive without one of its files is an error naming the missing file.

    python -m sysrev.update.archive results/<review> data/<review>/versions/<date> <date>
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sysrev.errors import InputError
from sysrev.tables import read_tsv, read_tsv_header

#: Archive file name -> where it comes from in a version's results folder.
ARCHIVE_FILES = {
    "records.tsv": "search/records.tsv",
    "included.tsv": "screening/included.tsv",
    "final_decisions.tsv": "screening/final_decisions.tsv",
    "arms.tsv": "extraction/arms.tsv",
    "summary.tsv": "analysis/summary.tsv",
    "summary_of_findings.tsv": "sof/summary_of_findings.tsv",
}
VERSION_FILE = "version.json"


@dataclass(frozen=True)
class Version:
    """One archived version's tables."""

    folder: str
    search_date: str
    records: pd.DataFrame
    included: pd.DataFrame
    final_decisions: pd.DataFrame
    arms: pd.DataFrame
    summary: pd.DataFrame
    summary_of_findings: pd.DataFrame


def archive_paths(folder: str | Path) -> list[str]:
    """Every file of an archive (inputs of the rules that read it)."""
    return [str(Path(folder) / name) for name in [*ARCHIVE_FILES, VERSION_FILE]]


def check_archive(folder: str | Path) -> None:
    """Raise :class:`InputError` naming the first missing file of an archive."""
    for path in archive_paths(folder):
        if not os.path.isfile(path):
            raise InputError(path, "missing: an archived version needs "
                             f"{', '.join([*ARCHIVE_FILES, VERSION_FILE])} "
                             "(sysrev.update.archive writes them)")


def load_version(folder: str | Path, records: bool = True) -> Version:
    """Read an archived version (checked complete first); without ``records``, its record
    table (one row per record: a million at scale) is left on disk, and ``records`` holds
    its columns only (read it a chunk at a time from ``records.tsv``)."""
    check_archive(folder)
    meta_path = Path(folder) / VERSION_FILE
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        search_date = str(meta["search_date"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(meta_path, f"field 'search_date': not readable ({exc})") from None
    tables = {name[:-4]: read_tsv(Path(folder) / name) for name in ARCHIVE_FILES
              if records or name != "records.tsv"}
    if not records:
        tables["records"] = pd.DataFrame(columns=read_tsv_header(Path(folder) /
                                                                 "records.tsv"))
    return Version(folder=str(folder), search_date=search_date, **tables)


def results_search_date(results: str | Path) -> str | None:
    """The search date of a finished run: the latest date its searches ran up to (PubMed's
    ``search.pubmed.date`` and the exports' dates in ``searches.tsv``), from its search
    audit; None when the run has no audit."""
    audit = Path(results) / "audit" / "search.json"
    if not audit.is_file():
        return None
    parameters = json.loads(audit.read_text(encoding="utf-8")).get("parameters", {})
    dates = [str(s["search_date"]) for s in parameters.get("sources", [])
             if s.get("search_date")]
    if parameters.get("pubmed_search_date"):
        dates.append(str(parameters["pubmed_search_date"]))
    return max(dates) if dates else None


def archive_version(results: str | Path, folder: str | Path, search_date: str,
                    note: str = "") -> list[str]:
    """Copy a finished run's tables into a new archive folder, read-only. An existing
    archive is never overwritten.

    ``search_date`` is the date the archived version's searches ran up to (its
    ``search.pubmed.date``), not the date of archiving or of the next search: the update
    compares records by it. A date other than the run's own (:func:`results_search_date`)
    is an error naming both.
    """
    own = results_search_date(results)
    if own is not None and str(search_date) != own:
        raise ValueError(f"{search_date}: not the search date of {results} ({own}); archive "
                         f"a version under the date its searches ran up to: {own}")
    folder = Path(folder)
    if any((folder / name).exists() for name in [*ARCHIVE_FILES, VERSION_FILE]):
        raise FileExistsError(f"{folder}: an archive is never rewritten; choose a new folder")
    missing = [str(Path(results) / src) for src in ARCHIVE_FILES.values()
               if not (Path(results) / src).is_file()]
    if missing:
        raise FileNotFoundError(f"not a finished run, missing: {', '.join(missing)}")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, src in ARCHIVE_FILES.items():
        shutil.copyfile(Path(results) / src, folder / name)
        written.append(str(folder / name))
    meta = {"search_date": search_date, "archived_from": str(results)}
    if note:
        meta["note"] = note
    (folder / VERSION_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    written.append(str(folder / VERSION_FILE))
    for path in written:
        os.chmod(path, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    return written


if __name__ == "__main__":  # pragma: no cover - a command for reviewers
    if len(sys.argv) not in (4, 5):
        sys.exit("usage: python -m sysrev.update.archive RESULTS_DIR ARCHIVE_DIR SEARCH_DATE "
                 "[NOTE]")
    for line in archive_version(*sys.argv[1:]):
        print(line)
