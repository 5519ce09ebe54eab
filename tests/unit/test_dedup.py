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


# --- issue 4: fuzzy matching, look-alikes, overrides, maybe pairs, blocking ----------

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from sysrev.dedup import (candidate_pairs, find_duplicates, journal_score,  # noqa: E402
                          load_overrides, title_numbers)
from sysrev.errors import InputError  # noqa: E402

ARTICLE = {"title": "Denosumab and bone erosion in rheumatoid arthritis: a randomised trial",
           "authors": "Takeuchi, T; Tanaka, Y; Soen, S", "year": "2019",
           "journal": "Annals of the Rheumatic Diseases", "volume": "78", "pages": "899-907"}


def _pairs_in_one_cluster(result, a, b):
    clusters = _cluster_map(result)
    return clusters[a] == clusters[b]


def test_fuzzy_duplicates_across_formats():
    records = _records([
        {"record_id": "pubmed:1", "source": "pubmed", **ARTICLE},
        # case, punctuation, diacritics, author format, abbreviated journal, no DOI
        {"record_id": "embase:E1", "source": "embase",
         "title": "DENOSUMAB AND BONE ÉROSION IN RHEUMATOID ARTHRITIS - A RANDOMISED TRIAL.",
         "authors": "Takeuchi T.; Tanaka Y.; Soen S.", "year": "2019",
         "journal": "Ann Rheum Dis", "volume": "78", "pages": "899"},
        # a typo and the year one off (online first)
        {"record_id": "wos:W1", "source": "wos",
         "title": "Denosumab and bone erosion in rheumatoid arthritsi: a randomised trial",
         "authors": "Takeuchi, Tsutomu; Tanaka, Yoshiya", "year": "2019",
         "journal": "ANN RHEUM DIS", "volume": "78", "pages": "899-907"},
        # a truncated title
        {"record_id": "central:C1", "source": "central",
         "title": "Denosumab and bone erosion in rheumatoid arthritis", "year": "2019",
         "authors": "Takeuchi T", "journal": "Ann Rheum Dis", "volume": "78",
         "pages": "899-907"},
        # a translated title: same authors, journal, year, volume and page range
        {"record_id": "cnki:K1", "source": "cnki",
         "title": "Denosumab und Knochenerosion bei rheumatoider Arthritis",
         "authors": "Takeuchi T; Tanaka Y; Soen S", "year": "2019",
         "journal": "Ann. Rheum. Dis.", "volume": "78", "pages": "899-907"},
    ])
    result = deduplicate(records, source_priority=["pubmed"])
    assert set(result["cluster_id"]) == {"pubmed:1"}
    rules = dict(zip(result["record_id"], result["rule"]))
    assert rules["cnki:K1"] == "bibliographic"
    assert {rules["embase:E1"], rules["wos:W1"], rules["central:C1"]} <= {
        "fuzzy", "title_year_author"}
    scored = result[result["rule"] == "fuzzy"]
    assert (scored["title_score"] >= 90).all()
    assert scored["year_match"].isin(["same", "one apart"]).all()


@pytest.mark.parametrize("other", [
    {"title": "Erratum: " + ARTICLE["title"], "pages": "1200", "year": "2020"},
    {"title": "Correction to: " + ARTICLE["title"], "pages": "899-907"},
    {"title": "Comment on: " + ARTICLE["title"], "authors": "Smith, J", "pages": "1201"},
    {"title": ARTICLE["title"].replace("a randomised trial", "study protocol for a "
                                       "randomised trial"), "year": "2017",
     "journal": "Trials", "volume": "18", "pages": "45"},
    {"title": ARTICLE["title"], "journal": "Annual Meeting of the American College of "
     "Rheumatology", "volume": "70", "pages": "S1234", "year": "2018"},
    {"title": ARTICLE["title"] + ": part 2", "pages": "908-915"},
    {"title": ARTICLE["title"], "authors": "Smith, J; Jones, K", "year": "2012",
     "volume": "71", "pages": "12-19"},
])
def test_look_alikes_stay_apart(other):
    base = {"record_id": "a:1", "source": "a", **ARTICLE}
    if "part 2" in other["title"]:
        base["title"] = ARTICLE["title"] + ": part 1"
    records = _records([base, {"record_id": "b:1", "source": "b", **{**ARTICLE, **other}}])
    assert deduplicate(records)["kept"].all()


def test_cannot_link_is_not_bypassed_through_a_third_record():
    # The erratum shares the article's DOI in one database; a copy of the article without
    # DOI must not pull the erratum into the article's cluster either.
    records = _records([
        {"record_id": "a:1", "source": "a", **ARTICLE, "doi": "10.1/x"},
        {"record_id": "b:1", "source": "b", **ARTICLE},
        {"record_id": "c:1", "source": "c", **ARTICLE, "title": "Erratum: " + ARTICLE["title"],
         "doi": "10.1/x", "publication_types": "Erratum"},
    ])
    result = deduplicate(records)
    assert _pairs_in_one_cluster(result, "a:1", "b:1")
    assert not _pairs_in_one_cluster(result, "a:1", "c:1")


def test_supplement_doi_shared_by_different_abstracts_is_not_a_link():
    records = _records([
        {"record_id": "a:1", "source": "a", "doi": "10.1007/s00125-017-4350-z",
         "title": "Cardiac effects of combined SGLT1/2 inhibition following infarction",
         "authors": "Gilbert R. E.; Zhang Y.", "year": "2017", "journal": "Diabetologia",
         "volume": "60", "pages": "S548"},
        {"record_id": "b:1", "source": "b", "doi": "10.1007/s00125-017-4350-z",
         "title": "No major impact seen with sitagliptin on rates of cardiovascular death",
         "authors": "Nauck M. A.; Pieper K. S.", "year": "2017", "journal": "Diabetologia",
         "volume": "60", "pages": "S356"},
    ])
    assert deduplicate(records)["kept"].all()


def test_maybe_pairs_and_overrides(tmp_path):
    rows = [{"record_id": "a:1", "source": "a", **ARTICLE},
            # same title, authors and journal but other pages and a year apart: a human call
            {"record_id": "b:1", "source": "b", **ARTICLE, "year": "2020", "pages": "1-9"}]
    records = _records(rows)
    result = find_duplicates(records)
    assert result.clusters["kept"].all()
    assert list(result.maybe[["record_id_a", "record_id_b"]].iloc[0]) == ["a:1", "b:1"]
    assert "different pages" in result.maybe.iloc[0]["reason"]

    path = tmp_path / "overrides.csv"
    path.write_text("record_id_a,record_id_b,decision,note\nb:1,a:1,same,checked PDF\n",
                    encoding="utf-8")
    overrides = load_overrides(path, records["record_id"])
    merged = find_duplicates(records, overrides=overrides)
    removed = merged.clusters[~merged.clusters["kept"]].iloc[0]
    assert (removed["rule"], removed["detail"]) == ("override", "reviewer: same (checked PDF)")
    assert merged.maybe.empty

    # 'different' wins over every automatic link
    twins = _records([{"record_id": "a:1", "source": "a", **ARTICLE, "doi": "10.1/x"},
                      {"record_id": "b:1", "source": "b", **ARTICLE, "doi": "10.1/x"}])
    path.write_text("record_id_a,record_id_b,decision\na:1,b:1,different\n", encoding="utf-8")
    assert find_duplicates(twins, overrides=load_overrides(path, twins["record_id"])
                           ).clusters["kept"].all()
    assert load_overrides(tmp_path / "absent.csv", ["a:1"]).empty


def test_overrides_are_validated(tmp_path):
    path = tmp_path / "overrides.csv"
    path.write_text("record_id_a,record_id_b,decision\na:1,zz:9,same\na:1,b:1,merge\n"
                    "a:1,a:1,same\nb:1,a:1,different\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_overrides(path, ["a:1", "b:1"])
    message = str(err.value)
    assert "line 2, column record_id_b: record id 'zz:9'" in message
    assert "line 3, column decision: 'merge'" in message
    assert "line 4: a record paired with itself" in message


def test_blocking_compares_neighbours_not_all_pairs():
    n = 3000
    rows = [{"record_id": f"s:{i:05d}", "source": "s",
             "title": f"Effects of drug number {i} on outcome {i * 7 % 13} in patients",
             "authors": "Smith J", "year": "2020", "journal": "J Test"} for i in range(n)]
    result = find_duplicates(_records(rows))
    # one big author+year block: the window keeps the comparisons linear in n
    assert result.counts["candidate_pairs"] < 40 * n
    assert result.clusters["kept"].all()


def test_title_numbers_and_journal_abbreviations():
    assert title_numbers("effects part ii of 10 000 women co 2") == frozenset({2, 10000})
    assert title_numbers("phase three trial") == frozenset({3})
    assert title_numbers("a v b i") == frozenset()
    assert title_numbers("part one") == frozenset({1})
    assert journal_score("ann rheum dis", "annals of the rheumatic diseases") == 100
    assert journal_score("arthritis rheum", "arthritis rheumatism") == 100
    assert journal_score("arthritis", "arthritis research therapy") < 100


def test_no_title_and_empty_table():
    records = _records([{"record_id": "a:1", "source": "a", "doi": "10.1/a"},
                        {"record_id": "b:1", "source": "b", "doi": "10.1/a"},
                        {"record_id": "c:1", "source": "c"}])
    result = deduplicate(records)
    assert _pairs_in_one_cluster(result, "a:1", "b:1")
    assert result.set_index("record_id").loc["c:1", "kept"]
    empty = deduplicate(_records([]).reindex(columns=RECORD_COLUMNS))
    assert empty.empty and list(empty.columns)[:6] == ["record_id", "cluster_id", "kept",
                                                       "kept_record_id", "rule", "detail"]


# --- issue 12: related reports, conference abstracts, no-title records, retractions ------

from sysrev.dedup.related import (combine_status, report_kind,  # noqa: E402
                                  retraction_status, split_report_title)


def _related_rows(result):
    return {(r.record_id, r.related_record_id): (r.relation, r.evidence)
            for r in result.related.itertuples(index=False)}


def _family():
    """An article in two databases and the reports about it, as databases export them."""
    title = ARTICLE["title"]
    return _records([
        {"record_id": "pubmed:1", "source": "pubmed", "pmid": "1", "doi": "10.1/art",
         **ARTICLE},
        {"record_id": "embase:E1", "source": "embase", **ARTICLE, "journal": "Ann Rheum Dis"},
        {"record_id": "pubmed:2", "source": "pubmed", "pmid": "2", "doi": "10.1/err",
         "title": "Erratum: " + title, "year": "2020", "journal": ARTICLE["journal"],
         "volume": "79", "pages": "1200", "publication_types": "Published Erratum"},
        {"record_id": "embase:E2", "source": "embase", "doi": "10.1/cor",
         "title": "Correction to: " + title, "year": "2019", "journal": "Ann Rheum Dis",
         "volume": "78", "pages": "1430", "publication_types": "Erratum"},
        {"record_id": "wos:W3", "source": "wos", "title": f'Comment on: "{title}"',
         "authors": "Smith, J", "year": "2019", "journal": "Ann Rheum Dis", "volume": "78",
         "pages": "e45"},
        {"record_id": "wos:W4", "source": "wos",
         "title": f"Reply to: Comment on '{title}'", "authors": "Takeuchi, T",
         "year": "2019", "journal": "Ann Rheum Dis", "volume": "78", "pages": "e46"},
        {"record_id": "pubmed:5", "source": "pubmed", "pmid": "5",
         "title": "Retraction note to: " + title, "year": "2021",
         "journal": ARTICLE["journal"], "publication_types": "Retraction of Publication"},
        {"record_id": "pubmed:6", "source": "pubmed", "pmid": "6",
         "title": "Expression of concern", "year": "2020", "journal": ARTICLE["journal"],
         "publication_types": "Expression of Concern",
         "comments_corrections": "ExpressionOfConcernFor 1"},
    ])


def test_related_reports_are_linked_to_their_article_not_merged():
    result = find_duplicates(_family(), source_priority=["pubmed"])
    kept = result.clusters.set_index("record_id")["kept_record_id"]
    assert kept["embase:E1"] == "pubmed:1"
    # every report stays a record of its own
    for rid in ("pubmed:2", "embase:E2", "wos:W3", "wos:W4", "pubmed:5", "pubmed:6"):
        assert kept[rid] == rid
    rows = _related_rows(result)
    assert rows[("pubmed:2", "pubmed:1")][0] == "erratum"
    assert rows[("embase:E2", "pubmed:1")][0] == "erratum"
    assert rows[("wos:W3", "pubmed:1")][0] == "comment"
    assert rows[("wos:W4", "pubmed:1")][0] == "reply"
    assert rows[("pubmed:5", "pubmed:1")][0] == "retraction"
    relation, evidence = rows[("pubmed:6", "pubmed:1")]
    assert relation == "expression_of_concern"
    assert evidence == "PubMed ExpressionOfConcernFor 1"
    assert "title after the erratum prefix matches" in rows[("pubmed:2", "pubmed:1")][1]
    # a link found on a duplicate names the records it was found on
    assert list(result.related.columns) == ["record_id", "related_record_id", "relation",
                                            "evidence"]
    assert result.counts["related_reports"]["erratum"] == 2


def test_errata_as_duplicates_when_configured():
    result = find_duplicates(_family(), source_priority=["pubmed"], errata="duplicate")
    clusters = result.clusters.set_index("record_id")
    for rid in ("pubmed:2", "embase:E2"):
        assert clusters.loc[rid, "kept_record_id"] == "pubmed:1"
        assert clusters.loc[rid, "rule"] == "erratum"
    # the article, not the erratum, is kept; retractions and comments stay related reports
    assert clusters.loc["pubmed:1", "kept"]
    for rid in ("wos:W3", "wos:W4", "pubmed:5", "pubmed:6"):
        assert clusters.loc[rid, "kept"]
    relations = {r for r, _ in _related_rows(result).values()}
    assert "erratum" not in relations and "retraction" in relations
    with pytest.raises(ValueError, match="errata"):
        find_duplicates(_family(), errata="sometimes")


def test_erratum_linked_by_pubmed_link_or_cited_pages():
    records = _records([
        {"record_id": "pubmed:1", "source": "pubmed", "pmid": "1", **ARTICLE},
        {"record_id": "pubmed:2", "source": "pubmed", "pmid": "2", "title": "Erratum",
         "year": "2020", "journal": ARTICLE["journal"], "publication_types": "Erratum",
         "comments_corrections": "ErratumFor 1"},
        {"record_id": "embase:E3", "source": "embase", "title": "Corrigendum",
         "year": "2020", "journal": "Ann Rheum Dis",
         "publication_types": "Erratum"},
        {"record_id": "embase:E4", "source": "embase",
         "title": "Correction to Ann Rheum Dis 2019;78:899-907", "year": "2020",
         "journal": "Ann Rheum Dis", "volume": "79", "pages": "300"},
    ])
    result = find_duplicates(records)
    rows = _related_rows(result)
    assert rows[("pubmed:2", "pubmed:1")] == ("erratum", "PubMed ErratumFor 1")
    assert rows[("embase:E4", "pubmed:1")][0] == "erratum"
    assert "cites volume 78, page 899" in rows[("embase:E4", "pubmed:1")][1]
    # an erratum to Part 1 is not linked to Part 2
    parts = _records([
        {"record_id": "a:1", "source": "a", **ARTICLE, "title": ARTICLE["title"] + ", part 1"},
        {"record_id": "a:2", "source": "a", **ARTICLE, "title": ARTICLE["title"] + ", part 2",
         "pages": "908-915"},
        {"record_id": "a:3", "source": "a", "title": "Erratum: " + ARTICLE["title"]
         + ", part 2", "year": "2020", "journal": ARTICLE["journal"]}])
    assert set(_related_rows(find_duplicates(parts))) == {("a:3", "a:2")}
    # a bare "Corrigendum" with nothing that names its article stays unlinked
    assert not any(r == "embase:E3" for r, _ in rows)
    assert result.clusters["kept"].all()


def test_report_titles_and_kinds():
    assert split_report_title("Erratum: Denosumab in RA") == ("erratum", "denosumab in ra")
    assert split_report_title("Reply to: Comment on 'Denosumab in RA'") == (
        "reply", "denosumab in ra")
    assert split_report_title("Correction of hypokalaemia in RA")[0] == ""
    assert split_report_title("Response to treatment with denosumab")[0] == ""
    assert split_report_title("Corrigendum to \"X and Y\" [Bone 2019;12:34-9]") == (
        "erratum", "x and y")
    assert split_report_title("RETRACTED: Denosumab in RA") == ("", "denosumab in ra")
    assert report_kind("Denosumab in RA", "Journal Article; Retracted Publication") == ""
    assert report_kind("Denosumab in RA", "Retraction of Publication") == "retraction"
    assert report_kind("Expression of concern: X", "") == "expression_of_concern"
    assert report_kind("Letter", "Letter") == ""


def test_conference_abstracts_on_one_page_are_not_duplicates():
    meeting = {"journal": "Annals of the Rheumatic Diseases", "year": "2019", "volume": "78",
               "pages": "S1234-S1235", "publication_types": "Conference Abstract"}
    records = _records([
        {"record_id": "a:1", "source": "a", **meeting, "authors": "Takeuchi, T; Tanaka, Y",
         "title": "Denosumab reduces erosion progression in early rheumatoid arthritis"},
        # same page, same authors, another abstract
        {"record_id": "b:1", "source": "b", **meeting, "authors": "Takeuchi, T; Tanaka, Y",
         "title": "Serum RANKL levels predict radiographic progression in RA patients"},
        # same page and title, other authors: another group's abstract
        {"record_id": "c:1", "source": "c", **meeting, "authors": "Mueller, K; Schmidt, P",
         "title": "Denosumab reduces erosion progression in early rheumatoid arthritis"},
        # the same abstract in another database: still found
        {"record_id": "d:1", "source": "d", **meeting, "authors": "Takeuchi T.; Tanaka Y.",
         "title": "Denosumab reduces erosion progression in early rheumatoid arthritis."},
    ])
    result = deduplicate(records)
    clusters = _cluster_map(result)
    assert clusters["a:1"] == clusters["d:1"]
    assert len({clusters["a:1"], clusters["b:1"], clusters["c:1"]}) == 3


def test_record_without_title_links_by_identifier_only():
    where = {"authors": "Takeuchi, T; Tanaka, Y", "year": "2019",
             "journal": "Ann Rheum Dis", "volume": "78", "pages": "899-907"}
    records = _records([
        {"record_id": "a:1", "source": "a", **where, **{"title": ARTICLE["title"]}},
        {"record_id": "b:1", "source": "b", **where},
        {"record_id": "c:1", "source": "c", **where, "pmid": "7"},
        {"record_id": "d:1", "source": "d", "pmid": "7"},
    ])
    clusters = _cluster_map(deduplicate(records))
    assert clusters["a:1"] not in (clusters["b:1"], clusters["c:1"])
    assert clusters["c:1"] == clusters["d:1"]


def test_threads_give_the_same_result():
    one = find_duplicates(_family(), threads=1)
    two = find_duplicates(_family(), threads=2)
    pd.testing.assert_frame_equal(one.clusters, two.clusters)
    pd.testing.assert_frame_equal(one.related, two.related)


def test_retraction_status_reaches_the_unique_records():
    records = _family()
    records.loc[records["record_id"] == "embase:E1", "title"] = "RETRACTED: " + ARTICLE["title"]
    result = find_duplicates(records, source_priority=["pubmed"])
    assert result.clusters.set_index("record_id").loc["embase:E1", "kept_record_id"] == \
        "pubmed:1"
    unique = unique_records(records, result.clusters, result.related).set_index("record_id")
    status = unique.loc["pubmed:1", "retraction"]
    assert status.startswith("retracted (")
    assert "title marked retracted/withdrawn" in status
    assert "retraction notice pubmed:5" in status
    assert "erratum:pubmed:2" in unique.loc["pubmed:1", "related_reports"]
    assert unique.loc["pubmed:2", "report_kind"] == "erratum"
    assert unique.loc["wos:W3", "retraction"] == ""
    assert retraction_status("Journal Article", "ExpressionOfConcernIn 9", "X") == \
        "expression of concern (ExpressionOfConcernIn PMID 9)"
    assert combine_status(["expression of concern (a)", "retracted (b)", "retracted (b)"]) \
        == "retracted (b)"


PUBMED_XML = """<?xml version="1.0" ?>
<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2024//EN"
 "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_240101.dtd">
<PubmedArticleSet>
{articles}
</PubmedArticleSet>
"""

ARTICLE_XML = """<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM">
<PMID Version="1">{pmid}</PMID>
<Article PubModel="Print"><Journal><JournalIssue CitedMedium="Internet"><Volume>5</Volume>
<PubDate><Year>2019</Year></PubDate></JournalIssue><Title>Test Journal</Title>
<ISOAbbreviation>Test J</ISOAbbreviation></Journal>
<ArticleTitle>{title}</ArticleTitle><Pagination><MedlinePgn>1-9</MedlinePgn></Pagination>
<Language>eng</Language>
<PublicationTypeList>{types}</PublicationTypeList></Article>
<CommentsCorrectionsList>{links}</CommentsCorrectionsList>
</MedlineCitation><PubmedData><ArticleIdList><ArticleId IdType="pubmed">{pmid}</ArticleId>
</ArticleIdList></PubmedData></PubmedArticle>"""


def _pub_type(name):
    return f'<PublicationType UI="D000000">{name}</PublicationType>'


def _link(ref_type, pmid):
    return (f'<CommentsCorrections RefType="{ref_type}"><RefSource>Test J. 2020</RefSource>'
            f'<PMID Version="1">{pmid}</PMID></CommentsCorrections>')


def test_pubmed_xml_retraction_and_expression_of_concern(tmp_path):
    from sysrev.search.pubmed_xml import parse_pubmed_xml

    articles = [
        ARTICLE_XML.format(pmid=101, title="A retracted trial of denosumab in RA.",
                           types=_pub_type("Journal Article") + _pub_type(
                               "Retracted Publication"),
                           links=_link("RetractionIn", 102) + _link("Cites", 5)),
        ARTICLE_XML.format(pmid=102, title="Retraction notice to: A retracted trial of "
                           "denosumab in RA.", types=_pub_type("Retraction of Publication"),
                           links=_link("RetractionOf", 101)),
        ARTICLE_XML.format(pmid=103, title="A trial under an expression of concern.",
                           types=_pub_type("Journal Article"),
                           links=_link("ExpressionOfConcernIn", 104)
                           + _link("ErratumIn", 105)),
        ARTICLE_XML.format(pmid=106, title="A sound trial of denosumab in RA.",
                           types=_pub_type("Journal Article"), links=""),
    ]
    path = tmp_path / "pubmed.xml"
    path.write_text(PUBMED_XML.format(articles="\n".join(articles)), encoding="utf-8")
    rows = {r["pmid"]: r for r in parse_pubmed_xml(path)}
    assert rows["101"]["retraction"] == ("retracted (publication type Retracted Publication; "
                                         "RetractionIn PMID 102)")
    assert rows["101"]["comments_corrections"] == "RetractionIn 102"
    assert rows["102"]["retraction"] is None
    assert rows["102"]["comments_corrections"] == "RetractionOf 101"
    assert rows["103"]["retraction"] == ("expression of concern (ExpressionOfConcernIn "
                                         "PMID 104)")
    assert rows["103"]["comments_corrections"] == "ExpressionOfConcernIn 104; ErratumIn 105"
    assert rows["106"]["retraction"] is None and rows["106"]["comments_corrections"] is None

    # through dedup: the notice is linked to its article, and the article is flagged
    table = _records([{**{c: r.get(c) for c in RECORD_COLUMNS},
                       "record_id": f"pubmed:{p}", "source": "pubmed"}
                      for p, r in rows.items()])
    result = find_duplicates(table)
    assert _related_rows(result)[("pubmed:102", "pubmed:101")][0] == "retraction"
    unique = unique_records(table, result.clusters, result.related).set_index("record_id")
    assert unique.loc["pubmed:101", "retraction"].startswith("retracted (")
    assert "retraction notice pubmed:102" in unique.loc["pubmed:101", "retraction"]
    assert unique.loc["pubmed:103", "retraction"].startswith("expression of concern")
    assert unique.loc["pubmed:106", "retraction"] == ""


def test_garbled_volume_typo_number_and_society_subtitle_still_link():
    records = _records([
        # the supplement number in the volume field of one database
        {"record_id": "a:1", "source": "a", "title": ARTICLE["title"], "year": "2015",
         "authors": "Kajikuri J.; Koyama A.", "journal": "J Pharmacol Sci", "volume": "128",
         "pages": "S124"},
        {"record_id": "b:1", "source": "b", "title": ARTICLE["title"], "year": "2015",
         "authors": "Kajikuri J.; Koyama A.", "journal": "J Pharmacol Sci", "volume": "1)",
         "pages": "S124"},
        # a typo in a number of the title, everything else identical, page range included;
        # the journal once with the society line of PubMed's full title
        {"record_id": "c:1", "source": "c", "year": "2007", "volume": "17",
         "pages": "1099-1103", "authors": "Guedes, A C; Brenna, S M F",
         "title": "p6INK4a expression does not predict the outcome of CIN grade 2",
         "journal": "International Journal of Gynecological Cancer"},
        {"record_id": "d:1", "source": "d", "year": "2007", "volume": "17",
         "pages": "1099-103", "authors": "Guedes, A C; Brenna, S M",
         "title": "p16(INK4a) expression does not predict the outcome of CIN grade 2",
         "journal": "International journal of gynecological cancer : official journal of "
                    "the International Gynecological Cancer Society"},
        # Part 1 / Part 2 on other pages stay apart
        {"record_id": "e:1", "source": "e", "year": "2007", "volume": "17",
         "pages": "1104-1110", "authors": "Guedes, A C; Brenna, S M",
         "title": "p17 expression does not predict the outcome of CIN grade 2",
         "journal": "International Journal of Gynecological Cancer"},
    ])
    clusters = _cluster_map(deduplicate(records))
    assert clusters["a:1"] == clusters["b:1"]
    assert clusters["c:1"] == clusters["d:1"]
    assert clusters["e:1"] != clusters["c:1"]


def test_issue_venue_population_and_trailing_reply_keep_records_apart():
    base = {"authors": "Lee, A S", "year": "2000", "journal": "MIS Quarterly",
            "volume": "24", "title": "Remarks from the editor: editor's comments on the field"}
    records = _records([
        # a recurring column in two issues of one volume, no pages
        {"record_id": "a:1", "source": "a", **base, "issue": "1"},
        {"record_id": "a:2", "source": "a", **base, "issue": "2"},
        # a record number in the issue field (above MAX_ISSUE) is not compared
        {"record_id": "b:1", "source": "b", **ARTICLE, "issue": "1112"},
        {"record_id": "b:2", "source": "b", **ARTICLE, "issue": "1113"},
        # one title at two conferences in two years
        {"record_id": "c:1", "source": "c", "title": "Home bias in online employment markets",
         "authors": "Liang, C; Hong, K", "year": "2017",
         "journal": "International Conference on Information Systems",
         "publication_types": "inproceedings"},
        {"record_id": "c:2", "source": "c", "title": "Home bias in online employment markets",
         "authors": "Liang, C; Hong, Y", "year": "2018",
         "journal": "Proceedings of the 51st Hawaii International Conference on System "
                    "Sciences", "publication_types": "inproceedings"},
        # children / adults
        {"record_id": "d:1", "source": "d", "authors": "Alexion Pharmaceuticals", "year": "2011",
         "title": "An open-label trial of eculizumab in pediatric patients with aHUS"},
        {"record_id": "d:2", "source": "d", "authors": "Alexion Pharmaceuticals", "year": "2011",
         "title": "An open-label trial of eculizumab in adult patients with aHUS"},
        # the authors' reply, named by a suffix, on the article's page
        {"record_id": "e:1", "source": "e", "title": "Thrombomodulin in atypical hemolytic "
         "uremic syndrome", "authors": "Edey, M M", "year": "2009", "journal": "N Engl J Med",
         "volume": "361", "pages": "1511-1511"},
        {"record_id": "e:2", "source": "e", "title": "Thrombomodulin in Atypical "
         "Hemolytic-Uremic Syndrome AUTHORS REPLY", "authors": "Esmon, C T", "year": "2009",
         "journal": "N Engl J Med", "volume": "361", "pages": "1511-1511"},
    ])
    result = find_duplicates(records)
    clusters = _cluster_map(result.clusters)
    assert clusters["a:1"] != clusters["a:2"]
    assert clusters["b:1"] == clusters["b:2"]
    assert clusters["c:1"] != clusters["c:2"]
    assert clusters["d:1"] != clusters["d:2"]
    assert clusters["e:1"] != clusters["e:2"]
    assert _related_rows(result)[("e:2", "e:1")][0] == "reply"


def test_erratum_printed_under_the_article_title():
    records = _records([
        {"record_id": "a:1", "source": "a", **ARTICLE, "issue": "5"},
        {"record_id": "a:2", "source": "a", **ARTICLE, "issue": "9", "pages": "1205-1205"},
    ])
    result = find_duplicates(records)
    assert result.clusters["kept"].all()
    relation, evidence = _related_rows(result)[("a:2", "a:1")]
    assert relation == "erratum" and "single page 1205" in evidence
    merged = find_duplicates(records, errata="duplicate").clusters.set_index("record_id")
    assert merged.loc["a:2", "kept_record_id"] == "a:1"
    assert merged.loc["a:2", "rule"] == "erratum"


def test_page_typos_and_locators_are_not_errata():
    records = _records([
        {"record_id": "a:1", "source": "a", **ARTICLE, "pages": "899-907"},
        # first page off by one under the same last page
        {"record_id": "a:2", "source": "a", **ARTICLE, "pages": "900-907"},
        # the last page alone, inside the article's range
        {"record_id": "a:3", "source": "a", **ARTICLE, "pages": "907"},
        # an electronic locator for the same article
        {"record_id": "b:1", "source": "b", **ARTICLE, "journal": "PLoS ONE", "pages": "1-6",
         "volume": "5"},
        {"record_id": "b:2", "source": "b", **ARTICLE, "journal": "PLoS ONE",
         "pages": "e12724", "volume": "5"},
    ])
    result = find_duplicates(records)
    clusters = _cluster_map(result.clusters)
    assert clusters["a:1"] == clusters["a:2"] == clusters["a:3"]
    assert clusters["b:1"] == clusters["b:2"]
    assert result.related.empty


def test_correction_notices_titled_with_a_citation():
    nejm = {"journal": "New England Journal of Medicine", "year": "2009", "volume": "360"}
    records = _records([
        {"record_id": "a:1", "source": "a", **nejm, "issue": "5", "pages": "542-544",
         "title": "Eculizumab for atypical hemolytic-uremic syndrome",
         "authors": "Nurnberger, J; Philipp, T"},
        {"record_id": "a:2", "source": "a", **nejm, "issue": "5", "pages": "544-546",
         "title": "Eculizumab for congenital atypical hemolytic-uremic syndrome",
         "authors": "Gruppo, R A; Rother, R P"},
        # Web of Science's and Embase's titles for the correction of a:1
        {"record_id": "w:1", "source": "w", **nejm, "issue": "23", "pages": "2487",
         "title": "Eculizumab for Atypical Hemolytic-Uremic Syndrome (vol 360, pg 542, 2009)",
         "authors": "Philipp, T"},
        {"record_id": "e:1", "source": "e", **nejm, "issue": "23", "pages": "2487",
         "title": "Eculizumab for atypical hemolytic-uremic syndrome (New England Journal of "
                  "Medicine (2009) 360 (542-544))", "authors": "Philipp, T"},
    ])
    assert split_report_title(records.loc[2, "title"]) == (
        "erratum", "eculizumab for atypical hemolytic uremic syndrome")
    result = find_duplicates(records)
    clusters = _cluster_map(result.clusters)
    assert clusters["w:1"] == clusters["e:1"] != clusters["a:1"]
    rows = _related_rows(result)
    kept = clusters["w:1"]
    # linked to the article it corrects, not to the next article on page 544
    assert [a for r, a in rows if r == kept] == ["a:1"]
    merged = _cluster_map(find_duplicates(records, errata="duplicate").clusters)
    assert merged["w:1"] == merged["e:1"] == merged["a:1"] != merged["a:2"]
