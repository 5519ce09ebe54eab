"""PubMed efetch XML parsing and the frozen-snapshot checks."""

import json
import shutil
from pathlib import Path

import pytest

from sysrev.errors import InputError
from sysrev.search.pubmed_xml import parse_pubmed_xml
from sysrev.search.snapshot import read_snapshot

REPO = Path(__file__).resolve().parents[3]
SNAPSHOT = REPO / "data/denosumab_ra/search/pubmed/2025-06-30"
QUERY = json.loads((SNAPSHOT / "provenance.json").read_text())["query"]


def test_structured_abstract_html_and_doi(testdata):
    records = list(parse_pubmed_xml(testdata / "eutils/biopython_Entrez/pubmed4.xml"))
    first = records[0]
    assert first["pmid"] == "27797938"
    assert first["title"].startswith("Leucocyte telomere length, genetic variants at the TERT")
    assert "<i>" not in first["title"]
    assert first["abstract"].startswith("OBJECTIVE: ")
    assert first["doi"] == "10.1136/gutjnl-2016-312510"
    assert first["authors"].startswith("Bao Y; Prescott J")
    assert "Adenocarcinoma" in first["mesh_terms"]


def test_html_instead_of_xml_is_an_error(testdata):
    with pytest.raises(InputError, match="pubmed3.html"):
        list(parse_pubmed_xml(testdata / "eutils/biopython_Entrez/pubmed3.html"))


def test_bundled_snapshot_reads_all_records():
    table = read_snapshot(SNAPSHOT, query=QUERY)
    assert len(table) == 29
    assert (table["record_id"] == "pubmed:" + table["pmid"]).all()


def test_snapshot_made_with_another_query_is_refused(tmp_path):
    copy = tmp_path / "2025-06-30"
    shutil.copytree(SNAPSHOT, copy)
    with pytest.raises(InputError, match="different query") as err:
        read_snapshot(copy, query="denosumab")
    assert "set search.pubmed.date to a new date" in str(err.value)


def test_count_mismatch_with_provenance_is_an_error(tmp_path):
    copy = tmp_path / "snap"
    shutil.copytree(SNAPSHOT, copy)
    provenance = json.loads((copy / "provenance.json").read_text())
    provenance["count"] = 30
    (copy / "provenance.json").write_text(json.dumps(provenance))
    with pytest.raises(InputError, match="provenance says 30 records but the XML holds 29"):
        read_snapshot(copy, query=QUERY)


def test_a_retrieved_snapshot_changed_after_it_was_written_is_an_error(tmp_path):
    from datetime import date

    from sysrev.search.entrez_client import EntrezSettings, SearchSpec, retrieve_snapshot
    from tests.eutils_server import EutilsStub, make_records

    target = tmp_path / "2026-01-31"
    with EutilsStub(make_records(7, seed=2, start=date(2020, 1, 1),
                                 end=date(2025, 1, 1))) as stub:
        retrieve_snapshot(SearchSpec("q", "2026-01-31"), target,
                          EntrezSettings(base_url=stub.url, email="t@example.org", rate=None,
                                         batch_size=5))
    assert len(read_snapshot(target, query="q")) == 7
    batch = sorted(target.glob("batch_*.xml"))[-1]
    batch.write_bytes(batch.read_bytes().replace(b"record", b"RECORD", 1))
    with pytest.raises(InputError, match=f"{batch.name}.*SHA-256"):
        read_snapshot(target, query="q")


def test_an_edited_snapshot_file_is_refused_naming_the_file(tmp_path):
    """Issue 17: a title changed inside records.xml flowed into the results with exit 0."""
    copy = tmp_path / "2025-06-30"
    shutil.copytree(SNAPSHOT, copy)
    xml = copy / "records.xml"
    xml.write_text(xml.read_text(encoding="utf-8").replace(
        "<ArticleTitle>Erosive arthritis</ArticleTitle>",
        "<ArticleTitle>Erosive arthritis (edited)</ArticleTitle>"), encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_snapshot(copy, query=QUERY)
    message = str(err.value)
    assert str(xml) in message and "SHA-256" in message and "changed after" in message


def test_a_swapped_pmid_is_refused_even_with_the_count_kept(tmp_path):
    """Issue 17: one PMID swapped for another, the count kept, was accepted. Without the
    digests (an older snapshot), the PMID list still catches it."""
    copy = tmp_path / "2025-06-30"
    shutil.copytree(SNAPSHOT, copy)
    xml = copy / "records.xml"
    xml.write_text(xml.read_text(encoding="utf-8").replace(
        '<PMID Version="1">17634141</PMID>', '<PMID Version="1">99999999</PMID>'),
        encoding="utf-8")
    provenance = json.loads((copy / "provenance.json").read_text())
    del provenance["files"]
    (copy / "provenance.json").write_text(json.dumps(provenance))
    with pytest.raises(InputError) as err:
        read_snapshot(copy, query=QUERY)
    message = str(err.value)
    assert "provenance.json" in message and "'99999999'" in message and "'17634141'" in message


def test_an_xml_file_not_recorded_in_the_provenance_is_refused(tmp_path):
    copy = tmp_path / "2025-06-30"
    shutil.copytree(SNAPSHOT, copy)
    shutil.copy2(copy / "records.xml", copy / "records_2.xml")
    with pytest.raises(InputError, match="records_2.xml.*not listed"):
        read_snapshot(copy, query=QUERY)
