"""One interface for every searched source: a query and a search date become a dated, frozen
raw snapshot, and a snapshot becomes records.

A source adapter (:class:`SourceAdapter`) says how to retrieve one search into
``<data_dir>/search/<source>/<search date>/`` and how to read it back. Every snapshot holds
the server's answers exactly as received (one file per page or batch), and a
``provenance.json`` with the request parameters, the time of retrieval, the counts and the
SHA-256 of every file; reading a snapshot checks those digests first
(:func:`verify_snapshot`), so a snapshot changed after it was written is an error naming
the file. A retrieval writes into ``<date>.partial/`` and renames it when complete
(:mod:`sysrev.search.batch_store`); an interrupted one resumes from the pages it has.

The adapters: ``pubmed`` (E-utilities esearch/efetch, :mod:`.pubmed` over
:mod:`.entrez_client`), ``ctgov`` (ClinicalTrials.gov API v2, :mod:`.ctgov`),
``europepmc`` (Europe PMC REST, :mod:`.europepmc`) and ``citations`` (citation chasing
through Entrez elink, :mod:`.citations`).
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence
from urllib.parse import urlencode, urlsplit, urlunsplit
from urllib.request import Request

import pandas as pd

from sysrev.errors import InputError
from sysrev.search.batch_store import PROVENANCE, PartialSnapshot, write_atomic
from sysrev.search.http_retry import ResponseError, RetrievalError, Retrying
from sysrev.search.offline import NoNetwork
from sysrev.search.ratelimit import RateLimiter
from sysrev.tables import sha256_file

log = logging.getLogger(__name__)

#: Adapter names, as config keys under ``search:``, folder names and ``source`` values.
SOURCES = ("pubmed", "ctgov", "europepmc", "citations")
#: Which PRISMA 2020 box each source's records go to.
PRISMA_ARM = {"pubmed": "databases", "europepmc": "databases", "ctgov": "registers",
              "citations": "other"}
#: Display names (the PRISMA diagram, the methods text).
DISPLAY_NAME = {"pubmed": "PubMed", "ctgov": "ClinicalTrials.gov",
                "europepmc": "Europe PMC", "citations": "Citation searching"}

_PAGE = re.compile(r"^page_(\d{5})\.(json|xml)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class SourceAdapter(Protocol):
    """What every source provides, each in its own module (:mod:`.pubmed`, :mod:`.ctgov`,
    :mod:`.europepmc`, :mod:`.citations`) with these and ``normalise_spec``."""

    name: str

    def retrieve(self, spec: dict[str, Any], snapshot_dir: Path,
                 settings: "HttpSettings") -> dict[str, Any]:
        """Retrieve the search ``spec`` into ``snapshot_dir``; return its provenance. An
        existing snapshot is used as it is (nothing requested)."""

    def read(self, snapshot_dir: Path, spec: dict[str, Any]) -> pd.DataFrame:
        """The snapshot's record table (:data:`sysrev.columns.RECORD_COLUMNS`)."""

    def versions(self, snapshot_dir: Path) -> dict[str, str]:
        """Each record's version (source id -> a date or digest that changes when the
        record does), for the update table's ``changed``."""


# -- the page store ----------------------------------------------------------------------
class PageStore(PartialSnapshot):
    """The partial folder of a paged retrieval: ``page_00001.json`` … as received."""

    pattern = _PAGE
    empty = None  # a search with no hits still stores its one (empty) page

    def page_path(self, number: int, ext: str) -> Path:
        return self.path / f"page_{number:05d}.{ext}"

    def write_page(self, number: int, ext: str, data: bytes) -> Path:
        self.path.mkdir(parents=True, exist_ok=True)
        path = self.page_path(number, ext)
        write_atomic(path, data)
        return path


def data_files(snapshot_dir: str | Path) -> list[Path]:
    """A snapshot's answer files (everything but ``provenance.json``), in order."""
    return sorted(p for p in Path(snapshot_dir).iterdir()
                  if p.is_file() and p.name != PROVENANCE and not p.name.startswith("."))


def file_entries(paths: list[Path]) -> list[dict[str, Any]]:
    """``{file, bytes, sha256}`` of each file, for ``provenance.json``."""
    return [{"file": p.name, "bytes": p.stat().st_size, "sha256": sha256_file(p)}
            for p in paths]


def verify_snapshot(snapshot_dir: str | Path, provenance: dict[str, Any],
                    files: Sequence[str | Path] | None = None) -> None:
    """Check a snapshot's files against the SHA-256 its provenance recorded: the one check
    every source's snapshot goes through (PubMed's as well as the REST sources').

    A frozen snapshot is the search's record of truth, so every answer file must be the one
    retrieved. An error names the file when one is changed (its SHA-256 differs), missing
    (listed, not there) or added (a ``.xml``/``.json`` answer file in the folder, or one of
    ``files``, that ``provenance.json`` does not list: a snapshot is never added to; the
    retrieval's own ``.partial`` folder and hidden files are not answers). A listed file
    without a SHA-256 is an error too (the list claims digests it does not hold).

    A provenance that lists no files at all (a snapshot assembled by hand, or made before
    digests were recorded) cannot be verified: it is read with a warning naming it, for
    every source alike, rather than refused (that would strand an older review) or passed
    silently (a reader would believe it checked).

    ``files`` are the answer files as a workflow job was given them (its declared inputs,
    perhaps staged copies beside the staged provenance); by default, the folder's.
    """
    folder = Path(snapshot_dir)
    where = folder / PROVENANCE
    listed = provenance.get("files")
    if not listed:
        log.warning("%s lists no files with their SHA-256: the snapshot's files cannot be "
                    "verified (add a 'files' list: file, sha256)", where)
        return
    digests: dict[str, str] = {}
    for number, entry in enumerate(listed, start=1):
        name = entry.get("file") if isinstance(entry, dict) else None
        if not name or not entry.get("sha256"):
            raise InputError(where, f"entry {number} of 'files' has no file name or no "
                                    "sha256: every listed file must carry its digest",
                             field="files")
        digests[name] = entry["sha256"]
    given = [Path(f) for f in files] if files is not None else []
    present = {p.name: p for p in data_files(folder) if p.suffix in (".json", ".xml")}
    present.update({p.name: p for p in given})
    extra = sorted(name for name in present if name not in digests)
    if extra:
        raise InputError(present[extra[0]], "not listed in provenance.json ('files'): a "
                                            "snapshot is never added to, so it was changed "
                                            "after it was made")
    for name, digest in digests.items():
        path = present.get(name, folder / name)
        if not path.is_file():
            raise InputError(path, "listed in provenance.json but missing from the "
                                   "snapshot: a snapshot is never edited; retrieve the "
                                   "search again under a new date")
        actual = sha256_file(path)
        if actual != digest:
            raise InputError(path, f"SHA-256 {actual} differs from the {digest} recorded "
                                   "in provenance.json when it was retrieved: the snapshot "
                                   "was changed after it was written (restore it, or "
                                   "retrieve the search again under a new date)",
                             field="sha256")


def read_provenance_checked(snapshot_dir: str | Path) -> dict[str, Any]:
    """A snapshot's provenance, after checking its files' SHA-256."""
    path = Path(snapshot_dir) / PROVENANCE
    try:
        provenance = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, "the snapshot has no provenance.json") from None
    except json.JSONDecodeError as exc:
        raise InputError(path, f"invalid JSON: {exc.msg}", line=exc.lineno) from None
    verify_snapshot(snapshot_dir, provenance)
    return provenance


def snapshot_record_table(rows: list[dict[str, Any]], *, source: str, folder: Path,
                          provenance: dict[str, Any], left_out: int = 0) -> pd.DataFrame:
    """The record table of a snapshot's parsed records (``source_position`` numbered here),
    checked: no record twice, and as many as the provenance counted less the ``left_out``
    ones (stored records outside the search's dates)."""
    from sysrev.imports.records import make_record_table
    for position, row in enumerate(rows, start=1):
        row["source_position"] = position
    table = make_record_table(rows, source=source, source_file=folder)
    twice = table["source_id"][table["source_id"].duplicated()]
    if not twice.empty:
        raise InputError(folder, f"records present twice: {sorted(set(twice))}")
    if (provenance.get("count") is not None
            and int(provenance["count"]) - left_out != len(table)):
        kept = f" ({left_out} outside the search's dates left out)" if left_out else ""
        raise InputError(folder / PROVENANCE, f"provenance says {provenance['count']} "
                         f"records but the snapshot holds {len(table)}{kept}", field="count")
    return table


def read_records(snapshot_dir: str | Path, spec: dict[str, Any] | None, *, source: str,
                 normalise: Callable[[dict[str, Any]], dict[str, Any]],
                 items: Callable[[Path], list[dict[str, Any]]],
                 record: Callable[[dict[str, Any]], dict[str, Any]],
                 left_out: Callable[[Path], int]) -> pd.DataFrame:
    """The record table of a paged JSON snapshot, the same steps for every REST source:
    the provenance read and every file's SHA-256 checked (:func:`verify_snapshot`), the
    configured search compared with the snapshot's (``spec``, normalised by the source's
    ``normalise``; None: not compared), then ``record`` applied to each of ``items(folder)``
    (the answers within the search's dates) and the table checked against the provenance's
    count less ``left_out(folder)`` (stored answers outside the search's dates)."""
    folder = Path(snapshot_dir)
    provenance = read_provenance_checked(folder)
    if spec is not None:
        check_spec(provenance, normalise(spec), folder, source)
    rows = [record(item) for item in items(folder)]
    return snapshot_record_table(rows, source=source, folder=folder, provenance=provenance,
                                 left_out=left_out(folder))


def check_spec(provenance: dict[str, Any], spec: dict[str, Any], snapshot_dir: Path,
               source: str) -> None:
    """Fail when the snapshot of this date was made with another search than configured."""
    recorded = provenance.get("search") or {}
    for key in sorted(set(spec) | set(recorded)):
        value = spec.get(key)
        if key == "date":
            continue
        if _normal(recorded.get(key)) != _normal(value):
            raise InputError(
                Path(snapshot_dir) / PROVENANCE,
                f"this search date already has a {source} snapshot made with {key} "
                f"{recorded.get(key)!r}, but the configuration says {value!r}. Snapshots are "
                f"never overwritten: set search.{source}.date to a new date to search "
                "again, or restore the setting the snapshot was made with.", field=key)


def _normal(value: Any) -> Any:
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    return value


def snapshot_dates(source_dir: str | Path) -> list[str]:
    """Search dates of the complete snapshots of one source, oldest first."""
    folder = Path(source_dir)
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir()
                  if _DATE.match(p.name) and (p / PROVENANCE).is_file())


def previous_snapshot(source_dir: str | Path, search_date: str) -> Path | None:
    """The latest snapshot of a source before ``search_date`` (None for a first search)."""
    earlier = [d for d in snapshot_dates(source_dir) if d < search_date]
    return Path(source_dir) / earlier[-1] if earlier else None


# -- HTTP ------------------------------------------------------------------------------
@dataclass(frozen=True)
class HttpSettings:
    """How to talk to one REST server. ``rate`` is requests per second (None: no limit,
    only for a local test server); ``email`` goes in the User-Agent, as both ClinicalTrials.gov
    and Europe PMC ask of heavy users."""

    base_url: str
    email: str = ""
    timeout: float = 60.0
    max_tries: int = 8
    backoff_base: float = 1.0
    backoff_cap: float = 60.0
    rate: float | None = 3.0
    page_size: int = 100
    tool: str = "sysrev"


def resolve_url(env: str, configured: str | None, default: str) -> str:
    """The server's base URL: the environment variable ``env`` if set, else the config's."""
    url = os.environ.get(env) or configured or default
    return url if url.endswith("/") else url + "/"


def public_url(url: str) -> str:
    """A URL without credentials, query or fragment, for logs and provenance."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def version_of(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


class RestClient:
    """GET requests to one REST server, paced, retried, and stopped early with no network."""

    def __init__(self, settings: HttpSettings, *, source: str, search_date: str | None,
                 snapshot_dir: str | None = None,
                 sleep: Callable[[float], None] = time.sleep, rng=None):
        self.settings = settings
        self.base_url = settings.base_url if settings.base_url.endswith("/") \
            else settings.base_url + "/"
        contact = f" (mailto:{settings.email})" if settings.email else ""
        self.user_agent = f"{settings.tool}/{version_of('sysrev') or 'dev'}{contact}"
        self.retrying = Retrying(
            max_tries=settings.max_tries, timeout=settings.timeout,
            backoff_base=settings.backoff_base, backoff_cap=settings.backoff_cap,
            limiter=RateLimiter(settings.rate, sleep=sleep), sleep=sleep, rng=rng,
            no_network=NoNetwork(source, search_date, public_url(self.base_url),
                                 snapshot_dir))

    @property
    def stats(self):
        return self.retrying.stats

    def get(self, endpoint: str, params: dict[str, Any], check: Callable[[bytes], Any],
            what: str) -> Any:
        url = f"{self.base_url}{endpoint}?{urlencode(params)}"

        def build() -> Request:
            return Request(url, headers={"User-Agent": self.user_agent,
                                         "Accept": "application/json"})

        return self.retrying.request(endpoint, build, check, what)


def parse_json_page(body: bytes) -> Any:
    """A JSON answer, or a retryable :class:`ResponseError` when it is cut short or is an
    HTML page (a proxy's)."""
    text = body.lstrip()
    if text[:1] == b"<":
        raise ResponseError("an HTML or XML page where JSON was expected", kind="html")
    try:
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ResponseError(f"not UTF-8: {exc}", kind="bad answer") from None
    except json.JSONDecodeError as exc:
        raise ResponseError(f"JSON cut short or malformed ({exc.msg} at character "
                            f"{exc.pos})", kind="truncated JSON") from None


def retrieve_pages(*, source: str, spec: dict[str, Any], snapshot_dir: str | Path,
                   client: RestClient,
                   fetch: Callable[[RestClient, Any, int], tuple[bytes, Any, str]],
                   first_cursor: Any, count_records: Callable[[Path], int],
                   extra: Callable[[list[Path]], dict[str, Any]] | None = None
                   ) -> dict[str, Any]:
    """Page through one search into its frozen snapshot.

    ``fetch(client, cursor, page_number)`` returns one page's bytes (as received) and the
    cursor of the next page (None after the last). The cursor of the next page is saved
    with every page, so an interrupted retrieval resumes where it stopped.
    """
    final = Path(snapshot_dir)
    if (final / PROVENANCE).is_file():
        provenance = read_provenance_checked(final)
        check_spec(provenance, spec, final, source)
        log.info("%s snapshot %s exists: used as it is, nothing requested", source, final)
        return provenance
    if final.is_dir() and any(final.iterdir()):
        raise InputError(final, "the snapshot folder has files but no provenance.json; "
                                "snapshots are never overwritten: move the folder away or "
                                f"set search.{source}.date to a new date")
    store = PageStore(final)
    key = {"source": source, "search": spec, "page_size": client.settings.page_size}
    plan = store.resume_plan(key)
    resumed = plan is not None
    if plan is None:
        plan = {"key": key, "pages": 0, "cursor": first_cursor, "done": False}
    else:
        store.clean_temporaries()
        log.info("resuming the interrupted %s retrieval in %s after page %d", source,
                 store.path, plan["pages"])
    started = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    while not plan["done"]:
        number = plan["pages"] + 1
        body, cursor, ext = fetch(client, plan["cursor"], number)
        store.write_page(number, ext, body)
        plan = {**plan, "pages": number, "cursor": cursor, "done": cursor is None}
        store.save_plan(plan)
        log.info("%s page %d stored (%d requests, %d retries)", source, number,
                 client.stats.requests, client.stats.retries)
    pages = store.batch_files()
    provenance = {
        "source": source,
        "search": spec,
        "search_date": spec.get("date"),
        "count": count_records(store.path),
        "pages": len(pages),
        "files": file_entries(pages),
        "base_url": public_url(client.base_url),
        "requests": client.stats.requests,
        "retries": client.stats.retries,
        "retry_reasons": dict(sorted(client.stats.retry_reasons.items())),
        "resumed": resumed,
        "started_at": started,
        "retrieved_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "sysrev_version": version_of("sysrev"),
        **(extra(pages) if extra else {}),
    }
    store.commit(provenance)
    log.info("%s snapshot %s written: %d records in %d pages", source, final,
             provenance["count"], len(pages))
    return provenance


__all__ = ["SOURCES", "PRISMA_ARM", "DISPLAY_NAME", "SourceAdapter", "PageStore",
           "HttpSettings", "RestClient", "RetrievalError", "verify_snapshot",
           "read_provenance_checked", "read_records", "retrieve_pages", "parse_json_page",
           "snapshot_dates", "previous_snapshot", "resolve_url", "data_files"]
