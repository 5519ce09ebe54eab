"""Risk-of-bias judgements: loading and checking the judgements table.

Layout of ``risk_of_bias/rob2.csv`` (one row per study and domain):
``study_id, domain, judgement, support``. RoB 2 domains are D1 (randomisation process), D2
(deviations from intended interventions), D3 (missing outcome data), D4 (measurement of the
outcome), D5 (selection of the reported result) and ``overall``; judgements are ``Low``,
``Some concerns`` or ``High``. ROBINS-I uses D1 to D7 and ``Low``, ``Moderate``, ``Serious``,
``Critical``, ``No information``.

Sterne JAC et al. RoB 2: a revised tool for assessing risk of bias in randomised trials. BMJ
2019;366:l4898. Sterne JAC et al. ROBINS-I. BMJ 2016;355:i4919.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sysrev.csvtables import LINE, load_csv
from sysrev.errors import InputErrors


@dataclass(frozen=True)
class RobTool:
    """A risk-of-bias tool: its domains (in order) and judgements (best to worst)."""

    name: str
    domains: dict[str, str]
    judgements: tuple[str, ...]


ROB2 = RobTool("RoB 2", {
    "D1": "Randomisation process",
    "D2": "Deviations from the intended interventions",
    "D3": "Missing outcome data",
    "D4": "Measurement of the outcome",
    "D5": "Selection of the reported result",
}, ("Low", "Some concerns", "High"))

ROBINS_I = RobTool("ROBINS-I", {
    "D1": "Bias due to confounding",
    "D2": "Bias due to selection of participants",
    "D3": "Bias in classification of interventions",
    "D4": "Bias due to deviations from intended interventions",
    "D5": "Bias due to missing data",
    "D6": "Bias in measurement of outcomes",
    "D7": "Bias in selection of the reported result",
}, ("Low", "Moderate", "Serious", "Critical", "No information"))

TOOLS = {"rob2": ROB2, "robins_i": ROBINS_I}


def _rank(tool: RobTool, judgement: str) -> int:
    # "No information" says nothing about direction: it never makes an overall judgement
    # inconsistent.
    return -1 if judgement == "No information" else tool.judgements.index(judgement)


def load_rob(path: str | Path, tool: RobTool, study_ids: set[str]) -> pd.DataFrame:
    """Load and check a judgements table against ``tool`` and the included studies.

    Checked: the vocabulary of domains and judgements, one row per study and domain, every
    domain and an overall judgement for every study, only included studies, and an overall
    judgement no better than the worst domain.
    """
    table = load_csv(path, required=["study_id", "domain", "judgement", "support"])
    domains = list(tool.domains) + ["overall"]
    problems = []
    for _, row in table.iterrows():
        where = f"line {row[LINE]} (study {row['study_id'] or '?'}, {row['domain'] or '?'})"
        if row["study_id"] not in study_ids:
            problems.append(f"{where}, field 'study_id': not an included study")
        if row["domain"] not in domains:
            problems.append(f"{where}, field 'domain': '{row['domain']}' is not one of "
                            f"{domains} ({tool.name})")
        if row["judgement"] not in tool.judgements:
            problems.append(f"{where}, field 'judgement': '{row['judgement']}' is not one of "
                            f"{list(tool.judgements)} ({tool.name})")
        if not row["support"]:
            problems.append(f"{where}, field 'support': empty (say why, with the source)")
    for _, row in table[table.duplicated(["study_id", "domain"], keep=False)].iterrows():
        problems.append(f"line {row[LINE]}: study {row['study_id']} has domain "
                        f"{row['domain']} twice")
    if not problems:
        for study in sorted(study_ids):
            part = table[table["study_id"] == study].set_index("domain")["judgement"]
            missing = [d for d in domains if d not in part.index]
            if missing:
                problems.append(f"study {study}: no judgement for {missing}")
                continue
            worst = max(_rank(tool, part[d]) for d in tool.domains)
            if _rank(tool, part["overall"]) < worst:
                problems.append(f"study {study}: overall '{part['overall']}' is better than "
                                f"its worst domain ('{tool.judgements[worst]}')")
    if problems:
        raise InputErrors(path, problems)
    return table.drop(columns=[LINE])
