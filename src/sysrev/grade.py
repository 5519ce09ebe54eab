"""Summary of findings with GRADE certainty: suggested downgrades from the data, reviewer
overrides from the review's data folder.

Suggestions (randomised trials start at high certainty), each stated in the table's reasons:

risk of bias
    −1 when studies at "Some concerns" or "High" overall carry more than half of the
    random-effects weight, −2 when studies at "High" do.
inconsistency
    −1 when I² > 50% (two or more studies), −2 when I² > 75%.
indirectness
    not judged from data (0) unless a reviewer override says otherwise.
imprecision
    −1 when the 95% CI includes no effect, −1 more when the optimal information size rule of
    thumb is not met (fewer than 400 participants for a continuous outcome, fewer than 300
    events for a binary one); at most −2.
publication bias
    −1 when at least 10 studies and Egger's test p < 0.10; otherwise not assessable.

Schünemann H, Brożek J, Guyatt G, Oxman A (eds). GRADE Handbook, 2013, sections 5.2.1-5.2.5.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping

import pandas as pd

from sysrev.csvtables import LINE, load_csv
from sysrev.errors import InputErrors

DOMAINS = ("risk_of_bias", "inconsistency", "indirectness", "imprecision",
           "publication_bias")
DOMAIN_NAMES = {"risk_of_bias": "Risk of bias", "inconsistency": "Inconsistency",
                "indirectness": "Indirectness", "imprecision": "Imprecision",
                "publication_bias": "Publication bias"}
LEVELS = {4: "High", 3: "Moderate", 2: "Low", 1: "Very low"}
SOF_COLUMNS = ["outcome", "label", "measure", "studies", "participants", "events",
               "effect", "absolute_effect", "certainty", "downgrades", "reasons",
               "risk_control", "risk_intervention", "participants_studies", "footnotes",
               "comments"]
#: Separates the footnotes of one row in the ``footnotes`` column.
FOOTNOTE_SEPARATOR = " | "
CAP_NOTE = "capped at 1,000 per 1,000"


def load_overrides(path: str | Path | None, outcomes: set[str]) -> pd.DataFrame:
    """Reviewer overrides: ``outcome, domain, downgrade (0, 1 or 2), reason``."""
    columns = ["outcome", "domain", "downgrade", "reason"]
    if not path:
        return pd.DataFrame(columns=columns)
    table = load_csv(path, required=columns)
    problems = []
    for _, row in table.iterrows():
        where = f"line {row[LINE]}"
        if row["outcome"] not in outcomes:
            problems.append(f"{where}, field 'outcome': '{row['outcome']}' is not configured")
        if row["domain"] not in DOMAINS:
            problems.append(f"{where}, field 'domain': '{row['domain']}' is not one of "
                            f"{list(DOMAINS)}")
        if row["downgrade"] not in ("0", "1", "2"):
            problems.append(f"{where}, field 'downgrade': '{row['downgrade']}' is not 0, 1 "
                            "or 2")
        if not row["reason"]:
            problems.append(f"{where}, field 'reason': empty")
    if problems:
        raise InputErrors(path, problems)
    return table.drop(columns=[LINE])


def _fmt(value: float) -> str:
    return f"{value:.2f}".replace("-", "\u2212")


def _per_1000(value: float) -> str:
    """A risk per 1,000 with a thousands separator, as GRADE's tables print it."""
    return f"{value:,.0f}"


def _participants_studies(participants, k: int) -> str:
    """GRADE's "№ of participants (studies)" cell: ``1,059 (3 studies)``."""
    try:
        n = f"{int(round(float(participants))):,}"
    except (TypeError, ValueError):
        n = "\u2014"
    return f"{n} ({k} {'study' if k == 1 else 'studies'})"


def _direction(value: float, digits: int = 2) -> str:
    """A mean difference in words, as GRADE's tables print it: "0.62 lower"."""
    if value == 0:
        return f"{0:.{digits}f} (no difference)"
    return f"{abs(value):.{digits}f} {'lower' if value < 0 else 'higher'}"


def absolute_risks(pooled: Mapping, table: pd.DataFrame) -> dict:
    """The anticipated absolute effects of GRADE's summary-of-findings table.

    Binary outcomes: the control risk (events over participants in the control arms) per
    1,000, and the risk with the intervention it implies under the pooled RR or OR, with the
    CI. A risk cannot exceed 1,000 per 1,000: a bound above is shown as 1,000 and flagged
    (``capped``), as GRADE's tables show it. Continuous outcomes: the control groups' mean
    (or its range across studies) and the mean difference in words ("0.62 lower").
    """
    random = pooled["random"]
    measure = pooled["measure"]
    values = (random["estimate"], random["ci_lb"], random["ci_ub"])
    if pooled.get("type") == "binary" and measure in ("RR", "OR") \
            and {"events_control", "n_control"} <= set(table.columns):
        risk = table["events_control"].astype(float).sum() / \
            table["n_control"].astype(float).sum()
        if measure == "RR":
            raw = [1000 * risk * math.exp(v) for v in values]
        else:
            odds = risk / (1 - risk) if risk < 1 else math.inf
            raw = [1000 * odds * math.exp(v) / (1 + odds * math.exp(v)) for v in values]
        capped = [v > 1000 for v in raw]
        shown = [_per_1000(min(v, 1000)) for v in raw]
        return {"control": f"{_per_1000(1000 * risk)} per 1,000",
                "intervention": f"{shown[0]} per 1,000 ({shown[1]} to {shown[2]})",
                "capped": any(capped),
                "uncapped": [_per_1000(v) for v in raw]}
    if measure in ("MD", "SMD"):
        control = ""
        if measure == "MD" and "mean_control" in table.columns:
            means = pd.to_numeric(table["mean_control"], errors="coerce").dropna()
            if len(means) == 1:
                control = f"The mean was {_fmt(float(means.iloc[0]))}"
            elif len(means) > 1:
                control = (f"The mean ranged across control groups from "
                           f"{_fmt(float(means.min()))} to {_fmt(float(means.max()))}")
        words = [_direction(v) for v in values]
        return {"control": control,
                "intervention": f"{measure} {words[0]} ({words[1]} to {words[2]})"
                .replace("-", "\u2212"),
                "capped": False, "uncapped": []}
    return {"control": "", "intervention": "", "capped": False, "uncapped": []}


def suggest(pooled: Mapping, effects: pd.DataFrame, rob_overall: Mapping[str, str]) -> dict:
    """Suggested downgrades per GRADE domain, each ``(levels, reason)``."""
    random = pooled["random"]
    ratio = pooled["measure"] in ("RR", "OR")
    out: dict[str, tuple[int, str]] = {}

    weights = dict(zip(effects["study_id"], effects["weight_random"].astype(float)))
    total = sum(weights.values()) or 1.0
    not_low = sum(w for s, w in weights.items() if rob_overall.get(s, "High") != "Low")
    high = sum(w for s, w in weights.items() if rob_overall.get(s) in ("High", "Serious",
                                                                       "Critical"))
    if high / total > 0.5:
        out["risk_of_bias"] = (2, f"studies at high risk of bias carry {100 * high / total:.0f}%"
                                  " of the weight")
    elif not_low / total > 0.5:
        out["risk_of_bias"] = (1, f"studies with some concerns or high risk carry "
                                  f"{100 * not_low / total:.0f}% of the weight")
    else:
        out["risk_of_bias"] = (0, "most weight from studies at low risk of bias")

    if pooled["k"] < 2:
        out["inconsistency"] = (0, "not assessable (one study)")
    else:
        i2 = random["i2"]
        level = 2 if i2 > 75 else 1 if i2 > 50 else 0
        out["inconsistency"] = (level, f"I\u00b2 = {i2:.0f}%")

    out["indirectness"] = (0, "not judged from data")

    null = 0.0
    lower, upper = random["ci_lb"], random["ci_ub"]
    crosses = lower <= null <= upper
    events = None
    if pooled["type"] == "binary":
        events = int(effects["events_treatment"].astype(float).sum()
                     + effects["events_control"].astype(float).sum())
        ois_met, ois = events >= 300, f"{events} events (< 300)"
    else:
        ois_met, ois = pooled["participants"] >= 400, f"{pooled['participants']} participants " \
                                                      "(< 400)"
    level = int(crosses) + int(not ois_met)
    reasons = []
    if crosses:
        shown = (math.exp(lower), math.exp(upper)) if ratio else (lower, upper)
        reasons.append(f"95% CI {_fmt(shown[0])} to {_fmt(shown[1])} includes no effect")
    if not ois_met:
        reasons.append(f"optimal information size not met: {ois}")
    out["imprecision"] = (min(level, 2), "; ".join(reasons) or "precise")

    egger = pooled.get("egger") or {}
    minimum = (pooled.get("small_study") or {}).get("min_studies", 10)
    if pooled["k"] >= minimum and egger.get("pval") is not None:
        out["publication_bias"] = (int(egger["pval"] < 0.10),
                                   f"Egger's test p = {egger['pval']:.2f}")
    else:
        out["publication_bias"] = (0, f"not assessable (fewer than {minimum} studies)")
    return {"levels": out, "events": events}


def summary_of_findings(pooled_results: list[Mapping], effects: Mapping[str, pd.DataFrame],
                        rob_overall: Mapping[str, str], overrides: pd.DataFrame, *,
                        labels: Mapping[str, str] | None = None,
                        order: list[str] | None = None,
                        comments: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One row per configured outcome: effect, certainty, downgrades and their reasons.
    Studies named in a row (those not analysable) are named by ``labels`` and listed in the
    study ``order`` (:mod:`sysrev.study_order`). ``comments`` (by outcome id) fill the
    table's Comments column, as GRADE's tables have one."""
    comments = comments or {}
    labels = labels or {}
    rank = {s: i for i, s in enumerate(order or [])}

    def named(ids):
        ids = sorted(set(ids), key=lambda s: (rank.get(s, len(rank)), s))
        return ", ".join(labels.get(s, s) for s in ids)

    rows = []
    for pooled in pooled_results:
        base = {"outcome": pooled["outcome"], "label": pooled["label"],
                "measure": pooled["measure"], "studies": pooled["k"],
                "participants": pooled.get("participants", 0),
                "comments": comments.get(pooled["outcome"], "")}
        base["participants_studies"] = _participants_studies(base["participants"],
                                                             int(pooled["k"] or 0))
        if not pooled.get("random"):
            rows.append({**base, "events": "", "effect": "no analysable data",
                         "absolute_effect": "", "certainty": "not assessable",
                         "downgrades": "", "reasons": "no study reports usable numbers; "
                         "not analysable: " + named(
                             x["study_id"] for x in pooled.get("not_analysable", []))
                         + " (reasons in pooled.json)",
                         "risk_control": "", "risk_intervention": "", "footnotes": ""})
            continue
        table = effects[pooled["outcome"]]
        suggestion = suggest(pooled, table, rob_overall)
        levels = dict(suggestion["levels"])
        for _, row in overrides[overrides["outcome"] == pooled["outcome"]].iterrows():
            levels[row["domain"]] = (int(row["downgrade"]), f"reviewer: {row['reason']}")
        total = sum(level for level, _ in levels.values())
        certainty = LEVELS[max(1, 4 - total)]
        random = pooled["random"]
        if pooled["measure"] in ("RR", "OR"):
            effect = (f"{pooled['measure']} {_fmt(math.exp(random['estimate']))} "
                      f"({_fmt(math.exp(random['ci_lb']))} to {_fmt(math.exp(random['ci_ub']))})")
            control_events = table["events_control"].astype(float).sum()
            control_total = table["n_control"].astype(float).sum()
            risk = control_events / control_total
            absolute = ""
            if pooled["measure"] == "RR":
                # A risk cannot exceed 1,000 per 1,000, however large the ratio's bound.
                raw = [1000 * risk * math.exp(v)
                       for v in (random["estimate"], random["ci_lb"], random["ci_ub"])]
                shown = [_per_1000(min(v, 1000)) + (" (capped)" if v > 1000 else "")
                         for v in raw]
                absolute = (f"{_per_1000(1000 * risk)} per 1,000 with control; {shown[0]} per "
                            f"1,000 with intervention ({shown[1]} to {shown[2]})")
        else:
            # GRADE puts a mean difference in the absolute-effect column; there is no
            # relative effect for a continuous outcome.
            effect = "\u2014"
            absolute = (f"{pooled['measure']} {_fmt(random['estimate'])} "
                        f"({_fmt(random['ci_lb'])} to {_fmt(random['ci_ub'])})")
        downgrades = "; ".join(f"{DOMAIN_NAMES[d]} \u2212{lvl}" for d, (lvl, _) in
                               levels.items() if lvl)
        reasons = "; ".join(f"{DOMAIN_NAMES[d]}: {why}" for d, (_, why) in levels.items())
        risks = absolute_risks(pooled, table)
        # One footnote per downgrade, with its reason (GRADE: every downgrade is explained).
        notes = [f"{DOMAIN_NAMES[d]} \u2212{lvl}: {why}" for d, (lvl, why) in levels.items()
                 if lvl]
        if risks["capped"]:
            notes.append(f"Risk with intervention {CAP_NOTE} (the {pooled['measure']}'s "
                         f"bounds give {risks['uncapped'][1]} to {risks['uncapped'][2]} per "
                         "1,000)")
        rows.append({**base, "events": suggestion["events"] if suggestion["events"] is not None
                     else "", "effect": effect, "absolute_effect": absolute,
                     "certainty": certainty, "downgrades": downgrades or "none",
                     "reasons": reasons, "risk_control": risks["control"],
                     "risk_intervention": risks["intervention"],
                     "footnotes": FOOTNOTE_SEPARATOR.join(notes)})
    return pd.DataFrame(rows, columns=SOF_COLUMNS)
