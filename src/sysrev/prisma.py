"""PRISMA 2020 flow counts, computed from the pipeline's tables, with their arithmetic checked.

Every number comes from a table: records identified from the record table, duplicates from
the deduplication clusters, exclusions and reasons from the final screening decisions, studies
and reports from the study links. Page et al. BMJ 2021;372:n71 (the PRISMA 2020 statement).
"""

from __future__ import annotations

from collections import Counter
from typing import Mapping

import pandas as pd


class PrismaArithmeticError(ValueError):
    """A PRISMA equation does not hold: a record was lost or counted twice."""


def _count(finals: pd.DataFrame, stage: str, decision: str) -> int:
    return int(((finals["stage"] == stage) & (finals["final_decision"] == decision)).sum())


def prisma_counts(records: pd.DataFrame, clusters: pd.DataFrame, finals: pd.DataFrame,
                  links: pd.DataFrame, *, database_names: Mapping[str, str],
                  removed_by_automation: int = 0) -> dict:
    """Count every box of the PRISMA 2020 flow diagram (new studies via databases).

    Parameters
    ----------
    records
        The record table (every record identified, all sources).
    clusters
        :func:`sysrev.dedup.deduplicate`'s output.
    finals
        :func:`sysrev.screening.final_decisions`'s output.
    links
        The study links of the included reports.
    database_names
        Display names of the sources (``{"pubmed": "PubMed", …}``).
    removed_by_automation
        Records removed by automation tools before screening (0 unless configured).
    """
    per_source = records["source"].value_counts().sort_index()
    identified = int(len(records))
    duplicates = int((~clusters["kept"]).sum())
    screened = int(clusters["kept"].sum()) - removed_by_automation
    ta_excluded = _count(finals, "title_abstract", "exclude")
    ta_pending = _count(finals, "title_abstract", "pending")
    sought = _count(finals, "title_abstract", "include")
    not_retrieved = _count(finals, "full_text", "not_retrieved")
    assessed = sought - not_retrieved
    ft = finals[finals["stage"] == "full_text"]
    ft_excluded = ft[ft["final_decision"] == "exclude"]
    ft_pending = _count(finals, "full_text", "pending")
    reasons = Counter(ft_excluded["reason"])
    included_reports = _count(finals, "full_text", "include")
    included_studies = int(links["study_id"].nunique())

    counts = {
        "identification": {
            "databases": {name: int(n) for name, n in per_source.items()},
            "database_names": {name: database_names.get(name, name)
                               for name in per_source.index},
            "registers": {},
            "records_identified": identified,
            "duplicates_removed": duplicates,
            "removed_by_automation": removed_by_automation,
            "removed_other_reasons": 0,
        },
        "screening": {
            "records_screened": screened,
            "records_excluded": ta_excluded,
            "records_pending": ta_pending,
        },
        "retrieval": {
            "reports_sought": sought,
            "reports_not_retrieved": not_retrieved,
        },
        "eligibility": {
            "reports_assessed": assessed,
            "reports_excluded": int(len(ft_excluded)),
            "reports_pending": ft_pending,
            "exclusion_reasons": {reason: int(n) for reason, n in
                                  sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))},
        },
        "included": {
            "studies": included_studies,
            "reports": included_reports,
        },
    }
    counts["checks"] = check_prisma(counts)
    return counts


def check_prisma(counts: dict) -> list[dict]:
    """Check every PRISMA equation; raise :class:`PrismaArithmeticError` naming a broken one."""
    ident, scr = counts["identification"], counts["screening"]
    ret, elig, inc = counts["retrieval"], counts["eligibility"], counts["included"]
    equations = [
        ("sum of records per database = records identified",
         sum(ident["databases"].values()) + sum(ident["registers"].values()),
         ident["records_identified"]),
        ("records identified - duplicates removed - removed by automation - removed for other "
         "reasons = records screened",
         ident["records_identified"] - ident["duplicates_removed"]
         - ident["removed_by_automation"] - ident["removed_other_reasons"],
         scr["records_screened"]),
        ("records screened - records excluded - records pending = reports sought",
         scr["records_screened"] - scr["records_excluded"] - scr["records_pending"],
         ret["reports_sought"]),
        ("reports sought - reports not retrieved = reports assessed",
         ret["reports_sought"] - ret["reports_not_retrieved"], elig["reports_assessed"]),
        ("reports assessed - reports excluded - reports pending = reports included",
         elig["reports_assessed"] - elig["reports_excluded"] - elig["reports_pending"],
         inc["reports"]),
        ("sum of exclusion reasons = reports excluded",
         sum(elig["exclusion_reasons"].values()), elig["reports_excluded"]),
    ]
    checks = []
    for name, left, right in equations:
        if left != right:
            raise PrismaArithmeticError(f"PRISMA equation broken: {name} ({left} != {right})")
        checks.append({"equation": name, "value": int(right), "holds": True})
    if inc["studies"] > inc["reports"]:
        raise PrismaArithmeticError(
            f"PRISMA: more studies ({inc['studies']}) than reports ({inc['reports']})")
    return checks
