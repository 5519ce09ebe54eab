"""Local stand-ins for ClinicalTrials.gov API v2, Europe PMC REST and Entrez elink.

They serve the documented response shapes (field names as in the APIs' documentation; see
each function), with paging, over synthetic records made up here from a seed: test
fixtures, not review data. Faults are injected as in :mod:`tests.eutils_server` (whose
server and fault handling they reuse), one per request in order::

    stub.faults["studies"] += ["429", "503", "timeout", "truncated", "drop", "html"]

Paths served:

- ``/api/v2/studies`` (ClinicalTrials.gov): ``query.term`` (a word every listed study
  holds), ``filter.advanced`` (only its ``AREA[StudyFirstPostDate]RANGE[a,b]`` is
  honoured), ``pageSize``, ``pageToken``, ``countTotal``; ``{"totalCount", "studies",
  "nextPageToken"}``; each study ``protocolSection`` with ``identificationModule``
  (``nctId``, ``briefTitle``, ``officialTitle``), ``statusModule``
  (``lastUpdatePostDateStruct``, ``studyFirstPostDateStruct``, ``overallStatus``),
  ``descriptionModule.briefSummary``, ``sponsorCollaboratorsModule.leadSponsor``,
  ``conditionsModule.conditions`` and ``referencesModule.references`` (``pmid``, ``type``,
  ``citation``).
- ``/europepmc/webservices/rest/search`` (Europe PMC): ``query`` (only its
  ``FIRST_PDATE:[a TO b]`` is honoured), ``format=json``,
  ``pageSize``, ``cursorMark``, ``synonym``, ``resultType``; ``{"version", "hitCount",
  "nextCursorMark", "request", "resultList": {"result": [...]}}`` with ``id``, ``source``
  (``MED`` or ``PPR``), ``pmid``, ``pmcid``, ``doi``, ``title``, ``authorString``,
  ``journalTitle`` (``journalInfo.journal.title`` in the core result type), ``pubYear``,
  ``pubType``, ``firstPublicationDate``, ``abstractText``. The last page's
  ``nextCursorMark`` is the cursor that was sent (as Europe PMC does).
- ``/entrez/eutils/elink.fcgi`` and ``efetch.fcgi`` with ``id`` (Entrez): an eLinkResult as
  in ``../shared/testdata/eutils/biopython_Entrez/elink*.xml`` with ``LinkSetDb``/``LinkName``
  ``pubmed_pubmed_citedin`` or ``pubmed_pubmed_refs``, and PubmedArticleSet XML by PMID.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import unquote

from tests.eutils_server import (EFETCH_HEAD, EutilsStub, StubRecord, article_xml,
                                 make_records)

ELINK_HEAD = (b'<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE eLinkResult PUBLIC '
              b'"-//NLM//DTD elink 20101123//EN" '
              b'"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20101123/elink.dtd">\n')


@dataclass
class Trial:
    """A synthetic registration: NCT id, dates, and the PMIDs it cites."""

    nct: str
    first_posted: date
    last_update: date
    title: str
    words: str
    pmids: list[str] = field(default_factory=list)

    def study(self) -> dict:
        return {"protocolSection": {
            "identificationModule": {
                "nctId": self.nct, "orgStudyIdInfo": {"id": f"ORG-{self.nct[-4:]}"},
                "organization": {"fullName": "Stub Sponsor", "class": "INDUSTRY"},
                "briefTitle": self.title, "officialTitle": f"{self.title}: a randomised "
                                                           "placebo-controlled trial"},
            "statusModule": {
                "statusVerifiedDate": f"{self.last_update:%Y-%m}",
                "overallStatus": "COMPLETED",
                "studyFirstSubmitDate": f"{self.first_posted:%Y-%m-%d}",
                "studyFirstPostDateStruct": {"date": f"{self.first_posted:%Y-%m-%d}",
                                             "type": "ESTIMATED"},
                "lastUpdateSubmitDate": f"{self.last_update:%Y-%m-%d}",
                "lastUpdatePostDateStruct": {"date": f"{self.last_update:%Y-%m-%d}",
                                             "type": "ACTUAL"}},
            "sponsorCollaboratorsModule": {"leadSponsor": {"name": "Stub Sponsor",
                                                           "class": "INDUSTRY"}},
            "descriptionModule": {"briefSummary": f"The trial studies {self.words}."},
            "conditionsModule": {"conditions": ["Rheumatoid Arthritis"]},
            "designModule": {"studyType": "INTERVENTIONAL", "phases": ["PHASE2"]},
            "referencesModule": {"references": [
                {"pmid": p, "type": "RESULT", "citation": f"Stub citation of PMID {p}."}
                for p in self.pmids]},
        }, "hasResults": False}


def make_trials(n: int, *, seed: int = 0, first: int = 1000000,
                cite: dict[int, list[str]] | None = None) -> list[Trial]:
    rng = random.Random(seed)
    trials = []
    for i in range(n):
        posted = date(2010, 1, 1) + timedelta(days=rng.randrange(5000))
        trials.append(Trial(f"NCT{first + i * 13:08d}", posted,
                            posted + timedelta(days=rng.randrange(1, 900)),
                            f"Denosumab stub trial {i + 1}",
                            "denosumab in rheumatoid arthritis",
                            list((cite or {}).get(i, []))))
    return trials


@dataclass
class EpmcRecord:
    """A synthetic Europe PMC result (a journal article or a preprint)."""

    id: str
    source: str
    title: str
    first_publication: date
    pmid: str | None = None
    doi: str | None = None
    author: str = "Smith A, Tanaka B"

    def result(self) -> dict:
        result = {"id": self.id, "source": self.source, "title": self.title,
                  "authorString": self.author, "pubYear": str(self.first_publication.year),
                  "firstPublicationDate": f"{self.first_publication:%Y-%m-%d}",
                  "abstractText": f"Abstract of {self.title}.",
                  "pubType": ("preprint" if self.source == "PPR"
                              else "research-article; journal article"),
                  "isOpenAccess": "N", "inEPMC": "N", "inPMC": "N", "hasPDF": "N",
                  "citedByCount": 0}
        if self.source == "PPR":
            result["bookOrReportDetails"] = {"publisher": "medRxiv"}
        else:
            result.update({"journalInfo": {"volume": "12", "issue": "3", "journal": {
                "title": "Journal of Synthetic Records", "isoabbreviation": "J Synth Rec"}},
                "pageInfo": "100-110"})
        if self.pmid:
            result["pmid"] = self.pmid
        if self.doi:
            result["doi"] = self.doi
        return result


def _in_range(day: date, text: str, pattern: str) -> bool:
    """Whether ``day`` is within the date range ``pattern`` finds in ``text`` (the
    ClinicalTrials.gov Essie ``RANGE[MIN,2025-06-30]`` or Europe PMC's ``FIRST_PDATE:[a TO
    b]``, bounds inclusive); no range: every day is."""
    found = re.search(pattern, text)
    if not found:
        return True
    low, high = found.groups()
    return ((low in ("MIN", "*") or date.fromisoformat(low) <= day)
            and (high in ("MAX", "*") or day <= date.fromisoformat(high)))


class RestStub(EutilsStub):
    """The three stand-ins on one port (``url`` is the root; see the module docstring)."""

    def __init__(self, *, trials: list[Trial] = (), epmc: list[EpmcRecord] = (),
                 records: list[StubRecord] = (), links: dict | None = None, **kwargs):
        super().__init__(list(records), **kwargs)
        self.trials = list(trials)
        self.epmc = list(epmc)
        self.links = dict(links or {})  # (seed PMID, linkname) -> [PMIDs]
        self.faults.update({"studies": [], "search": [], "elink": []})
        self.agents: list[str | None] = []  # the User-Agent of each REST/elink request

    @property
    def root(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    @property
    def ctgov_url(self) -> str:
        return self.root + "api/v2/"

    @property
    def europepmc_url(self) -> str:
        return self.root + "europepmc/webservices/rest/"

    def _handle(self, handler, path, raw) -> None:
        endpoint = path.rstrip("/").rsplit("/", 1)[-1].removesuffix(".fcgi")
        if endpoint in ("esearch",):
            return super()._handle(handler, path, raw)
        if endpoint == "efetch" and "id" not in raw:
            return super()._handle(handler, path, raw)
        params = {k: v[-1] for k, v in raw.items()}
        with self._lock:
            self.requests.append((endpoint, params))
            self.agents.append(handler.headers.get("User-Agent"))
            queue = self.faults.get(endpoint, [])
            fault = self.down or (queue.pop(0) if queue else None)
        try:
            if endpoint == "studies":
                status, body, kind = 200, self._studies(params), "application/json"
            elif endpoint == "search":
                status, body, kind = 200, self._epmc(params), "application/json"
            elif endpoint == "elink":
                status, body, kind = 200, self._elink(raw, fault), "text/xml"
            elif endpoint == "efetch":
                status, body, kind = 200, self._efetch_ids(params), "text/xml"
            else:
                status, body, kind = 404, b"not found", "text/plain"
            self._send(handler, status, body, kind, fault)
        except (BrokenPipeError, ConnectionResetError):
            pass

    # -- ClinicalTrials.gov ---------------------------------------------------------------
    def _studies(self, params) -> bytes:
        size = int(params.get("pageSize", 10))
        start = int(params.get("pageToken", "0") or 0) if params.get("pageToken") else 0
        trials = [t for t in self.trials
                  if _in_range(t.first_posted, unquote(params.get("filter.advanced", "")),
                               r"AREA\[StudyFirstPostDate\]RANGE\[([^,\]]+),([^\]]+)\]")]
        chosen = trials[start:start + size]
        page = {"studies": [t.study() for t in chosen]}
        if start + size < len(trials):
            # An opaque token in the API; here the position, base-36, to look opaque.
            page["nextPageToken"] = str(start + size)
        if params.get("countTotal") == "true" and not params.get("pageToken"):
            page = {"totalCount": len(trials), **page}
        return json.dumps(page).encode()

    # -- Europe PMC -----------------------------------------------------------------------
    def _epmc(self, params) -> bytes:
        size = int(params.get("pageSize", 25))
        cursor = unquote(params.get("cursorMark", "*"))
        start = 0 if cursor == "*" else int(cursor.removeprefix("AoE"))
        records = [r for r in self.epmc
                   if _in_range(r.first_publication, unquote(params.get("query", "")),
                                r"FIRST_PDATE:\[(\S+) TO (\S+)\]")]
        chosen = records[start:start + size]
        nxt = f"AoE{start + size}" if start + size < len(records) else cursor
        page = {"version": "6.9", "hitCount": len(records), "nextCursorMark": nxt,
                "request": {"queryString": params.get("query", ""),
                            "resultType": params.get("resultType", "lite"),
                            "cursorMark": cursor, "pageSize": size, "sort": "",
                            "synonym": params.get("synonym", "false") == "TRUE"},
                "resultList": {"result": [r.result() for r in chosen]}}
        return json.dumps(page).encode()

    # -- Entrez elink / efetch by id --------------------------------------------------------
    def _elink(self, raw, fault=None) -> bytes:
        if fault == "error":
            return ELINK_HEAD + b"<eLinkResult><ERROR>Backend busy (stub)</ERROR></eLinkResult>\n"
        ids = [i for v in raw.get("id", []) for i in v.split(",")]
        linkname = raw.get("linkname", ["pubmed_pubmed"])[-1]
        sets = []
        for seed in ids:
            linked = self.links.get((seed, linkname), [])
            db = ("" if not linked else
                  f"<LinkSetDb><DbTo>pubmed</DbTo><LinkName>{linkname}</LinkName>"
                  + "".join(f"<Link><Id>{p}</Id></Link>" for p in linked) + "</LinkSetDb>")
            sets.append(f"<LinkSet><DbFrom>pubmed</DbFrom><IdList><Id>{seed}</Id></IdList>"
                        f"{db}</LinkSet>")
        return ELINK_HEAD + ("<eLinkResult>" + "".join(sets) + "</eLinkResult>\n").encode()

    def _efetch_ids(self, params) -> bytes:
        wanted = [int(i) for i in params.get("id", "").split(",") if i]
        by_pmid = {r.pmid: r for r in self.records}
        chosen = [by_pmid[p] for p in wanted if p in by_pmid]
        return (EFETCH_HEAD + b"<PubmedArticleSet>\n"
                + b"".join(article_xml(r) for r in chosen) + b"</PubmedArticleSet>\n")


__all__ = ["RestStub", "Trial", "EpmcRecord", "make_trials", "make_records"]
