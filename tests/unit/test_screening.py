"""Screening: decision import and checks, final-decision rules, agreement, study links."""

import json
from pathlib import Path

import pandas as pd
import pytest

from sysrev.errors import InputErrors
from sysrev.screening import (RecordMatcher, ScreeningRules, check_decisions, final_decisions,
                              load_generic, load_study_links)
from sysrev.screening.agreement import agreement_table, cohen_kappa, conflicts_table

RECORDS = pd.DataFrame({
    "record_id": ["pubmed:1", "embase:E1", "pubmed:2", "pubmed:3", "pubmed:4"],
    "source": ["pubmed", "embase", "pubmed", "pubmed", "pubmed"],
    "source_id": ["1", "E1", "2", "3", "4"],
    "pmid": ["1", None, "2", "3", "4"],
    "doi": ["10.1000/a", "10.1000/a", None, "10.1000/c", None],
    "title": ["Denosumab trial one", "Denosumab trial one", "Second", "Third", "Fourth"],
    "year": ["2019", "2019", "2020", "2021", "2022"],
})
CLUSTERS = pd.DataFrame({
    "record_id": ["pubmed:1", "embase:E1", "pubmed:2", "pubmed:3", "pubmed:4"],
    "cluster_id": ["pubmed:1", "pubmed:1", "pubmed:2", "pubmed:3", "pubmed:4"],
    "kept": [True, False, True, True, True],
})
MATCHER = RecordMatcher(RECORDS, CLUSTERS)
UNIQUE = ["pubmed:1", "pubmed:2", "pubmed:3", "pubmed:4"]
HEADER = "record_id,reviewer,stage,decision,reason,note\n"


def _load(tmp_path, body):
    path = tmp_path / "decisions.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return load_generic(path, MATCHER)


def test_every_bad_row_is_listed(tmp_path):
    table = _load(tmp_path, "\n".join([
        "pubmed:9,R1,title_abstract,exclude,,",
        "pubmed:1,R1,abstract,exclude,,",
        "pubmed:1,R1,title_abstract,yes,,",
        "pubmed:2,R1,full_text,exclude,,",
        "pubmed:3,R1,title_abstract,include,,",
        "pubmed:3,R1,title_abstract,exclude,,",
    ]) + "\n")
    with pytest.raises(InputErrors) as err:
        check_decisions(table)
    message = str(err.value)
    assert "line 2 (record pubmed:9), field 'record_id': no such record" in message
    assert "line 3 (record pubmed:1), field 'stage': 'abstract'" in message
    assert "line 4 (record pubmed:1), field 'decision': 'yes'" in message
    assert "line 5 (record pubmed:2), field 'reason': a full-text exclusion needs a reason" \
        in message
    assert "line 6, " in message and "line 7: reviewer R1 made different title_abstract" \
        in message


def test_conflict_through_two_copies_of_one_paper(tmp_path):
    table = _load(tmp_path, "pubmed:1,R1,title_abstract,include,,\n"
                            "embase:E1,R1,title_abstract,exclude,,\n")
    with pytest.raises(InputErrors, match="reviewer R1 made different"):
        check_decisions(table)


def test_matching_by_pmid_doi_and_title():
    assert MATCHER.match(pmid="PMID: 3").unique_record_id == "pubmed:3"
    assert MATCHER.match(doi="https://doi.org/10.1000/A").unique_record_id == "pubmed:1"
    assert MATCHER.match(doi="10.1000/c     LK  - https://x").unique_record_id == "pubmed:3"
    assert MATCHER.match(title="DENOSUMAB trial one!", year="2019").unique_record_id == \
        "pubmed:1"
    missing = MATCHER.match(pmid="99")
    assert missing.unique_record_id is None and "PMID 99" in missing.key


def test_final_decisions_and_rules(tmp_path):
    decisions = _load(tmp_path, "\n".join([
        "pubmed:1,R1,title_abstract,include,,", "embase:E1,R2,title_abstract,include,,",
        "pubmed:1,R1,full_text,include,,", "pubmed:1,R2,full_text,exclude,Wrong design,",
        "pubmed:1,consensus,full_text,include,,",
        "pubmed:2,R1,title_abstract,include,,", "pubmed:2,R2,title_abstract,exclude,,",
        "pubmed:3,R1,title_abstract,exclude,Review,", "pubmed:3,R2,title_abstract,exclude,"
                                                      "Review,",
        "pubmed:4,R1,title_abstract,exclude,,",
    ]) + "\n")
    check_decisions(decisions)
    finals = final_decisions(decisions, UNIQUE, ScreeningRules())
    got = {(r, s): d for r, s, d in zip(finals["record_id"], finals["stage"],
                                        finals["final_decision"])}
    assert got == {("pubmed:1", "title_abstract"): "include",
                   ("pubmed:1", "full_text"): "include",
                   ("pubmed:2", "title_abstract"): "include",
                   ("pubmed:2", "full_text"): "pending",
                   ("pubmed:3", "title_abstract"): "exclude",
                   ("pubmed:4", "title_abstract"): "pending"}
    agreement = final_decisions(decisions, UNIQUE,
                                ScreeningRules(title_abstract="agreement"))
    row = agreement[(agreement["record_id"] == "pubmed:2")].iloc[0]
    assert (row["final_decision"], row["basis"]) == ("pending", "conflict without consensus")
    with pytest.raises(ValueError, match="require_complete"):
        final_decisions(decisions, UNIQUE, ScreeningRules(require_complete=True))
    conflicts = conflicts_table(decisions, finals, "consensus")
    assert set(zip(conflicts["record_id"], conflicts["stage"], conflicts["resolution"])) == {
        ("pubmed:1", "full_text", "consensus"),
        ("pubmed:2", "title_abstract", "any reviewer included")}
    table = agreement_table(decisions, "consensus")
    ta = table[table["stage"] == "title_abstract"].iloc[0]
    assert (ta["records"], ta["agreements"]) == (3, 2)


KAPPA_REF = json.loads((Path(__file__).parents[1] / "reference" /
                        "kappa_reference.json").read_text())


@pytest.mark.parametrize("case", KAPPA_REF["cases"], ids=lambda c: c["id"])
def test_kappa_matches_r_psych(case):
    stage = case["id"].removeprefix("bundled_")
    repo = Path(__file__).parents[2]
    d = pd.read_csv(repo / "data/denosumab_ra/screening/decisions.csv",
                    keep_default_na=False)
    d = d[(d["stage"] == stage) & (d["reviewer"] != "consensus")]
    wide = d.pivot(index="record_id", columns="reviewer", values="decision")
    k = cohen_kappa(list(wide["R1"]), list(wide["R2"]))
    assert k.n == case["n"]
    assert k.kappa == pytest.approx(case["kappa"], rel=1e-12)
    assert k.se ** 2 == pytest.approx(case["var_kappa"], rel=1e-10)
    assert k.ci_lower == pytest.approx(case["ci_lower"], rel=1e-10)
    assert k.ci_upper == pytest.approx(case["ci_upper"], rel=1e-10)


def test_kappa_edge_cases():
    perfect = cohen_kappa(["include", "exclude"] * 5, ["include", "exclude"] * 5)
    assert perfect.kappa == pytest.approx(1.0, rel=1e-12)
    same = cohen_kappa(["exclude"] * 4, ["exclude"] * 4)
    assert same.observed == 1.0 and same.kappa != same.kappa  # undefined: NaN


def test_study_links_must_cover_included_reports(tmp_path):
    finals = pd.DataFrame({"record_id": ["pubmed:1", "pubmed:1", "pubmed:2", "pubmed:2"],
                           "stage": ["title_abstract", "full_text"] * 2,
                           "final_decision": ["include"] * 4})
    path = tmp_path / "studies.csv"
    path.write_text("study_id,record_id,role\nS1,embase:E1,main\nS1,pubmed:3,secondary\n",
                    encoding="utf-8")
    with pytest.raises(InputErrors) as err:
        load_study_links(path, MATCHER, finals)
    message = str(err.value)
    assert "pubmed:3 is not a report included at full text" in message
    assert "report pubmed:2 is included at full text but linked to no study" in message
    path.write_text("study_id,record_id,role\nS1,embase:E1,main\nS1,pubmed:2,secondary\n",
                    encoding="utf-8")
    links = load_study_links(path, MATCHER, finals)
    assert set(links["unique_record_id"]) == {"pubmed:1", "pubmed:2"}
