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
    assert counts["included"] == {"studies": 1, "reports": 1}
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
