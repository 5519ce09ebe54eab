"""Deduplication: exact identifiers, normalised titles, and look-alikes kept apart."""

import pandas as pd

from sysrev.columns import RECORD_COLUMNS
from sysrev.dedup import deduplicate, duplicate_counts, normalise_title, unique_records


def _records(rows):
    frame = pd.DataFrame([{c: r.get(c) for c in RECORD_COLUMNS} for r in rows])
    return frame


def _cluster_map(result):
    return dict(zip(result["record_id"], result["cluster_id"]))


def test_doi_pmid_and_title_links():
    records = _records([
        {"record_id": "pubmed:1", "source": "pubmed", "pmid": "1", "doi": "10.1/a",
         "title": "Denosumab in rheumatoid arthritis: a randomised trial", "year": "2019",
         "authors": "Takeuchi T"},
        {"record_id": "embase:E1", "source": "embase", "doi": "10.1/a",
         "title": "Denosumab in rheumatoid arthritis - a randomised trial", "year": "2019"},
        {"record_id": "central:C1", "source": "central", "pmid": "1",
         "title": "Denosumab in rheumatoid arthritis", "year": "2019"},
        {"record_id": "wos:W1", "source": "wos",
         "title": "DENOSUMAB IN RHEUMATOID ARTHRITIS: A RANDOMISED TRIAL", "year": "2019",
         "authors": "Takeuchi, T"},
    ])
    result = deduplicate(records, source_priority=["pubmed"])
    assert set(_cluster_map(result).values()) == {"pubmed:1"}
    rules = dict(zip(result["record_id"], result["rule"]))
    assert rules == {"pubmed:1": "", "embase:E1": "doi", "central:C1": "pmid",
                     "wos:W1": "title_year_author"}
    counts = duplicate_counts(records, result)
    assert counts["duplicates_removed"] == 3
    assert counts["duplicates_across_sources"] == 3


def test_same_title_other_authors_or_year_stays_apart():
    title = "Osteoporosis in rheumatoid arthritis: an update"
    records = _records([
        {"record_id": "a:1", "source": "a", "title": title, "year": "2015",
         "authors": "Smith J"},
        {"record_id": "b:1", "source": "b", "title": title, "year": "2021",
         "authors": "Smith J"},
        {"record_id": "c:1", "source": "c", "title": title, "year": "2015",
         "authors": "Jones K"},
    ])
    result = deduplicate(records)
    assert result["kept"].all()


def test_conflicting_dois_keep_records_apart():
    title = "Effects of denosumab on erosions: part 1"
    records = _records([
        {"record_id": "a:1", "source": "a", "title": title, "doi": "10.1/x", "year": "2020"},
        {"record_id": "b:1", "source": "b", "title": title, "doi": "10.1/y", "year": "2020"},
    ])
    assert deduplicate(records)["kept"].all()


def test_short_titles_are_not_linked():
    records = _records([{"record_id": "a:1", "source": "a", "title": "Erratum"},
                        {"record_id": "b:1", "source": "b", "title": "Erratum"}])
    assert deduplicate(records)["kept"].all()


def test_kept_record_is_most_complete_and_fields_are_filled():
    records = _records([
        {"record_id": "embase:E1", "source": "embase", "doi": "10.1/a", "title": "T" * 40,
         "year": "2019", "volume": "78", "pages": "899-907", "journal": "Ann Rheum Dis"},
        {"record_id": "wos:W1", "source": "wos", "doi": "10.1/a", "title": "T" * 40,
         "issue": "7"},
    ])
    result = deduplicate(records)
    unique = unique_records(records, result)
    assert list(unique["record_id"]) == ["embase:E1"]
    assert unique.iloc[0]["issue"] == "7"
    assert unique.iloc[0]["filled_fields"] == "issue<-wos:W1"


def test_result_is_independent_of_row_order():
    rows = [{"record_id": f"s:{i}", "source": "s", "doi": "10.1/a" if i % 2 else None,
             "title": f"A sufficiently long distinct title number {i % 3}", "year": "2020"}
            for i in range(9)]
    forward = deduplicate(_records(rows))
    backward = deduplicate(_records(rows[::-1]))
    pd.testing.assert_frame_equal(forward, backward)


def test_normalise_title_folds_case_diacritics_and_punctuation():
    assert normalise_title("Osteoporose – häufige Komorbidität!") == \
        "osteoporose haufige komorbiditat"
    assert normalise_title("Опыт применения деносумаба") == "опыт применения деносумаба"
    assert normalise_title(None) == ""
