"""Citation chasing through Entrez elink against the local stand-in, and the real elink XML
shape (../shared/testdata/eutils/biopython_Entrez/elink*.xml)."""

import os
from datetime import date
from pathlib import Path

import pytest

from sysrev.search import citations
from sysrev.search.efetch_scan import EutilsResponseError
from sysrev.search.entrez_client import EntrezError, EntrezSettings
from tests.rest_stubs import RestStub, make_records

RECORDS = make_records(12, seed=9, start=date(2018, 1, 1), end=date(2025, 1, 1))
P = [str(r.pmid) for r in RECORDS]
SEEDS = [P[0], P[1]]
LINKS = {(P[0], "pubmed_pubmed_citedin"): [P[2], P[3]],
         (P[0], "pubmed_pubmed_refs"): [P[4]],
         (P[1], "pubmed_pubmed_citedin"): [P[3], P[5]]}
SPEC = {"seeds": SEEDS, "directions": ["citedin", "refs"], "date": "2026-01-31"}
TESTDATA = Path(__file__).resolve().parents[3].parent / "shared" / "testdata" / "eutils"


def settings(url, **kw):
    return EntrezSettings(base_url=url, email="sysrev-tests@example.org", rate=None, timeout=0.5, backoff_base=0.0,
                          batch_size=kw.pop("batch_size", 2), **kw)


def test_chase_with_faults_and_provenance(tmp_path):
    target = tmp_path / "2026-01-31"
    with RestStub(records=RECORDS, links=LINKS, fault_delay=1) as stub:
        stub.faults["elink"] += ["503", None, "truncated", None, "timeout"]
        stub.faults["efetch"] += ["429", None, "drop"]
        provenance = citations.retrieve(SPEC, target, settings(stub.root + "entrez/eutils/"),
                                        sleep=lambda s: None)
        assert stub.count("elink") == 4 + 3
    assert provenance["count"] == 4 and provenance["seeds"] == 2
    assert provenance["retries"] == 5
    assert "PubMed Central" in provenance["coverage"]
    table = citations.read(target, SPEC)
    assert sorted(table["pmid"]) == sorted([P[2], P[3], P[4], P[5]])
    assert set(table["record_id"]) == {f"citations:{p}" for p in (P[2], P[3], P[4], P[5])}
    found = citations.links(target)
    assert found[found["pmid"] == P[3]][["seed_pmid", "direction"]].values.tolist() == \
        sorted([[P[0], "citedin"], [P[1], "citedin"]], key=lambda r: int(r[0]))
    assert found[found["pmid"] == P[4]]["direction"].tolist() == ["refs"]
    assert set(citations.versions(target)) == {P[2], P[3], P[4], P[5]}


def test_a_seed_without_links_and_an_elink_error(tmp_path):
    with RestStub(records=RECORDS, links={}) as stub:
        provenance = citations.retrieve({**SPEC, "directions": ["refs"]}, tmp_path / "a",
                                        settings(stub.root + "entrez/eutils/"))
        assert provenance["count"] == 0
        assert citations.read(tmp_path / "a").empty
        stub.faults["elink"] += ["error"] * 3
        with pytest.raises(EntrezError, match="gave up after 2 tries"):
            citations.retrieve(SPEC, tmp_path / "b", settings(stub.root + "entrez/eutils/",
                                                              max_tries=2))


@pytest.mark.skipif(not (TESTDATA / "biopython_Entrez" / "elink3.xml").is_file(),
                    reason="../shared/testdata absent")
def test_real_elink_answer_is_read():
    body = (TESTDATA / "biopython_Entrez" / "elink3.xml").read_bytes()
    found = citations.parse_elink(body, ["11812492", "11774222"], "pubmed_pubmed")
    assert found["11812492"][:2] == ["39386366", "39338906"]
    with pytest.raises(EutilsResponseError, match="no LinkSet"):
        citations.parse_elink(body, ["1"], "pubmed_pubmed")
    with pytest.raises(EutilsResponseError, match="not complete XML"):
        citations.parse_elink(body[:len(body) // 2], ["11812492"], "pubmed_pubmed")


@pytest.mark.network
@pytest.mark.skipif(os.environ.get("SYSREV_LIVE_TESTS") != "1",
                    reason="live NCBI test: set SYSREV_LIVE_TESTS=1")
def test_live_citation_chase_smoke(tmp_path):
    # PMID 22896487 (a denosumab RA trial report) has citing articles in PubMed.
    provenance = citations.retrieve({"seeds": ["22896487"], "directions": ["citedin"],
                                     "date": "2026-01-31"}, tmp_path / "s",
                                    EntrezSettings(email=os.environ.get("SYSREV_EMAIL", "")))
    assert len(citations.read(tmp_path / "s")) == provenance["count"] > 0


def test_the_api_key_is_sent_but_written_nowhere(tmp_path):
    key = "sysrev-test-key-5e1f"
    with RestStub(records=RECORDS, links=LINKS) as stub:
        provenance = citations.retrieve(SPEC, tmp_path / "d", EntrezSettings(
            base_url=stub.root + "entrez/eutils/", email="t@example.org", api_key=key,
            rate=None, batch_size=3))
        assert {p.get("api_key") for _, p in stub.requests} == {key}
    assert provenance["api_key_used"] is True
    assert not [p for p in (tmp_path / "d").iterdir() if key.encode() in p.read_bytes()]


def test_records_entered_after_the_search_date_are_left_out(tmp_path, caplog):
    """elink has no date limit: a found record whose PubMed entry date is after the search
    date is counted in the provenance, logged, and left out of records, links, versions."""
    import json
    late = make_records(1, seed=5, first_pmid=39000000, start=date(2026, 3, 1),
                        end=date(2026, 3, 1))
    assert late[0].entrez_date > date(2026, 1, 31)
    links = {**LINKS, (P[1], "pubmed_pubmed_citedin"): [P[3], P[5], str(late[0].pmid)]}
    target = tmp_path / "2026-01-31"
    with RestStub(records=RECORDS + late, links=links) as stub:
        provenance = citations.retrieve(SPEC, target, settings(stub.root + "entrez/eutils/"))
    assert provenance["count"] == 5 and provenance["after_search_date"] == 1
    assert "no date limit" in provenance["date_limit"]
    assert json.loads((target / "provenance.json").read_text())["after_search_date"] == 1
    assert citations.entry_dates(target)[str(late[0].pmid)] > "2026-01-31"
    with caplog.at_level("WARNING"):
        table = citations.read(target, SPEC)
    assert sorted(table["pmid"]) == sorted([P[2], P[3], P[4], P[5]])
    assert str(late[0].pmid) not in set(citations.links(target)["pmid"])
    assert str(late[0].pmid) not in citations.versions(target)
    assert any(str(late[0].pmid) in r.getMessage() for r in caplog.records)
