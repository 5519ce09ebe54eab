"""ClinicalTrials.gov API v2: the register search (PRISMA 2020's "registers" box).

``GET <base>/studies`` with the search's ``query.*`` and ``filter.*`` parameters,
``pageSize`` and ``countTotal=true``; each answer is JSON ``{"studies": [...],
"nextPageToken": "...", "totalCount": n}`` (``totalCount`` on the first page only, no
``nextPageToken`` on the last), and the next page is asked with ``pageToken``. Each study is
the API's nested record: ``protocolSection.identificationModule.nctId`` (the record id),
``statusModule.lastUpdatePostDateStruct.date`` (the registration's version date, which tells
a changed registration from an unchanged one in an update) and ``referencesModule.references``
(publications the registration cites, with their PMIDs). No API key exists; requests are
paced (``rate``), and the e-mail goes in the User-Agent.
"""

from __future__ import annotations

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

DEFAULT_BASE_URL = "https://clinicaltrials.gov/api/v2/"
BASE_URL_ENV = "SYSREV_CTGOV_URL"
#: The search keys of the configuration that are sent as ``query.<key>``/``filter.<key>``.
QUERY_KEYS = ("cond", "term", "intr", "titles", "outc", "spons", "lead", "id", "locn",
              "patient")
FILTER_KEYS = ("overallStatus", "advanced", "ids", "geo")


#: The date a search is cut at. ``StudyFirstPostDate`` (the day the registration was first
#: posted) never changes once set, so a rerun of the search of a past date answers the same
#: registrations (changed ones in their newer versions). ``LastUpdatePostDate`` would not
#: do: it moves with every update, so a registration posted before the search date but
#: updated after it would drop out of a rerun, and one first posted after it could enter.
DATE_AREA = "StudyFirstPostDate"


def normalise_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The search with its defaults filled in (what a snapshot records and is compared on)."""
    return {"query": dict(spec.get("query") or {}), "filter": dict(spec.get("filter") or {}),
            "date": spec.get("date"), "start_date": spec.get("start_date")}


def date_filter(spec: dict[str, Any]) -> str | None:
    """The API's date limit of a search (Essie ``AREA[StudyFirstPostDate]RANGE[start,
    date]``, ``MIN`` without a start date), or None without a search date."""
    if not spec.get("date"):
        return None
    return f"AREA[{DATE_AREA}]RANGE[{spec.get('start_date') or 'MIN'},{spec['date']}]"


def request_params(spec: dict[str, Any]) -> dict[str, str]:
    """The API's parameters for a configured search (``query`` and ``filter`` maps), with
    the search's date limit joined to ``filter.advanced`` (``AND`` with a configured one)."""
    params = {f"query.{k}": str(v) for k, v in sorted((spec.get("query") or {}).items())}
    params.update({f"filter.{k}": str(v)
                   for k, v in sorted((spec.get("filter") or {}).items())})
    limit = date_filter(spec)
    if limit:
        own = params.get("filter.advanced")
        params["filter.advanced"] = f"({own}) AND {limit}" if own else limit
    return params


def first_posted(study: dict[str, Any]) -> str | None:
    """The day a registration was first posted (``studyFirstPostDateStruct.date``)."""
    return _date_of(_module(study, "statusModule").get("studyFirstPostDateStruct"))


def outside_window(study: dict[str, Any], spec: dict[str, Any]) -> bool:
    """A study the server should not have returned: first posted after the search date (or
    before the start date). A month-only date (``2025-06``) is compared as its first day."""
    posted = first_posted(study)
    if not posted or not spec.get("date"):
        return False
    day = posted if len(posted) > 7 else posted + "-01"
    return day > str(spec["date"]) or bool(spec.get("start_date")
                                           and day < str(spec["start_date"]))


def check_page(body: bytes) -> dict[str, Any]:
    """A studies page as documented, or a retryable error."""
    page = parse_json_page(body)
    if not isinstance(page, dict) or not isinstance(page.get("studies"), list):
        raise ResponseError("not a ClinicalTrials.gov studies page (no 'studies' list)")
    for study in page["studies"]:
        if not _nct(study):
            raise ResponseError("a study without protocolSection.identificationModule.nctId",
                                retryable=False)
    return page


def _nct(study: dict[str, Any]) -> str | None:
    try:
        return study["protocolSection"]["identificationModule"]["nctId"]
    except (KeyError, TypeError):
        return None


def _module(study: dict[str, Any], name: str) -> dict[str, Any]:
    return (study.get("protocolSection") or {}).get(name) or {}


def _date_of(struct: dict[str, Any] | None) -> str | None:
    return (struct or {}).get("date") or None


def retrieve(spec: dict[str, Any], snapshot_dir: str | Path, settings: HttpSettings, *,
             sleep=None, rng=None) -> dict[str, Any]:
    """Retrieve a ClinicalTrials.gov search into its frozen snapshot (see
    :func:`sysrev.search.adapters.retrieve_pages`)."""
    spec = normalise_spec(spec)
    kwargs = {"sleep": sleep} if sleep else {}
    client = RestClient(settings, source="ClinicalTrials.gov", search_date=spec.get("date"),
                        snapshot_dir=str(snapshot_dir), rng=rng, **kwargs)
    base = {**request_params(spec), "format": "json", "pageSize": settings.page_size,
            "countTotal": "true"}
    def fetch(client: RestClient, cursor: str | None, number: int):
        params = dict(base) if not cursor else {**base, "pageToken": cursor}
        body, page = client.get("studies", params, lambda b: (b, check_page(b)),
                                f"page {number}")
        return body, page.get("nextPageToken") or None, "json"

    def extra(pages: list[Path]) -> dict[str, Any]:
        notes = []
        stored = sum(len(json.loads(p.read_bytes())["studies"]) for p in pages)
        first = json.loads(pages[0].read_bytes()) if pages else {}
        total = first.get("totalCount")
        if total is not None and int(total) != stored:
            notes.append(f"the first page counted {total} studies, the pages held {stored} "
                         "(the register changed during the retrieval)")
        late = sum(outside_window(s, spec) for p in pages
                   for s in json.loads(p.read_bytes())["studies"])
        if late:
            notes.append(f"{late} studies returned were first posted outside the search's "
                         "dates; they are left out of the record table")
        return {"request_parameters": {k: v for k, v in base.items()},
                "date_limit": date_filter(spec), "outside_search_dates": late,
                "total_count": total, "notes": notes,
                "api": "ClinicalTrials.gov API v2 /studies"}

    return retrieve_pages(source="ctgov", spec=spec, snapshot_dir=snapshot_dir,
                          client=client, fetch=fetch, first_cursor="",
                          count_records=lambda folder: sum(1 for _ in _iter_studies(
                              data_files_in(folder))),
                          extra=extra)


def data_files_in(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).glob("page_*.json"))


def _iter_studies(pages: list[Path]) -> Iterator[tuple[Path, dict[str, Any]]]:
    """(page, study) of every stored study, one page in memory at a time."""
    for path in pages:
        try:
            page = json.loads(path.read_bytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(path, f"not a readable ClinicalTrials.gov page: {exc}") from None
        if not isinstance(page, dict) or not isinstance(page.get("studies"), list):
            raise InputError(path, "not a ClinicalTrials.gov studies page (no 'studies')")
        for study in page["studies"]:
            yield path, study


def dated_studies(folder: Path) -> list[dict[str, Any]]:
    """The snapshot's studies within its search's date window; any other (the server
    ignored the date limit, or the snapshot predates it) is left out and logged."""
    spec = (json.loads((Path(folder) / "provenance.json").read_bytes()).get("search") or {})
    kept, dropped = [], []
    for _, study in _iter_studies(data_files_in(Path(folder))):
        (dropped if outside_window(study, spec) else kept).append(study)
    for study in dropped:
        log.warning("ClinicalTrials.gov snapshot %s: %s was first posted on %s, outside the "
                    "search's dates (%s to %s); left out", folder, _nct(study),
                    first_posted(study), spec.get("start_date") or "MIN", spec.get("date"))
    return kept


def after_search_date(folder: Path) -> int:
    """How many stored studies fall outside the search's date window."""
    spec = (json.loads((Path(folder) / "provenance.json").read_bytes()).get("search") or {})
    return sum(outside_window(s, spec)
               for _, s in _iter_studies(data_files_in(Path(folder))))


def study_record(study: dict[str, Any]) -> dict[str, Any]:
    """One study as a record of the record table."""
    ident = _module(study, "identificationModule")
    status = _module(study, "statusModule")
    desc = _module(study, "descriptionModule")
    design = _module(study, "designModule")
    conditions = _module(study, "conditionsModule")
    officials = _module(study, "contactsLocationsModule").get("overallOfficials") or []
    sponsor = (_module(study, "sponsorCollaboratorsModule").get("leadSponsor") or {})
    authors = "; ".join(o["name"] for o in officials if o.get("name")) or sponsor.get("name")
    first_posted = _date_of(status.get("studyFirstPostDateStruct"))
    kinds = ["Clinical trial registration"] + ([design["studyType"].replace("_", " ").title()]
                                               if design.get("studyType") else [])
    return {
        "source_id": ident.get("nctId"),
        "title": ident.get("officialTitle") or ident.get("briefTitle"),
        "authors": authors,
        "year": first_posted[:4] if first_posted else None,
        "journal": "ClinicalTrials.gov",
        "publication_types": "; ".join(kinds),
        "mesh_terms": "; ".join(conditions.get("conditions") or []) or None,
        "abstract": desc.get("briefSummary"),
    }


def read(snapshot_dir: str | Path, spec: dict[str, Any] | None = None) -> pd.DataFrame:
    """The record table of a ClinicalTrials.gov snapshot (SHA-256 checked first); record ids
    are ``ctgov:<NCT id>``."""
    table = read_records(snapshot_dir, spec, source="ctgov", normalise=normalise_spec,
                         items=dated_studies, record=study_record, left_out=after_search_date)
    log.info("ClinicalTrials.gov snapshot %s: %d studies", snapshot_dir, len(table))
    return table


def versions(snapshot_dir: str | Path) -> dict[str, str]:
    """NCT id -> the registration's last update posted date (its version)."""
    out = {}
    for study in dated_studies(Path(snapshot_dir)):
        status = _module(study, "statusModule")
        out[_nct(study)] = (_date_of(status.get("lastUpdatePostDateStruct"))
                            or status.get("lastUpdateSubmitDate") or "")
    return out


def references(snapshot_dir: str | Path) -> list[tuple[str, str, str]]:
    """(NCT id, PMID, reference type) of every publication a registration cites."""
    out = []
    for study in dated_studies(Path(snapshot_dir)):
        for ref in _module(study, "referencesModule").get("references") or []:
            if ref.get("pmid"):
                out.append((_nct(study), str(ref["pmid"]), ref.get("type") or ""))
    return sorted(set(out))


__all__ = ["retrieve", "read", "versions", "references", "request_params", "study_record",
           "DEFAULT_BASE_URL", "BASE_URL_ENV"]
