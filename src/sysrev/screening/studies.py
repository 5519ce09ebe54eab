"""Links between included reports and the studies (trials) they describe.

``studies.csv`` has ``study_id, record_id, role``: every report included at full text belongs
to one study, and each study has one ``main`` report, so that PRISMA counts studies and
reports separately (a trial's main paper, its extension and its subgroup analysis are three
reports of one study).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from sysrev.columns import STUDY_LINK_COLUMNS
from sysrev.csvtables import LINE, load_csv
from sysrev.errors import InputError, InputErrors
from sysrev.screening.matching import RecordMatcher

ROLES = ("main", "secondary")

log = logging.getLogger(__name__)


def load_study_links(path: str | Path, matcher: RecordMatcher,
                     finals: pd.DataFrame) -> pd.DataFrame:
    """Load ``studies.csv`` (``study_id, record_id, role``): which included report belongs to
    which study. Every report included at full text must belong to exactly one study, with
    one ``main`` report per study."""
    return read_study_links(path, matcher, finals)[0]


def read_study_links(path: str | Path, matcher: RecordMatcher, finals: pd.DataFrame,
                     withdrawn: set[str] | frozenset[str] = frozenset()
                     ) -> tuple[pd.DataFrame, list[dict]]:
    """:func:`load_study_links`, with the links to ``withdrawn`` records (no longer returned
    by their source's new search, so in no record table) kept in the file but set aside:
    logged and reported (the second value: study, record, role, file, line) instead of
    failing as "no such record", as decisions on withdrawn records are."""
    table = load_csv(path, required=STUDY_LINK_COLUMNS)
    gone = table["record_id"].isin(set(withdrawn)) & pd.Series(
        [matcher.match(record_id=r).unique_record_id is None for r in table["record_id"]],
        index=table.index, dtype=bool)
    aside = table[gone]
    report = [{"study_id": r["study_id"], "record_id": r["record_id"], "role": r["role"],
               "file": str(path), "line": int(r[LINE])} for _, r in aside.iterrows()]
    for entry in report:
        log.warning("%s, line %s: the link of %s to study %s (%s) is kept, but the record is "
                    "no longer returned by its source's new search (withdrawn in the update "
                    "table); it is not part of this run's studies", path, entry["line"],
                    entry["record_id"], entry["study_id"], entry["role"])
    withdrawn_main = {e["study_id"]: e["record_id"] for e in report if e["role"] == "main"}
    table = table[~gone].reset_index(drop=True)
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
        unique = matcher.match(record_id=row["record_id"]).unique_record_id
        if unique is None:
            problems.append(f"{where}, field 'record_id': no such record "
                            f"'{row['record_id']}'")
        elif unique not in included:
            problems.append(f"{where}, field 'record_id': {row['record_id']} is not a report "
                            "included at full text")
    table["unique_record_id"] = [matcher.match(record_id=r).unique_record_id
                                 for r in table["record_id"]]
    linked = table.dropna(subset=["unique_record_id"])
    for record, group in linked.groupby("unique_record_id"):
        if len(group) > 1:
            problems.append(f"lines {', '.join(str(x) for x in group[LINE])}: report {record} "
                            "is linked more than once")
    for record in sorted(included - set(linked["unique_record_id"])):
        problems.append(f"report {record} is included at full text but linked to no study")
    for study, group in table.groupby("study_id"):
        if (group["role"] == "main").sum() != 1:
            why = (f"; its main report {withdrawn_main[study]} was withdrawn by its source's "
                   "new search: make another report main" if study in withdrawn_main else "")
            problems.append(f"study {study} needs exactly one 'main' report "
                            f"(has {(group['role'] == 'main').sum()}){why}")
    if problems:
        raise InputErrors(path, problems)
    return table, report


def check_studies_exist(path: str | Path, links: pd.DataFrame, study_ids: set[str]) -> None:
    """Every study with an included report must appear in the extraction's studies table."""
    missing = sorted(set(links["study_id"]) - study_ids)
    if missing:
        raise InputError(path, f"studies {missing} have included reports but no row in the "
                               "extraction studies table")
