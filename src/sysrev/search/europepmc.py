"""Europe PMC REST: a bibliographic database search that includes preprints.

``GET <base>/search`` with ``query``, ``format=json``, ``resultType=core``, ``pageSize``
(at most 1000), ``synonym=TRUE`` (as the website searches: "to replicate results from the
website, with the REST API you need to turn synonyms on") and ``cursorMark`` (``*`` first,
then each answer's ``nextCursorMark``; the last page gives back the cursor it was sent).
Each answer is JSON ``{"hitCount", "nextCursorMark", "request", "resultList": {"result":
[...]}}``; a result has ``id`` and ``source`` (``MED`` PubMed, ``PMC``, ``PPR`` preprints
…), ``pmid``, ``pmcid``, ``doi``, ``pubType`` and ``firstPublicationDate``.

The preprint filter is Europe PMC's own ``SRC:PPR``: ``preprints: exclude`` adds
``NOT SRC:PPR`` to the query, ``only`` adds ``AND SRC:PPR``, ``include`` (the default)
leaves it. Preprints are flagged (``Preprint`` among the record's publication types), so
that a preprint and its journal version become related reports
(:mod:`sysrev.related_reports`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any, Iterator

import pandas as pd

from sysrev.errors import InputError
from sysrev.search.adapters import (HttpSettings, RestClient, parse_json_page, read_records,
                                    retrieve_pages)
from sysrev.search.http_retry import ResponseError

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://www.ebi.ac.uk/europepmc/webservices/rest/"
BASE_URL_ENV = "SYSREV_EUROPEPMC_URL"
PREPRINT_FILTERS = {"include": "{q}", "exclude": "({q}) NOT SRC:PPR", "only": "({q}) AND SRC:PPR"}
#: Fields that make a record's version: a change of any of them is a changed record
#: (citation counts and full-text flags change daily and are not the record).
_VERSION_FIELDS = ("title", "authorString", "journalTitle", "journalInfo", "pageInfo", "doi",
                   "pmid", "pmcid", "pubType", "pubTypeList", "firstPublicationDate",
                   "abstractText")


#: The date field a search is cut at: ``FIRST_PDATE``, the record's first publication date
#: (returned as ``firstPublicationDate``, so the record side can check it), as PubMed's
#: default ``date_type: publication``. ``CREATION_DATE`` (when Europe PMC made the record)
#: is not in the search results, so a record the server should not have returned could not
#: be told from the others.
DATE_FIELD = "FIRST_PDATE"


def normalise_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The search with its defaults filled in (what a snapshot records and is compared on)."""
    return {"query": spec["query"], "date": spec.get("date"),
            "start_date": spec.get("start_date"),
            "preprints": spec.get("preprints") or "include",
            "synonym": bool(spec.get("synonym", True))}


def date_limit(spec: dict[str, Any]) -> str | None:
    """The search's date limit in Europe PMC syntax (``FIRST_PDATE:[start TO date]``, from
    1900-01-01 without a start date), or None without a search date."""
    if not spec.get("date"):
        return None
    return f"{DATE_FIELD}:[{spec.get('start_date') or '1900-01-01'} TO {spec['date']}]"


def full_query(spec: dict[str, Any]) -> str:
    """The query sent: the configured one with the preprint filter and the date limit."""
    query = PREPRINT_FILTERS[spec.get("preprints", "include")].format(q=spec["query"])
    limit = date_limit(spec)
    return f"({query}) AND {limit}" if limit else query


def outside_window(result: dict[str, Any], spec: dict[str, Any]) -> bool:
    """A result the server should not have returned: first published after the search
    date (or before the start date)."""
    day = result.get("firstPublicationDate")
    if not day or not spec.get("date"):
        return False
    return day > str(spec["date"]) or bool(spec.get("start_date")
                                           and day < str(spec["start_date"]))


def dated_results(folder: str | Path) -> list[dict[str, Any]]:
    """The snapshot's results within its search's dates; any other is left out, logged."""
    spec = json.loads((Path(folder) / "provenance.json").read_bytes()).get("search") or {}
    kept = []
    for result in _iter_results(_pages(folder)):
        if outside_window(result, spec):
            log.warning("Europe PMC snapshot %s: %s was first published on %s, outside the "
                        "search's dates (%s to %s); left out", folder, source_id(result),
                        result.get("firstPublicationDate"), spec.get("start_date") or "-",
                        spec.get("date"))
        else:
            kept.append(result)
    return kept


def after_search_date(folder: str | Path) -> int:
    """How many stored results fall outside the search's dates."""
    spec = json.loads((Path(folder) / "provenance.json").read_bytes()).get("search") or {}
    return sum(outside_window(r, spec) for r in _iter_results(_pages(folder)))


def check_page(body: bytes) -> dict[str, Any]:
    """A search page as documented, or a retryable error."""
    page = parse_json_page(body)
    if not isinstance(page, dict) or "resultList" not in page:
        if isinstance(page, dict) and page.get("errMsg"):
            raise ResponseError(f"Europe PMC: {page['errMsg']}", retryable=False)
        raise ResponseError("not a Europe PMC search page (no 'resultList')")
    results = (page.get("resultList") or {}).get("result")
    if not isinstance(results, list):
        raise ResponseError("not a Europe PMC search page (no 'resultList.result' list)")
    for result in results:
        if not result.get("id") or not result.get("source"):
            raise ResponseError("a result without 'id' or 'source'", retryable=False)
    return page


def retrieve(spec: dict[str, Any], snapshot_dir: str | Path, settings: HttpSettings, *,
             sleep=None, rng=None) -> dict[str, Any]:
    """Retrieve a Europe PMC search into its frozen snapshot."""
    spec = normalise_spec(spec)
    kwargs = {"sleep": sleep} if sleep else {}
    client = RestClient(settings, source="Europe PMC", search_date=spec.get("date"),
                        snapshot_dir=str(snapshot_dir), rng=rng, **kwargs)
    base = {"query": full_query(spec), "format": "json", "resultType": "core",
            "pageSize": settings.page_size,
            "synonym": "TRUE" if spec.get("synonym", True) else "FALSE"}

    def fetch(client: RestClient, cursor: str, number: int):
        body, page = client.get("search", {**base, "cursorMark": cursor},
                                lambda b: (b, check_page(b)), f"page {number}")
        nxt = page.get("nextCursorMark")
        done = (not nxt or nxt == cursor or not page["resultList"]["result"])
        return body, None if done else nxt, "json"

    def extra(pages: list[Path]) -> dict[str, Any]:
        first = json.loads(pages[0].read_bytes()) if pages else {}
        stored = sum(len(json.loads(p.read_bytes())["resultList"]["result"]) for p in pages)
        notes = []
        if first.get("hitCount") is not None and int(first["hitCount"]) != stored:
            notes.append(f"Europe PMC counted {first['hitCount']} hits, the pages held "
                         f"{stored} (the index changed during the retrieval)")
        late = sum(outside_window(r, spec) for p in pages
                   for r in json.loads(p.read_bytes())["resultList"]["result"])
        if late:
            notes.append(f"{late} results were first published outside the search's dates; "
                         "they are left out of the record table")
        return {"request_parameters": base, "date_limit": date_limit(spec),
                "outside_search_dates": late, "hit_count": first.get("hitCount"),
                "notes": notes, "api": "Europe PMC RESTful API /search"}

    return retrieve_pages(source="europepmc", spec=spec, snapshot_dir=snapshot_dir,
                          client=client, fetch=fetch, first_cursor="*",
                          count_records=lambda folder: sum(
                              1 for _ in _iter_results(_pages(folder))),
                          extra=extra)


def _pages(folder: str | Path) -> list[Path]:
    return sorted(Path(folder).glob("page_*.json"))


def _iter_results(pages: list[Path]) -> Iterator[dict[str, Any]]:
    """Every stored result, one page in memory at a time."""
    for path in pages:
        try:
            page = json.loads(path.read_bytes().decode("utf-8"))
            results = page["resultList"]["result"]
            iter(results)
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(path, f"not a readable Europe PMC search page: {exc}") from None
        yield from results


def source_id(result: dict[str, Any]) -> str:
    """Europe PMC's own key of a record: ``<source>-<id>`` (``MED-36419237``,
    ``PPR-PPR123456``)."""
    return f"{result['source']}-{result['id']}"


def pub_types(result: dict[str, Any]) -> list[str]:
    listed = (result.get("pubTypeList") or {}).get("pubType")
    if isinstance(listed, list):
        return [str(t) for t in listed]
    return [t.strip() for t in str(result.get("pubType") or "").split(";") if t.strip()]


def is_preprint(result: dict[str, Any]) -> bool:
    """A preprint: Europe PMC source ``PPR`` or publication type ``preprint``."""
    return result.get("source") == "PPR" or any(t.lower() == "preprint"
                                                for t in pub_types(result))


def result_record(result: dict[str, Any]) -> dict[str, Any]:
    """One Europe PMC result as a record of the record table."""
    journal = result.get("journalInfo") or {}
    kinds = pub_types(result)
    if is_preprint(result) and "Preprint" not in kinds:
        kinds = ["Preprint"] + [k for k in kinds if k.lower() != "preprint"]
    return {
        "source_id": source_id(result),
        "pmid": result.get("pmid"),
        "doi": result.get("doi"),
        "title": result.get("title"),
        "authors": result.get("authorString"),
        "year": result.get("pubYear") or (result.get("firstPublicationDate") or "")[:4],
        "journal": ((journal.get("journal") or {}).get("title") or result.get("journalTitle")
                    or (result.get("bookOrReportDetails") or {}).get("publisher")),
        "volume": journal.get("volume") or result.get("journalVolume"),
        "issue": journal.get("issue") or result.get("issue"),
        "pages": result.get("pageInfo"),
        "publication_types": "; ".join(kinds) or None,
        "language": result.get("language"),
        "abstract": result.get("abstractText"),
    }


def read(snapshot_dir: str | Path, spec: dict[str, Any] | None = None) -> pd.DataFrame:
    """The record table of a Europe PMC snapshot (SHA-256 checked first); record ids are
    ``europepmc:<source>-<id>``."""
    table = read_records(snapshot_dir, spec, source="europepmc", normalise=normalise_spec,
                         items=dated_results, record=result_record, left_out=after_search_date)
    log.info("Europe PMC snapshot %s: %d records (%d preprints)", snapshot_dir, len(table),
             int(table["publication_types"].fillna("").str.startswith("Preprint").sum()))
    return table


def versions(snapshot_dir: str | Path) -> dict[str, str]:
    """Europe PMC key -> a digest of the record's bibliographic fields (its version)."""
    out = {}
    for result in dated_results(snapshot_dir):
        kept = {k: result.get(k) for k in _VERSION_FIELDS if k in result}
        blob = json.dumps(kept, sort_keys=True, ensure_ascii=False).encode("utf-8")
        out[source_id(result)] = hashlib.sha256(blob).hexdigest()[:16]
    return out


def identifiers(snapshot_dir: str | Path) -> list[tuple[str, ...]]:
    """(Europe PMC key, PMID, PMCID, DOI, yes/no preprint, first publication date) of each
    record: the ids the record table has no column for (PMCID) with the preprint flag."""
    return [(source_id(r), r.get("pmid") or "", r.get("pmcid") or "", r.get("doi") or "",
             "yes" if is_preprint(r) else "no", r.get("firstPublicationDate") or "")
            for r in dated_results(snapshot_dir)]


def preprint_ids(snapshot_dir: str | Path) -> set[str]:
    """Europe PMC keys of the preprints in a snapshot."""
    return {source_id(r) for r in dated_results(snapshot_dir) if is_preprint(r)}
