"""ClinicalTrials.gov API v2 against the local stand-in: paging by nextPageToken, faults
survived, a frozen snapshot with SHA-256 checked when read, resumed after an interruption,
and no network told from a flaky one."""

import json
import os
import socket

import pytest

from sysrev.errors import InputError
from sysrev.search import ctgov
from sysrev.search.adapters import HttpSettings, RetrievalError
from sysrev.search.offline import NoNetworkError
from tests.rest_stubs import RestStub, make_trials

TRIALS = make_trials(23, seed=3, cite={0: ["30000007"], 4: ["30000014", "30000021"]})
SPEC = {"query": {"term": "denosumab", "cond": "rheumatoid arthritis"}, "date": "2026-01-31"}


def settings(url, **kw):
    return HttpSettings(base_url=url, timeout=kw.pop("timeout", 2), rate=None,
                        page_size=kw.pop("page_size", 10), backoff_base=0.0, **kw)


def no_sleep(_):
    pass


def test_pages_faults_snapshot_and_read(tmp_path):
    target = tmp_path / "ctgov" / "2026-01-31"
    with RestStub(trials=TRIALS, fault_delay=1) as stub:
        stub.faults["studies"] += ["429", "503", None, "truncated", "drop", None, "timeout",
                                   "html"]
        provenance = ctgov.retrieve(SPEC, target, settings(stub.ctgov_url, timeout=0.5),
                                    sleep=no_sleep)
        asked = [p for e, p in stub.requests if e == "studies"]
    assert provenance["count"] == 23 and provenance["pages"] == 3
    assert provenance["total_count"] == 23
    assert provenance["request_parameters"]["query.term"] == "denosumab"
    assert provenance["retries"] == 6
    assert all(len(f["sha256"]) == 64 for f in provenance["files"])
    assert sorted({p.get("pageToken") or "" for p in asked}) == ["", "10", "20"]
    table = ctgov.read(target, SPEC)
    assert table["record_id"].tolist()[:2] == [f"ctgov:{TRIALS[0].nct}", f"ctgov:{TRIALS[1].nct}"]
    assert table["journal"].unique().tolist() == ["ClinicalTrials.gov"]
    assert ctgov.versions(target)[TRIALS[2].nct] == f"{TRIALS[2].last_update:%Y-%m-%d}"
    assert (TRIALS[4].nct, "30000021", "RESULT") in ctgov.references(target)


def test_existing_snapshot_requests_nothing_and_is_checked(tmp_path):
    target = tmp_path / "2026-01-31"
    with RestStub(trials=TRIALS) as stub:
        ctgov.retrieve(SPEC, target, settings(stub.ctgov_url), sleep=no_sleep)
        before = stub.count()
        ctgov.retrieve(SPEC, target, settings(stub.ctgov_url), sleep=no_sleep)
        assert stub.count() == before
        with pytest.raises(InputError, match="query"):
            ctgov.retrieve({**SPEC, "query": {"term": "other"}}, target,
                           settings(stub.ctgov_url), sleep=no_sleep)
    page = target / "page_00002.json"
    data = json.loads(page.read_text())
    data["studies"][0]["protocolSection"]["identificationModule"]["briefTitle"] = "edited"
    page.write_text(json.dumps(data))
    with pytest.raises(InputError, match="page_00002.json.*SHA-256"):
        ctgov.read(target, SPEC)


def test_interrupted_retrieval_resumes_from_the_next_page(tmp_path):
    target = tmp_path / "2026-01-31"
    with RestStub(trials=TRIALS) as stub:
        stub.faults["studies"] += [None, "503", "503"]
        with pytest.raises(RetrievalError, match="gave up after 2 tries"):
            ctgov.retrieve(SPEC, target, settings(stub.ctgov_url, max_tries=2),
                           sleep=no_sleep)
        assert (tmp_path / "2026-01-31.partial" / "page_00001.json").is_file()
        ctgov.retrieve(SPEC, target, settings(stub.ctgov_url), sleep=no_sleep)
        tokens = [p.get("pageToken") for e, p in stub.requests if e == "studies"]
    assert tokens == [None, "10", "10", "10", "20"]
    assert len(ctgov.read(target)) == 23


def test_empty_search_is_a_snapshot_with_one_empty_page(tmp_path):
    with RestStub(trials=[]) as stub:
        provenance = ctgov.retrieve(SPEC, tmp_path / "d", settings(stub.ctgov_url),
                                    sleep=no_sleep)
    assert provenance["count"] == 0 and provenance["pages"] == 1
    assert ctgov.read(tmp_path / "d").empty


def test_no_network_stops_at_once_naming_source_date_and_readme(tmp_path):
    with socket.socket() as sock:  # a port nothing listens on: every connection refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    slept = []
    with pytest.raises(NoNetworkError) as err:
        ctgov.retrieve(SPEC, tmp_path / "2026-01-31",
                       settings(f"http://127.0.0.1:{port}/api/v2/", max_tries=8),
                       sleep=slept.append)
    message = str(err.value)
    assert "ClinicalTrials.gov" in message and "2026-01-31" in message
    assert "Updating without internet" in message
    assert len(slept) == 1  # two refused tries, not eight with backoff
    assert not (tmp_path / "2026-01-31").exists()


@pytest.mark.network
@pytest.mark.skipif(os.environ.get("SYSREV_LIVE_TESTS") != "1",
                    reason="live ClinicalTrials.gov test: set SYSREV_LIVE_TESTS=1")
def test_live_ctgov_smoke(tmp_path):
    spec = {"query": {"term": "denosumab", "cond": "rheumatoid arthritis"},
            "date": "2026-01-31"}
    provenance = ctgov.retrieve(spec, tmp_path / "s", HttpSettings(
        base_url=ctgov.DEFAULT_BASE_URL, page_size=50, rate=2.0))
    table = ctgov.read(tmp_path / "s", spec)
    assert len(table) == provenance["count"] > 0
    assert table["source_id"].str.match(r"^NCT\d{8}$").all()


def test_the_search_is_cut_at_its_dates(tmp_path):
    """The search date (and start date) go to the API as filter.advanced; the stand-in
    honours it, so a registration first posted after the date is not returned."""
    spec = {**SPEC, "date": "2016-06-30", "start_date": "2011-01-01",
            "filter": {"advanced": "AREA[Phase]PHASE2"}}
    window = [t for t in TRIALS
              if str(t.first_posted) >= "2011-01-01" and str(t.first_posted) <= "2016-06-30"]
    assert 0 < len(window) < len(TRIALS)
    with RestStub(trials=TRIALS) as stub:
        provenance = ctgov.retrieve(spec, tmp_path / "s", settings(stub.ctgov_url))
        asked = [p for e, p in stub.requests if e == "studies"]
    limit = "AREA[StudyFirstPostDate]RANGE[2011-01-01,2016-06-30]"
    assert {p["filter.advanced"] for p in asked} == {f"(AREA[Phase]PHASE2) AND {limit}"}
    assert provenance["date_limit"] == limit
    assert provenance["request_parameters"]["filter.advanced"].endswith(limit)
    assert provenance["count"] == len(window) and provenance["outside_search_dates"] == 0
    assert set(ctgov.read(tmp_path / "s", spec)["source_id"]) == {t.nct for t in window}
    assert ctgov.request_params({"query": {}, "date": "2025-06-30"})["filter.advanced"] \
        == "AREA[StudyFirstPostDate]RANGE[MIN,2025-06-30]"


def test_a_study_the_server_returns_after_the_date_is_left_out(tmp_path, monkeypatch,
                                                               caplog):
    """A server that ignores the date limit: the late registrations are counted in the
    provenance, logged and left out of the record table and its details."""
    import tests.rest_stubs as stubs
    monkeypatch.setattr(stubs, "_in_range", lambda *a: True)
    spec = {**SPEC, "date": "2016-06-30"}
    late = {t.nct for t in TRIALS if str(t.first_posted) > "2016-06-30"}
    assert late
    with RestStub(trials=TRIALS) as stub:
        provenance = ctgov.retrieve(spec, tmp_path / "s", settings(stub.ctgov_url))
    assert provenance["count"] == 23 and provenance["outside_search_dates"] == len(late)
    assert any("first posted outside" in n for n in provenance["notes"])
    assert ctgov.after_search_date(tmp_path / "s") == len(late)
    with caplog.at_level("WARNING"):
        table = ctgov.read(tmp_path / "s", spec)
    assert len(table) == 23 - len(late) and not late & set(table["source_id"])
    assert not late & set(ctgov.versions(tmp_path / "s"))
    assert not late & {nct for nct, _, _ in ctgov.references(tmp_path / "s")}
    logged = " ".join(r.getMessage() for r in caplog.records
                      if "outside the search's dates" in r.getMessage())
    assert all(nct in logged for nct in late)
