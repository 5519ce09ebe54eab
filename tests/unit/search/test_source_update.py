"""The update table of a source, and a PubMed retrieval with no network."""

import socket

import pytest

from sysrev.search.entrez_client import EntrezSettings, SearchSpec, retrieve_snapshot
from sysrev.search.offline import NoNetworkError
from sysrev.workflow.sources import update_table


def test_new_changed_withdrawn_sorted():
    table = update_table("ctgov", {"NCT2": "2025-01-02", "NCT3": "2025-02-01",
                                   "NCT1": "2024-01-01"},
                         {"NCT1": "2024-01-01", "NCT2": "2024-06-01", "NCT4": "2023-01-01"},
                         {"NCT3": "new trial"}, {"NCT4": "gone trial"},
                         search_date="2026-01-31", previous_date="2025-06-30")
    assert table[["record_id", "status", "version", "previous_version", "title"]] \
        .fillna("").values.tolist() == [
        ["ctgov:NCT3", "new", "2025-02-01", "", "new trial"],
        ["ctgov:NCT2", "changed", "2025-01-02", "2024-06-01", ""],
        ["ctgov:NCT4", "withdrawn", "", "2023-01-01", "gone trial"]]
    assert set(table["previous_search_date"]) == {"2025-06-30"}


def test_a_first_search_has_nothing_to_compare_with():
    assert update_table("pubmed", {"1": "a"}, None, {}, {}, search_date="2026-01-31",
                        previous_date=None).empty


def test_pubmed_without_network_stops_after_two_tries(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/entrez/eutils/"
    slept = []
    with pytest.raises(NoNetworkError, match=r"PubMed: no network.*2026-01-31.*offline route"):
        retrieve_snapshot(SearchSpec("q", "2026-01-31"), tmp_path / "2026-01-31",
                          EntrezSettings(base_url=url, email="t@example.org", rate=None),
                          sleep=slept.append)
    assert len(slept) == 1


def test_citation_seeds_table(tmp_path):
    from sysrev.errors import InputError
    from sysrev.workflow.sources import read_seeds
    path = tmp_path / "seeds.tsv"
    path.write_text("pmid\tnote\n22\ta\n\t\n0011\tb\n22\tagain\n")
    assert read_seeds(path) == ["11", "22"]
    path.write_text("pmid\n22\nPMC123\n")
    with pytest.raises(InputError, match=r"seeds.tsv, line 3, field 'pmid': 'PMC123' is not"):
        read_seeds(path)
    (tmp_path / "s.csv").write_text("record_id\n1\n")
    with pytest.raises(InputError, match="no 'pmid' column"):
        read_seeds(tmp_path / "s.csv")
