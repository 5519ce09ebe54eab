"""Rules of the search stage: the PubMed snapshot, the database exports, the record table."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import io
import logging
from pathlib import Path

from sysrev.audit import write_audit
from sysrev.columns import RECORD_COLUMNS, UPDATE_COLUMNS
from sysrev.csvtables import read_user_text
from sysrev.errors import InputError
from sysrev.errors import columns_word as _columns
from sysrev.lazy import pandas as pd
from sysrev.paths import logical_path
from sysrev.tables import read_tsv, tsv_batches, write_json, write_tsv

# The libraries of single rules are imported inside the functions that use them: the
# Snakefile and every job of the stage import this module, and a job should load only
# what its own rule needs (start-up dominates a job's time; BENCHMARKS.md, Start-up).

log = logging.getLogger(__name__)

#: search_date of a search whose date was not published (allowed, and said so in the audit).
NOT_REPORTED_DATE = "not reported"

SEARCH_COLUMNS = ["source", "database", "platform", "file", "query", "search_date", "notes"]


def load_searches(path: str | Path) -> pd.DataFrame:
    """``searches.tsv``: one row per source with its database, file, query and search date."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    try:
        table = pd.read_csv(io.StringIO(read_user_text(path)), sep="\t", dtype=str,
                            keep_default_na=False)
    except pd.errors.ParserError as error:
        raise InputError(path, f"not a tab-separated table: {error}") from None
    missing = [c for c in SEARCH_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(path, f"missing {_columns(missing)} {missing}", line=1)
    today = dt.date.today()
    for index, row in table.iterrows():
        for col in ("source", "database", "file", "query", "search_date"):
            if not row[col].strip():
                raise InputError(path, "empty", line=index + 2, field=col)
        if row["search_date"].strip().lower() == NOT_REPORTED_DATE:
            continue  # a published review that does not say when it searched
        try:
            searched = dt.date.fromisoformat(row["search_date"].strip())
        except ValueError:
            raise InputError(path, f"'{row['search_date']}' is not a date (YYYY-MM-DD, or "
                                   f"'{NOT_REPORTED_DATE}')",
                             line=index + 2, field="search_date") from None
        if searched > today:
            raise InputError(path, f"{searched} is in the future (today is {today})",
                             line=index + 2, field="search_date")
    dup = table["source"][table["source"].duplicated()]
    if not dup.empty:
        raise InputError(path, f"{'source' if len(set(dup)) == 1 else 'sources'} listed twice: "
                                 f"{sorted(set(dup))}", field="source")
    return table


def export_file(searches_path: str | Path, data_dir: str | Path, source: str) -> str:
    """The export file of ``source`` named in ``searches.tsv`` (used by the Snakefile).

    A file that does not exist is an error naming the row: Snakemake would otherwise skip
    the jobs that read it while their old outputs exist, and the review would go on with
    the previous export without a word (a typo in ``file``, an export renamed or moved).
    """
    table = load_searches(searches_path)
    row = table[table["source"] == source]
    if row.empty:
        raise InputError(searches_path, f"no row for export source '{source}'", field="source")
    path = Path(data_dir) / row.iloc[0]["file"]
    if not path.is_file():
        raise InputError(searches_path, f"the export file of source '{source}', {path}, "
                                        "does not exist (the 'file' column is relative to "
                                        "data_dir)", line=int(row.index[0]) + 2, field="file")
    return str(path)


def retrieve_pubmed(*, snapshot_dir: str, query: str, search_date: str,
                    start_date: str | None, date_type: str, email: str, base_url: str,
                    batch_size: int, timeout: float, max_tries: int) -> None:
    """Retrieve the PubMed search of the configured date into its frozen snapshot, through
    the PubMed source adapter (:mod:`sysrev.search.pubmed`).

    The E-utilities server is ``entrez.base_url`` unless ``SYSREV_EUTILS_URL`` is set; the
    API key comes only from ``NCBI_API_KEY``. An existing snapshot is used as is.
    """
    from sysrev.search.entrez_client import EntrezSettings, api_key_from_env, resolve_base_url
    from sysrev.search.registry import ADAPTERS
    settings = EntrezSettings(base_url=resolve_base_url(base_url), email=email,
                              api_key=api_key_from_env(), batch_size=batch_size,
                              timeout=timeout, max_tries=max_tries)
    ADAPTERS["pubmed"].retrieve({"query": query, "date": search_date,
                                 "start_date": start_date, "date_type": date_type},
                                Path(snapshot_dir), settings)


def pubmed_update(*, records: str, previous: list[str], output: str) -> None:
    """List the PubMed records that the previous search's snapshot did not have."""
    from sysrev.search.update import new_records, snapshot_pmids
    table = read_tsv(records)
    previous_date = Path(previous[0]).parent.name if previous else None
    pmids = snapshot_pmids(previous) if previous else None
    fresh = new_records(table, pmids, previous_date)
    write_tsv(fresh, output, UPDATE_COLUMNS)
    if previous_date is None:
        log.info("pubmed_update: %d PubMed records, no earlier search to compare with",
                 len(table))
    else:
        log.info("pubmed_update: %d PubMed records, %d in the previous search (%s), %d new",
                 len(table), len(pmids), previous_date, len(fresh))


#: Keys of a search's settings that do not define what it finds (PubMed's contact address);
#: they stay out of the settings file, and changing them reruns nothing.
NOT_SEARCH_SETTINGS = ("email",)


def search_identity(search: dict) -> dict:
    """The settings of one source's search that define what it finds (everything but
    :data:`NOT_SEARCH_SETTINGS`), keys sorted."""
    return {k: v for k, v in sorted(search.items()) if k not in NOT_SEARCH_SETTINGS}


def search_settings(*, source: str, search: dict, output: str) -> None:
    """Write what defines one searched source's search (its date, and a digest of every
    other setting) for the job that reads its snapshot.

    Snakemake decides nothing about a job whose inputs wait for a checkpoint (the retrieval
    of a snapshot not there yet) beyond its modification times, so after a change of search
    date the table read from the old snapshot was accepted when requested alone. This small
    file is rewritten whenever the settings change (the rule's ``params``); the job that
    reads it then runs, and with it the retrieval of the new date.
    """
    from sysrev.tables import write_json

    shown = search_identity(search)
    digest = hashlib.sha256(json.dumps(shown, sort_keys=True, default=str).encode()).hexdigest()
    write_json({"source": source, "date": str(search.get("date")),
                "settings_sha256": digest}, output)
    log.info("search_settings: %s searched on %s", source, search.get("date"))


def pubmed_records(*, provenance: str, xml: list[str], query: str, searches: str,
                   output: str, start_date: str | None = None,
                   date_type: str | None = None) -> None:
    """Parse the PubMed snapshot of the configured search date into the record table.

    ``provenance`` and ``xml`` are the snapshot's files as the job was given them; the
    snapshot is read by the PubMed source adapter (:mod:`sysrev.search.pubmed`), which
    checks its digests, query, ``start_date`` and (when given) ``date_type``, one XML file
    at a time; the table is sorted by record id through runs on disk, so the job's memory
    does not grow with the snapshot (BENCHMARKS.md, Retrieval at 1M).
    """
    from sysrev.search.registry import ADAPTERS
    from sysrev.search.snapshot import normalise_query
    from sysrev.tables import sorted_tsv_batches
    table = load_searches(searches)
    pubmed = table[table["source"] == "pubmed"]
    if not pubmed.empty and normalise_query(pubmed.iloc[0]["query"]) != normalise_query(query):
        raise InputError(searches, "the PubMed query differs from search.pubmed.query in the "
                                   "configuration; keep one query", field="query")
    batches = ADAPTERS["pubmed"].read_batches(Path(provenance).parent, {
        "query": query, "start_date": start_date, "date_type": date_type}, files=xml)
    with sorted_tsv_batches(output, RECORD_COLUMNS, key="record_id") as write:
        for records in batches:
            write(records)


def import_export(*, export: str, source: str, fmt: str, output: str,
                  allow_empty: bool = False, report: str | None = None) -> None:
    """Import one database export into the record table of its source; ``report`` (JSON)
    says which format was declared, detected and read, the encoding and the record count."""
    from sysrev.imports.sources import import_export_file
    # Batch by batch: a large export of a format of sysrev.imports.sources.BATCH_READERS
    # is never whole in memory.
    with tsv_batches(output, RECORD_COLUMNS, sort_by=["source_position"]) as write:
        _, info = import_export_file(export, source=source, fmt=fmt,
                                     allow_empty=allow_empty, sink=write)
    if report is not None:
        write_json(info.as_dict(), report)


def _source_snapshot(raw_inputs: dict[str, list[str]] | None, source: str) -> dict | None:
    """What the audit says of a source's snapshot: its folder, search date, count, pages."""
    from sysrev.search.snapshot import read_provenance
    for path in (raw_inputs or {}).get("source_snapshots", []):
        folder = Path(path).parent
        if Path(path).name == "provenance.json" and folder.parent.name == source:
            recorded = read_provenance(folder)
            return {"folder": logical_path(folder), **{k: recorded.get(k) for k in (
                "search_date", "count", "pages", "retrieved_at", "notes", "date_limit")},
                "records_after_search_date": _after_search_date(source, folder)}
    return None


def _after_search_date(source: str, folder: Path) -> int:
    """How many stored records of a source's snapshot are dated after its search date (or
    before its start date) and so left out of its record table (logged by the adapter)."""
    if source == "ctgov":
        from sysrev.search.ctgov import after_search_date
        return int(after_search_date(folder))
    if source == "europepmc":
        from sysrev.search.europepmc import after_search_date
        return int(after_search_date(folder))
    if source == "citations":
        from sysrev.search.citations import after_search_date
        return len(after_search_date(folder))
    return 0


def collect_records(*, tables: list[str], searches: str, provenance: str | None, output: str,
                    audit: str, parameters: dict, update: str | None = None,
                    raw_inputs: dict[str, list[str]] | None = None,
                    export_sources: list[str] | None = None,
                    api_sources: list[str] | None = None) -> None:
    """Concatenate every source's records into ``records.tsv`` and audit the search stage.

    ``export_sources`` are the sources of ``search.exports``: a row of ``searches.tsv`` for
    any other source (but ``pubmed``) is an error, as its export would be left out of the
    review without a word.

    ``provenance`` is the PubMed snapshot's ``provenance.json`` and ``update`` the PubMed
    update report, both None for a review that did not search PubMed through Entrez; the
    audit then says so, and says how many records are new since the previous search.
    ``raw_inputs`` are the files the record tables were read from (the exports, the snapshot's
    XML): the audit records the SHA-256 of each, so it shows which versions the run used.
    """
    from sysrev.recordtable import write_record_tables
    from sysrev.search.snapshot import read_provenance
    searches_table = load_searches(searches)
    if provenance is None and (searches_table["source"] == "pubmed").any():
        raise InputError(searches, "lists a 'pubmed' source, but search.pubmed is not set in "
                                   "the configuration: set it, or name the export after its "
                                   "database (PubMed exports are imported like any other)",
                         field="source")
    api_sources = list(api_sources or [])
    for source in api_sources:
        if not (searches_table["source"] == source).any():
            raise InputError(searches, f"no row for source '{source}', which search.{source} "
                                       "searches: add its line (database, platform, file = "
                                       f"its snapshot folder search/{source}/<date>, query, "
                                       "search date)", field="source")
    if export_sources is not None:
        for index, source in enumerate(searches_table["source"]):
            if source != "pubmed" and source not in export_sources + api_sources:
                raise InputError(searches, f"lists source '{source}', but search.exports has "
                                           "no entry for it, so its export would not be "
                                           "imported: add it to search.exports, or remove "
                                           "the row", line=index + 2, field="source")
    # Source by source, a chunk of rows at a time (issue 20: the whole table was 1.1 GB of
    # memory at 1M records); the same bytes as the concatenation sorted by source and id.
    per_source, total = write_record_tables(tables, output, RECORD_COLUMNS)
    per_source = pd.Series(per_source, dtype="int64").sort_index()
    # Each import's report (format declared/detected, encoding), written next to its table.
    imports = {Path(t).stem: json.loads(Path(t).with_suffix(".json").read_text("utf-8"))
               for t in tables if Path(t).parent.name == "imported"
               and Path(t).with_suffix(".json").is_file()}
    sources = []
    for _, row in searches_table.iterrows():
        entry = {"source": row["source"], "database": row["database"],
                 "platform": row["platform"], "file": row["file"], "query": row["query"],
                 "search_date": row["search_date"],
                 "records": int(per_source.get(row["source"], 0))}
        if row["source"] in imports:
            entry["import"] = imports[row["source"]]
        if row["source"] in api_sources:
            entry["snapshot"] = _source_snapshot(raw_inputs, row["source"])
        if row["source"] == "pubmed":
            # The configured search, not the row written for an earlier date, is what ran.
            entry.update({"query": parameters.get("pubmed_query", row["query"]),
                          "search_date": parameters.get("pubmed_search_date",
                                                        row["search_date"]),
                          "file": logical_path(Path(provenance).parent)})
        sources.append(entry)
    inputs = {"tables": tables, "searches": searches,
              **{name: list(paths) for name, paths in (raw_inputs or {}).items() if paths}}
    counts = {"records_out": total,
              "records_per_source": {k: int(v) for k, v in per_source.items()}}
    snapshot = None
    if provenance is not None:
        inputs["pubmed_provenance"] = provenance
        recorded = read_provenance(Path(provenance).parent)
        snapshot = {k: recorded.get(k) for k in ("search_date", "count", "retrieval",
                                                 "query_translation", "windows", "note")}
    if update is not None:
        # None for a first search: nothing to be new against.
        inputs["pubmed_update"] = update
        counts["pubmed_new_since_previous_search"] = (
            int(len(read_tsv(update))) if parameters.get("pubmed_previous_search_date")
            else None)
    write_audit(audit, stage="search",
                inputs=inputs,
                outputs={"records": output},
                counts=counts,
                parameters={**parameters, "sources": sources, "pubmed_snapshot": snapshot})
    log.info("collect_records: %d records from %d sources", total, len(per_source))
