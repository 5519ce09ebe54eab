"""The source adapters by name: PubMed (the E-utilities search), ClinicalTrials.gov, Europe
PMC and citation chasing, each with the same four operations (:class:`Adapter`).

The workflow and ``snakemake retrieve`` go through this table only; a new source is one
module with ``retrieve``/``read``/``versions``/``normalise_spec`` and one entry here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import pandas as pd

from sysrev.search.adapters import DISPLAY_NAME, PRISMA_ARM, HttpSettings, resolve_url


@dataclass(frozen=True)
class Adapter:
    """One source: how to retrieve a search into a snapshot, read it, and version its
    records (see :class:`sysrev.search.adapters.SourceAdapter`)."""

    name: str
    retrieve: Callable[..., dict[str, Any]]
    read: Callable[..., pd.DataFrame]
    versions: Callable[[Path], dict[str, str]]
    #: ``read`` one file at a time (an iterator of tables), where a source has it.
    read_batches: Callable[..., Any] | None = None

    @property
    def display(self) -> str:
        return DISPLAY_NAME[self.name]

    @property
    def prisma_arm(self) -> str:
        return PRISMA_ARM[self.name]


def _lazy(module: str, name: str) -> Callable[..., Any]:
    def call(*args, **kwargs):
        from importlib import import_module
        return getattr(import_module(f"sysrev.search.{module}"), name)(*args, **kwargs)
    call.__name__ = f"{module}.{name}"
    return call


ADAPTERS: dict[str, Adapter] = {
    "pubmed": Adapter("pubmed", _lazy("pubmed", "retrieve"), _lazy("pubmed", "read"),
                      _lazy("pubmed", "versions"), _lazy("pubmed", "read_batches")),
    "ctgov": Adapter("ctgov", _lazy("ctgov", "retrieve"), _lazy("ctgov", "read"),
                     _lazy("ctgov", "versions")),
    "europepmc": Adapter("europepmc", _lazy("europepmc", "retrieve"),
                         _lazy("europepmc", "read"), _lazy("europepmc", "versions")),
    "citations": Adapter("citations", _lazy("citations", "retrieve"),
                         _lazy("citations", "read"), _lazy("citations", "versions")),
}

#: The sources besides PubMed. PubMed is an adapter like them (:mod:`.pubmed`), but keeps
#: its own rule names and outputs (``retrieve_pubmed``, ``pubmed_records`` ->
#: ``search/pubmed.tsv``, ``pubmed_update`` -> ``search/update.tsv``), which reviews and
#: their archives already name.
API_SOURCES = ("ctgov", "europepmc", "citations")


def http_settings(source: str, config: Mapping[str, Any]):
    """The client settings of a source from the review's configuration (``search.sources``
    for the REST servers, ``entrez`` for PubMed and citation chasing)."""
    search = config["search"]
    own = search.get(source) or {}
    if source in ("pubmed", "citations"):
        from sysrev.search.entrez_client import (EntrezSettings, api_key_from_env,
                                                 resolve_base_url)
        entrez = config.get("entrez") or {}
        return EntrezSettings(base_url=resolve_base_url(entrez.get("base_url")),
                              email=own.get("email", ""), api_key=api_key_from_env(),
                              batch_size=entrez.get("batch_size", 500),
                              timeout=entrez.get("timeout", 60),
                              max_tries=entrez.get("max_tries", 8))
    common = search.get("sources") or {}
    if source == "ctgov":
        from sysrev.search.ctgov import BASE_URL_ENV, DEFAULT_BASE_URL
        url = resolve_url(BASE_URL_ENV, common.get("ctgov_url"), DEFAULT_BASE_URL)
    else:
        from sysrev.search.europepmc import BASE_URL_ENV, DEFAULT_BASE_URL
        url = resolve_url(BASE_URL_ENV, common.get("europepmc_url"), DEFAULT_BASE_URL)
    return HttpSettings(base_url=url, email=own.get("email", ""),
                        timeout=common.get("timeout", 60), max_tries=common.get("max_tries", 8),
                        rate=common.get("rate", 3), page_size=common.get("page_size", 100))


def search_spec(source: str, config: Mapping[str, Any],
                seeds: list[str] | None = None) -> dict[str, Any]:
    """What a source's snapshot answers, from the configuration (citation seeds read from
    their table by the caller)."""
    own = dict(config["search"].get(source) or {})
    own.pop("email", None)
    if source == "citations":
        own = {"seeds": seeds or [], "directions": own.get("directions") or ["citedin", "refs"],
               "depth": own.get("depth", 1), "date": own["date"]}
    return own
