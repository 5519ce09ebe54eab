"""Screening: decision checks, final-decision rules, study links."""

import pandas as pd
import pytest

from sysrev.errors import InputErrors
from sysrev.screening import (ScreeningRules, final_decisions, load_decisions,
                              load_study_links)

CLUSTERS = pd.DataFrame({
    "record_id": ["pubmed:1", "embase:E1", "pubmed:2", "pubmed:3", "pubmed:4"],
    "cluster_id": ["pubmed:1", "pubmed:1", "pubmed:2", "pubmed:3", "pubmed:4"],
    "kept": [True, False, True, True, True],
})
UNIQUE = ["pubmed:1", "pubmed:2", "pubmed:3", "pubmed:4"]
HEADER = "record_id,reviewer,stage,decision,reason,note\n"


def _write(tmp_path, body, name="decisions.csv"):
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_every_bad_row_is_listed(tmp_path):
    path = _write(tmp_path, "\n".join([
        "pubmed:9,R1,title_abstract,exclude,,",
        "pubmed:1,R1,abstract,exclude,,",
        "pubmed:1,R1,title_abstract,yes,,",
        "pubmed:2,R1,full_text,exclude,,",
        "pubmed:3,R1,title_abstract,include,,",
        "pubmed:3,R1,title_abstract,exclude,,",
    ]) + "\n")
    with pytest.raises(InputErrors) as err:
        load_decisions(path, CLUSTERS)
    message = str(err.value)
    assert "line 2 (record pubmed:9), field 'record_id': no such record" in message
    assert "line 3 (record pubmed:1), field 'stage': 'abstract'" in message
    assert "line 4 (record pubmed:1), field 'decision': 'yes'" in message
    assert "line 5 (record pubmed:2), field 'reason': a full-text exclusion needs a reason" \
        in message
    assert "lines 6, 7: reviewer R1 made different title_abstract decisions" in message


def test_conflict_through_two_copies_of_one_paper(tmp_path):
    path = _write(tmp_path, "pubmed:1,R1,title_abstract,include,,\n"
                            "embase:E1,R1,title_abstract,exclude,,\n")
    with pytest.raises(InputErrors, match="reviewer R1 made different"):
        load_decisions(path, CLUSTERS)


def test_final_decisions_and_rules(tmp_path):
    path = _write(tmp_path, "\n".join([
        # 1: both include at TA via different copies; FT conflict resolved by consensus.
        "pubmed:1,R1,title_abstract,include,,", "embase:E1,R2,title_abstract,include,,",
        "pubmed:1,R1,full_text,include,,", "pubmed:1,R2,full_text,exclude,Wrong design,",
        "pubmed:1,consensus,full_text,include,,",
        # 2: one include, one exclude at TA: goes forward under any_include; FT pending.
        "pubmed:2,R1,title_abstract,include,,", "pubmed:2,R2,title_abstract,exclude,,",
        # 3: both exclude.
        "pubmed:3,R1,title_abstract,exclude,Review,", "pubmed:3,R2,title_abstract,exclude,"
                                                      "Review,",
        # 4: one reviewer only.
        "pubmed:4,R1,title_abstract,exclude,,",
    ]) + "\n")
    decisions = load_decisions(path, CLUSTERS)
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
    assert row["final_decision"] == "pending"
    assert row["basis"] == "conflict without consensus"
    with pytest.raises(ValueError, match="require_complete"):
        final_decisions(decisions, UNIQUE, ScreeningRules(require_complete=True))


def test_study_links_must_cover_included_reports(tmp_path):
    finals = pd.DataFrame({"record_id": ["pubmed:1", "pubmed:1", "pubmed:2", "pubmed:2"],
                           "stage": ["title_abstract", "full_text"] * 2,
                           "final_decision": ["include"] * 4})
    path = tmp_path / "studies.csv"
    path.write_text("study_id,record_id,role\nS1,embase:E1,main\nS1,pubmed:3,secondary\n",
                    encoding="utf-8")
    with pytest.raises(InputErrors) as err:
        load_study_links(path, CLUSTERS, finals)
    message = str(err.value)
    assert "pubmed:3 is not a report included at full text" in message
    assert "report pubmed:2 is included at full text but linked to no study" in message
    path.write_text("study_id,record_id,role\nS1,embase:E1,main\nS1,pubmed:2,secondary\n",
                    encoding="utf-8")
    links = load_study_links(path, CLUSTERS, finals)
    assert set(links["unique_record_id"]) == {"pubmed:1", "pubmed:2"}
