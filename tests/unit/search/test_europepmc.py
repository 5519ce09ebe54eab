"""Europe PMC REST against the local stand-in: cursorMark paging, synonyms on, the preprint
filter, faults survived, preprints flagged, snapshots frozen and checked."""

import os
from datetime import date

import pytest

from sysrev.errors import InputError
from sysrev.search import europepmc
from sysrev.search.adapters import HttpSettings
from tests.rest_stubs import EpmcRecord, RestStub

RECORDS = [EpmcRecord(str(36000000 + i), "MED", f"Denosumab stub article {i}",
                      date(2024, 1 + i % 12, 1), pmid=str(36000000 + i),
                      doi=f"10.5555/epmc.{i}") for i in range(12)]
RECORDS.append(EpmcRecord("PPR700001", "PPR", "Denosumab stub article 3",
                          date(2023, 6, 1), doi="10.1101/2023.06.01.0001"))
SPEC = {"query": "denosumab AND \"rheumatoid arthritis\"", "date": "2026-01-31"}


def settings(url, **kw):
    return HttpSettings(base_url=url, timeout=0.5, rate=None, page_size=5,
                        backoff_base=0.0, **kw)


def test_cursor_paging_faults_and_preprints(tmp_path):
    target = tmp_path / "2026-01-31"
    with RestStub(epmc=RECORDS, fault_delay=1) as stub:
        stub.faults["search"] += ["503", None, "truncated", "timeout", None, "429"]
        provenance = europepmc.retrieve(SPEC, target, settings(stub.europepmc_url),
                                        sleep=lambda s: None)
        asked = [p for e, p in stub.requests if e == "search"]
    assert provenance["count"] == 13 and provenance["pages"] == 3
    assert provenance["hit_count"] == 13 and provenance["retries"] == 4
    assert {p["synonym"] for p in asked} == {"TRUE"}
    assert [p["cursorMark"] for p in asked if p["cursorMark"] != "*"][-1] == "AoE10"
    table = europepmc.read(target, SPEC)
    preprint = table[table["source_id"] == "PPR-PPR700001"].iloc[0]
    assert preprint["publication_types"].startswith("Preprint")
    assert preprint["record_id"] == "europepmc:PPR-PPR700001"
    article = table[table["source_id"] == "MED-36000001"].iloc[0]
    assert article["pmid"] == "36000001" and article["journal"] == "Journal of Synthetic Records"
    assert europepmc.preprint_ids(target) == {"PPR-PPR700001"}
    assert len(europepmc.versions(target)) == 13


@pytest.mark.parametrize("mode, sent", [("exclude", '(q) NOT SRC:PPR'),
                                        ("only", "(q) AND SRC:PPR"), ("include", "q")])
def test_preprint_filter(mode, sent):
    assert europepmc.full_query({"query": "q", "preprints": mode}) == sent


def test_a_search_made_with_another_preprint_filter_is_another_search(tmp_path):
    with RestStub(epmc=RECORDS) as stub:
        europepmc.retrieve(SPEC, tmp_path / "d", settings(stub.europepmc_url))
        with pytest.raises(InputError, match="preprints"):
            europepmc.retrieve({**SPEC, "preprints": "exclude"}, tmp_path / "d",
                               settings(stub.europepmc_url))


@pytest.mark.network
@pytest.mark.skipif(os.environ.get("SYSREV_LIVE_TESTS") != "1",
                    reason="live Europe PMC test: set SYSREV_LIVE_TESTS=1")
def test_live_europepmc_smoke(tmp_path):
    spec = {"query": 'denosumab AND "rheumatoid arthritis" AND PUB_YEAR:2019',
            "date": "2026-01-31"}
    provenance = europepmc.retrieve(spec, tmp_path / "s", HttpSettings(
        base_url=europepmc.DEFAULT_BASE_URL, page_size=100, rate=2.0))
    assert len(europepmc.read(tmp_path / "s", spec)) == provenance["count"] > 0


def test_the_search_is_cut_at_its_dates(tmp_path):
    """FIRST_PDATE:[start TO date] is part of the query; a record first published after the
    search date is not returned by the stand-in, which honours it."""
    later = EpmcRecord("36999999", "MED", "Denosumab stub article after the date",
                       date(2026, 3, 1), pmid="36999999")
    with RestStub(epmc=RECORDS + [later]) as stub:
        provenance = europepmc.retrieve(SPEC, tmp_path / "s", settings(stub.europepmc_url))
        asked = {p["query"] for e, p in stub.requests if e == "search"}
    sent = f"({SPEC['query']}) AND FIRST_PDATE:[1900-01-01 TO 2026-01-31]"
    assert asked == {sent} and provenance["request_parameters"]["query"] == sent
    assert provenance["count"] == 13 and provenance["outside_search_dates"] == 0
    assert "MED-36999999" not in set(europepmc.read(tmp_path / "s", SPEC)["source_id"])
    assert europepmc.full_query({"query": "q", "preprints": "exclude", "date": "2025-06-30",
                                 "start_date": "2015-01-01"}) \
        == "((q) NOT SRC:PPR) AND FIRST_PDATE:[2015-01-01 TO 2025-06-30]"


def test_a_record_the_server_returns_after_the_date_is_left_out(tmp_path, monkeypatch,
                                                                caplog):
    import tests.rest_stubs as stubs
    monkeypatch.setattr(stubs, "_in_range", lambda *a: True)
    later = EpmcRecord("PPR799999", "PPR", "A preprint after the date", date(2026, 3, 1))
    with RestStub(epmc=RECORDS + [later]) as stub:
        provenance = europepmc.retrieve(SPEC, tmp_path / "s", settings(stub.europepmc_url))
    assert provenance["count"] == 14 and provenance["outside_search_dates"] == 1
    assert europepmc.after_search_date(tmp_path / "s") == 1
    with caplog.at_level("WARNING"):
        table = europepmc.read(tmp_path / "s", SPEC)
    assert len(table) == 13 and "PPR-PPR799999" not in set(table["source_id"])
    assert "PPR-PPR799999" not in europepmc.preprint_ids(tmp_path / "s")
    assert "PPR-PPR799999" not in {row[0] for row in europepmc.identifiers(tmp_path / "s")}
    assert any("PPR-PPR799999" in r.getMessage() for r in caplog.records)
