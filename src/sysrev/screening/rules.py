"""Final screening decisions from the reviewers' decisions.

Final decisions (rules are parameters and are written to the audit):

``title_abstract``
    ``any_include`` (Cochrane practice): once ``reviewers_required`` reviewers have screened
    the record, it goes forward when any of them includes it (or marks it ``maybe``);
    ``first_include`` (a liberal acceleration a team must choose explicitly): one reviewer's
    include or maybe suffices, before the others have screened it; ``agreement``: the
    reviewers must agree. A consensus row always decides.
``full_text``
    ``agreement``: the reviewers must agree, otherwise a consensus row decides.

A record whose decision is not yet made (too few reviewers, or an unresolved conflict) is
*pending*: it is reported, not an error, unless ``require_complete`` is set.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
import pandas as pd

from sysrev.columns import FINAL_DECISION_COLUMNS

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class ScreeningRules:
    """How final decisions are made from reviewers' decisions."""

    title_abstract: str = "any_include"
    full_text: str = "agreement"
    reviewers_required: int = 2
    consensus_reviewer: str = "consensus"
    require_complete: bool = False

    def describe(self) -> str:
        """The rule in words, for the audit and the methods text."""
        n = self.reviewers_required
        reviewers = f"{n} reviewer{'' if n == 1 else 's'}"
        if self.title_abstract == "first_include":
            ta = ("a record goes forward to full text as soon as one reviewer includes it or "
                  "marks it maybe, without waiting for the other reviewers (a liberal "
                  f"acceleration chosen for this review); it is excluded when {reviewers} "
                  "agree to exclude it")
        elif self.title_abstract == "any_include":
            ta = (f"once {reviewers} have screened a record, it goes forward to full text "
                  "when any of them includes it or marks it maybe")
        else:
            ta = "a record goes forward when the reviewers agree to include it"
        return (f"Title/abstract: {ta}; full text: the reviewers must agree. A decision by "
                f"'{self.consensus_reviewer}' settles any disagreement. At least "
                f"{reviewers} must decide each record; until then it is pending.")


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
    if stage == "title_abstract" and rule == "first_include" and choices & {"include", "maybe"}:
        return {**base, "final_decision": "include", "reason": "",
                "basis": "one reviewer included"}
    if len(per_reviewer) < rules.reviewers_required:
        return {**base, "final_decision": "pending", "reason": "",
                "basis": f"{len(per_reviewer)} of {rules.reviewers_required} reviewers"}
    if stage == "title_abstract" and rule == "any_include" and choices & {"include", "maybe"}:
        return {**base, "final_decision": "include", "reason": "",
                "basis": "any reviewer included"}
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
        raise ValueError(f"screening.require_complete is set and {len(pending)} "
                         f"{'decision is' if len(pending) == 1 else 'decisions are'} "
                         f"pending: {listing}")
    return table


def unused_full_text_decisions(decisions: pd.DataFrame, finals: pd.DataFrame) -> list[str]:
    """Full-text decision rows on records that did not go forward at title/abstract.

    :func:`final_decisions` reads full-text decisions only for records included at
    title/abstract, so such a row changes nothing: a full-text include there (its
    title/abstract decision missing, or a typo in its record id) would leave a study out of
    the review without a word. One message per row, naming its file, line and record and the
    record's title/abstract decision.
    """
    ta = finals[finals["stage"] == "title_abstract"].set_index("record_id")["final_decision"]
    rows = decisions[(decisions["stage"] == "full_text")
                     & decisions["unique_record_id"].astype(bool)]
    messages = []
    for row in rows.itertuples(index=False):
        status = ta.get(row.unique_record_id, "pending")
        if status != "include":
            messages.append(
                f"{row.file}, line {row.line} (record {row.record_id}): full-text decision "
                f"'{row.decision}' not used: the record's title/abstract decision is "
                f"{status}, not include (a title/abstract row missing or naming another "
                "record?)")
    return messages
