"""Every source, PubMed included, is one adapter of the same interface: ``retrieve``,
``read``, ``versions`` and ``normalise_spec`` in its own module, reached through
:data:`sysrev.search.registry.ADAPTERS`; PubMed's workflow rules go through it too."""

import importlib
import inspect
import json
import shutil
from pathlib import Path

import pytest

from sysrev.search import registry
from sysrev.search.adapters import SOURCES

REPO = Path(__file__).resolve().parents[3]
SNAPSHOT = REPO / "data/denosumab_ra/search/pubmed/2025-06-30"
QUERY = json.loads((SNAPSHOT / "provenance.json").read_text())["query"]


@pytest.mark.parametrize("source", SOURCES)
def test_each_source_is_a_module_with_the_four_operations(source):
    module = importlib.import_module(f"sysrev.search.{source}")
    for name in ("retrieve", "read", "versions", "normalise_spec"):
        assert callable(getattr(module, name)), f"{source}.{name}"
    assert list(inspect.signature(module.read).parameters)[:2] == ["snapshot_dir", "spec"]
    assert list(inspect.signature(module.retrieve).parameters)[:3] == [
        "spec", "snapshot_dir", "settings"]
    adapter = registry.ADAPTERS[source]
    assert adapter.read.__name__ == f"{source}.read"
    assert adapter.versions.__name__ == f"{source}.versions"


def test_pubmed_rules_read_and_retrieve_through_the_adapter(tmp_path, monkeypatch):
    """pubmed_records and retrieve_pubmed call the PubMed adapter (not the E-utilities
    code directly), so PubMed's snapshots take the same route as every source's."""
    from sysrev.search import pubmed
    from sysrev.workflow import search
    calls = []
    real_read = pubmed.read_batches  # the rule reads the snapshot one XML file at a time

    def spy_read(*args, **kwargs):
        calls.append(("read", args, kwargs))
        return real_read(*args, **kwargs)

    monkeypatch.setattr(pubmed, "read_batches", spy_read)
    monkeypatch.setattr(pubmed, "retrieve", lambda *a, **k: calls.append(("retrieve", a, k)))
    searches = tmp_path / "searches.tsv"
    shutil.copy(REPO / "data/denosumab_ra/search/searches.tsv", searches)
    search.pubmed_records(provenance=str(SNAPSHOT / "provenance.json"),
                          xml=[str(SNAPSHOT / "records.xml")], query=QUERY,
                          searches=str(searches), output=str(tmp_path / "pubmed.tsv"),
                          start_date=None, date_type="publication")
    search.retrieve_pubmed(snapshot_dir=str(tmp_path / "2026-01-31"), query=QUERY,
                           search_date="2026-01-31", start_date=None, date_type="publication",
                           email="", base_url="http://127.0.0.1:9/", batch_size=500,
                           timeout=1, max_tries=1)
    assert [c[0] for c in calls] == ["read", "retrieve"]
    assert calls[0][1][1] == {"query": QUERY, "start_date": None, "date_type": "publication"}
    assert calls[1][1][0]["date"] == "2026-01-31"
    assert len((tmp_path / "pubmed.tsv").read_text().splitlines()) == 30


def test_pubmed_read_checks_the_configured_search():
    from sysrev.errors import InputError
    from sysrev.search import pubmed
    assert len(pubmed.read(SNAPSHOT)) == 29
    assert len(pubmed.read(SNAPSHOT, {"query": QUERY, "date_type": "publication"})) == 29
    with pytest.raises(InputError, match="different query"):
        pubmed.read(SNAPSHOT, {"query": "denosumab"})
    with pytest.raises(InputError, match="date_type"):
        pubmed.read(SNAPSHOT, {"query": QUERY, "date_type": "entrez"})
    assert pubmed.normalise_spec({"query": " a  b ", "date": "2026-01-31", "email": "x"}) == {
        "query": "a b", "date": "2026-01-31", "start_date": None, "date_type": "publication"}


def _closed_port() -> str:
    import socket
    with socket.socket() as sock:  # a port nothing listens on: every connection refused
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/"


SPECS = {"pubmed": {"query": "denosumab", "date": "2026-03-31"},
         "ctgov": {"query": {"term": "denosumab"}, "date": "2026-03-31"},
         "europepmc": {"query": "denosumab", "date": "2026-03-31"},
         "citations": {"seeds": ["30000018"], "directions": ["citedin"],
                       "date": "2026-03-31"}}
NAMES = {"pubmed": "PubMed", "ctgov": "ClinicalTrials.gov", "europepmc": "Europe PMC",
         "citations": "Citation chasing"}


@pytest.mark.parametrize("source", SOURCES)
def test_no_network_and_no_snapshot_stops_at_once_for_every_source(source, tmp_path):
    """Issue 16: with no network and no snapshot, every source's retrieval stops after two
    refused tries (one pause, no backoff series) naming the source, the search date and the
    README's offline-route section, and leaves no snapshot folder."""
    from sysrev.search.adapters import HttpSettings
    from sysrev.search.entrez_client import EntrezSettings
    from sysrev.search.offline import NoNetworkError
    url = _closed_port()
    settings = (EntrezSettings(base_url=url, email="t@example.org", rate=None, max_tries=8)
                if source in ("pubmed", "citations")
                else HttpSettings(base_url=url, rate=None, max_tries=8))
    slept = []
    target = tmp_path / "2026-03-31"
    with pytest.raises(NoNetworkError) as err:
        registry.ADAPTERS[source].retrieve(SPECS[source], target, settings,
                                           sleep=slept.append)
    message = str(err.value)
    assert message.startswith(NAMES[source]) and "no network" in message
    assert "2026-03-31" in message
    assert "Updating without internet (the offline route)" in message
    assert len(slept) == 1
    assert not target.exists()


@pytest.mark.parametrize("source", ["ctgov", "europepmc"])
def test_rest_sources_are_polite_paced_and_say_who_asks(source, tmp_path, monkeypatch):
    """Issue 16's politeness for the REST servers: requests paced at the configured rate
    (3 per second by default) and a User-Agent naming the tool and the configured email,
    as ClinicalTrials.gov and Europe PMC ask of scripted clients."""
    from sysrev.search.adapters import HttpSettings
    from tests.rest_stubs import EpmcRecord, RestStub, make_trials
    from datetime import date
    trials = make_trials(12, seed=3)
    epmc = [EpmcRecord(f"3600000{i}", "MED", f"Denosumab stub {i}", date(2024, 1, i + 1))
            for i in range(6)]
    spec = ({"query": {"term": "denosumab"}, "date": "2026-01-31"} if source == "ctgov"
            else {"query": "denosumab", "date": "2026-01-31"})
    from sysrev.search import adapters
    from sysrev.search.ratelimit import RateLimiter
    slept = []
    clock = [0.0]  # a clock that moves only when the limiter pauses

    def pause(seconds):
        slept.append(seconds)
        clock[0] += seconds

    monkeypatch.setattr(adapters, "RateLimiter", lambda rate, sleep: RateLimiter(
        rate, clock=lambda: clock[0], sleep=pause))
    with RestStub(trials=trials, epmc=epmc) as stub:
        url = stub.ctgov_url if source == "ctgov" else stub.europepmc_url
        registry.ADAPTERS[source].retrieve(
            spec, tmp_path / "2026-01-31",
            HttpSettings(base_url=url, email="team@example.org", rate=2.0, page_size=5),
            sleep=pause)
        agents = list(stub.agents)
    assert len(agents) >= 2
    assert all(a.startswith("sysrev/") and a.endswith("(mailto:team@example.org)")
               for a in agents)
    # 1/rate seconds between two requests: a pause of 0.5 s before each after the first.
    assert slept == [0.5] * (len(agents) - 1)
