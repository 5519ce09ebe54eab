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


def test_a_broken_equation_is_named():
    counts = prisma_counts(*_inputs(), database_names={})
    broken = copy.deepcopy(counts)
    broken["retrieval"]["reports_sought"] += 1
    with pytest.raises(PrismaArithmeticError,
                       match="records screened - records excluded - records pending = "
                             "reports sought"):
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
