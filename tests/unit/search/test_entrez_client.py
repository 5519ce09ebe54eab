"""The Entrez retrieval client against the local E-utilities server (tests/eutils_server.py).

Every test runs the real client over HTTP on 127.0.0.1. Retry pauses go through an injected
``sleep`` that only records them, so nothing here waits on backoff; no assertion is timed.
"""

import hashlib
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from sysrev.errors import InputError
from sysrev.search.batch_store import PartialSnapshot
from sysrev.search.entrez_client import (EntrezError, EntrezSettings, SearchSpec,
                                         api_key_from_env, public_url, resolve_base_url,
                                         retrieve_snapshot)
from sysrev.search.snapshot import read_snapshot
from sysrev.search.windows import MAX_RETRIEVABLE
from tests.eutils_server import FAULTS, EutilsStub, make_records

REPO = Path(__file__).resolve().parents[3]
BUNDLED = REPO / "data/denosumab_ra/search/pubmed/2025-06-30"
QUERY = "denosumab[tiab] AND rheumatoid arthritis[tiab]"
SPEC = SearchSpec(query=QUERY, search_date="2024-12-31")
RECORDS = make_records(120, seed=1, start=date(2020, 1, 1), end=date(2024, 12, 31),
                       epub_share=0.4)
BATCH = 25


@pytest.fixture
def stub():
    with EutilsStub(RECORDS, fault_delay=1.0) as server:
        yield server


def settings(stub, **changes) -> EntrezSettings:
    values = dict(base_url=stub.url, email="tests@example.org", batch_size=BATCH, rate=None,
                  timeout=0.3, max_tries=4, backoff_base=0.01, backoff_cap=0.01)
    values.update(changes)
    return EntrezSettings(**values)


def no_wait(_seconds):
    pass


def retrieve(stub, tmp_path, spec=SPEC, **changes):
    return retrieve_snapshot(spec, tmp_path / spec.search_date, settings(stub, **changes),
                             sleep=no_wait)


def expected_pmids(records=RECORDS, start=date(1700, 1, 1), end=date(2024, 12, 31)):
    return sorted(str(r.pmid) for r in records if r.matches("pdat", start, end))


def listed_pmids(snapshot: Path) -> list[str]:
    """The snapshot's PMID list (pmids.txt), checked against provenance.json's digest."""
    provenance = json.loads((snapshot / "provenance.json").read_text())
    entry = provenance["pmid_list"]
    assert "pmids" not in provenance and entry["file"] == "pmids.txt"
    data = (snapshot / "pmids.txt").read_bytes()
    assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    pmids = data.decode().splitlines()
    assert entry["records"] == len(pmids) == provenance["count"]
    return pmids


def stored_pmids(snapshot: Path) -> list[str]:
    return sorted(read_snapshot(snapshot, query=QUERY)["pmid"])


# -- a whole retrieval ------------------------------------------------------------------
def test_full_retrieval_gets_exactly_the_servers_records(stub, tmp_path):
    provenance = retrieve(stub, tmp_path)
    snapshot = tmp_path / "2024-12-31"
    assert stored_pmids(snapshot) == expected_pmids() and len(expected_pmids()) == 120
    assert provenance["count"] == 120
    assert listed_pmids(snapshot) == sorted(expected_pmids(), key=int)
    assert provenance["query"] == QUERY and QUERY in provenance["query_translation"]
    assert provenance["windows"] == [{"mindate": "1700/01/01", "maxdate": "2024/12/31",
                                      "count": 120}]
    assert provenance["datetype"] == "pdat" and provenance["retrieval"] == "entrez"
    assert provenance["biopython_version"] == "1.88" and provenance["sysrev_version"]
    assert not provenance["api_key_used"]
    # One esearch, then ceil(N / batch) efetch: nothing more.
    assert stub.count("esearch") == 1
    assert stub.count("efetch") == math.ceil(120 / BATCH) == provenance["requests"] - 1
    assert sorted(p.name for p in snapshot.iterdir()) == [
        "batch_w0001_00001.xml", "batch_w0001_00002.xml", "batch_w0001_00003.xml",
        "batch_w0001_00004.xml", "batch_w0001_00005.xml", "pmids.txt", "provenance.json"]
    assert not (tmp_path / "2024-12-31.partial").exists()
    # Every request carried the email and Bio.Entrez's tool name, as NCBI asks.
    assert {p.get("email") for _, p in stub.requests} == {"tests@example.org"}
    assert {p.get("tool") for _, p in stub.requests} == {"sysrev"}


def test_entrez_date_window_and_start_date(stub, tmp_path):
    spec = SearchSpec(query=QUERY, search_date="2023-06-30", start_date="2022-01-01",
                      date_type="entrez")
    provenance = retrieve(stub, tmp_path, spec)
    expected = sorted(str(r.pmid) for r in RECORDS
                      if date(2022, 1, 1) <= r.entrez_date <= date(2023, 6, 30))
    assert listed_pmids(tmp_path / "2023-06-30") == sorted(expected, key=int)
    assert {p["datetype"] for u, p in stub.requests if u == "esearch"} == {"edat"}
    assert provenance["mindate"] == "2022/01/01" and provenance["maxdate"] == "2023/06/30"


def test_search_without_hits_gives_an_empty_snapshot(stub, tmp_path):
    spec = SearchSpec(query="NOTFOUNDPHRASE[tiab]", search_date="2024-12-31")
    provenance = retrieve(stub, tmp_path, spec)
    assert provenance["count"] == 0 and provenance["phrases_not_found"] == ["NOTFOUNDPHRASE"]
    assert stub.count("efetch") == 0
    assert len(read_snapshot(tmp_path / "2024-12-31", query=spec.query)) == 0


# -- more hits than E-utilities pages through -------------------------------------------
def test_large_search_is_split_into_date_windows_and_united_exactly(tmp_path):
    with EutilsStub(RECORDS, max_retrievable=40) as stub:
        provenance = retrieve(stub, tmp_path, split_threshold=40)
        windows = provenance["windows"]
        assert len(windows) > 1 and all(w["count"] <= 40 for w in windows)
        # Windows tile the search window: consecutive, no gap, no overlap.
        assert windows[0]["mindate"] == "1700/01/01" and windows[-1]["maxdate"] == "2024/12/31"
        # Records with an electronic and a print date in different windows are stored once.
        assert sum(w["count"] for w in windows) > 120
        assert stored_pmids(tmp_path / "2024-12-31") == expected_pmids()
        assert provenance["count"] == 120
        searches = stub.count("esearch")
        assert stub.count("efetch") == sum(math.ceil(w["count"] / BATCH) for w in windows)
        assert provenance["requests"] == searches + stub.count("efetch")


def test_without_splitting_the_server_would_stop_at_its_limit(tmp_path):
    # The stub, like PubMed, pages through no more than max_retrievable records.
    with EutilsStub(RECORDS, max_retrievable=40) as stub:
        with pytest.raises(EntrezError, match="counted 120 hits but listed 40 PMIDs"):
            retrieve(stub, tmp_path, split_threshold=MAX_RETRIEVABLE, max_tries=2)


def test_default_split_threshold_is_what_eutils_returns():
    assert MAX_RETRIEVABLE == 9999
    assert EntrezSettings().split_threshold == 9999


def test_a_single_day_over_the_limit_is_a_clear_error(tmp_path):
    same_day = [r.__class__(r.pmid, date(2024, 3, 1), None, date(2024, 3, 1))
                for r in RECORDS[:30]]
    with EutilsStub(same_day) as stub:
        spec = SearchSpec(query=QUERY, search_date="2024-03-01", start_date="2024-03-01")
        with pytest.raises(EntrezError, match="single day 2024-03-01"):
            retrieve(stub, tmp_path, spec, split_threshold=20)


# -- faults -------------------------------------------------------------------------------
@pytest.mark.parametrize("fault", FAULTS)
def test_every_efetch_fault_is_retried_and_the_result_is_exact(stub, tmp_path, fault):
    stub.faults["efetch"] += [None, fault]  # the second batch fails once
    provenance = retrieve(stub, tmp_path)
    assert stored_pmids(tmp_path / "2024-12-31") == expected_pmids()
    assert provenance["retries"] == 1
    assert stub.count("efetch") == math.ceil(120 / BATCH) + 1


@pytest.mark.parametrize("fault", ["429", "503", "timeout", "truncated", "drop", "html",
                                   "error"])
def test_esearch_faults_are_retried(stub, tmp_path, fault):
    stub.faults["esearch"].append(fault)
    provenance = retrieve(stub, tmp_path)
    assert provenance["count"] == 120 and provenance["retries"] == 1
    assert stub.count("esearch") == 2


def test_several_faults_in_a_row_back_off_exponentially(stub, tmp_path):
    stub.faults["efetch"] += ["429", "502", "drop_mid"]
    pauses = []
    provenance = retrieve_snapshot(SPEC, tmp_path / "2024-12-31",
                                   settings(stub, max_tries=5, backoff_base=1.0,
                                            backoff_cap=30.0),
                                   sleep=pauses.append)
    assert provenance["retries"] == 3
    assert provenance["retry_reasons"] == {"HTTP 429": 1, "HTTP 502": 1, "connection": 1}
    # Equal jitter: retry k waits between 2**(k-1)/2 and 2**(k-1) seconds.
    assert [lo <= p <= hi for p, (lo, hi) in zip(pauses, [(0.5, 1), (1, 2), (2, 4)])] == \
        [True] * 3


def test_ncbi_error_body_is_named_when_retries_run_out(stub, tmp_path, testdata):
    body = testdata / "eutils/biopython_Entrez/esummary8.xml"
    stub.faults["efetch"] += [f"file:{body}"] * 4
    with pytest.raises(EntrezError, match="Neither query_key nor id specified") as err:
        retrieve(stub, tmp_path)
    assert "gave up after 4 tries" in str(err.value)


@pytest.mark.parametrize("name, message", [
    ("biopython_Entrez/einfo4.xml", "truncated XML"),
    ("biopython_Entrez/pubmed3.html", "HTML page instead of PubmedArticleSet"),
    ("biopython_Entrez/journals.xml", "a <SerialsSet> document instead of a PubmedArticleSet"),
    ("ncbi_http429_rate_limit_body.json", "not well-formed XML"),  # the body, with HTTP 200
])
def test_real_bad_answers_are_retried_then_named(stub, tmp_path, testdata, name, message):
    path = testdata / "eutils" / name
    stub.faults["efetch"] += [f"file:{path}"] * 4
    with pytest.raises(EntrezError, match=message):
        retrieve(stub, tmp_path)
    # What was fetched before stays for the next run.
    assert (tmp_path / "2024-12-31.partial/plan.json").is_file()


def test_http_429_body_from_ncbi_is_reported(stub, tmp_path):
    stub.faults["efetch"] += ["429"] * 4
    with pytest.raises(EntrezError, match=r"HTTP 429: API rate limit exceeded \(count 5, "
                                          r"limit 3\)"):
        retrieve(stub, tmp_path)


def test_http_400_is_not_retried(stub, tmp_path):
    class Bad(EutilsStub):
        def _send(self, handler, status, body, kind, fault):
            super()._send(handler, 400, b'{"error":"Invalid query_key"}',
                          "application/json", None)

    stub.stop()
    with Bad(RECORDS) as bad:
        with pytest.raises(EntrezError, match="HTTP 400: Invalid query_key"):
            retrieve(bad, tmp_path)
        assert bad.count() == 1


# -- interruption and resumption --------------------------------------------------------
def test_failed_run_resumes_without_refetching_completed_batches(stub, tmp_path):
    stub.faults["efetch"] += [None, None] + ["503"] * 4
    with pytest.raises(EntrezError, match="HTTP 503"):
        retrieve(stub, tmp_path)
    partial = PartialSnapshot(tmp_path / "2024-12-31")
    assert [p.name for p in partial.batch_files()] == ["batch_w0001_00001.xml",
                                                       "batch_w0001_00002.xml"]
    assert not (tmp_path / "2024-12-31").exists()
    before = len(stub.requests)
    provenance = retrieve(stub, tmp_path)
    second_run = stub.requests[before:]
    fetched = sorted(int(p["retstart"]) for u, p in second_run if u == "efetch")
    assert fetched == [50, 75, 100]  # batches 1 and 2 (retstart 0 and 25) not again
    assert provenance["resumed"] is True
    assert stored_pmids(tmp_path / "2024-12-31") == expected_pmids()


def test_killed_process_resumes_where_it_stopped(tmp_path):
    """SIGKILL a retrieval in another process mid-run, then finish it here."""
    with EutilsStub(RECORDS, serve_delay=0.1) as stub:
        script = (
            "import sys\n"
            "from sysrev.search.entrez_client import *\n"
            f"s = EntrezSettings(base_url={stub.url!r}, email='t@example.org', batch_size=10,"
            " rate=None)\n"
            f"retrieve_snapshot(SearchSpec(query={QUERY!r}, search_date='2024-12-31'),"
            f" {str(tmp_path / '2024-12-31')!r}, s)\n")
        process = subprocess.Popen([sys.executable, "-c", script], cwd=REPO,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        partial = PartialSnapshot(tmp_path / "2024-12-31")
        deadline = time.monotonic() + 60
        while len(partial.batch_files()) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert process.poll() is None, "the retrieval ended before it could be interrupted"
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        done = {int(p.name[-9:-4]) for p in partial.batch_files()}
        assert 3 <= len(done) < 12
        stub.serve_delay = 0.0
        before = len(stub.requests)
        retrieve_snapshot(SPEC, tmp_path / "2024-12-31",
                          settings(stub, batch_size=10), sleep=no_wait)
        refetched = {int(p["retstart"]) // 10 + 1 for u, p in stub.requests[before:]
                     if u == "efetch"}
        assert refetched == set(range(1, 13)) - done
        assert stored_pmids(tmp_path / "2024-12-31") == expected_pmids()
        assert not list((tmp_path / "2024-12-31").glob(".*.tmp"))


def test_resume_notices_that_pubmed_changed_and_starts_again(stub, tmp_path):
    stub.faults["efetch"] += [None] + ["503"] * 4
    with pytest.raises(EntrezError):
        retrieve(stub, tmp_path)
    newcomer = make_records(1, seed=99, first_pmid=39000000, start=date(2024, 6, 1),
                            end=date(2024, 6, 1))
    stub.records = sorted(RECORDS + newcomer, key=lambda r: -r.pmid)
    provenance = retrieve(stub, tmp_path)
    assert provenance["count"] == 121
    assert stored_pmids(tmp_path / "2024-12-31") == expected_pmids(RECORDS + newcomer)


def test_partial_made_with_other_settings_is_not_mixed_in(stub, tmp_path):
    stub.faults["efetch"] += [None] + ["503"] * 4
    with pytest.raises(EntrezError):
        retrieve(stub, tmp_path)
    provenance = retrieve(stub, tmp_path, batch_size=30)
    assert provenance["resumed"] is False and provenance["batch_size"] == 30
    assert stored_pmids(tmp_path / "2024-12-31") == expected_pmids()


# -- frozen snapshots ---------------------------------------------------------------------
def _digest(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_existing_snapshot_is_used_with_no_request(stub, tmp_path):
    snapshot = tmp_path / "2025-06-30"
    shutil.copytree(BUNDLED, snapshot)
    query = json.loads((BUNDLED / "provenance.json").read_text())["query"]
    before = _digest(snapshot)
    spec = SearchSpec(query=query, search_date="2025-06-30")
    provenance = retrieve_snapshot(spec, snapshot, settings(stub), sleep=no_wait)
    assert provenance["count"] == 29 and stub.count() == 0
    with pytest.raises(InputError, match="different query"):
        retrieve_snapshot(SearchSpec(query="denosumab", search_date="2025-06-30"), snapshot,
                          settings(stub), sleep=no_wait)
    assert stub.count() == 0 and _digest(snapshot) == before


def test_existing_snapshot_is_checked_like_every_sources(stub, tmp_path):
    """Issue 16: an existing PubMed snapshot is used only after the checks every source's
    gets (adapters.retrieve_pages): its files' SHA-256, and the same dates asked (before,
    only the query was compared and a changed file or date_type passed)."""
    snapshot = tmp_path / "2025-06-30"
    shutil.copytree(BUNDLED, snapshot)
    query = json.loads((BUNDLED / "provenance.json").read_text())["query"]
    with pytest.raises(InputError, match="date_type"):
        retrieve_snapshot(SearchSpec(query=query, search_date="2025-06-30",
                                     date_type="entrez"), snapshot, settings(stub),
                          sleep=no_wait)
    xml = snapshot / "records.xml"
    xml.write_bytes(xml.read_bytes().replace(b"<ArticleTitle>", b"<ArticleTitle>X", 1))
    with pytest.raises(InputError, match="records.xml.*SHA-256"):
        retrieve_snapshot(SearchSpec(query=query, search_date="2025-06-30"), snapshot,
                          settings(stub), sleep=no_wait)
    assert stub.count() == 0


def test_snapshot_folder_without_provenance_is_not_overwritten(stub, tmp_path):
    folder = tmp_path / "2024-12-31"
    folder.mkdir()
    (folder / "records.xml").write_text("hand-made")
    with pytest.raises(InputError, match="never overwritten"):
        retrieve(stub, tmp_path)
    assert stub.count() == 0 and (folder / "records.xml").read_text() == "hand-made"


def test_empty_snapshot_folder_is_filled(stub, tmp_path):
    # Snakemake creates an output's folder before the job runs.
    (tmp_path / "2024-12-31").mkdir()
    assert retrieve(stub, tmp_path)["count"] == 120


# -- the API key ------------------------------------------------------------------------
def test_api_key_is_sent_but_never_written_or_logged(stub, tmp_path, caplog, monkeypatch):
    key = "0123456789abcdef-SECRET-KEY"
    monkeypatch.setenv("NCBI_API_KEY", key)
    assert api_key_from_env() == key
    stub.echo_api_key = True  # NCBI's 429 body names the key
    stub.faults["efetch"] += ["429", "503", "truncated", "error"]
    stub.faults["esearch"] += ["429"]
    caplog.set_level("DEBUG")
    with pytest.raises(EntrezError) as err:
        retrieve(stub, tmp_path, api_key=api_key_from_env(), max_tries=2)
    provenance = retrieve(stub, tmp_path, api_key=api_key_from_env())
    assert provenance["api_key_used"] is True
    assert {p.get("api_key") for _, p in stub.requests} == {key}
    assert key not in str(err.value) and key not in caplog.text
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path


def test_key_is_struck_from_any_log_message_of_the_client(stub, caplog):
    from sysrev.search import entrez_client

    with entrez_client.EntrezClient(settings(stub, api_key="K-123-secret")) as client:
        entrez_client.log.warning("429 body %s", '{"api-key":"K-123-secret"}')
        assert client.scrub("url?api_key=K-123-secret") == "url?api_key=[NCBI_API_KEY]"
    assert "K-123-secret" not in caplog.text and "[NCBI_API_KEY]" in caplog.text


def test_requests_are_posts_so_no_url_carries_the_key(stub, tmp_path, monkeypatch):
    seen = []

    class Recording(EutilsStub):
        def _handle(self, handler, path, raw):
            seen.append((handler.command, handler.path))
            super()._handle(handler, path, raw)

    stub.stop()
    with Recording(RECORDS) as recording:
        retrieve(recording, tmp_path, api_key="KEY-IN-BODY-ONLY")
    assert {command for command, _ in seen} == {"POST"}
    assert not any("KEY-IN-BODY-ONLY" in path for _, path in seen)


# -- configuration ----------------------------------------------------------------------
def test_base_url_from_config_or_environment(monkeypatch):
    monkeypatch.delenv("SYSREV_EUTILS_URL", raising=False)
    assert resolve_base_url("https://mirror.example.org/eutils") == \
        "https://mirror.example.org/eutils/"
    assert resolve_base_url(None) == "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
    monkeypatch.setenv("SYSREV_EUTILS_URL", "http://127.0.0.1:9/entrez/eutils/")
    assert resolve_base_url("https://mirror.example.org/eutils/") == \
        "http://127.0.0.1:9/entrez/eutils/"


def test_public_url_drops_credentials_and_query():
    assert public_url("https://user:pw@mirror.example.org:8443/eutils/?api_key=x") == \
        "https://mirror.example.org:8443/eutils/"


def test_settings_are_checked():
    with pytest.raises(ValueError, match="split_threshold"):
        EntrezSettings(split_threshold=10000)
    with pytest.raises(ValueError, match="batch_size"):
        EntrezSettings(batch_size=0)


@pytest.mark.network
@pytest.mark.skipif(os.environ.get("SYSREV_LIVE_TESTS") != "1",
                    reason="live NCBI test: set SYSREV_LIVE_TESTS=1")
def test_live_ncbi_small_search(tmp_path):
    spec = SearchSpec(query='"AMG 162"[tiab] AND rheumatoid arthritis[tiab]',
                      search_date="2010-12-31")
    provenance = retrieve_snapshot(spec, tmp_path / "2010-12-31", EntrezSettings(
        base_url=resolve_base_url(None), email="sysrev@example.org",
        api_key=api_key_from_env()))
    assert provenance["count"] >= 1
    assert len(read_snapshot(tmp_path / "2010-12-31", query=spec.query)) == provenance["count"]
