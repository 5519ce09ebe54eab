"""Issue 17: a configured outcome with no extraction rows was 'no analysable data' in
summary.tsv with no warning at the end of the run."""

import json
import logging

from sysrev.workflow.analysis import summarise_analyses


def test_an_outcome_without_extraction_rows_is_warned(tmp_path, caplog):
    pooled = []
    base = {"measure": "RR", "k": 0, "participants": 0, "fixed": None, "random": None,
            "studies": [], "subgroups": None, "egger": None, "small_study": "",
            "status": "no analysable data"}
    for outcome, left_out in (("typo_outcome", []),
                              ("nr_only", [{"study_id": "s1", "label": "S 2020",
                                            "reason": "NR"}])):
        path = tmp_path / f"{outcome}.json"
        path.write_text(json.dumps({**base, "outcome": outcome, "label": outcome.upper(),
                                    "not_analysable": left_out}))
        pooled.append(str(path))
    with caplog.at_level(logging.WARNING):
        summarise_analyses(pooled=pooled, summary_out=str(tmp_path / "summary.tsv"),
                           audit=str(tmp_path / "audit.json"), parameters={})
    assert (tmp_path / "summary.tsv").read_text(encoding="utf-8").count("\n") == 3
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "outcome typo_outcome (TYPO_OUTCOME) is configured but the extraction sheets " \
           "have no row for it" in warnings[0]
