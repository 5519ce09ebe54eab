"""Related reports: a registration and its publications (references, DataBank, abstract),
a preprint and its journal version; linked, never merged."""

import pandas as pd

from sysrev.columns import RECORD_COLUMNS
from sysrev.related_reports import databank_nct_ids, related_reports


def records(rows):
    return pd.DataFrame([{c: r.get(c) for c in RECORD_COLUMNS} for r in rows])


TABLE = records([
    {"record_id": "ctgov:NCT00000001", "source": "ctgov", "source_id": "NCT00000001"},
    {"record_id": "ctgov:NCT00000002", "source": "ctgov", "source_id": "NCT00000002"},
    {"record_id": "pubmed:11", "source": "pubmed", "pmid": "11", "title": "A trial",
     "authors": "Smith A; Jones B"},
    {"record_id": "pubmed:12", "source": "pubmed", "pmid": "12", "title": "Follow-up",
     "abstract": "Registered as NCT00000002 (ClinicalTrials.gov)."},
    {"record_id": "pubmed:13", "source": "pubmed", "pmid": "13", "title": "Other"},
    {"record_id": "europepmc:PPR-PPR1", "source": "europepmc", "title": "A Trial.",
     "authors": "Smith A, Jones B"},
])


def test_registration_links_from_references_databank_and_abstract():
    refs = pd.DataFrame([("NCT00000001", "11", "RESULT"), ("NCT99999999", "13", "RESULT")],
                        columns=["nct_id", "pmid", "reference_type"])
    found = related_reports(TABLE, references=refs, databank={"13": {"NCT00000001"}},
                            preprints={"europepmc:PPR-PPR1"})
    rows = set(map(tuple, found[["record_id_a", "record_id_b", "relation"]].values))
    assert rows == {("ctgov:NCT00000001", "pubmed:11", "registration_of"),
                    ("ctgov:NCT00000001", "pubmed:13", "registration_of"),
                    ("ctgov:NCT00000002", "pubmed:12", "registration_of"),
                    ("europepmc:PPR-PPR1", "pubmed:11", "preprint_of")}
    evidence = dict(zip(found["record_id_b"] + found["relation"], found["evidence"]))
    assert "DataBank" in evidence["pubmed:13registration_of"]
    assert "abstract" in evidence["pubmed:12registration_of"]


def test_databank_ids_from_pubmed_xml(tmp_path):
    path = tmp_path / "set.xml"
    path.write_text(
        "<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>42</PMID><Article>"
        "<DataBankList CompleteYN='Y'><DataBank><DataBankName>ClinicalTrials.gov"
        "</DataBankName><AccessionNumberList><AccessionNumber>NCT01234567</AccessionNumber>"
        "</AccessionNumberList></DataBank><DataBank><DataBankName>ISRCTN</DataBankName>"
        "<AccessionNumberList><AccessionNumber>ISRCTN1</AccessionNumber>"
        "</AccessionNumberList></DataBank></DataBankList></Article></MedlineCitation>"
        "</PubmedArticle></PubmedArticleSet>")
    assert databank_nct_ids([path]) == {"42": {"NCT01234567"}}


def test_without_the_sources_details_only_the_abstract_link():
    found = related_reports(TABLE)
    assert found[["record_id_a", "record_id_b"]].values.tolist() == [
        ["ctgov:NCT00000002", "pubmed:12"]]
    assert related_reports(TABLE[TABLE["source"] != "ctgov"]).empty
