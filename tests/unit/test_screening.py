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


# --------------------------------------------------------------------------- shared titles

SHARED_TITLE = "Denosumab versus placebo in rheumatoid arthritis"
TITLE_RECORDS = pd.DataFrame({
    "record_id": ["pubmed:21", "pubmed:22", "pubmed:23", "embase:E23", "pubmed:24",
                  "pubmed:25"],
    "source": ["pubmed", "pubmed", "pubmed", "embase", "pubmed", "pubmed"],
    "source_id": ["21", "22", "23", "E23", "24", "25"],
    "pmid": ["21", "22", "23", None, "24", "25"], "doi": [None] * 6,
    # 21: a 2018 protocol; 22-24 three 2020 reports (23 with its Embase copy), two of them
    # by Cohen; 25 an unrelated title.
    "title": [SHARED_TITLE] * 5 + ["Other"],
    "authors": ["Takeuchi T; Tanaka Y", "Takeuchi T; Tanaka Y", "Cohen SB; Dore RK",
                "Cohen, S.B.; Dore, R.K.", "Cohen S; Smith J", "Li X"],
    "year": ["2018", "2020", "2020", "2020", "2020", "2021"]})
TITLE_MATCHER = RecordMatcher(TITLE_RECORDS, pd.DataFrame({
    "record_id": TITLE_RECORDS["record_id"],
    "cluster_id": ["pubmed:21", "pubmed:22", "pubmed:23", "pubmed:23", "pubmed:24",
                   "pubmed:25"]}))


def test_shared_title_is_narrowed_by_year_then_first_author():
    from sysrev.screening.matching import author_words

    assert author_words("Takeuchi, T.; Tanaka, Y.") == author_words("Takeuchi T") == {
        "takeuchi"}
    assert author_words("E J Reimer; G S Dunn") == author_words("Reimer EJ") == {"reimer"}
    assert author_words("Yang, Z. and Jiang, B.") == {"yang"}
    assert author_words("['Marx, Karl', 'Lindgren, Astrid']") == {"marx", "karl"}
    assert author_words(["Müller, K"]) == {"muller"}
    # The title alone names four records; the year leaves one (the protocol).
    assert TITLE_MATCHER.match(title=SHARED_TITLE, year="2018").unique_record_id == \
        "pubmed:21"
    # 2020 leaves three; the first author, spelled as another tool spells it, leaves one.
    found = TITLE_MATCHER.match(title=SHARED_TITLE.upper() + ".", year=2020,
                                authors="Takeuchi, Tsutomu")
    assert found.unique_record_id == "pubmed:22"
    assert found.key.endswith("+ year 2020 + first author takeuchi/tsutomu")
    # Two 2020 reports by Cohen: still ambiguous, with the candidates named.
    cohen = TITLE_MATCHER.match(title=SHARED_TITLE, year="2020", authors="Cohen S")
    assert cohen.unique_record_id is None
    assert cohen.candidates == ("pubmed:23", "pubmed:24")
    assert "is ambiguous (2 records: pubmed:23, pubmed:24)" in cohen.key
    none = TITLE_MATCHER.match(title=SHARED_TITLE)
    assert none.candidates == ("pubmed:21", "pubmed:22", "pubmed:23", "pubmed:24")
    assert "no first author to tell them apart" in none.key
    # A PMID that is not in the search does not stop the title from matching.
    assert TITLE_MATCHER.match(pmid="999", title="Other", year="2021").unique_record_id \
        == "pubmed:25"


def test_ambiguous_title_is_warned_and_an_error(tmp_path, caplog):
    from sysrev.screening.formats import read_rayyan
    from sysrev.screening.matching import warn_ambiguous

    path = tmp_path / "rayyan.csv"
    path.write_text(
        "key,title,year,authors,notes\n"
        f'r1,{SHARED_TITLE},2020,"Takeuchi, T. and Tanaka, Y.",'
        '"RAYYAN-INCLUSION: {""Ann""=>""Included""}"\n'
        f'r2,{SHARED_TITLE},2020,"Cohen, S.",'
        '"RAYYAN-INCLUSION: {""Ann""=>""Excluded""}"\n'
        f'r3,{SHARED_TITLE},,,"RAYYAN-INCLUSION: {{""Ann""=>""Excluded""}}"\n',
        encoding="utf-8")
    table = read_rayyan(path, TITLE_MATCHER, stage="title_abstract")
    assert list(table["unique_record_id"]) == ["pubmed:22", "", ""]
    with caplog.at_level("WARNING"):
        rows = warn_ambiguous(table)
    assert list(rows["record_id"]) == ["r2", "r3"]
    assert "2 decision rows match several records and none was picked" in caplog.text
    assert "rayyan.csv, line 3 (r2): title" in caplog.text
    with pytest.raises(InputErrors) as err:
        check_decisions(table)
    message = str(err.value)
    assert "line 3 (record r2), field 'record_id': matches several records and none was " \
           "picked" in message and "pubmed:23, pubmed:24" in message
    assert "line 4 (record r3), field 'record_id': matches several records" in message


def test_a_full_text_decision_on_a_record_not_included_at_title_abstract_is_reported(
        tmp_path):
    # pubmed:2's title/abstract row is missing (or names another record): its full-text
    # include used to be dropped without a word, and the study with it.
    from sysrev.screening.rules import unused_full_text_decisions

    decisions = _load(tmp_path, "\n".join([
        "pubmed:1,A,title_abstract,include,,",
        "pubmed:1,A,full_text,include,,",
        "pubmed:2,A,full_text,include,,",
        "pubmed:3,A,title_abstract,exclude,,",
        "pubmed:3,A,full_text,exclude,wrong population,",
    ]) + "\n")
    finals = final_decisions(decisions, UNIQUE, ScreeningRules(reviewers_required=1))
    messages = unused_full_text_decisions(decisions, finals)
    assert len(messages) == 2
    assert "decisions.csv, line 4 (record pubmed:2)" in messages[0]
    assert "'include' not used" in messages[0] and "is pending" in messages[0]
    assert "line 6 (record pubmed:3)" in messages[1] and "is exclude" in messages[1]


def test_rule_text_and_messages_use_proper_plurals(tmp_path):
    """Issue 13: no "reviewer(s)" in the methods text or in messages a user reads."""
    assert "At least 2 reviewers must decide" in ScreeningRules().describe()
    assert "At least 1 reviewer must decide" in ScreeningRules(reviewers_required=1).describe()
    assert "(s)" not in ScreeningRules().describe()
    one = InputErrors(tmp_path / "x.csv", ["a"])
    two = InputErrors(tmp_path / "x.csv", ["a", "b"])
    assert "1 problem:" in str(one) and "2 problems:" in str(two)


def test_any_include_waits_for_the_required_reviewers_and_first_include_says_it_does_not(
        tmp_path):
    """Issue 17: with reviewers_required 2, one reviewer's include sent a record to full text
    while one exclude stayed pending, and the methods text said 2 reviewers must decide.
    any_include (Cochrane) now waits for both; first_include is the liberal choice, stated."""
    decisions = _load(tmp_path, "pubmed:1,R1,title_abstract,include,,\n"
                                "pubmed:2,R1,title_abstract,exclude,,\n"
                                "pubmed:3,R1,title_abstract,include,,\n"
                                "pubmed:3,R2,title_abstract,exclude,,\n")

    def got(rules):
        finals = final_decisions(decisions, UNIQUE, rules)
        ta = finals[finals["stage"] == "title_abstract"]
        return dict(zip(ta["record_id"], ta["final_decision"]))

    assert got(ScreeningRules()) == {"pubmed:1": "pending", "pubmed:2": "pending",
                                     "pubmed:3": "include", "pubmed:4": "pending"}
    assert got(ScreeningRules(title_abstract="first_include")) == {
        "pubmed:1": "include", "pubmed:2": "pending", "pubmed:3": "include",
        "pubmed:4": "pending"}
    cochrane = ScreeningRules().describe()
    assert "once 2 reviewers have screened a record" in cochrane
    liberal = ScreeningRules(title_abstract="first_include").describe()
    assert "as soon as one reviewer includes it" in liberal and "liberal" in liberal


def test_a_near_miss_of_the_consensus_reviewer_is_an_error(tmp_path):
    """Issue 17: 'consensus ' (a trailing space, here kept by quoting in a Rayyan-like
    source) was not the consensus reviewer and nothing said so."""
    decisions = _load(tmp_path, "pubmed:1,R1,title_abstract,include,,\n"
                                "pubmed:1,R2,title_abstract,exclude,,\n"
                                "pubmed:1,Consensus,title_abstract,include,,\n")
    with pytest.raises(InputErrors) as err:
        check_decisions(decisions, consensus_reviewer="consensus")
    assert "line 4 (record pubmed:1), field 'reviewer': 'Consensus' is not the consensus " \
           "reviewer 'consensus'" in str(err.value)
    check_decisions(decisions)  # without the rule's name there is nothing to compare


def test_reviewer_names_from_tool_exports_lose_surrounding_spaces():
    from sysrev.screening.readers import _row
    from sysrev.screening.matching import Match

    row = _row("x.csv", 2, Match("pubmed:1", "record_id pubmed:1"), "pubmed:1", "consensus ",
               "title_abstract", "include")
    assert row["reviewer"] == "consensus"
