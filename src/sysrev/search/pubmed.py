"""The PubMed adapter: the E-utilities search (esearch/efetch, :mod:`.entrez_client`) behind
the interface every source has (:class:`sysrev.search.adapters.SourceAdapter`):
``retrieve``, ``read``, ``versions`` and ``normalise_spec``, as :mod:`.ctgov`,
:mod:`.europepmc` and :mod:`.citations` have them.

A search is the configuration's ``search.pubmed`` block (``query``, ``date``,
``start_date``, ``date_type``); its snapshot ``<data_dir>/search/pubmed/<date>/`` holds the
efetch XML as received (``batch_w<window>_<batch>.xml``, or a hand-assembled
``records.xml``), ``pmids.txt`` (the PMIDs, sorted) and ``provenance.json`` with the request
parameters, counts and the SHA-256 of every file, checked when read (:func:`sysrev.search.adapters.verify_snapshot`,
the same check as every source's). Record ids are ``pubmed:<PMID>``.

The workflow's PubMed rules (``retrieve_pubmed``, ``pubmed_records``, ``source_update``'s
``pubmed`` table) and ``snakemake retrieve`` go through this module, by way of
:data:`sysrev.search.registry.ADAPTERS`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import pandas as pd

#: ``search.pubmed.date_type``'s default (the schema's).
DEFAULT_DATE_TYPE = "publication"


def normalise_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The search with its defaults filled in (what a snapshot answers and is compared on);
    ``email`` is contact, not search, and is left out."""
    return {"query": " ".join(str(spec.get("query") or "").split()),
            "date": spec.get("date"), "start_date": spec.get("start_date"),
            "date_type": spec.get("date_type") or DEFAULT_DATE_TYPE}


def retrieve(spec: dict[str, Any], snapshot_dir: str | Path, settings, **kwargs
             ) -> dict[str, Any]:
    """Retrieve the search ``spec`` into its frozen snapshot (``settings``:
    :class:`sysrev.search.entrez_client.EntrezSettings`); an existing snapshot is used as it
    is. ``kwargs`` (``sleep``, ``rng``) go to
    :func:`sysrev.search.entrez_client.retrieve_snapshot`."""
    from sysrev.search.entrez_client import SearchSpec, retrieve_snapshot
    # The query as configured (its white space too): it is what esearch is sent and what
    # the provenance records; comparisons fold white space (normalise_spec).
    return retrieve_snapshot(SearchSpec(query=spec["query"], search_date=spec["date"],
                                        start_date=spec.get("start_date"),
                                        date_type=spec.get("date_type") or DEFAULT_DATE_TYPE),
                             snapshot_dir, settings, **kwargs)


def read(snapshot_dir: str | Path, spec: dict[str, Any] | None = None, *,
         files: Sequence[str | Path] | None = None) -> pd.DataFrame:
    """The record table of a PubMed snapshot (SHA-256 checked first).

    With ``spec``, the snapshot must answer it: the same query, and when ``spec`` gives a
    ``date_type``, the same ``start_date`` and ``date_type``
    (:func:`sysrev.search.snapshot.check_window`); without, it is read as it is. ``files``
    are the XML files as a workflow job was given them (default: the folder's)."""
    from sysrev.search.snapshot import read_provenance, read_snapshot
    if spec is None:
        return read_snapshot(snapshot_dir, query=read_provenance(snapshot_dir).get("query", ""),
                             files=files)
    return read_snapshot(snapshot_dir, query=spec["query"], files=files,
                         start_date=spec.get("start_date"), date_type=spec.get("date_type"),
                         check_dates=spec.get("date_type") is not None)


def read_batches(snapshot_dir: str | Path, spec: dict[str, Any] | None = None, *,
                 files: Sequence[str | Path] | None = None):
    """:func:`read`'s record table one XML file at a time (an iterator of DataFrames; the
    checks that span files raise after the last), for a job that writes it in batches."""
    from sysrev.search.snapshot import read_provenance, snapshot_batches
    if spec is None:
        return snapshot_batches(snapshot_dir, files=files,
                                query=read_provenance(snapshot_dir).get("query", ""))
    return snapshot_batches(snapshot_dir, query=spec["query"], files=files,
                            start_date=spec.get("start_date"), date_type=spec.get("date_type"),
                            check_dates=spec.get("date_type") is not None)


def versions(snapshot_dir: str | Path) -> dict[str, str]:
    """PMID -> a digest of the record's XML as PubMed gave it (a revised record changes)."""
    from sysrev.search.efetch_scan import article_digests
    from sysrev.search.snapshot import snapshot_files
    out: dict[str, str] = {}
    for path in snapshot_files(snapshot_dir):
        out.update(article_digests(path.read_bytes()))
    return out
