"""Live PubMed retrieval through E-utilities with Bio.Entrez, into a frozen snapshot.

How a search is retrieved (:func:`retrieve_snapshot`):

1. esearch with the history server over the whole date window; when PubMed counts more hits
   than E-utilities pages through (:data:`~sysrev.search.windows.MAX_RETRIEVABLE`), the
   window is cut into date windows, recursively, until each fits. Each window's esearch
   keeps its WebEnv/QueryKey and returns its PMIDs, which is what every batch is checked
   against and what makes the union exact (a record in two windows is stored once). Each
   window's PMIDs are written to the partial folder as its esearch answers
   (``pmids_w<window>.txt``), so the plan holds counts, not PMIDs, and the fetch holds one
   window's PMIDs at a time; which PMIDs earlier windows hold is a bitmap
   (:class:`sysrev.search.pmid_set.PmidSet`), so memory does not grow with the search.
2. efetch of each window in batches of ``batch_size`` PubmedArticleSet records; every batch
   is checked (complete XML, the record count asked for, PMIDs of the window) and written
   atomically to ``<date>.partial/`` (:mod:`sysrev.search.batch_store`).
3. When every batch is in, the batches' PMIDs are checked against the windows' (each once,
   none missing), ``pmids.txt`` lists them in numeric order, ``provenance.json`` is written
   with its SHA-256 (``pmid_list``) and every batch's, and the folder is renamed to
   ``<date>/``. An interrupted run resumes from the batches present.

Requests are spaced to NCBI's limit (3/s, 10/s with an API key) and retried with
exponential backoff and jitter on HTTP 429 and 5xx, timeouts, dropped connections,
truncated or non-XML answers, ``<ERROR>`` bodies and wrong record counts.

Where the server is: Bio.Entrez 1.88 has no module-level base URL (each of ``esearch``,
``efetch`` … hard-codes ``https://eutils.ncbi.nlm.nih.gov/entrez/eutils/``) and its
``_open`` has no timeout and retries 15 s apart without jitter. So this module builds each
request with Bio.Entrez's own ``_build_request`` (which adds ``tool``, ``email`` and
``api_key`` from ``Bio.Entrez``'s settings) on a URL made from :func:`resolve_base_url`,
the one place the configured base URL and ``SYSREV_EUTILS_URL`` are applied, and sends it
with a timeout. Requests are POSTs, so the API key is never part of a URL; the key is also
struck from every log message and error.
"""

from __future__ import annotations

import io
import json
import logging
import math
import os
import re
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

from Bio import Entrez

from sysrev.errors import InputError
from sysrev.search.adapters import public_url, resolve_url, verify_snapshot
from sysrev.search.batch_store import PROVENANCE, PartialSnapshot, write_atomic
from sysrev.search.efetch_scan import (EutilsResponseError, NcbiError, ScannedSet,
                                       TruncatedXMLError, scan_pubmed_set, without_articles)
from sysrev.search.http_retry import RequestStats, ResponseError, RetrievalError, Retrying
from sysrev.search.http_retry import log as retry_log
from sysrev.search.offline import NoNetwork
from sysrev.search.pmid_set import PMID_LIST, PmidSet, list_lines, read_pmid_file
from sysrev.search.ratelimit import RateLimiter, default_rate
from sysrev.search.snapshot import check_query, check_window, read_provenance
from sysrev.search.windows import (DATE_TYPES, MAX_RETRIEVABLE, DateWindow, parse_date,
                                   search_window, split_window)
from sysrev.tables import sha256_file

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
BASE_URL_ENV = "SYSREV_EUTILS_URL"
API_KEY_ENV = "NCBI_API_KEY"
REDACTED = "[NCBI_API_KEY]"


class EntrezError(RetrievalError):
    """E-utilities could not give what was asked, after retries; the message says why."""


def resolve_base_url(configured: str | None = None) -> str:
    """The E-utilities base URL: ``SYSREV_EUTILS_URL`` if set, else ``configured``."""
    return resolve_url(BASE_URL_ENV, configured, DEFAULT_BASE_URL)


def api_key_from_env() -> str | None:
    """The NCBI API key, read only from the environment (never from config or files)."""
    return os.environ.get(API_KEY_ENV) or None


@dataclass(frozen=True)
class EntrezSettings:
    """How to talk to E-utilities.

    ``rate`` is requests per second; ``"ncbi"`` applies NCBI's limit (3/s, 10/s with an API
    key) and ``None`` removes the limit (only for a local test server).
    ``split_threshold`` is the most hits a date window may hold; tests lower it to exercise
    the splitting on a few hundred records.
    """

    base_url: str = DEFAULT_BASE_URL
    email: str = ""
    api_key: str | None = None
    batch_size: int = 500
    timeout: float = 60.0
    max_tries: int = 8
    backoff_base: float = 1.0
    backoff_cap: float = 60.0
    rate: float | str | None = "ncbi"
    split_threshold: int = MAX_RETRIEVABLE
    tool: str = "sysrev"

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= 10000:
            raise ValueError("batch_size must be between 1 and 10000")
        if not 1 <= self.split_threshold <= MAX_RETRIEVABLE:
            raise ValueError(f"split_threshold must be between 1 and {MAX_RETRIEVABLE}")
        if self.max_tries < 1:
            raise ValueError("max_tries must be at least 1")


@dataclass(frozen=True)
class EsearchResult:
    """What one esearch said."""

    count: int
    pmids: tuple[str, ...]
    webenv: str | None
    query_key: str | None
    query_translation: str | None
    phrases_not_found: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


class _RedactKey(logging.Filter):
    def __init__(self, key: str):
        super().__init__()
        self.key = key

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.key in message:
            record.msg, record.args = message.replace(self.key, REDACTED), ()
        return True


def parse_esearch(data: bytes, *, retmax: int | None = None) -> EsearchResult:
    """Read an esearch answer with Bio.Entrez and check it.

    A count of 0 with ``PhraseNotFound`` is a valid empty result (the phrases are kept);
    an ``<ERROR>`` body, truncated XML, HTML or an ID list shorter than asked are errors a
    retry may fix.
    """
    try:
        result = Entrez.read(io.BytesIO(data))
    except RuntimeError as exc:  # how Bio.Entrez reports an <ERROR> element
        raise NcbiError(f"E-utilities error: {exc}") from None
    except Exception as exc:  # Bio.Entrez raises several parser error types
        head = data[:200].decode("utf-8", "replace").strip().splitlines()
        raise EutilsResponseError(
            f"not a readable eSearchResult ({type(exc).__name__}: {exc}); "
            f"answer began {head[0][:80] if head else ''!r}") from None
    if not hasattr(result, "get"):
        raise EutilsResponseError("not an eSearchResult")
    if result.get("ERROR"):
        raise NcbiError(f"E-utilities error: {result['ERROR']}")
    if "Count" not in result:
        raise EutilsResponseError("an eSearchResult without a Count")
    count = int(result["Count"])
    pmids = tuple(str(i) for i in result.get("IdList", []))
    error_list = result.get("ErrorList") or {}
    warning_list = result.get("WarningList") or {}
    phrases = tuple(str(p) for p in error_list.get("PhraseNotFound", []))
    warnings = tuple(str(w) for key in ("OutputMessage", "QuotedPhraseNotFound",
                                        "PhraseIgnored") for w in warning_list.get(key, []))
    if retmax is not None and len(pmids) != min(count, retmax):
        raise EutilsResponseError(f"esearch counted {count} hits but listed {len(pmids)} "
                                  f"PMIDs where {min(count, retmax)} were asked for")
    return EsearchResult(count=count, pmids=pmids,
                         webenv=str(result["WebEnv"]) if result.get("WebEnv") else None,
                         query_key=str(result["QueryKey"]) if result.get("QueryKey") else None,
                         query_translation=(str(result["QueryTranslation"])
                                            if result.get("QueryTranslation") else None),
                         phrases_not_found=phrases, warnings=warnings)


def _ncbi_message(body: bytes) -> str:
    """NCBI's own words from an error body (JSON ``error`` or an XML ``<ERROR>``)."""
    text = body.decode("utf-8", "replace").strip()
    try:
        parsed = json.loads(text)
        if isinstance(parsed, dict) and parsed.get("error"):
            detail = ", ".join(f"{k} {parsed[k]}" for k in ("count", "limit") if k in parsed)
            return f"{parsed['error']}" + (f" ({detail})" if detail else "")
    except ValueError:
        pass
    start, end = text.find("<ERROR>"), text.find("</ERROR>")
    if 0 <= start < end:
        return text[start + 7:end].strip()
    return " ".join(re.sub(r"<[^>]+>", " ", text).split())[:120]


class EntrezClient:
    """esearch and efetch against one E-utilities server, paced and retried.

    ``sleep`` and ``rng`` are injectable so that tests run without waiting.
    """

    def __init__(self, settings: EntrezSettings, *, sleep: Callable[[float], None] = time.sleep,
                 rng=None, no_network: NoNetwork | None = None):
        self.settings = settings
        self.base_url = settings.base_url if settings.base_url.endswith("/") \
            else settings.base_url + "/"
        self.stats = RequestStats()
        self._sleep = sleep
        self._rng = rng
        rate = default_rate(bool(settings.api_key)) if settings.rate == "ncbi" else settings.rate
        self.limiter = RateLimiter(rate, sleep=sleep)
        # Bio.Entrez adds these to every request it builds (_construct_params).
        Entrez.email = settings.email or None
        Entrez.api_key = settings.api_key
        Entrez.tool = settings.tool
        self._filter = _RedactKey(settings.api_key) if settings.api_key else None
        if self._filter:
            log.addFilter(self._filter)
            retry_log.addFilter(self._filter)
        self.retrying = Retrying(max_tries=settings.max_tries, timeout=settings.timeout,
                                 backoff_base=settings.backoff_base,
                                 backoff_cap=settings.backoff_cap, limiter=self.limiter,
                                 sleep=sleep, rng=rng, stats=self.stats, scrub=self.scrub,
                                 http_message=_ncbi_message, error=EntrezError,
                                 no_network=no_network)

    def close(self) -> None:
        if self._filter:
            log.removeFilter(self._filter)
            retry_log.removeFilter(self._filter)
            self._filter = None

    def __enter__(self) -> "EntrezClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def scrub(self, text: str) -> str:
        """``text`` without the API key."""
        key = self.settings.api_key
        return text.replace(key, REDACTED) if key else text

    # -- one request, retried -------------------------------------------------------------
    def _url(self, utility: str) -> str:
        return f"{self.base_url}{utility}.fcgi"

    def request(self, utility: str, params: dict[str, Any],
                check: Callable[[bytes], Any], what: str) -> Any:
        """POST ``params`` to ``utility`` and return ``check(body)``, retrying transient
        failures up to ``max_tries`` times (:class:`sysrev.search.http_retry.Retrying`)."""

        def build():
            return Entrez._build_request(self._url(utility), dict(params), post=True)

        def checked(body: bytes) -> Any:
            try:
                return check(body)
            except EutilsResponseError as exc:
                raise ResponseError(str(exc), retryable=exc.retryable,
                                    kind=_KINDS.get(type(exc), "bad answer")) from None

        return self.retrying.request(utility, build, checked, what)

    # -- the two E-utilities ------------------------------------------------------------
    def esearch(self, term: str, window: DateWindow, *, datetype: str, db: str = "pubmed",
                retmax: int) -> EsearchResult:
        """esearch with the history server over one date window, listing up to ``retmax``
        PMIDs."""
        params = {"db": db, "term": term, "usehistory": "y", "retmax": retmax,
                  "datetype": datetype, "mindate": window.mindate, "maxdate": window.maxdate}

        def check(body: bytes) -> EsearchResult:
            result = parse_esearch(body, retmax=retmax)
            if result.count and not (result.webenv and result.query_key):
                raise EutilsResponseError("esearch gave no WebEnv/QueryKey for its hits")
            return result

        return self.request("esearch", params, check, f"[{window.label()}]")

    def efetch(self, search: EsearchResult, retstart: int, retmax: int, *,
               allowed: set[str] | frozenset[str], db: str = "pubmed",
               what: str = "") -> tuple[bytes, ScannedSet]:
        """One efetch batch of PubmedArticleSet XML from a history-server result set.

        The batch must be complete XML with exactly ``retmax`` records, no PMID twice, and
        every PMID among ``allowed`` (the window's esearch PMIDs); otherwise it is retried.
        """
        params = {"db": db, "WebEnv": search.webenv, "query_key": search.query_key,
                  "retstart": retstart, "retmax": retmax, "rettype": "xml", "retmode": "xml"}

        def check(body: bytes) -> tuple[bytes, ScannedSet]:
            scanned = scan_pubmed_set(body)
            if len(scanned) != retmax:
                raise EutilsResponseError(f"asked for {retmax} records, got {len(scanned)}")
            pmids = scanned.pmids
            if len(set(pmids)) != len(pmids):
                raise EutilsResponseError("the same PMID twice in one batch")
            strangers = [p for p in pmids if p not in allowed]
            if strangers:
                raise EutilsResponseError(f"PMIDs the search did not list: {strangers[:5]}")
            return body, scanned

        return self.request("efetch", params, check, what or f"records {retstart + 1}-"
                                                             f"{retstart + retmax}")


_KINDS = {TruncatedXMLError: "truncated XML", NcbiError: "NCBI error"}


# -- a whole search ----------------------------------------------------------------------
@dataclass(frozen=True)
class SearchSpec:
    """What a snapshot answers: the query and its date window."""

    query: str
    search_date: str
    start_date: str | None = None
    date_type: str = "publication"
    database: str = "pubmed"

    @property
    def datetype(self) -> str:
        return DATE_TYPES[self.date_type]

    def key(self, batch_size: int) -> dict[str, Any]:
        """What a partial retrieval must share with this one to be resumed."""
        return {"database": self.database, "query": self.query,
                "search_date": self.search_date, "start_date": self.start_date,
                "date_type": self.date_type, "batch_size": batch_size}


def plan_windows(client: EntrezClient, spec: SearchSpec, store: PartialSnapshot | None = None
                 ) -> tuple[EsearchResult, list[tuple[DateWindow, EsearchResult]]]:
    """esearch the whole window, then cut it until every window holds at most the
    split threshold; return the whole search's answer and the windows with theirs, in date
    order.

    With ``store``, each window's PMIDs are written to the partial folder as soon as its
    esearch answers (:meth:`PartialSnapshot.write_pmids`, window numbers from 1 in date
    order) and its answer is returned without them, so that the plan of a search of any
    size holds no PMIDs (at most one split's answers, each at most the split threshold).
    """
    limit = client.settings.split_threshold
    whole = search_window(spec.search_date, spec.start_date)
    first = client.esearch(spec.query, whole, datetype=spec.datetype, db=spec.database,
                           retmax=limit)
    log.info("esearch %s: %d hits (%s)", whole.label(), first.count,
             "one window" if first.count <= limit else f"more than {limit}: cutting by date")
    if store is not None:
        store.remove_window_pmids()
    pending = [(whole, first)]
    windows: list[tuple[DateWindow, EsearchResult]] = []
    while pending:
        window, result = pending.pop(0)
        if result.count <= limit:
            # pending is in date order and a cut window's parts replace it in place, so
            # windows come out in date order (checked: the window files are numbered so).
            if windows and not windows[-1][0].start < window.start:
                raise EntrezError(f"date windows out of order at {window.label()}")
            if store is not None:
                store.write_pmids(len(windows) + 1, result.pmids)
                result = replace(result, pmids=())
            windows.append((window, result))
            continue
        try:
            parts = split_window(window, result.count, limit)
        except ValueError as exc:
            raise EntrezError(str(exc)) from None
        answers = []
        for part in parts:
            answer = client.esearch(spec.query, part, datetype=spec.datetype,
                                    db=spec.database, retmax=limit)
            log.info("esearch %s: %d hits", part.label(), answer.count)
            answers.append((part, answer))
        pending = answers + pending
    return replace(first, pmids=()) if store is not None else first, windows


def _window_entry(window: DateWindow, result: EsearchResult, index: int) -> dict[str, Any]:
    return {"mindate": window.mindate, "maxdate": window.maxdate, "count": result.count,
            "pmids_file": f"pmids_w{index:04d}.txt"}


def _window_pmids(store: PartialSnapshot, entry: dict[str, Any], index: int) -> list[str]:
    """A window's PMIDs as its esearch listed them (from its file; a plan written by an
    older sysrev holds them inline)."""
    if "pmids" in entry:
        return [str(p) for p in entry["pmids"]]
    path = store.pmids_path(index)
    try:
        pmids = read_pmid_file(path)
    except FileNotFoundError:
        raise EntrezError(f"{path} is missing: the interrupted retrieval in {store.path} "
                          "cannot be resumed; remove that folder to start again") from None
    if len(pmids) != entry["count"]:
        raise EntrezError(f"{path} lists {len(pmids)} PMIDs where the window's esearch "
                          f"counted {entry['count']}; remove {store.path} to start again")
    return pmids


def _window(entry: dict[str, Any]) -> DateWindow:
    return DateWindow(parse_date(entry["mindate"]), parse_date(entry["maxdate"]))


def retrieve_snapshot(spec: SearchSpec, snapshot_dir: str | Path,
                      settings: EntrezSettings, *, sleep: Callable[[float], None] = time.sleep,
                      rng=None) -> dict[str, Any]:
    """Retrieve a PubMed search into the frozen snapshot ``snapshot_dir``; return its
    provenance.

    A snapshot that exists is used as it is: nothing is requested; its files must match
    their SHA-256 (:func:`sysrev.search.adapters.verify_snapshot`), and a snapshot made
    with another query, start date or date type is an error
    (:func:`sysrev.search.snapshot.check_query`, :func:`~.snapshot.check_window`).
    Otherwise the search is fetched into ``<snapshot_dir>.partial/``, resuming what an
    interrupted run left there, and renamed to ``snapshot_dir`` when complete.

    Raises
    ------
    EntrezError
        When E-utilities keeps failing; the batches already fetched stay for the next run.
    InputError
        When the snapshot exists with another query, or its folder exists without a
        ``provenance.json``.
    """
    final = Path(snapshot_dir)
    if (final / PROVENANCE).is_file():
        # As for every source's existing snapshot (adapters.retrieve_pages): its files
        # checked against their digests, and the same search (query and dates) asked.
        provenance = read_provenance(final)
        verify_snapshot(final, provenance)
        check_query(provenance, spec.query, final)
        check_window(provenance, final, start_date=spec.start_date, date_type=spec.date_type)
        log.info("PubMed snapshot %s exists: used as it is, nothing requested", final)
        return provenance
    if final.is_dir() and any(final.iterdir()):
        raise InputError(final, "the snapshot folder has files but no provenance.json; "
                                "snapshots are never overwritten: move the folder away or "
                                "set search.pubmed.date to a new date")
    store = PartialSnapshot(final)
    started = time.monotonic()
    no_network = NoNetwork("PubMed", spec.search_date, public_url(settings.base_url),
                           str(final))
    with EntrezClient(settings, sleep=sleep, rng=rng, no_network=no_network) as client:
        log.info("PubMed retrieval for %s from %s (batch %d, %s)", final,
                 public_url(client.base_url), settings.batch_size,
                 "API key from NCBI_API_KEY" if settings.api_key else "no API key")
        key = spec.key(settings.batch_size)
        plan = store.resume_plan(key)
        live: dict[int, EsearchResult] = {}
        resumed = plan is not None
        if plan is None:
            first, windows = plan_windows(client, spec, store)
            plan = {"key": key, "count": first.count,
                    "query_translation": first.query_translation,
                    "phrases_not_found": list(first.phrases_not_found),
                    "warnings": list(first.warnings),
                    "windows": [_window_entry(w, r, i)
                                for i, (w, r) in enumerate(windows, start=1)]}
            live = {i: r for i, (_, r) in enumerate(windows, start=1)}
            store.save_plan(plan)
        else:
            store.clean_temporaries()
            log.info("resuming the interrupted retrieval in %s: %d batch %s already there",
                     store.path, len(store.batch_files()),
                     "file" if len(store.batch_files()) == 1 else "files")
        plan, live = _fetch_all(client, spec, store, plan, live, started)
        provenance = _provenance(spec, settings, client, plan, store, resumed)
        store.commit(provenance)
    log.info("PubMed snapshot %s written: %d records in %d file%s, %d requests, %d retries",
             final, provenance["count"], len(provenance["files"]),
             "" if len(provenance["files"]) == 1 else "s", client.stats.requests,
             client.stats.retries)
    return provenance


def _fetch_all(client: EntrezClient, spec: SearchSpec, store: PartialSnapshot,
               plan: dict[str, Any], live: dict[int, EsearchResult], started: float
               ) -> tuple[dict[str, Any], dict[int, EsearchResult]]:
    """Fetch every batch not yet in ``store``, window by window.

    One window's PMIDs at a time are in memory (read from its file); which of them an
    earlier window already holds is known from a :class:`PmidSet` of the windows before.
    """
    batch_size = client.settings.batch_size
    windows = plan["windows"]
    sizes = [math.ceil(w["count"] / batch_size) for w in windows]
    total_batches = sum(sizes)
    done = sum(1 for i, n in enumerate(sizes, 1) for b in range(1, n + 1)
               if store.has_batch(i, b))
    records_done = 0
    seen = PmidSet()
    for index, (entry, n_batches) in enumerate(zip(windows, sizes), start=1):
        pmids = _window_pmids(store, entry, index)
        drop = {p for p in pmids if p in seen}
        seen.update(pmids)
        missing = [b for b in range(1, n_batches + 1) if not store.has_batch(index, b)]
        if not missing:
            continue
        search = live.get(index)
        if search is None:
            # A resumed window: the old WebEnv may have expired, so search again and make
            # sure PubMed still gives the same records, or the stored batches would not fit.
            window = _window(entry)
            search = client.esearch(spec.query, window, datetype=spec.datetype,
                                    db=spec.database, retmax=client.settings.split_threshold)
            if search.count != entry["count"] or set(search.pmids) != set(pmids):
                log.warning("PubMed's answer for %s changed since the interrupted run (%d -> "
                            "%d hits); starting the retrieval again", window.label(),
                            entry["count"], search.count)
                store.reset()
                first, new_windows = plan_windows(client, spec, store)
                plan = {**plan, "count": first.count,
                        "query_translation": first.query_translation,
                        "windows": [_window_entry(w, r, i)
                                    for i, (w, r) in enumerate(new_windows, 1)]}
                store.save_plan(plan)
                return _fetch_all(client, spec, store, plan,
                                  {i: r for i, (_, r) in enumerate(new_windows, 1)}, started)
            search = replace(search, pmids=())
        allowed = frozenset(pmids)
        del pmids
        for batch in missing:
            retstart = (batch - 1) * batch_size
            retmax = min(batch_size, entry["count"] - retstart)
            body, scanned = client.efetch(
                search, retstart, retmax, allowed=allowed, db=spec.database,
                what=f"window {index}/{len(windows)} records {retstart + 1}-"
                     f"{retstart + retmax}")
            if drop & set(scanned.pmids):
                body = without_articles(body, scanned, drop)
            store.write_batch(index, batch, body)
            done += 1
            records_done += retmax
            elapsed = max(time.monotonic() - started, 1e-9)
            log.info("batch %d/%d (window %d/%d): %d records fetched in this run, %.0f "
                     "records/s, %d requests, %d retries", done, total_batches, index,
                     len(windows), records_done, records_done / elapsed,
                     client.stats.requests, client.stats.retries)
    return plan, live


def _provenance(spec: SearchSpec, settings: EntrezSettings, client: EntrezClient,
                plan: dict[str, Any], store: PartialSnapshot, resumed: bool) -> dict[str, Any]:
    """The snapshot's provenance, after checking that the batches hold every PMID the
    windows listed, each once; writes the sorted PMID list (:data:`PMID_LIST`) beside the
    batches and removes the windows' PMID files. Batch by batch: no per-record list."""
    files = []
    stored = PmidSet()
    stored_records = 0
    for path in store.batch_files():
        pmids = scan_pubmed_set(path.read_bytes()).pmids
        stored_records += len(pmids)
        stored.update(pmids)
        files.append({"file": path.name, "records": len(pmids), "sha256": sha256_file(path)})
    expected = PmidSet()
    for index, entry in enumerate(plan["windows"], start=1):
        expected.update(_window_pmids(store, entry, index))
    if stored_records != len(stored) or stored != expected:
        raise EntrezError(f"the batches hold {stored_records} records ({len(stored)} "
                          f"distinct) but the search listed {len(expected)}; the partial "
                          f"retrieval is kept in {store.path}")
    write_atomic(store.path / PMID_LIST, list_lines(expected))
    store.remove_window_pmids()
    notes = []
    if len(expected) != plan["count"]:
        notes.append(f"the whole-window esearch counted {plan['count']} hits, the date "
                     f"windows {len(expected)} distinct PMIDs (PubMed changed during "
                     "the retrieval)")
    whole = search_window(spec.search_date, spec.start_date)
    return {
        "database": spec.database,
        "query": spec.query,
        "query_translation": plan.get("query_translation"),
        "search_date": spec.search_date,
        "start_date": spec.start_date,
        "date_type": spec.date_type,
        "datetype": spec.datetype,
        "mindate": whole.mindate,
        "maxdate": whole.maxdate,
        "count": len(expected),
        "esearch_count": plan["count"],
        "windows": [{"mindate": w["mindate"], "maxdate": w["maxdate"], "count": w["count"]}
                    for w in plan["windows"]],
        "phrases_not_found": plan.get("phrases_not_found", []),
        "warnings": plan.get("warnings", []),
        "pmid_list": {"file": PMID_LIST, "records": len(expected),
                      "sha256": sha256_file(store.path / PMID_LIST)},
        "files": files,
        "batch_size": settings.batch_size,
        "eutils_base_url": public_url(client.base_url),
        "api_key_used": bool(settings.api_key),
        "requests": client.stats.requests,
        "retries": client.stats.retries,
        "retry_reasons": dict(sorted(client.stats.retry_reasons.items())),
        "resumed": resumed,
        "retrieved_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "retrieval": "entrez",
        "notes": notes,
        "biopython_version": _version("biopython"),
        "sysrev_version": _version("sysrev"),
    }


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None
