"""Reviewers' decisions in one table, from the generic CSV or a screening tool's export.

The generic CSV layout (UTF-8, one row per reviewer, record and stage):

``record_id``
    sysrev's record id of any copy of the record (``pubmed:18438830``,
    ``embase:L2001234567``); may be left empty when ``pmid`` or ``doi`` is given.
``reviewer``
    A role or name (``R1``); the configured consensus name (``consensus``) marks a consensus
    decision that settles a disagreement.
``stage``
    ``title_abstract`` or ``full_text``.
``decision``
    ``include``, ``exclude`` or ``maybe``; at full text also ``not_retrieved``.
``reason``
    Why a record was excluded (required for a full-text exclusion).
``note``, ``pmid``, ``doi``
    Optional.
``sample``
    Optional: ``random`` marks a record screened as part of the random sample drawn, after
    ranked screening, from the records not yet screened (the stopping test,
    :mod:`sysrev.screening.stopping`); empty otherwise.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sysrev.columns import DECISION_COLUMNS
from sysrev.csvtables import LINE, load_csv
from sysrev.errors import InputErrors
from sysrev.screening.matching import RecordMatcher
from sysrev.screening.stopping import RANDOM_SAMPLE

STAGES = ("title_abstract", "full_text")
DECISIONS = {"title_abstract": ("include", "exclude", "maybe"),
             "full_text": ("include", "exclude", "maybe", "not_retrieved")}

#: Columns of the decision table every importer returns.
DECISION_TABLE_COLUMNS = ["record_id", "unique_record_id", "match", "reviewer", "stage",
                          "decision", "reason", "note", "file", "line"]


def check_decisions(table: pd.DataFrame, *, consensus_reviewer: str | None = None) -> None:
    """Check a decision table; raise one error listing every offending row.

    Problems: a record that does not exist, an unknown stage or decision word, a full-text
    exclusion without a reason, and a reviewer with more than one row for one record (through
    any of its copies) at one stage: different decisions, or the same one repeated. With
    ``consensus_reviewer``, a reviewer name that differs from it only in case or spaces
    ("Consensus", "consensus ") is an error: it would count as one more reviewer instead
    of settling the disagreement.
    """
    near = (" ".join(consensus_reviewer.split()).casefold()
            if consensus_reviewer is not None else None)
    problems = []
    for row in table.itertuples(index=False):
        where = f"{row.file}, line {row.line} (record {row.record_id or '?'})"
        if not row.unique_record_id:
            what = ("matches several records and none was picked" if " is ambiguous "
                    in row.match else "no such record in the search results")
            problems.append(f"{where}, field 'record_id': {what} ({row.match})")
        if not row.reviewer:
            problems.append(f"{where}, field 'reviewer': empty")
        elif (near is not None and row.reviewer != consensus_reviewer
              and " ".join(row.reviewer.split()).casefold() == near):
            problems.append(f"{where}, field 'reviewer': {row.reviewer!r} is not the "
                            f"consensus reviewer {consensus_reviewer!r} (it differs in case "
                            "or spaces) and would count as another reviewer")
        if row.stage not in STAGES:
            problems.append(f"{where}, field 'stage': '{row.stage}' is not one of "
                            f"{list(STAGES)}")
        elif row.decision not in DECISIONS[row.stage]:
            problems.append(f"{where}, field 'decision': '{row.decision}' is not one of "
                            f"{list(DECISIONS[row.stage])} at stage {row.stage}")
        elif row.stage == "full_text" and row.decision == "exclude" and not row.reason:
            problems.append(f"{where}, field 'reason': a full-text exclusion needs a reason")
    known = table[table["unique_record_id"].astype(bool)]
    for (record, reviewer, stage), group in known.groupby(
            ["unique_record_id", "reviewer", "stage"], sort=True):
        if len(group) < 2:
            continue
        places = ", ".join(f"{f} line {ln}" for f, ln in zip(group["file"], group["line"]))
        if group["decision"].nunique() > 1:
            problems.append(f"{places}: reviewer {reviewer} made different {stage} decisions "
                            f"({', '.join(group['decision'])}) on record {record}")
        else:
            # A repeated row is a copy-paste or a merged export counted twice: it would
            # weigh one reviewer's vote twice in agreement statistics.
            problems.append(f"{places}: duplicate {stage} decision rows of reviewer "
                            f"{reviewer} on record {record} (one row per record, reviewer "
                            "and stage)")
    if problems:
        files = sorted(set(table["file"]))
        raise InputErrors(", ".join(files), problems)


def load_generic(path: str | Path, matcher: RecordMatcher) -> pd.DataFrame:
    """Read decisions in the generic CSV layout (see the module docstring)."""
    raw = load_csv(path, required=DECISION_COLUMNS[:4],
                   optional=DECISION_COLUMNS[4:] + ["pmid", "doi", "sample"])
    rows, problems = [], []
    for row in raw.to_dict("records"):
        if row["sample"] not in ("", RANDOM_SAMPLE):
            problems.append(f"line {row[LINE]}, field 'sample': '{row['sample']}' is not "
                            f"'{RANDOM_SAMPLE}' or empty")
        found = matcher.match(record_id=row["record_id"] or None, pmid=row["pmid"],
                              doi=row["doi"])
        rows.append({"record_id": row["record_id"] or found.key, "unique_record_id":
                     found.unique_record_id or "", "match": found.key,
                     "reviewer": row["reviewer"], "stage": row["stage"],
                     "decision": row["decision"], "reason": row["reason"],
                     "note": row["note"], "file": str(path), "line": row[LINE],
                     "sample": row["sample"]})
    if problems:
        raise InputErrors(path, problems)
    return pd.DataFrame(rows, columns=DECISION_TABLE_COLUMNS + ["sample"])
