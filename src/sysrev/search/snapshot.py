"""Frozen PubMed search snapshots: ``data/<review>/search/pubmed/<search date>/``.

A snapshot holds the efetch XML file(s) of one search and ``provenance.json``. It is the
search's record of truth: once written it is only ever read.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import pandas as pd

from sysrev.errors import InputError
from sysrev.imports.records import RecordTable
from sysrev.search.adapters import verify_snapshot
from sysrev.search.pmid_set import PmidSet, list_digest, read_pmid_set
from sysrev.search.pubmed_xml import parse_pubmed_xml
from sysrev.tables import sha256_file

log = logging.getLogger(__name__)

PROVENANCE = "provenance.json"


def normalise_query(query: str) -> str:
    """A query with runs of white space folded, for comparing what was asked."""
    return " ".join(query.split())


def read_provenance(snapshot_dir: str | Path) -> dict[str, Any]:
    """Read a snapshot's ``provenance.json``."""
    path = Path(snapshot_dir) / PROVENANCE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(path, "the snapshot has no provenance.json") from exc
    except json.JSONDecodeError as exc:
        raise InputError(path, f"invalid JSON: {exc.msg}", line=exc.lineno) from exc


def check_query(provenance: dict[str, Any], query: str, snapshot_dir: str | Path) -> None:
    """Fail when the snapshot for this search date was made with another query."""
    recorded = normalise_query(str(provenance.get("query", "")))
    if recorded != normalise_query(query):
        raise InputError(
            Path(snapshot_dir) / PROVENANCE,
            "this search date already has a snapshot made with a different query "
            f"(snapshot: {recorded!r}; config: {normalise_query(query)!r}). Snapshots are "
            "never overwritten: set search.pubmed.date to a new date to search again with "
            "the new query, or restore the query the snapshot was made with.",
            field="query")


def _recorded_start(provenance: dict[str, Any]) -> tuple[bool, str | None]:
    """(known, start date as YYYY-MM-DD or None) of a snapshot's search window."""
    if "start_date" in provenance:
        return True, provenance["start_date"] or None
    if "mindate" in provenance:
        mindate = provenance["mindate"]
        return True, mindate.replace("/", "-") if mindate else None
    return False, None


def check_window(provenance: dict[str, Any], snapshot_dir: str | Path, *,
                 start_date: str | None, date_type: str | None) -> None:
    """Fail when the snapshot was made with another ``start_date`` or ``date_type`` than the
    configuration's: like a changed query, a changed window is a new search. A snapshot that
    does not record a setting is not checked on it."""
    where = Path(snapshot_dir) / PROVENANCE
    known, recorded = _recorded_start(provenance)
    if known and (recorded or None) != (start_date or None):
        raise InputError(
            where, f"this search date already has a snapshot made with start_date "
                   f"{recorded!r} but search.pubmed.start_date is {start_date!r}. Snapshots "
                   "are never overwritten: set search.pubmed.date to a new date to search "
                   "again, or restore the start_date the snapshot was made with.",
            field="start_date")
    recorded_type = provenance.get("date_type")
    if date_type is not None and recorded_type is not None and recorded_type != date_type:
        raise InputError(
            where, f"this search date already has a snapshot made with date_type "
                   f"{recorded_type!r} but search.pubmed.date_type is {date_type!r}. "
                   "Snapshots are never overwritten: set search.pubmed.date to a new date to "
                   "search again, or restore the date_type the snapshot was made with.",
            field="date_type")


def snapshot_files(snapshot_dir: str | Path) -> list[Path]:
    """The snapshot's XML files in a fixed order."""
    files = sorted(Path(snapshot_dir).glob("*.xml"))
    if not files:
        raise InputError(snapshot_dir, "the snapshot folder has no .xml files")
    return files


def check_snapshot_pmids(provenance: dict[str, Any], snapshot_dir: str | Path,
                         pmids: Iterable[str]) -> None:
    """Fail when the XML's PMIDs are not those the provenance lists: a PMID swapped for
    another keeps the count but changes the search result.

    A retrieved snapshot lists them in ``pmids.txt``, whose SHA-256 and count
    ``provenance.json`` records (``pmid_list``): the digest of the XML's PMIDs, sorted, must
    be that one, and so must the file's (checked when the file is there; it is what names
    the PMIDs that differ). An older snapshot lists them in ``pmids`` in provenance.json.
    """
    listed_entry = provenance.get("pmid_list")
    if listed_entry:
        _check_pmid_list(listed_entry, Path(snapshot_dir), pmids)
        return
    listed = provenance.get("pmids")
    if listed is None:
        return
    listed, found = {str(p) for p in listed}, {str(p) for p in pmids}
    if listed != found:
        extra, missing = sorted(found - listed), sorted(listed - found)
        raise InputError(Path(snapshot_dir) / PROVENANCE,
                         f"the XML's PMIDs are not the ones listed here: in the XML but not "
                         f"listed {extra or 'none'}; listed but not in the XML "
                         f"{missing or 'none'}", field="pmids")


def _check_pmid_list(entry: dict[str, Any], folder: Path, pmids: Iterable[str]) -> None:
    where = folder / PROVENANCE
    if not isinstance(entry, dict) or not entry.get("sha256") or not entry.get("file"):
        raise InputError(where, "pmid_list needs a file and its sha256", field="pmid_list")
    path = folder / entry["file"]
    if path.is_file() and sha256_file(path) != entry["sha256"]:
        raise InputError(path, f"SHA-256 {sha256_file(path)} differs from the "
                               f"{entry['sha256']} recorded in provenance.json when it was "
                               "retrieved: the snapshot was changed after it was written",
                         field="sha256")
    if isinstance(pmids, PmidSet):
        found = pmids
    else:
        found = PmidSet()
        try:
            twice = found.update(str(p) for p in pmids)
        except ValueError as exc:
            raise InputError(folder, f"the XML holds {exc}") from None
        if twice:
            raise InputError(folder, f"PMIDs present twice: {sorted(set(twice), key=int)[:10]}")
    if list_digest(found) == entry["sha256"]:
        return
    if path.is_file():
        listed = read_pmid_set(path)
        extra, missing = found.difference(listed, 10), listed.difference(found, 10)
        detail = (f"in the XML but not listed {extra or 'none'}; listed but not in the XML "
                  f"{missing or 'none'} (at most 10 of each)")
    else:
        detail = f"{len(found)} PMIDs in the XML, {entry.get('records')} listed"
    raise InputError(where, f"the XML's PMIDs are not the ones listed in {entry['file']}: "
                            f"{detail}", field="pmid_list")


def read_snapshot(snapshot_dir: str | Path, *, query: str,
                  files: Sequence[str | Path] | None = None,
                  start_date: str | None = None, date_type: str | None = None,
                  check_dates: bool = False) -> pd.DataFrame:
    """The record table of a PubMed snapshot, after checking it answers ``query``.

    The PMID is the record's source id, so ``record_id`` is ``pubmed:<PMID>`` in every
    snapshot, which is what lets decisions and updates follow a record across searches.
    ``files`` are the snapshot's XML files as a workflow job was given them (its declared
    inputs); by default, every XML file of the folder. With ``check_dates``, the snapshot's
    ``start_date`` and ``date_type`` must be the configured ones (:func:`check_window`).
    The whole table at once: :func:`snapshot_batches` gives it one XML file at a time.
    """
    tables = list(snapshot_batches(snapshot_dir, query=query, files=files,
                                   start_date=start_date, date_type=date_type,
                                   check_dates=check_dates))
    if len(tables) == 1:
        return tables[0]
    return pd.concat(tables, ignore_index=True)


def snapshot_batches(snapshot_dir: str | Path, *, query: str,
                     files: Sequence[str | Path] | None = None,
                     start_date: str | None = None, date_type: str | None = None,
                     check_dates: bool = False) -> Iterator[pd.DataFrame]:
    """The record table of a PubMed snapshot, one XML file's records at a time, with the
    checks of :func:`read_snapshot`: the query (and with ``check_dates`` the window), every
    file's SHA-256 before the first batch; no PMID twice, the PMIDs those listed and the
    count that recorded, after the last (an error then: a caller writes its output only
    when the iteration ends without one). What is held across batches is a
    :class:`~sysrev.search.pmid_set.PmidSet` of the PMIDs seen, not the records."""
    provenance = read_provenance(snapshot_dir)
    check_query(provenance, query, snapshot_dir)
    if check_dates:
        check_window(provenance, snapshot_dir, start_date=start_date, date_type=date_type)
    # Positions run on across the snapshot's batch files, so each record has its own.
    xml_files = snapshot_files(snapshot_dir) if files is None else [Path(f) for f in files]
    verify_snapshot(snapshot_dir, provenance, xml_files)
    builder = RecordTable(source="pubmed", source_file=Path(snapshot_dir))
    found = PmidSet()
    twice: list[str] = []
    records = 0
    for path in xml_files:
        rows = []
        for rec in parse_pubmed_xml(path):
            records += 1
            rec["source_id"] = rec["pmid"]
            rec["source_position"] = records
            rows.append(rec)
        table = builder.table(rows)
        try:
            twice += found.update(p for p in table["pmid"] if isinstance(p, str))
        except ValueError as exc:
            raise InputError(path, f"the XML holds {exc}") from None
        # A PMID seen in an earlier file is an error (below), so the accessions the
        # builder remembers to number repeats need not outlive a file.
        builder.seen.clear()
        yield table
    if twice:
        raise InputError(snapshot_dir, f"PMIDs present twice: {sorted(set(twice), key=int)}")
    check_snapshot_pmids(provenance, snapshot_dir, found)
    expected = provenance.get("count")
    if expected is not None and int(expected) != records:
        raise InputError(Path(snapshot_dir) / PROVENANCE,
                         f"provenance says {expected} records but the XML holds {records}",
                         field="count")
    log.info("PubMed snapshot %s: %d records", snapshot_dir, records)
