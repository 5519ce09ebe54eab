"""Decisions exported by Rayyan, ASReview and Covidence, and the to-screen list."""

import pandas as pd
import pytest

from sysrev.errors import InputError
from sysrev.screening import RecordMatcher
from sysrev.screening.formats import read_asreview, read_covidence, read_rayyan
from sysrev.screening.living import neutralise, new_since_last_search, to_screen


@pytest.fixture
def dino(testdata):
    """Records and clusters built from the Covidence export of the same ten records."""
    cov = pd.read_csv(testdata / "screening/cff___baseline_covidence.csv", dtype=str,
                      keep_default_na=False)
    ids = [f"embase:{i}" for i in range(len(cov))]
    records = pd.DataFrame({"record_id": ids, "source": "embase",
                            "source_id": [str(i) for i in range(len(cov))], "pmid": None,
                            "doi": cov["DOI"].str.lower().replace("", None),
                            "title": cov["Title"], "year": cov["Published Year"]})
    clusters = pd.DataFrame({"record_id": ids, "cluster_id": ids, "kept": True})
    return RecordMatcher(records, clusters), testdata / "screening"


def test_rayyan_decisions_and_reviewers(dino):
    matcher, folder = dino
    table = read_rayyan(folder / "cff___baseline_rayyan.csv", matcher, stage="title_abstract")
    assert len(table) == 6
    assert set(table["reviewer"]) == {"Emily"}
    assert table["decision"].value_counts().to_dict() == {"include": 2, "maybe": 2,
                                                          "exclude": 2}
    # Two of Rayyan's decided records are not in this record set: they stay unmatched,
    # with the keys that were tried, for check_decisions to report.
    matched = table[table["unique_record_id"].astype(bool)]
    assert len(matched) == 4 and matched["match"].str.startswith("DOI ").all()
    unmatched = table[~table["unique_record_id"].astype(bool)]
    assert set(unmatched["match"].str.extract(r"DOI (\S+)")[0]) == {
        "10.1111/cla.12583", "10.1002/ar.25299"}


def test_covidence_list_export(dino):
    matcher, folder = dino
    table = read_covidence(folder / "cff___baseline_covidence.csv", matcher,
                           stage="full_text", decision="include", reviewer="R1")
    assert len(table) == 10
    assert (table["decision"] == "include").all()
    assert table["unique_record_id"].astype(bool).all()


def test_asreview_labels(tmp_path, testdata):
    records = pd.DataFrame({"record_id": ["x:1", "x:2", "x:3"], "source": "x",
                            "source_id": ["1", "2", "3"], "pmid": ["11", None, None],
                            "doi": [None, "10.5/b", None],
                            "title": ["One study", "Two study", "Three study"],
                            "year": ["2020", "2021", "2022"]})
    clusters = pd.DataFrame({"record_id": ["x:1", "x:2", "x:3"],
                             "cluster_id": ["x:1", "x:2", "x:3"], "kept": True})
    matcher = RecordMatcher(records, clusters)
    path = tmp_path / "asreview.csv"
    path.write_text("record_id,title,doi,pubmed_id,asreview_label\n"
                    ",Anything,,11,1\n,Anything,10.5/B,,0\n,Three study,,,\n",
                    encoding="utf-8")
    table = read_asreview(path, matcher, stage="title_abstract", reviewer="ASReview-R1")
    assert list(table["unique_record_id"]) == ["x:1", "x:2"]
    assert list(table["decision"]) == ["include", "exclude"]
    bad = tmp_path / "bad.csv"
    bad.write_text("title,asreview_label\nOne study,yes\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.csv, line 2, field 'asreview_label'"):
        read_asreview(bad, matcher, stage="title_abstract", reviewer="R")
    # The shared ASReview export is read through its label_included column.
    shared = read_asreview(testdata / "screening/asreview__generic_labels.csv", matcher,
                           stage="title_abstract", reviewer="R")
    assert len(shared) == 6 and shared["decision"].value_counts().to_dict() == {
        "include": 3, "exclude": 3}


def test_neutralise_formula_cells():
    assert neutralise("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    for start in ("+1", "-2", "@SUM(A1)", "\tx"):
        assert neutralise(start).startswith("'")
    assert neutralise("Denosumab") == "Denosumab"
    assert neutralise(12) == 12


def test_to_screen_lists_pending_new_first():
    unique = pd.DataFrame({
        "record_id": ["pubmed:1", "pubmed:2", "embase:E9"],
        "pmid": ["1", "2", None], "doi": ["10.1/a", None, None],
        "title": ["=cmd|' /C calc'!A0", "Old", "Export only"], "authors": ["A", "B", "C"],
        "year": ["2025", "2020", "2024"], "journal": ["J", "J", "J"],
        "abstract": [None, None, None],
        "cluster_records": ["pubmed:1; embase:E1", "pubmed:2", "embase:E9"]})
    finals = pd.DataFrame({"record_id": ["pubmed:1", "pubmed:2", "embase:E9"],
                           "stage": ["title_abstract"] * 3,
                           "final_decision": ["pending"] * 3,
                           "basis": ["not screened"] * 3})
    newness = new_since_last_search(unique, {"1", "2"}, {"2"})
    table = to_screen(unique, finals, newness)
    assert list(table["record_id"]) == ["pubmed:1", "embase:E9", "pubmed:2"]
    assert list(table["new_since_last_search"]) == ["yes", "unknown", "no"]
    assert table.iloc[0]["title"].startswith("'=")
    assert table.iloc[0]["doi_url"] == "https://doi.org/10.1/a"
    assert table.iloc[0]["other_ids"] == "embase:E1"


def test_new_since_previous_version_covers_every_source():
    from sysrev.screening.living import new_since_previous_version

    unique = pd.DataFrame({"record_id": ["pubmed:1", "embase:E9", "wos:W3"]})
    clusters = pd.DataFrame({"record_id": ["pubmed:1", "embase:E1", "embase:E9", "wos:W3"],
                             "cluster_id": ["pubmed:1", "pubmed:1", "embase:E9", "wos:W3"]})
    newness = new_since_previous_version(unique, clusters, {"embase:E1", "wos:W3"})
    assert list(newness) == ["no", "yes", "no"]
