"""PRISMA 2020 counts and their arithmetic."""

import copy

import pandas as pd
import pytest

from sysrev.prisma import PrismaArithmeticError, check_prisma, prisma_counts


def _inputs():
    records = pd.DataFrame({"record_id": ["pubmed:1", "embase:1", "pubmed:2", "pubmed:3"],
                            "source": ["pubmed", "embase", "pubmed", "pubmed"]})
    clusters = pd.DataFrame({"record_id": ["pubmed:1", "embase:1", "pubmed:2", "pubmed:3"],
                             "cluster_id": ["pubmed:1", "pubmed:1", "pubmed:2", "pubmed:3"],
                             "kept": [True, False, True, True]})
    finals = pd.DataFrame({
        "record_id": ["pubmed:1", "pubmed:1", "pubmed:2", "pubmed:2", "pubmed:3"],
        "stage": ["title_abstract", "full_text", "title_abstract", "full_text",
                  "title_abstract"],
        "final_decision": ["include", "include", "include", "exclude", "exclude"],
        "reason": ["", "", "", "Not randomised", ""]})
    links = pd.DataFrame({"study_id": ["S1"], "record_id": ["pubmed:1"], "role": ["main"]})
    return records, clusters, finals, links


def test_counts():
    counts = prisma_counts(*_inputs(), database_names={"pubmed": "PubMed"})
    assert counts["identification"]["databases"] == {"embase": 1, "pubmed": 3}
    assert counts["identification"]["duplicates_removed"] == 1
    assert counts["screening"] == {"records_screened": 3, "records_excluded": 1,
                                   "records_pending": 0}
    assert counts["eligibility"]["exclusion_reasons"] == {"Not randomised": 1}
    assert counts["included"] == {"studies": 1, "reports": 1, "new_studies": 1,
                                  "new_reports": 1, "total_studies": 1, "total_reports": 1}
    assert counts["previous"] is None
    assert len(counts["checks"]) == 6


def test_a_searched_source_with_no_records_is_listed_with_zero():
    # A CENTRAL export with allow_empty: true (a search that found nothing) used to vanish
    # from the identification box; PRISMA 2020 reports it as n = 0.
    counts = prisma_counts(*_inputs(), database_names={"central": "CENTRAL"},
                           sources=["pubmed", "embase", "central"])
    ident = counts["identification"]
    assert ident["databases"] == {"central": 0, "embase": 1, "pubmed": 3}
    assert ident["database_names"]["central"] == "CENTRAL"
    assert ident["records_identified"] == 4
    assert all(check["holds"] for check in counts["checks"])


def test_a_broken_equation_is_named():
    counts = prisma_counts(*_inputs(), database_names={})
    broken = copy.deepcopy(counts)
    broken["retrieval"]["reports_sought"] += 1
    with pytest.raises(PrismaArithmeticError,
                       match="records screened - records excluded = reports sought"):
        check_prisma(broken)
    broken = copy.deepcopy(counts)
    broken["eligibility"]["exclusion_reasons"]["Other"] = 1
    with pytest.raises(PrismaArithmeticError, match="sum of exclusion reasons"):
        check_prisma(broken)


def test_updated_review_counts_previous_and_new():
    records, clusters, finals, links = _inputs()
    links = links.assign(pmid=["1"], doi=[None])
    previous = pd.DataFrame({"study_id": ["S0"], "record_id": ["pubmed:0"], "pmid": ["0"],
                             "doi": [None]})
    counts = prisma_counts(records, clusters, finals, links, database_names={},
                           previous_version=previous)
    assert counts["previous"] == {"studies": 1, "reports": 1}
    assert counts["included"]["new_studies"] == 1
    assert counts["included"]["total_studies"] == 2
    assert counts["included"]["total_reports"] == 2
    same = prisma_counts(records, clusters, finals, links, database_names={},
                         previous_version=links.copy())
    assert same["included"]["new_reports"] == 0 and same["included"]["total_reports"] == 1


def test_prisma2020_csv_has_the_template_keys():
    from sysrev.prisma import PRISMA2020_COLUMNS, prisma2020_table

    counts = prisma_counts(*_inputs(), database_names={"pubmed": "PubMed"})
    table = prisma2020_table(counts)
    assert list(table.columns) == PRISMA2020_COLUMNS
    values = dict(zip(table["data"], table["n"]))
    for key in ("previous_studies", "database_results", "database_specific_results",
                "duplicates", "records_screened", "records_excluded", "dbr_sought_reports",
                "dbr_notretrieved_reports", "dbr_assessed", "dbr_excluded", "new_studies",
                "new_reports", "total_studies", "total_reports"):
        assert key in values
    assert values["database_specific_results"] == "PubMed, 3; embase, 1"
    assert values["dbr_excluded"] == "Not randomised, 1"
    assert values["records_screened"] == 3
    # Without the analysis outputs the meta-analysis rows are there, at 0.
    assert (values["total_studies_ma"], values["total_reports_ma"]) == (0, 0)
    assert list(table["data"])[-2:] == ["total_studies_ma", "total_reports_ma"]
    assert table.set_index("data").loc["total_studies_ma", "box"] == "box17"


def _pending_inputs():
    """Six publications: one included (two reports of S1), one excluded at title/abstract,
    one awaiting screening, one excluded at full text, one not retrieved, one awaiting its
    full-text assessment."""
    ids = [f"pubmed:{i}" for i in range(1, 8)]
    records = pd.DataFrame({"record_id": ids, "source": ["pubmed"] * 7})
    clusters = pd.DataFrame({"record_id": ids, "cluster_id": ids, "kept": [True] * 7})
    rows = [("pubmed:1", "title_abstract", "include", ""), ("pubmed:1", "full_text", "include", ""),
            ("pubmed:7", "title_abstract", "include", ""), ("pubmed:7", "full_text", "include", ""),
            ("pubmed:2", "title_abstract", "exclude", ""),
            ("pubmed:3", "title_abstract", "pending", ""),
            ("pubmed:4", "title_abstract", "include", ""),
            ("pubmed:4", "full_text", "exclude", "Not randomised"),
            ("pubmed:5", "title_abstract", "include", ""),
            ("pubmed:5", "full_text", "not_retrieved", ""),
            ("pubmed:6", "title_abstract", "include", ""),
            ("pubmed:6", "full_text", "pending", "")]
    finals = pd.DataFrame(rows, columns=["record_id", "stage", "final_decision", "reason"])
    links = pd.DataFrame({"study_id": ["S1", "S1"], "record_id": ["pubmed:1", "pubmed:7"],
                          "role": ["main", "secondary"]})
    return records, clusters, finals, links


def test_outstanding_decisions_get_their_own_boxes():
    counts = prisma_counts(*_pending_inputs(), database_names={}, meta_analysed={"S1", "S9"})
    # Records screened counts only the records screened; the one awaiting screening is in
    # neither "screened" nor "excluded".
    assert counts["screening"] == {"records_screened": 6, "records_excluded": 1,
                                   "records_pending": 1}
    assert counts["retrieval"] == {"reports_sought": 5, "reports_not_retrieved": 1}
    elig = counts["eligibility"]
    assert (elig["reports_assessed"], elig["reports_excluded"], elig["reports_pending"]) == \
        (3, 1, 1)
    assert counts["included"]["reports"] == 2 and counts["included"]["studies"] == 1
    assert (counts["included"]["studies_meta_analysis"],
            counts["included"]["reports_meta_analysis"]) == (1, 2)
    assert all(c["holds"] for c in counts["checks"])
    equations = [c["equation"] for c in counts["checks"]]
    assert ("records identified - duplicates removed - removed by automation - removed for "
            "other reasons - records awaiting screening = records screened") in equations
    assert ("reports sought - reports not retrieved - reports awaiting assessment = reports "
            "assessed") in equations
    from sysrev.prisma import prisma2020_table
    values = dict(zip(prisma2020_table(counts)["data"], prisma2020_table(counts)["n"]))
    assert (values["records_screened"], values["dbr_assessed"]) == (6, 3)
    assert (values["total_studies_ma"], values["total_reports_ma"]) == (1, 2)


def test_flow_diagram_wording_and_awaiting_boxes(tmp_path):
    from sysrev.plots.prisma_flow import flow_diagram

    counts = prisma_counts(*_pending_inputs(), database_names={"pubmed": "PubMed"})
    drawn = flow_diagram(counts, tmp_path / "f.png", tmp_path / "f.svg", dpi=50)
    texts = [t.get_text() for t in drawn["figure"].axes[0].texts]
    # The new-review template.
    assert "Identification of studies via databases and registers" in texts
    assert not any("new studies" in t.lower() for t in texts)
    assert drawn["screen"] == "Records screened\n(n\u00a0=\u00a06)"
    assert drawn["screen_side"] == "Records excluded\n(n\u00a0=\u00a01)"
    assert drawn["await_screen"] == "Records awaiting screening\n(n\u00a0=\u00a01)"
    assert drawn["assess"] == "Reports assessed for eligibility\n(n\u00a0=\u00a03)"
    assert "awaiting" not in drawn["assess_side"].lower()
    assert drawn["await_assess"] == "Reports awaiting assessment\n(n\u00a0=\u00a01)"
    # Without outstanding decisions there are no awaiting boxes.
    done = prisma_counts(*_inputs(), database_names={})
    drawn = flow_diagram(done, tmp_path / "g.png", tmp_path / "g.svg", dpi=50)
    assert "await_screen" not in drawn and "await_assess" not in drawn
    # The update template only with a previous version.
    records, clusters, finals, links = _inputs()
    links = links.assign(pmid=["1"], doi=[None])
    updated = prisma_counts(records, clusters, finals, links, database_names={},
                            previous_version=links.copy())
    drawn = flow_diagram(updated, tmp_path / "h.png", tmp_path / "h.svg", dpi=50)
    assert drawn["heading"] == "Identification of new studies via databases and registers"
    texts = [t.get_text() for t in drawn["figure"].axes[0].texts]
    assert "Previous studies" in texts


def test_update_counts_only_what_the_new_search_found():
    records, clusters, finals, links = _inputs()
    links = links.assign(pmid=["1"], doi=[None])
    # The previous version had identified pubmed:1 and embase:1 (one publication) and
    # pubmed:2; pubmed:3 is new.
    counts = prisma_counts(records, clusters, finals, links, database_names={},
                           previous_version=links.copy(),
                           previous_records={"pubmed:1", "embase:1", "pubmed:2"})
    assert counts["identification"]["records_identified"] == 1
    assert counts["screening"]["records_screened"] == 1
    assert counts["screening"]["records_excluded"] == 1
    assert counts["included"]["reports"] == 0 and counts["included"]["new_reports"] == 0
    assert counts["included"]["total_reports"] == 1
    # A new copy of a publication screened before is a duplicate, not a new record.
    records2 = pd.concat([records, pd.DataFrame({"record_id": ["wos:9"], "source": ["wos"]})])
    clusters2 = pd.concat([clusters, pd.DataFrame({"record_id": ["wos:9"],
                                                   "cluster_id": ["pubmed:1"],
                                                   "kept": [False]})])
    counts = prisma_counts(records2, clusters2, finals, links, database_names={},
                           previous_version=links.copy(),
                           previous_records={"pubmed:1", "embase:1", "pubmed:2"})
    assert counts["identification"]["records_identified"] == 2
    assert counts["identification"]["duplicates_removed"] == 1


def test_registers_and_the_other_methods_arm():
    records, clusters, finals, links = _inputs()
    # ctgov:N1 a registration; citations:2 a copy of pubmed:2 kept as the cluster's record
    # (the database arm still counts that publication once); citations:9 and :8 found only
    # by citation searching (9 included, 8 excluded at title/abstract).
    records = pd.concat([records, pd.DataFrame({
        "record_id": ["ctgov:N1", "citations:2", "citations:9", "citations:8"],
        "source": ["ctgov", "citations", "citations", "citations"]})], ignore_index=True)
    clusters = clusters.copy()
    clusters.loc[clusters["record_id"] == "pubmed:2", "kept"] = False
    clusters = pd.concat([clusters, pd.DataFrame({
        "record_id": ["ctgov:N1", "citations:2", "citations:9", "citations:8"],
        "cluster_id": ["ctgov:N1", "pubmed:2", "citations:9", "citations:8"],
        "kept": [True, True, True, True]})], ignore_index=True)
    finals = pd.concat([finals, pd.DataFrame({
        "record_id": ["ctgov:N1", "citations:9", "citations:9", "citations:8"],
        "stage": ["title_abstract", "title_abstract", "full_text", "title_abstract"],
        "final_decision": ["exclude", "include", "include", "exclude"],
        "reason": ["", "", "", ""]})], ignore_index=True)
    links = pd.concat([links, pd.DataFrame({"study_id": ["S9"], "record_id": ["citations:9"],
                                            "role": ["main"]})], ignore_index=True)
    counts = prisma_counts(records, clusters, finals, links,
                           database_names={"ctgov": "ClinicalTrials.gov"},
                           sources=["pubmed", "embase", "ctgov", "citations"],
                           registers=["ctgov"], other_sources=["citations"])
    ident = counts["identification"]
    assert ident["databases"] == {"embase": 1, "pubmed": 3}
    assert ident["registers"] == {"ctgov": 1}
    assert ident["records_identified"] == 5 and ident["duplicates_removed"] == 1
    other = counts["other_methods"]
    assert other["citations"] == {"citations": 2}
    assert (other["records_identified"], other["duplicates_of_databases_and_registers"],
            other["records_excluded"], other["reports_sought"], other["reports_included"]) \
        == (2, 1, 1, 1, 1)
    assert counts["included"]["studies"] == 2 and counts["included"]["reports"] == 2
    assert all(check["holds"] for check in counts["checks"])
    from sysrev.prisma import prisma2020_table
    csv = prisma2020_table(counts).set_index("data")["n"]
    assert (csv["citations_results"], csv["register_results"]) == (2, 1)
    assert csv["register_specific_results"] == "ClinicalTrials.gov, 1"
