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


# -- into deduplication and screening ---------------------------------------------------
TITLE = "Denosumab and erosion progression in rheumatoid arthritis: a randomised trial"
SAME_STUDY = records([
    {"record_id": "pubmed:21", "source": "pubmed", "source_id": "21", "pmid": "21",
     "title": TITLE, "authors": "Smith A; Jones B; Brown C", "year": "2021",
     "journal": "Ann Rheum Dis"},
    {"record_id": "europepmc:PPR-PPR2", "source": "europepmc", "source_id": "PPR-PPR2",
     "title": TITLE, "authors": "Smith A; Jones B; Brown C", "year": "2021",
     "publication_types": "Preprint"},
    {"record_id": "ctgov:NCT00000021", "source": "ctgov", "source_id": "NCT00000021",
     "title": TITLE, "year": "2021", "journal": "ClinicalTrials.gov"},
    {"record_id": "pubmed:22", "source": "pubmed", "source_id": "22", "pmid": "22",
     "title": "Something else entirely about bone density", "authors": "Other Z",
     "year": "2019", "journal": "Bone"},
])
LINKS = pd.DataFrame([("ctgov:NCT00000021", "pubmed:21", "registration_of", "references"),
                      ("europepmc:PPR-PPR2", "pubmed:21", "preprint_of", "same title")],
                     columns=["record_id_a", "record_id_b", "relation", "evidence"])


def _dedup(tmp_path, links):
    from sysrev.tables import read_tsv, write_tsv
    from sysrev.workflow.dedup import deduplicate_records
    write_tsv(SAME_STUDY, tmp_path / "records.tsv", RECORD_COLUMNS)
    out = {name: str(tmp_path / f"{name}.tsv") for name in
           ("unique", "duplicates", "clusters", "maybe", "related")}
    kwargs = {}
    if links is not None:
        LINKS.to_csv(tmp_path / "related_reports.tsv", sep="\t", index=False)
        kwargs["source_links"] = str(tmp_path / "related_reports.tsv")
    deduplicate_records(records=str(tmp_path / "records.tsv"), audit=str(tmp_path / "a.json"),
                        source_priority=["pubmed", "europepmc", "ctgov"], incremental=False,
                        **out, **kwargs)
    return {name: read_tsv(path) for name, path in out.items()}


def test_without_the_links_a_preprint_merges_with_its_journal_version(tmp_path):
    """What the links prevent: same title, authors and year make one cluster."""
    found = _dedup(tmp_path, None)
    assert "europepmc:PPR-PPR2" in set(found["duplicates"]["removed_record_id"])


def test_linked_reports_are_never_merged_and_are_related_in_dedup(tmp_path):
    found = _dedup(tmp_path, LINKS)
    assert found["duplicates"].empty
    related = found["related"]
    assert related[["record_id", "related_record_id", "relation"]].values.tolist() == [
        ["ctgov:NCT00000021", "pubmed:21", "registration_of"],
        ["europepmc:PPR-PPR2", "pubmed:21", "preprint_of"]]
    unique = found["unique"].set_index("record_id")
    assert unique.loc["pubmed:21", "related_reports"] == (
        "registration_of:ctgov:NCT00000021; preprint_of:europepmc:PPR-PPR2")


def test_a_reviewers_same_wins_over_a_link(tmp_path):
    from sysrev.related_reports import cannot_links
    overrides = pd.DataFrame([("pubmed:21", "europepmc:PPR-PPR2", "same", "")],
                             columns=["record_id_a", "record_id_b", "decision", "note"])
    added = cannot_links(LINKS, overrides)
    assert added[["record_id_a", "record_id_b", "decision"]].values.tolist() == [
        ["ctgov:NCT00000021", "europepmc:PPR-PPR2", "different"],
        ["ctgov:NCT00000021", "pubmed:21", "different"]]


def test_two_copies_of_one_paper_linked_to_one_trial_may_still_merge():
    from sysrev.related_reports import cannot_links
    links = pd.DataFrame([("ctgov:NCT1", "pubmed:1", "registration_of", ""),
                          ("ctgov:NCT1", "europepmc:MED-1", "registration_of", "")],
                         columns=["record_id_a", "record_id_b", "relation", "evidence"])
    added = cannot_links(links, pd.DataFrame(columns=["record_id_a", "record_id_b"]))
    assert {frozenset(p) for p in zip(added["record_id_a"], added["record_id_b"])} == {
        frozenset(("ctgov:NCT1", "pubmed:1")), frozenset(("ctgov:NCT1", "europepmc:MED-1"))}


def test_study_candidates_join_registration_papers_and_preprint():
    from sysrev.related_reports import study_candidates
    related = pd.DataFrame(
        [("ctgov:NCT2", "pubmed:5", "registration_of", ""),
         ("europepmc:PPR-PPR9", "pubmed:5", "preprint_of", ""),
         ("ctgov:NCT2", "pubmed:6", "registration_of", ""),
         ("europepmc:PPR-PPR1", "pubmed:7", "preprint_of", ""),
         ("pubmed:8", "pubmed:3", "erratum", "")],
        columns=["record_id", "related_record_id", "relation", "evidence"])
    assert study_candidates(related) == {
        "ctgov:NCT2": "ctgov:NCT2", "pubmed:5": "ctgov:NCT2", "pubmed:6": "ctgov:NCT2",
        "europepmc:PPR-PPR9": "ctgov:NCT2",
        "europepmc:PPR-PPR1": "europepmc:PPR-PPR1", "pubmed:7": "europepmc:PPR-PPR1"}


def test_the_to_screen_list_is_grouped_by_study_candidate():
    from sysrev.screening.living import group_by_study
    pending = pd.DataFrame({"record_id": ["pubmed:1", "europepmc:PPR-PPR9", "pubmed:2",
                                          "ctgov:NCT2"]})
    candidates = {"ctgov:NCT2": "ctgov:NCT2", "pubmed:5": "ctgov:NCT2",
                  "europepmc:PPR-PPR9": "ctgov:NCT2"}
    table = group_by_study(pending, candidates)
    assert table["record_id"].tolist() == ["pubmed:1", "europepmc:PPR-PPR9", "ctgov:NCT2",
                                           "pubmed:2"]
    assert table["study_candidate"].tolist() == ["pubmed:1", "ctgov:NCT2", "ctgov:NCT2",
                                                 "pubmed:2"]
    assert table["related_reports"].tolist()[1:3] == ["ctgov:NCT2; pubmed:5",
                                                      "europepmc:PPR-PPR9; pubmed:5"]
