"""Rules of the PRISMA stage: the flow counts, the PRISMA2020 CSV and the flow diagram."""

from __future__ import annotations

import json
from pathlib import Path

from sysrev.audit import write_audit
from sysrev.prisma import PRISMA2020_COLUMNS, prisma2020_table
from sysrev.prisma import prisma_counts as count_prisma
from sysrev.recordtable import read_categories
from sysrev.tables import read_tsv, write_json, write_spreadsheet_csv
from sysrev.workflow.search import load_searches

# The libraries of single rules are imported inside the functions that use them: the
# Snakefile and every job of the stage import this module, and a job should load only
# what its own rule needs (start-up dominates a job's time; BENCHMARKS.md, Start-up).


def meta_analysed_studies(pooled: list[str]) -> set[str]:
    """Studies in at least one meta-analysis: those of the outcomes that pool two or more
    studies (a single study's effect is not a meta-analysis)."""
    studies: set[str] = set()
    for path in pooled:
        with open(path, encoding="utf-8") as handle:
            result = json.load(handle)
        if (result.get("k") or 0) >= 2:
            studies.update(result.get("studies") or [])
    return studies


def prisma_counts(*, records: str, clusters: str, final: str, included: str, searches: str,
                  previous_version: str | None, counts_out: str, csv_out: str, audit: str,
                  removed_by_automation: int, pooled: list[str] | None = None,
                  disclosure: str = "", sources: list[str] | None = None,
                  registers: list[str] | None = None,
                  other_sources: list[str] | None = None,

                  stopping: str | None = None) -> None:
    """PRISMA 2020 flow counts from the pipeline's tables, and the PRISMA2020 CSV; with
    ``pooled`` (every outcome's pooled.json) also the studies and reports in at least one
    meta-analysis.

    ``sources`` are the sources searched (configured exports, ``pubmed`` when searched):
    each is a line of the identification box, with 0 when its search found nothing.
    ``registers`` (ClinicalTrials.gov) fill the registers part of that box, and
    ``other_sources`` (citation searching) the other-methods arm.

    ``stopping`` (screen_records' stopping.json) puts how title/abstract screening stopped
    (the stopping test of Callaghan and Müller-Hansen 2020, or that there was none) into the
    notes.

    ``disclosure`` (the review's own note on how its decisions were made) goes into the
    counts' ``notes``, next to the boxes it qualifies.
    """
    names = dict(zip(*[load_searches(searches)[c] for c in ("source", "database")]))
    previous = previous_records = None
    if previous_version:
        previous = read_tsv(Path(previous_version) / "included.tsv")
        # Its ids only (the archived record table has a row of text per record).
        previous_records = set(read_tsv(Path(previous_version) / "records.tsv",
                                        ["record_id"])["record_id"])
    # Only what the counts use: the record table's ids and sources (not its text), the
    # clusters' ids and kept flags, the decisions without the reviewers' votes (issue 20).
    if previous_version or other_sources:
        # Records and publications are matched by id (the new search's arm, the other
        # methods' arm).
        record_table = read_tsv(records, ["record_id", "source"])
        kept = read_tsv(clusters, ["record_id", "cluster_id", "kept"])
        decisions = read_tsv(final, ["record_id", "stage", "final_decision", "reason"])
    else:
        # Counts only: a category code per row, not a string (1M records: 462 -> 131 MiB).
        record_table = read_categories(records, ["source"])
        kept = read_categories(clusters, ["kept"])
        decisions = read_categories(final, ["stage", "final_decision", "reason"])
    kept["kept"] = (kept["kept"] == "yes").to_numpy(dtype=bool)
    counts = count_prisma(record_table, kept, decisions,
                          read_tsv(included), database_names=names,
                          removed_by_automation=removed_by_automation,
                          previous_version=previous, previous_records=previous_records,
                          meta_analysed=None if pooled is None
                          else meta_analysed_studies(pooled),
                          sources=sources or (), registers=registers or (),
                          other_sources=other_sources or ())
    if previous is not None:
        counts["notes"] = [f"Updated review: the identification, screening and eligibility "
                           f"boxes count only records the previous version ({previous_version})"
                           " had not identified; new copies of publications screened before "
                           "count as duplicates."]
    if stopping:
        with open(stopping, encoding="utf-8") as handle:
            counts["notes"] = [*counts.get("notes", []), json.load(handle)["statement"]]
    if disclosure:
        counts["notes"] = [*counts.get("notes", []), disclosure]
    table = prisma2020_table(counts)
    write_json(counts, counts_out)
    # Database names and notes come from searches.tsv: neutralised like every CSV a
    # reviewer may open in a spreadsheet.
    write_spreadsheet_csv(table, csv_out, PRISMA2020_COLUMNS)
    inputs = {"records": records, "clusters": clusters, "final_decisions": final,
              "included": included, "searches": searches}
    if pooled is not None:
        inputs["pooled"] = list(pooled)
    if stopping:
        inputs["stopping"] = stopping
    if previous_version:
        inputs["previous_included"] = str(Path(previous_version) / "included.tsv")
        inputs["previous_records"] = str(Path(previous_version) / "records.tsv")
    write_audit(audit, stage="prisma", inputs=inputs,
                outputs={"counts": counts_out, "prisma2020_csv": csv_out},
                counts={"records_identified": counts["identification"]["records_identified"],
                        "studies_included": counts["included"]["studies"],
                        "reports_included": counts["included"]["reports"],
                        "previous": counts["previous"]},
                parameters={"removed_by_automation": removed_by_automation,
                            "previous_version": previous_version,
                            "equations": [c["equation"] for c in counts["checks"]]})


def prisma_flow(*, counts: str, png: str, svg: str) -> None:
    """Draw the PRISMA 2020 flow diagram."""
    from sysrev.plots.prisma_flow import flow_diagram
    with open(counts, encoding="utf-8") as handle:
        flow_diagram(json.load(handle), png, svg)
