"""Screening decisions: import, checks, final decisions per stage, and included reports.

Decisions come from the reviewers as a CSV (the generic layout, ``record_id, reviewer, stage,
decision, reason, note``). A decision may name any record of a duplicate cluster (the PubMed,
Embase or CENTRAL copy of one paper); it applies to the cluster's unique record, so decisions
survive reruns and search updates even when another copy becomes the kept one.

Final decisions (rules are parameters and are written to the audit):

``title_abstract``
    ``any_include``: the record goes forward when any reviewer includes it (or marks it
    ``maybe``); ``agreement``: the reviewers must agree. A consensus row always decides.
``full_text``
    ``agreement``: the reviewers must agree, otherwise a consensus row decides.

A record whose decision is not yet made (too few reviewers, or an unresolved conflict) is
*pending*: it is reported, not an error, unless ``require_complete`` is set.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sysrev.columns import DECISION_COLUMNS, FINAL_DECISION_COLUMNS, STUDY_LINK_COLUMNS
from sysrev.csvtables import LINE, load_csv
from sysrev.errors import InputError, InputErrors

log = logging.getLogger(__name__)

STAGES = ("title_abstract", "full_text")
DECISIONS = {"title_abstract": ("include", "exclude", "maybe"),
             "full_text": ("include", "exclude", "maybe", "not_retrieved")}
TA_RULES = ("any_include", "agreement")
FT_RULES = ("agreement",)
ROLES = ("main", "secondary")


@dataclass(frozen=True)
class ScreeningRules:
    """How final decisions are made from reviewers' decisions."""

    title_abstract: str = "any_include"
    full_text: str = "agreement"
    reviewers_required: int = 2
    consensus_reviewer: str = "consensus"
    require_complete: bool = False


def load_decisions(path: str | Path, clusters: pd.DataFrame) -> pd.DataFrame:
    """Load the decisions CSV, check it against the deduplicated records, and map every
    decision to its unique record (``unique_record_id``).

    Raises
    ------
    InputErrors
        Listing every offending row: an unknown record, stage or decision word; a full-text
        exclusion without a reason; a reviewer deciding one record twice, differently, at one
        stage (also through two copies of one duplicate cluster).
    """
    table = load_csv(path, required=DECISION_COLUMNS[:4], optional=DECISION_COLUMNS[4:])
    cluster_of = dict(zip(clusters["record_id"], clusters["cluster_id"]))
    problems = []
    for _, row in table.iterrows():
        where = f"line {row[LINE]} (record {row['record_id'] or '?'})"
        if row["record_id"] not in cluster_of:
            problems.append(f"{where}, field 'record_id': no such record in the search "
                            "results")
        if not row["reviewer"]:
            problems.append(f"{where}, field 'reviewer': empty")
        if row["stage"] not in STAGES:
            problems.append(f"{where}, field 'stage': '{row['stage']}' is not one of "
                            f"{list(STAGES)}")
        elif row["decision"] not in DECISIONS[row["stage"]]:
            problems.append(f"{where}, field 'decision': '{row['decision']}' is not one of "
                            f"{list(DECISIONS[row['stage']])} at stage {row['stage']}")
        elif row["stage"] == "full_text" and row["decision"] == "exclude" and not row["reason"]:
            problems.append(f"{where}, field 'reason': a full-text exclusion needs a reason")
    table["unique_record_id"] = table["record_id"].map(cluster_of)
    known = table.dropna(subset=["unique_record_id"])
    for (record, reviewer, stage), group in known.groupby(
            ["unique_record_id", "reviewer", "stage"], sort=True):
        if group["decision"].nunique() > 1:
            lines = ", ".join(str(x) for x in group[LINE])
            problems.append(f"lines {lines}: reviewer {reviewer} made different {stage} "
                            f"decisions ({', '.join(group['decision'])}) on record {record}")
    if problems:
        raise InputErrors(path, problems)
    return table


def _final(decisions: pd.DataFrame, stage: str, rule: str, rules: ScreeningRules) -> dict:
    consensus = decisions[decisions["reviewer"] == rules.consensus_reviewer]
    reviewers = decisions[decisions["reviewer"] != rules.consensus_reviewer]
    per_reviewer = reviewers.drop_duplicates("reviewer").sort_values("reviewer")
    summary = "; ".join(f"{r}={d}" for r, d in zip(per_reviewer["reviewer"],
                                                   per_reviewer["decision"]))
    base = {"reviewers": "; ".join(per_reviewer["reviewer"]), "decisions": summary}
    if not consensus.empty:
        row = consensus.iloc[0]
        return {**base, "final_decision": row["decision"], "reason": row["reason"],
                "basis": "consensus"}
    choices = set(per_reviewer["decision"])
    if stage == "title_abstract" and rule == "any_include" and choices & {"include", "maybe"}:
        return {**base, "final_decision": "include", "reason": "",
                "basis": "any reviewer included"}
    if len(per_reviewer) < rules.reviewers_required:
        return {**base, "final_decision": "pending", "reason": "",
                "basis": f"{len(per_reviewer)} of {rules.reviewers_required} reviewers"}
    if len(choices) == 1 and "maybe" not in choices:
        decision = choices.pop()
        reasons = sorted({r for r in per_reviewer["reason"] if r})
        return {**base, "final_decision": decision, "reason": "; ".join(reasons),
                "basis": "reviewers agree"}
    return {**base, "final_decision": "pending", "reason": "",
            "basis": "conflict without consensus"}


def final_decisions(decisions: pd.DataFrame, unique_ids: list[str],
                    rules: ScreeningRules) -> pd.DataFrame:
    """The final decision for every unique record at title/abstract, and at full text for
    every record that went forward. Records nobody has screened yet are ``pending``."""
    by_record = {key: group for key, group in
                 decisions.groupby(["unique_record_id", "stage"], sort=True)}
    rows = []
    for record_id in sorted(unique_ids):
        ta = by_record.get((record_id, "title_abstract"))
        final = (_final(ta, "title_abstract", rules.title_abstract, rules) if ta is not None
                 else {"final_decision": "pending", "reason": "", "basis": "not screened",
                       "reviewers": "", "decisions": ""})
        rows.append({"record_id": record_id, "stage": "title_abstract", **final})
        if final["final_decision"] != "include":
            continue
        ft = by_record.get((record_id, "full_text"))
        final_ft = (_final(ft, "full_text", rules.full_text, rules) if ft is not None
                    else {"final_decision": "pending", "reason": "", "basis": "not assessed",
                          "reviewers": "", "decisions": ""})
        rows.append({"record_id": record_id, "stage": "full_text", **final_ft})
    table = pd.DataFrame(rows, columns=FINAL_DECISION_COLUMNS)
    pending = table[table["final_decision"] == "pending"]
    if rules.require_complete and not pending.empty:
        listing = ", ".join(f"{r} ({s}: {b})" for r, s, b in
                            zip(pending["record_id"], pending["stage"], pending["basis"]))
        raise ValueError(f"screening.require_complete is set and {len(pending)} decision(s) "
                         f"are pending: {listing}")
    return table


def load_study_links(path: str | Path, clusters: pd.DataFrame,
                     finals: pd.DataFrame) -> pd.DataFrame:
    """Load ``studies.csv`` (``study_id, record_id, role``): which included report belongs to
    which study. Every report included at full text must belong to exactly one study, with
    one ``main`` report per study."""
    table = load_csv(path, required=STUDY_LINK_COLUMNS)
    cluster_of = dict(zip(clusters["record_id"], clusters["cluster_id"]))
    included = set(finals[(finals["stage"] == "full_text")
                          & (finals["final_decision"] == "include")]["record_id"])
    problems = []
    for _, row in table.iterrows():
        where = f"line {row[LINE]} (study {row['study_id'] or '?'})"
        if not row["study_id"]:
            problems.append(f"{where}, field 'study_id': empty")
        if row["role"] not in ROLES:
            problems.append(f"{where}, field 'role': '{row['role']}' is not one of "
                            f"{list(ROLES)}")
        unique = cluster_of.get(row["record_id"])
        if unique is None:
            problems.append(f"{where}, field 'record_id': no such record "
                            f"'{row['record_id']}'")
        elif unique not in included:
            problems.append(f"{where}, field 'record_id': {row['record_id']} is not a report "
                            "included at full text")
    table["unique_record_id"] = table["record_id"].map(cluster_of)
    linked = table.dropna(subset=["unique_record_id"])
    for record, group in linked.groupby("unique_record_id"):
        if len(group) > 1:
            problems.append(f"lines {', '.join(str(x) for x in group[LINE])}: report {record} "
                            "is linked more than once")
    for record in sorted(included - set(linked["unique_record_id"])):
        problems.append(f"report {record} is included at full text but linked to no study")
    for study, group in table.groupby("study_id"):
        if (group["role"] == "main").sum() != 1:
            problems.append(f"study {study} needs exactly one 'main' report "
                            f"(has {(group['role'] == 'main').sum()})")
    if problems:
        raise InputErrors(path, problems)
    return table


def check_studies_exist(path: str | Path, links: pd.DataFrame, study_ids: set[str]) -> None:
    """Every study with an included report must appear in the extraction's studies table."""
    missing = sorted(set(links["study_id"]) - study_ids)
    if missing:
        raise InputError(path, f"studies {missing} have included reports but no row in the "
                               "extraction studies table")
