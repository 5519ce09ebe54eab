"""Rules of the search stage: the PubMed snapshot, the database exports, the record table."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from sysrev.audit import write_audit
from sysrev.columns import RECORD_COLUMNS
from sysrev.csvtables import load_csv
from sysrev.errors import InputError
from sysrev.imports.sources import collect_records as concat_records
from sysrev.imports.sources import import_records
from sysrev.search.snapshot import normalise_query, read_provenance, read_snapshot
from sysrev.tables import read_tsv, write_tsv

log = logging.getLogger(__name__)

SEARCH_COLUMNS = ["source", "database", "platform", "file", "query", "search_date", "notes"]


def load_searches(path: str | Path) -> pd.DataFrame:
    """``searches.tsv``: one row per source with its database, file, query and search date."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    missing = [c for c in SEARCH_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(path, f"missing column(s) {missing}", line=1)
    for index, row in table.iterrows():
        for col in ("source", "database", "file", "query", "search_date"):
            if not row[col].strip():
                raise InputError(path, "empty", line=index + 2, field=col)
    dup = table["source"][table["source"].duplicated()]
    if not dup.empty:
        raise InputError(path, f"source(s) listed twice: {sorted(set(dup))}", field="source")
    return table


def export_file(searches_path: str | Path, data_dir: str | Path, source: str) -> str:
    """The export file of ``source`` named in ``searches.tsv`` (used by the Snakefile)."""
    table = load_searches(searches_path)
    row = table[table["source"] == source]
    if row.empty:
        raise InputError(searches_path, f"no row for export source '{source}'", field="source")
    return str(Path(data_dir) / row.iloc[0]["file"])


def pubmed_records(*, snapshot_dir: str, query: str, searches: str, output: str) -> None:
    """Parse the PubMed snapshot of the configured search date into the record table."""
    table = load_searches(searches)
    pubmed = table[table["source"] == "pubmed"]
    if not pubmed.empty and normalise_query(pubmed.iloc[0]["query"]) != normalise_query(query):
        raise InputError(searches, "the PubMed query differs from search.pubmed.query in the "
                                   "configuration; keep one query", field="query")
    records = read_snapshot(snapshot_dir, query=query)
    write_tsv(records, output, RECORD_COLUMNS, sort_by=["record_id"])


def import_export(*, export: str, source: str, fmt: str, output: str) -> None:
    """Import one database export into the record table of its source."""
    records = import_records(export, source=source, fmt=fmt)
    write_tsv(records, output, RECORD_COLUMNS, sort_by=["source_position"])


def collect_records(*, tables: list[str], searches: str, snapshot_dir: str, output: str,
                    audit: str, parameters: dict) -> None:
    """Concatenate every source's records into ``records.tsv`` and audit the search stage."""
    frames = [read_tsv(path) for path in tables]
    records = concat_records(frames)
    write_tsv(records, output, RECORD_COLUMNS, sort_by=["source", "record_id"])
    searches_table = load_searches(searches)
    per_source = records["source"].value_counts().sort_index()
    provenance = read_provenance(snapshot_dir)
    sources = []
    for _, row in searches_table.iterrows():
        sources.append({"source": row["source"], "database": row["database"],
                        "platform": row["platform"], "file": row["file"],
                        "query": row["query"], "search_date": row["search_date"],
                        "records": int(per_source.get(row["source"], 0))})
    write_audit(audit, stage="search",
                inputs={"tables": tables, "searches": searches,
                        "pubmed_provenance": str(Path(snapshot_dir) / "provenance.json")},
                outputs={"records": output},
                counts={"records_out": int(len(records)),
                        "records_per_source": {k: int(v) for k, v in per_source.items()}},
                parameters={**parameters, "sources": sources,
                            "pubmed_snapshot": {k: provenance.get(k) for k in (
                                "search_date", "count", "retrieval", "query_translation",
                                "note")}})
    log.info("collect_records: %d records from %d sources", len(records), len(per_source))
