"""Make the frozen snapshots of the sources demo review by running sysrev's own retrieval
against the local stand-ins (tests/rest_stubs.py, tests/eutils_server.py).

    PYTHONPATH=src python .test/data/sources_demo/make_snapshots.py

Every record here is synthetic (made up by the stand-ins from fixed seeds), in the response
formats the servers document; nothing was recorded from a real server. Two search dates for
PubMed and ClinicalTrials.gov (2025-06-30, then the update of 2026-01-31: new, changed and
withdrawn records), one for Europe PMC and the citation chase. Rerunning it rewrites the
snapshots (their retrieved_at times differ; everything else is the same).
"""

from __future__ import annotations

import shutil
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

import tests.eutils_server as eutils  # noqa: E402
from sysrev.search import citations, ctgov, europepmc  # noqa: E402
from sysrev.search.adapters import HttpSettings  # noqa: E402
from sysrev.search.entrez_client import (EntrezSettings, SearchSpec,  # noqa: E402
                                         retrieve_snapshot)
from sysrev.search.snapshot import read_snapshot  # noqa: E402
from tests.rest_stubs import EpmcRecord, RestStub, make_trials  # noqa: E402

HERE = Path(__file__).resolve().parent
SEARCH = HERE / "search"
QUERY = "denosumab AND rheumatoid arthritis"
RECORDS = eutils.make_records(24, seed=21, start=date(2019, 1, 1), end=date(2025, 12, 31))
# Older articles the PubMed search window (from 2015) leaves out: citation chasing finds them.
EXTRA = eutils.make_records(4, seed=22, first_pmid=20000000, start=date(2010, 1, 1),
                            end=date(2012, 12, 31))
PREVIOUS, CURRENT = "2025-06-30", "2026-01-31"


def entrez(url: str) -> EntrezSettings:
    return EntrezSettings(base_url=url, email="sysrev-demo@example.org", rate=None,
                          batch_size=10)


def rest(url: str) -> HttpSettings:
    return HttpSettings(base_url=url, email="sysrev-demo@example.org", rate=None,
                        page_size=4)


def main() -> None:
    for source in ("pubmed", "ctgov", "europepmc", "citations"):
        shutil.rmtree(SEARCH / source, ignore_errors=True)
    earlier = sorted((r for r in RECORDS if r.pub_date <= date(2025, 6, 30)),
                     key=lambda r: r.pmid)
    withdrawn, changed = earlier[0], earlier[1]
    # PubMed, first search
    with eutils.EutilsStub(RECORDS + EXTRA) as stub:
        retrieve_snapshot(SearchSpec(QUERY, PREVIOUS, "2015-01-01"),
                          SEARCH / "pubmed" / PREVIOUS, entrez(stub.url))
    # PubMed, the update: one record gone from PubMed's answer, one revised.
    original = eutils.article_xml

    def revised(record):
        text = original(record)
        return text.replace(b"</ArticleTitle>", b" (corrected)</ArticleTitle>") \
            if record.pmid == changed.pmid else text

    eutils.article_xml = revised
    try:
        with eutils.EutilsStub([r for r in RECORDS if r is not withdrawn] + EXTRA) as stub:
            retrieve_snapshot(SearchSpec(QUERY, CURRENT, "2015-01-01"),
                              SEARCH / "pubmed" / CURRENT, entrez(stub.url))
    finally:
        eutils.article_xml = original
    pubmed = read_snapshot(SEARCH / "pubmed" / CURRENT, query=QUERY).set_index("pmid")
    a, b, c = (str(r.pmid) for r in sorted(RECORDS, key=lambda r: r.pmid)[2:5])

    # ClinicalTrials.gov: five registrations, then one updated, one removed, one new.
    trials = make_trials(6, seed=4, cite={0: [a], 1: [b]})
    spec = {"query": {"cond": "rheumatoid arthritis", "intr": "denosumab"}, "date": PREVIOUS}
    with RestStub(trials=trials[:5]) as stub:
        ctgov.retrieve(spec, SEARCH / "ctgov" / PREVIOUS, rest(stub.ctgov_url))
    trials[1].last_update = date(2025, 11, 3)
    with RestStub(trials=[t for i, t in enumerate(trials) if i != 3]) as stub:
        ctgov.retrieve({**spec, "date": CURRENT}, SEARCH / "ctgov" / CURRENT,
                       rest(stub.ctgov_url))

    # Europe PMC: five PubMed records again (MED), and the preprint of record a.
    def med(pmid: str) -> EpmcRecord:
        row = pubmed.loc[pmid]
        return EpmcRecord(pmid, "MED", row["title"], date(int(row["year"]), 1, 1), pmid=pmid,
                          doi=row["doi"], author=row["authors"].replace(";", ","))

    epmc = [med(p) for p in sorted(pubmed.index)[:5]]
    row = pubmed.loc[a]
    epmc.append(EpmcRecord("PPR910001", "PPR", row["title"], date(int(row["year"]) - 1, 3, 1),
                           doi="10.1101/2018.03.01.910001",
                           author=row["authors"].replace(";", ",")))
    with RestStub(epmc=epmc) as stub:
        europepmc.retrieve({"query": QUERY, "date": CURRENT}, SEARCH / "europepmc" / CURRENT,
                           rest(stub.europepmc_url))

    # Citation chasing from the included reports a and b.
    x = [str(r.pmid) for r in EXTRA]
    links = {(a, "pubmed_pubmed_citedin"): [c, x[0], x[1]], (a, "pubmed_pubmed_refs"): [x[2]],
             (b, "pubmed_pubmed_citedin"): [x[0], x[3]]}
    with RestStub(records=RECORDS + EXTRA, links=links) as stub:
        citations.retrieve({"seeds": [a, b], "directions": ["citedin", "refs"],
                            "date": CURRENT}, SEARCH / "citations" / CURRENT,
                           entrez(stub.root + "entrez/eutils/"))
    print("seeds", a, b, "| also found", c, "| chased", x, "| withdrawn", withdrawn.pmid,
          "| changed", changed.pmid, "| trials", [t.nct for t in trials])


if __name__ == "__main__":
    main()
