"""Ranked screening: a TF-IDF + class-balanced logistic regression trained on earlier
title/abstract decisions orders the records still to screen."""

import pandas as pd

from sysrev.screening.prioritise import MIN_INCLUDES, prioritise

RELEVANT = ["Denosumab randomised placebo controlled trial in rheumatoid arthritis erosion",
            "Randomised trial of denosumab for bone erosion in rheumatoid arthritis",
            "Denosumab reduces erosion progression: a randomised trial",
            "Phase III randomised trial: denosumab and joint damage in rheumatoid arthritis",
            "Denosumab every 3 or 6 months versus placebo: randomised erosion trial",
            "A randomised double-blind trial of denosumab in early rheumatoid arthritis"]
IRRELEVANT = ["Osteoporosis guideline for glucocorticoid users", "Review of bone biology",
              "Case report of jaw osteonecrosis", "Vitamin D and calcium in the elderly",
              "Narrative review of RANKL signalling", "Cohort study of fracture incidence",
              "Editorial on biologic drugs", "Mouse model of collagen arthritis"]
NEW = {"new:a": "Cohort study of hip fractures in the elderly",
       "new:b": "Randomised placebo controlled trial of denosumab on erosion in arthritis",
       "new:c": "Review of osteoporosis drugs"}


def _tables(n_relevant=len(RELEVANT)):
    titles = RELEVANT[:n_relevant] + IRRELEVANT
    ids = [f"old:{i:02d}" for i in range(len(titles))]
    unique = pd.DataFrame({"record_id": ids + list(NEW), "title": titles + list(NEW.values()),
                           "abstract": [None] * (len(titles) + len(NEW))})
    finals = pd.DataFrame({"record_id": ids + list(NEW), "stage": "title_abstract",
                           "final_decision": ["include"] * n_relevant
                           + ["exclude"] * len(IRRELEVANT) + ["pending"] * len(NEW)})
    pending = pd.DataFrame({"record_id": list(NEW), "stage": "title_abstract",
                            "title": list(NEW.values())})
    return pending, unique, finals


def test_ranks_the_likely_include_first_and_is_deterministic():
    pending, unique, finals = _tables()
    ranked, info = prioritise(pending, unique, finals)
    assert info.applied and info.training_records == 14 and info.training_includes == 6
    assert ranked["record_id"].iloc[0] == "new:b"
    assert list(ranked["priority_rank"]) == ["1", "2", "3"]
    scores = ranked["priority_score"].astype(float)
    assert scores.is_monotonic_decreasing and scores.between(0, 1).all()
    assert set(ranked["priority_training_records"]) == {14}
    again, _ = prioritise(pending, unique, finals)
    pd.testing.assert_frame_equal(ranked, again)


def test_too_few_includes_keeps_order_and_says_why():
    pending, unique, finals = _tables(n_relevant=MIN_INCLUDES - 1)
    ranked, info = prioritise(pending, unique, finals)
    assert not info.applied
    assert "4 included" in info.reason and "at least 5" in info.reason
    assert list(ranked["record_id"]) == list(pending["record_id"])
    assert set(ranked["priority_score"]) == {""}


def test_full_text_rows_stay_first():
    pending, unique, finals = _tables()
    pending = pd.concat([pd.DataFrame({"record_id": ["old:00"], "stage": ["full_text"],
                                       "title": ["x"]}), pending], ignore_index=True)
    ranked, _ = prioritise(pending, unique, finals)
    assert ranked["stage"].iloc[0] == "full_text" and ranked["priority_score"].iloc[0] == ""
