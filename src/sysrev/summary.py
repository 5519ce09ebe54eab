"""``summary.tsv``: one row per outcome from its pooled result (``pooled.json``).

Apart from :mod:`sysrev.analysis` so that the job that writes the summary across outcomes
(``summarise_analyses``) reads the pooled results without importing the analysis and its
scipy (~1 s of CPU per job).
"""

from __future__ import annotations

import pandas as pd

from sysrev.columns import SUMMARY_COLUMNS

#: Measures pooled on the log scale (the summary shows their exponentiated estimates).
RATIO_MEASURES = ("RR", "OR")


def summary_row(pooled: dict) -> dict:
    """One line of ``summary.tsv`` from an outcome's pooled result."""
    random, fixed = pooled.get("random"), pooled.get("fixed")
    ratio = pooled["measure"] in RATIO_MEASURES

    def value(model, key):
        if model is None:
            return None
        return model.get(f"exp_{key}") if ratio else model.get(key)

    mh = pooled.get("mh")
    mh_key = "exp_{}" if ratio else "{}"
    tau2_ci = (random or {}).get("tau2_ci") or [None, None]
    egger = pooled.get("egger")
    sub = pooled.get("subgroups") or {}
    return {
        "outcome": pooled["outcome"], "label": pooled["label"], "measure": pooled["measure"],
        "status": pooled["status"], "k": pooled["k"],
        "participants": pooled.get("participants", 0),
        "model": f"random ({random['method']}, {random['test']})" if random else "",
        "estimate": value(random, "estimate"), "ci_lower": value(random, "ci_lb"),
        "ci_upper": value(random, "ci_ub"), "p_value": random["pval"] if random else None,
        "tau2": random["tau2"] if random else None, "i2": random["i2"] if random else None,
        "q": random["q"] if random else None, "q_p": random["q_p"] if random else None,
        "fixed_estimate": value(fixed, "estimate"), "fixed_ci_lower": value(fixed, "ci_lb"),
        "fixed_ci_upper": value(fixed, "ci_ub"),
        "studies": "; ".join(pooled.get("studies", [])),
        "not_analysable": "; ".join(f"{x['study_id']}: {x['reason']}"
                                    for x in pooled["not_analysable"]),
        "study_labels": "; ".join(pooled.get("study_labels", [])),
        "not_analysable_labels": "; ".join(f"{x.get('label', x['study_id'])}: {x['reason']}"
                                           for x in pooled["not_analysable"]),
        "preset": pooled.get("preset", ""),
        "prediction_lower": value(random, "pi_lb") if pooled.get(
            "show_prediction_interval") else None,
        "prediction_upper": value(random, "pi_ub") if pooled.get(
            "show_prediction_interval") else None,
        "tau2_ci_lower": tau2_ci[0], "tau2_ci_upper": tau2_ci[1],
        "mh_estimate": mh.get(mh_key.format("estimate")) if mh else None,
        "mh_ci_lower": mh.get(mh_key.format("ci_lb")) if mh else None,
        "mh_ci_upper": mh.get(mh_key.format("ci_ub")) if mh else None,
        "egger_p": egger["pval"] if egger else None,
        "subgroup_test_p": sub.get("p"),
        "small_study_tests": (pooled.get("small_study") or {}).get("note", ""),
    }


def summarise(pooled_results: list[dict]) -> pd.DataFrame:
    """``summary.tsv``: one row per configured outcome, analysed or not."""
    rows = [summary_row(p) for p in pooled_results]
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS).sort_values("outcome",
                                                                   kind="mergesort")
