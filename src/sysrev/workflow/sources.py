"""Rules of the searched sources besides the PubMed search: ClinicalTrials.gov, Europe PMC and
citation chasing (retrieve_source, source_records), the update table of every source
(source_update), and the links between reports of one study (related_reports)."""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from sysrev.errors import InputError
from sysrev.tables import read_tsv, write_tsv

log = logging.getLogger(__name__)

#: The update table of a source: what changed since its previous search.
SOURCE_UPDATE_COLUMNS = ["source", "record_id", "source_id", "status", "version",
                         "previous_version", "title", "search_date", "previous_search_date"]
#: Per-source details kept beside the record table (see :func:`source_details`).
DETAIL_COLUMNS = {
    "ctgov": ["nct_id", "pmid", "reference_type"],
    "europepmc": ["source_id", "pmid", "pmcid", "doi", "preprint", "first_publication_date"],
    "citations": ["pmid", "seed_pmid", "direction", "search_date"],
}


def read_seeds(path: str | Path) -> list[str]:
    """The seed PMIDs of a citation chase: the ``pmid`` column of a TSV or CSV table (an
    ``included.tsv`` does); empty cells are skipped, a cell that is not a PMID is an error
    naming its line."""
    from sysrev.csvtables import read_user_text
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found (search.citations.seeds)")
    text = read_user_text(path)
    sep = "\t" if path.suffix.lower() in (".tsv", ".tab", ".txt") else ","
    table = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    if "pmid" not in table.columns:
        raise InputError(path, "no 'pmid' column (the seed PMIDs of the citation chase)",
                         line=1)
    seeds = []
    for index, value in enumerate(table["pmid"], start=2):
        value = value.strip()
        if not value:
            continue
        if not value.isdigit():
            raise InputError(path, f"'{value}' is not a PMID", line=index, field="pmid")
        seeds.append(str(int(value)))
    return sorted(set(seeds), key=int)


def source_spec(source: str, config: Mapping[str, Any], seeds: str | None = None) -> dict:
    from sysrev.search.registry import search_spec
    return search_spec(source, config, read_seeds(seeds) if seeds else None)


def retrieve_source(*, source: str, snapshot_dir: str, config: Mapping[str, Any],
                    seeds: str | None = None) -> None:
    """Retrieve one source's search of the configured date into its frozen snapshot (an
    existing snapshot is used as it is, and never written)."""
    from sysrev.search.registry import ADAPTERS, http_settings
    spec = source_spec(source, config, seeds)
    provenance = ADAPTERS[source].retrieve(spec, Path(snapshot_dir),
                                           http_settings(source, config))
    log.info("retrieve_source: %s, %s: %s records", source, spec.get("date"),
             provenance.get("count"))


def source_details(source: str, snapshot_dir: Path) -> pd.DataFrame:
    """What a source knows beyond the record table: the PMIDs a registration cites
    (ctgov), each record's PMCID and whether it is a preprint (europepmc), each found
    record's seed and direction (citations)."""
    if source == "ctgov":
        from sysrev.search.ctgov import references
        return pd.DataFrame(references(snapshot_dir), columns=DETAIL_COLUMNS["ctgov"])
    if source == "europepmc":
        from sysrev.search.europepmc import identifiers
        return pd.DataFrame(identifiers(snapshot_dir), columns=DETAIL_COLUMNS["europepmc"])
    from sysrev.search.citations import links
    return links(snapshot_dir)


def source_records(*, source: str, provenance: str, config: Mapping[str, Any],
                   output: str, details: str, seeds: str | None = None) -> None:
    """Read a source's snapshot (its files' SHA-256 checked against its provenance) into
    the record table, and its details table."""
    from sysrev.columns import RECORD_COLUMNS
    from sysrev.search.registry import ADAPTERS
    folder = Path(provenance).parent
    spec = source_spec(source, config, seeds)
    table = ADAPTERS[source].read(folder, spec)
    write_tsv(table, output, RECORD_COLUMNS, sort_by=["record_id"])
    extra = source_details(source, folder)
    write_tsv(extra, details, DETAIL_COLUMNS[source],
              sort_by=list(DETAIL_COLUMNS[source][:2]))
    log.info("source_records: %s: %d records from %s", source, len(table), folder)


def update_table(source: str, current: Mapping[str, str], previous: Mapping[str, str] | None,
                 titles: Mapping[str, str], previous_titles: Mapping[str, str], *,
                 search_date: str, previous_date: str | None) -> pd.DataFrame:
    """New, changed and withdrawn records of one source since its previous search.

    ``current``/``previous`` map each record's source id to its version (a registration's
    last-update date, a digest of a bibliographic record). A first search has nothing to
    compare with: the table is empty.
    """
    rows = []
    if previous is not None:
        for key, version in current.items():
            if key not in previous:
                status = "new"
            elif previous[key] != version:
                status = "changed"
            else:
                continue
            rows.append((key, status, version, previous.get(key), titles.get(key)))
        for key, version in previous.items():
            if key not in current:
                rows.append((key, "withdrawn", None, version, previous_titles.get(key)))
    table = pd.DataFrame(rows, columns=["source_id", "status", "version", "previous_version",
                                        "title"])
    table.insert(0, "source", source)
    table.insert(1, "record_id", source + ":" + table["source_id"].astype(str))
    table["search_date"] = search_date
    table["previous_search_date"] = previous_date
    order = {"new": 0, "changed": 1, "withdrawn": 2}
    table = table.assign(_o=table["status"].map(order)).sort_values(
        ["_o", "record_id"], kind="mergesort").drop(columns="_o")
    return table.loc[:, SOURCE_UPDATE_COLUMNS].reset_index(drop=True)


def source_update(*, source: str, current: str, previous: str | None, output: str,
                  search_date: str) -> None:
    """Write a source's update table (``current``/``previous``: the snapshots'
    ``provenance.json``; ``previous`` None for a first search)."""
    from sysrev.search.registry import ADAPTERS
    adapter = ADAPTERS[source]
    now = Path(current).parent
    titles = _titles(adapter, now)
    before = Path(previous).parent if previous else None
    table = update_table(source, adapter.versions(now),
                         adapter.versions(before) if before else None, titles,
                         _titles(adapter, before) if before else {},
                         search_date=search_date,
                         previous_date=before.name if before else None)
    write_tsv(table, output, SOURCE_UPDATE_COLUMNS)
    counts = table["status"].value_counts()
    log.info("source_update: %s %s against %s: %d new, %d changed, %d withdrawn", source,
             search_date, before.name if before else "no earlier search",
             int(counts.get("new", 0)), int(counts.get("changed", 0)),
             int(counts.get("withdrawn", 0)))


def _titles(adapter, folder: Path) -> dict[str, str]:
    if adapter.read_batches is not None:
        # One file at a time: a PubMed snapshot of 1M records is never one table here.
        titles: dict[str, str] = {}
        for table in adapter.read_batches(folder):
            titles.update(zip(table["source_id"].astype(str), table["title"].fillna("")))
        return titles
    table = adapter.read(folder)
    return dict(zip(table["source_id"].astype(str), table["title"].fillna("")))


def withdrawn_records(paths: list[str]) -> set[str]:
    """Record ids that a source's new search no longer returns (from the update tables)."""
    ids: set[str] = set()
    for path in paths:
        table = read_tsv(path)
        ids |= set(table.loc[table["status"] == "withdrawn", "record_id"])
    return ids


def related_reports(*, records: str, details: list[str], xml: list[str], output: str) -> None:
    """Link the reports of one study candidate (:mod:`sysrev.related_reports`): ``details``
    are the sources' detail tables (the ctgov references, the europepmc preprint flags),
    ``xml`` the PubMed-format XML files (the PubMed snapshot, the citation chase) whose
    DataBank lists name trials."""
    from sysrev.related_reports import RELATED_COLUMNS, databank_nct_ids
    from sysrev.related_reports import related_reports as link_reports
    table = read_tsv(records)
    by_name = {Path(p).stem.removesuffix("_details"): read_tsv(p) for p in details}
    references = by_name.get("ctgov")
    preprints = None
    if "europepmc" in by_name:
        flags = by_name["europepmc"]
        preprints = {f"europepmc:{k}" for k in flags.loc[flags["preprint"] == "yes",
                                                          "source_id"]}
    databank = databank_nct_ids([p for p in xml if _is_pubmed_xml(p)])
    related = link_reports(table, references=references, databank=databank,
                           preprints=preprints)
    write_tsv(related, output, RELATED_COLUMNS)
    log.info("related_reports: %d links (%d registration, %d preprint)", len(related),
             int((related["relation"] == "registration_of").sum()),
             int((related["relation"] == "preprint_of").sum()))


def _is_pubmed_xml(path: str) -> bool:
    with open(path, "rb") as handle:
        return b"<PubmedArticleSet" in handle.read(4096)
