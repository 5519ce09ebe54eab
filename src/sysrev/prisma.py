"""PRISMA 2020 flow counts, computed from the pipeline's tables, with their arithmetic checked.

Every number comes from a table: records identified from the record table, duplicates from
the deduplication clusters, exclusions and reasons from the final screening decisions, studies
and reports from the study links. Page et al. BMJ 2021;372:n71 (the PRISMA 2020 statement).
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable, Mapping

import pandas as pd


class PrismaArithmeticError(ValueError):
    """A PRISMA equation does not hold: a record was lost or counted twice."""


def _count(finals: pd.DataFrame, stage: str, decision: str) -> int:
    return int(((finals["stage"] == stage) & (finals["final_decision"] == decision)).sum())


def _report_keys(table: pd.DataFrame) -> list[set[str]]:
    keys = []
    for row in table.itertuples(index=False):
        found = {f"record:{row.record_id}"}
        for name in ("pmid", "doi"):
            value = getattr(row, name, None)
            if isinstance(value, str) and value:
                found.add(f"{name}:{value}")
        keys.append(found)
    return keys


def version_counts(current: pd.DataFrame, new_arm: pd.DataFrame,
                   previous: pd.DataFrame | None) -> dict:
    """Studies and reports new since the previous version of the review, and in total.

    ``current`` holds every included report now, ``new_arm`` those found by the new search (all
    of them for a new review), ``previous`` the previous version's ``included.tsv`` (study_id,
    record_id, pmid, doi). A report is the same as a previous one when it shares its record
    id, PMID or DOI; a study when it shares its study id.
    """
    if previous is None:
        studies, reports = int(current["study_id"].nunique()), int(len(current))
        return {"new_studies": studies, "new_reports": reports, "total_studies": studies,
                "total_reports": reports}
    old_keys = set().union(*_report_keys(previous)) if len(previous) else set()
    new_reports = sum(1 for keys in _report_keys(new_arm) if not keys & old_keys)
    old_studies = set(previous["study_id"])
    new_studies = set(new_arm["study_id"]) - old_studies
    return {"new_studies": len(new_studies), "new_reports": new_reports,
            "total_studies": len(old_studies | set(current["study_id"])),
            "total_reports": int(len(previous)) + new_reports}


def new_search_arm(records: pd.DataFrame, clusters: pd.DataFrame, finals: pd.DataFrame,
                   links: pd.DataFrame, previous_records: set[str]):
    """The tables restricted to what the new search found: records the previous version had
    not identified, and the publications (clusters) made only of such records. A new record
    of a publication screened before counts as a duplicate."""
    new_records = records[~records["record_id"].isin(previous_records)]
    old_clusters = set(clusters.loc[clusters["record_id"].isin(previous_records), "cluster_id"])
    new_ids = set(new_records["record_id"])
    arm_clusters = clusters[clusters["record_id"].isin(new_ids)
                            & ~clusters["cluster_id"].isin(old_clusters)]
    new_clusters = set(arm_clusters["cluster_id"])
    return (new_records, arm_clusters, finals[finals["record_id"].isin(new_clusters)],
            links[links["record_id"].isin(new_clusters)])


def prisma_counts(records: pd.DataFrame, clusters: pd.DataFrame, finals: pd.DataFrame,
                  links: pd.DataFrame, *, database_names: Mapping[str, str],
                  removed_by_automation: int = 0,
                  previous_version: pd.DataFrame | None = None,
                  previous_records: set[str] | None = None,
                  meta_analysed: set[str] | None = None,
                  sources: Iterable[str] = (), registers: Iterable[str] = (),
                  other_sources: Iterable[str] = ()) -> dict:
    """Count every box of the PRISMA 2020 flow diagram (new studies via databases).

    With decisions outstanding, "records screened" counts only the records with a
    title/abstract decision; the records awaiting screening (``records_pending``) are a box
    of their own, as are the reports awaiting a full-text assessment (``reports_pending``,
    not in "reports assessed").

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
    previous_version
        ``included.tsv`` of the previous published version of the review, for an updated
        review's "previous studies" boxes; ``None`` for a new review.
    previous_records
        Record ids the previous version identified. With them, the identification, screening
        and eligibility boxes count only what the new search found (PRISMA 2020's flow for
        updated reviews).
    meta_analysed
        Study ids in at least one meta-analysis (an outcome pooling two or more studies), for
        the template's "studies included in meta-analysis" box; ``None``: not counted.
    sources
        Every source searched (the configured exports, and ``pubmed`` when searched): each
        gets its line in the identification box, ``0`` for a search that found nothing
        (an export with ``allow_empty``), which PRISMA 2020 still reports.
    registers
        The sources that are trial registers (``ctgov``): their lines go to the
        "Registers" part of the identification box.
    other_sources
        The sources of "other methods" (``citations``: citation searching). Their records
        are deduplicated against the databases and registers before they are counted: a
        publication that a database also found is in the database arm only. The rest make
        the other-methods arm (``other_methods``: identified, sought, not retrieved,
        assessed, excluded with reasons); its included reports join the included box.
    """
    all_links = links
    if previous_records is not None:
        records, clusters, finals, links = new_search_arm(records, clusters, finals, links,
                                                          previous_records)
    other = None
    other_sources = set(other_sources)
    if other_sources:
        records, clusters, finals, links, other = split_other_methods(
            records, clusters, finals, links, other_sources, sources)
    per_source = records["source"].value_counts()
    per_source = per_source.reindex(sorted(set(per_source.index)
                                           | (set(sources) - other_sources)), fill_value=0)
    registers = set(registers)
    in_registers = per_source[[name in registers for name in per_source.index]]
    per_source = per_source[[name not in registers for name in per_source.index]]
    identified = int(len(records))
    # Every identified record is either the kept record of a publication or a duplicate;
    # in an update that includes new copies of publications screened before.
    duplicates = identified - int(clusters["kept"].sum())
    ta_pending = _count(finals, "title_abstract", "pending")
    screened = int(clusters["kept"].sum()) - removed_by_automation - ta_pending
    ta_excluded = _count(finals, "title_abstract", "exclude")
    sought = _count(finals, "title_abstract", "include")
    not_retrieved = _count(finals, "full_text", "not_retrieved")
    ft_pending = _count(finals, "full_text", "pending")
    assessed = sought - not_retrieved - ft_pending
    ft = finals[finals["stage"] == "full_text"]
    ft_excluded = ft[ft["final_decision"] == "exclude"]
    reasons = Counter(ft_excluded["reason"])
    included_reports = _count(finals, "full_text", "include")
    included_studies = int(links["study_id"].nunique())
    if other is not None:
        # One included box for both arms (PRISMA 2020).
        included_reports += other["reports_included"]
        links = pd.concat([links, other.pop("links")], ignore_index=True)
        included_studies = int(links["study_id"].nunique())

    counts = {
        "identification": {
            "databases": {name: int(n) for name, n in per_source.items()},
            "database_names": {name: database_names.get(name, name)
                               for name in per_source.index},
            "registers": {name: int(n) for name, n in in_registers.items()},
            **({"register_names": {name: database_names.get(name, name)
                                   for name in in_registers.index}} if registers else {}),
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
            **version_counts(all_links, links, previous_version),
            **({} if meta_analysed is None else {
                "studies_meta_analysis": int(all_links.loc[all_links["study_id"].isin(
                    meta_analysed), "study_id"].nunique()),
                "reports_meta_analysis": int(all_links["study_id"].isin(meta_analysed).sum()),
            }),
        },
        "previous": None if previous_version is None else {
            "studies": int(previous_version["study_id"].nunique()),
            "reports": int(len(previous_version)),
        },
    }
    if other is not None:
        counts["other_methods"] = other
    counts["checks"] = check_prisma(counts)
    return counts


def split_other_methods(records: pd.DataFrame, clusters: pd.DataFrame, finals: pd.DataFrame,
                        links: pd.DataFrame, other_sources: set[str], sources: Iterable[str]):
    """The database-and-register arm's tables, and the other-methods arm's counts.

    A publication (cluster) with any record from a database or register belongs to that
    arm; one made only of other-methods records (citation searching) to the other arm.
    Other-methods records of a database arm publication are left out of both arms' counts
    (they were deduplicated against the database search) and reported as such.
    """
    from_other = records["source"].isin(other_sources)
    main_ids = set(records.loc[~from_other, "record_id"])
    main_clusters = set(clusters.loc[clusters["record_id"].isin(main_ids), "cluster_id"])
    other_records = records[from_other]
    other_cluster_of = clusters.set_index("record_id")["cluster_id"]
    in_main = other_records["record_id"].map(other_cluster_of).isin(main_clusters)
    arm_records = other_records[~in_main]
    arm_clusters = clusters[clusters["record_id"].isin(set(arm_records["record_id"]))]
    arm_ids = set(arm_clusters["cluster_id"])
    arm_finals = finals[finals["record_id"].isin(arm_ids)]
    arm_links = links[links["record_id"].isin(arm_ids)]
    ta = arm_finals[arm_finals["stage"] == "title_abstract"]
    sought = int((ta["final_decision"] == "include").sum())
    not_retrieved = _count(arm_finals, "full_text", "not_retrieved")
    ft_pending = _count(arm_finals, "full_text", "pending")
    ft = arm_finals[arm_finals["stage"] == "full_text"]
    ft_excluded = ft[ft["final_decision"] == "exclude"]
    reasons = Counter(ft_excluded["reason"])
    per_source = arm_records["source"].value_counts()
    other = {
        "citations": {name: int(per_source.get(name, 0)) for name in sorted(other_sources)},
        "records_identified": int(len(arm_records)),
        "duplicates_of_databases_and_registers": int(in_main.sum()),
        "duplicates_removed": int(len(arm_records)) - int(arm_clusters["kept"].sum()),
        "records_excluded": _count(arm_finals, "title_abstract", "exclude"),
        "records_pending": _count(arm_finals, "title_abstract", "pending"),
        "reports_sought": sought,
        "reports_not_retrieved": not_retrieved,
        "reports_pending": ft_pending,
        "reports_assessed": sought - not_retrieved - ft_pending,
        "reports_excluded": int(len(ft_excluded)),
        "exclusion_reasons": {reason: int(n) for reason, n in
                              sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))},
        "reports_included": _count(arm_finals, "full_text", "include"),
        "links": arm_links,
    }
    keep = records["record_id"].isin(main_ids)
    main = clusters[clusters["cluster_id"].isin(main_clusters)
                    & clusters["record_id"].isin(main_ids)].copy()
    # A publication whose kept record came from citation searching still counts once.
    has_kept = main.groupby("cluster_id")["kept"].transform("any")
    first = ~main.duplicated("cluster_id")
    main["kept"] = main["kept"] | (~has_kept & first)
    return (records[keep], main,
            finals[finals["record_id"].isin(main_clusters)],
            links[links["record_id"].isin(main_clusters)], other)


def check_prisma(counts: dict) -> list[dict]:
    """Check every PRISMA equation; raise :class:`PrismaArithmeticError` naming a broken one."""
    ident, scr = counts["identification"], counts["screening"]
    ret, elig, inc = counts["retrieval"], counts["eligibility"], counts["included"]
    equations = [
        ("sum of records per database = records identified",
         sum(ident["databases"].values()) + sum(ident["registers"].values()),
         ident["records_identified"]),
        ("records identified - duplicates removed - removed by automation - removed for other "
         "reasons - records awaiting screening = records screened",
         ident["records_identified"] - ident["duplicates_removed"]
         - ident["removed_by_automation"] - ident["removed_other_reasons"]
         - scr["records_pending"], scr["records_screened"]),
        ("records screened - records excluded = reports sought",
         scr["records_screened"] - scr["records_excluded"], ret["reports_sought"]),
        ("reports sought - reports not retrieved - reports awaiting assessment = reports "
         "assessed",
         ret["reports_sought"] - ret["reports_not_retrieved"] - elig["reports_pending"],
         elig["reports_assessed"]),
        ("reports assessed - reports excluded = reports included",
         elig["reports_assessed"] - elig["reports_excluded"], inc["reports"])
        if "other_methods" not in counts else
        ("reports assessed - reports excluded, in both arms = reports included",
         elig["reports_assessed"] - elig["reports_excluded"]
         + counts["other_methods"]["reports_assessed"]
         - counts["other_methods"]["reports_excluded"], inc["reports"]),
        ("sum of exclusion reasons = reports excluded",
         sum(elig["exclusion_reasons"].values()), elig["reports_excluded"]),
    ]
    other = counts.get("other_methods")
    if other is not None:
        equations += [
            ("other methods: records identified - duplicates - records excluded - records "
             "awaiting screening = reports sought",
             other["records_identified"] - other["duplicates_removed"]
             - other["records_excluded"] - other["records_pending"], other["reports_sought"]),
            ("other methods: reports sought - not retrieved - awaiting assessment = reports "
             "assessed", other["reports_sought"] - other["reports_not_retrieved"]
             - other["reports_pending"], other["reports_assessed"]),
            ("other methods: sum of exclusion reasons = reports excluded",
             sum(other["exclusion_reasons"].values()), other["reports_excluded"]),
        ]
    previous = counts.get("previous")
    if previous is not None:
        equations += [
            ("previous studies + new studies = total studies",
             previous["studies"] + inc["new_studies"], inc["total_studies"]),
            ("previous reports + new reports = total reports",
             previous["reports"] + inc["new_reports"], inc["total_reports"]),
        ]
    checks = []
    for name, left, right in equations:
        if left != right:
            raise PrismaArithmeticError(f"PRISMA equation broken: {name} ({left} != {right})")
        checks.append({"equation": name, "value": int(right), "holds": True})
    if "studies_meta_analysis" in inc and (
            inc["studies_meta_analysis"] > inc["total_studies"]
            or inc["reports_meta_analysis"] > inc["total_reports"]):
        raise PrismaArithmeticError(
            f"PRISMA: more studies or reports in meta-analyses ({inc['studies_meta_analysis']}"
            f", {inc['reports_meta_analysis']}) than included ({inc['total_studies']}, "
            f"{inc['total_reports']})")
    if inc["studies"] > inc["reports"]:
        raise PrismaArithmeticError(
            f"PRISMA: more studies ({inc['studies']}) than reports ({inc['reports']})")
    return checks


#: The PRISMA2020 R package / Shiny app template: its columns, and its rows in its order.
PRISMA2020_COLUMNS = ["data", "node", "box", "description", "boxtext", "tooltips", "url", "n"]
_TEMPLATE = [
    ("NA", "node4", "prevstud", "Grey title box; Previous studies", "Previous studies",
     "Grey title box; Previous studies", "prevstud.html"),
    ("previous_studies", "node5", "box1", "Studies included in previous version of review",
     "Studies included in previous version of review",
     "Studies included in previous version of review", "previous_studies.html"),
    ("previous_reports", "NA", "box1",
     "Reports of studies included in previous version of review",
     "Reports of studies included in previous version of review", "NA",
     "previous_reports.html"),
    ("NA", "node6", "newstud",
     "Yellow title box; Identification of new studies via databases and registers",
     "Identification of new studies via databases and registers",
     "Yellow title box; Identification of new studies via databases and registers",
     "newstud.html"),
    ("database_results", "node7", "box2", "Records identified from: Databases", "Databases",
     "Records identified from: Databases", "database_results.html"),
    ("database_specific_results", "NA", "box2", "Records identified from: specific databases",
     "Specific Databases", "NA", "database_results.html"),
    ("register_results", "NA", "box2", "Records identified from: Registers", "Registers",
     "NA", "NA"),
    ("register_specific_results", "NA", "box2", "Records identified from: specific registers",
     "Specific Registers", "NA", "NA"),
    ("NA", "node16", "othstud", "Grey title box; Identification of new studies via other "
     "methods", "Identification of new studies via other methods",
     "Grey title box; Identification of new studies via other methods", "othstud.html"),
    ("website_results", "node17", "box11", "Records identified from: Websites", "Websites",
     "Records identified from: Websites", "website_results.html"),
    ("organisation_results", "NA", "box11", "Records identified from: Organisations",
     "Organisations", "NA", "NA"),
    ("citations_results", "NA", "box11", "Records identified from: Citation searching",
     "Citation searching", "NA", "NA"),
    ("duplicates", "node8", "box3", "Duplicate records", "Duplicate records",
     "Duplicate records", "duplicates.html"),
    ("excluded_automatic", "NA", "box3", "Records marked as ineligible by automation tools",
     "Records marked as ineligible by automation tools", "NA", "NA"),
    ("excluded_other", "NA", "box3", "Records removed for other reasons",
     "Records removed for other reasons", "NA", "NA"),
    ("records_screened", "node9", "box4", "Records screened (databases and registers)",
     "Records screened", "Records screened (databases and registers)",
     "records_screened.html"),
    ("records_excluded", "node10", "box5", "Records excluded (databases and registers)",
     "Records excluded", "Records excluded (databases and registers)",
     "records_excluded.html"),
    ("dbr_sought_reports", "node11", "box6",
     "Reports sought for retrieval (databases and registers)", "Reports sought for retrieval",
     "Reports sought for retrieval (databases and registers)", "dbr_sought_reports.html"),
    ("dbr_notretrieved_reports", "node12", "box7",
     "Reports not retrieved (databases and registers)", "Reports not retrieved",
     "Reports not retrieved (databases and registers)", "dbr_notretrieved_reports.html"),
    ("other_sought_reports", "node18", "box12", "Reports sought for retrieval (other)",
     "Reports sought for retrieval", "Reports sought for retrieval (other)",
     "other_sought_reports.html"),
    ("other_notretrieved_reports", "node19", "box13", "Reports not retrieved (other)",
     "Reports not retrieved", "Reports not retrieved (other)",
     "other_notretrieved_reports.html"),
    ("dbr_assessed", "node13", "box8",
     "Reports assessed for eligibility (databases and registers)",
     "Reports assessed for eligibility",
     "Reports assessed for eligibility (databases and registers)", "dbr_assessed.html"),
    ("dbr_excluded", "node14", "box9", "Reports excluded (databases and registers): "
     "[separate reasons and numbers using ; e.g. Reason1, xxx; Reason2, xxx; Reason3, xxx]",
     "Reports excluded", "Reports excluded (databases and registers): [separate reasons and "
     "numbers using ; e.g. Reason1, xxx; Reason2, xxx; Reason3, xxx", "dbrexcludedrecords.html"),
    ("other_assessed", "node20", "box14", "Reports assessed for eligibility (other)",
     "Reports assessed for eligibility", "Reports assessed for eligibility (other)",
     "other_assessed.html"),
    ("other_excluded", "node21", "box15", "Reports excluded (other): [separate reasons and "
     "numbers using ; e.g. Reason1, xxx; Reason2, xxx; Reason3, xxx]", "Reports excluded",
     "Reports excluded (other): [separate reasons and numbers using ; e.g. Reason1, xxx; "
     "Reason2, xxx; Reason3, xxx", "other_excluded.html"),
    ("new_studies", "node15", "box10", "New studies included in review",
     "New studies included in review", "New studies included in review", "new_studies.html"),
    ("new_reports", "NA", "box10", "Reports of new included studies",
     "Reports of new included studies", "NA", "NA"),
    ("total_studies", "node22", "box16", "Total studies included in review",
     "Total studies included in review", "Total studies included in review",
     "total_studies.html"),
    ("total_reports", "NA", "box16", "Reports of total included studies",
     "Reports of total included studies", "NA", "NA"),
    ("identification", "node1", "identification", "Blue identification box", "Identification",
     "Blue identification box", "identification.html"),
    ("screening", "node2", "screening", "Blue screening box", "Screening",
     "Blue screening box", "screening.html"),
    ("included", "node3", "included", "Blue included box", "Included", "Blue included box",
     "included.html"),
    ("total_studies_ma", "node23", "box17", "Total studies included in meta-analysis",
     "Total studies included in meta-analysis", "Total studies included in meta-analysis",
     "total_studies_meta_analysis.html"),
    ("total_reports_ma", "NA", "box17", "Reports of total included studies in meta-analysis",
     "Reports of total included studies in meta-analysis", "NA", "NA"),
]


def _reasons(reasons: Mapping[str, int]) -> str:
    # The template separates reasons with ";" and a reason from its number with ",", so
    # those characters inside a reason would split it: they become spaces.
    ordered = sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))
    return "; ".join(f"{' '.join(r.replace(';', ' ').replace(',', ' ').split())}, {n}"
                     for r, n in ordered)


def prisma2020_table(counts: dict) -> pd.DataFrame:
    """The counts in the PRISMA2020 R package's CSV template (``data,node,box,…,n``)."""
    ident, scr, ret = counts["identification"], counts["screening"], counts["retrieval"]
    elig, inc, previous = counts["eligibility"], counts["included"], counts.get("previous")
    other = counts.get("other_methods")
    names = ident["database_names"]
    values = {
        "previous_studies": previous["studies"] if previous else 0,
        "previous_reports": previous["reports"] if previous else 0,
        "database_results": sum(ident["databases"].values()),
        "database_specific_results": "; ".join(
            f"{names.get(k, k).replace(',', ' ')}, {v}" for k, v in sorted(
                ident["databases"].items(), key=lambda kv: (-kv[1], kv[0]))),
        "register_results": sum(ident["registers"].values()),
        "register_specific_results": "; ".join(
            f"{ident.get('register_names', {}).get(k, k).replace(',', ' ')}, {v}"
            for k, v in sorted(ident["registers"].items())),
        "website_results": 0, "organisation_results": 0,
        "citations_results": other["records_identified"] if other else 0,
        "duplicates": ident["duplicates_removed"],
        "excluded_automatic": ident["removed_by_automation"],
        "excluded_other": ident["removed_other_reasons"],
        "records_screened": scr["records_screened"],
        "records_excluded": scr["records_excluded"],
        "dbr_sought_reports": ret["reports_sought"],
        "dbr_notretrieved_reports": ret["reports_not_retrieved"],
        "other_sought_reports": other["reports_sought"] if other else 0,
        "other_notretrieved_reports": other["reports_not_retrieved"] if other else 0,
        "dbr_assessed": elig["reports_assessed"],
        "dbr_excluded": _reasons(elig["exclusion_reasons"]),
        "other_assessed": other["reports_assessed"] if other else 0,
        "other_excluded": _reasons(other["exclusion_reasons"]) if other else "",
        "new_studies": inc["new_studies"], "new_reports": inc["new_reports"],
        "total_studies": inc["total_studies"], "total_reports": inc["total_reports"],
        "identification": 0, "screening": 0, "included": 0,
        "total_studies_ma": inc.get("studies_meta_analysis", 0),
        "total_reports_ma": inc.get("reports_meta_analysis", 0),
    }
    rows = [dict(zip(PRISMA2020_COLUMNS, (*row, values.get(row[0], 0)))) for row in _TEMPLATE]
    return pd.DataFrame(rows, columns=PRISMA2020_COLUMNS)
