"""Rule of the update stage: what changed since the previous version of the review."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import replace
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd

from sysrev.audit import write_audit
from sysrev.tables import atomic_path, read_tsv, write_json, write_tsv

log = logging.getLogger(__name__)

VERSION_COLUMNS = ["outcome", "version", "k", "participants", "estimate", "ci_lower",
                   "ci_upper", "prediction_lower", "prediction_upper", "tau2", "i2",
                   "certainty"]


def version_rows(summaries: Sequence[tuple[str, pd.DataFrame, pd.DataFrame]]) -> pd.DataFrame:
    """One row per outcome and version (oldest first) from each version's summary.tsv and
    summary-of-findings table."""
    rows = []
    for date, summary, sof in summaries:
        certainty = dict(zip(sof["outcome"], sof["certainty"]))
        for row in summary.to_dict("records"):
            rows.append({"outcome": row["outcome"], "version": date,
                         **{c: row.get(c) for c in VERSION_COLUMNS[2:-1]},
                         "certainty": certainty.get(row["outcome"], "")})
    table = pd.DataFrame(rows, columns=VERSION_COLUMNS)
    return table.sort_values(["outcome", "version"], kind="mergesort").reset_index(drop=True)


def staged_archive(folder: str, files: Sequence[str]) -> str:
    """Where the job finds an archive's files: the folder of its declared input files (staged
    copies when jobs share no file system), or the configured folder when none is there (so
    that the error names the configured path)."""
    suffix = "/" + folder.strip("/") + "/"
    for path in files:
        normal = "/" + str(path).replace("\\", "/").lstrip("/")
        if normal.endswith(suffix + Path(path).name):
            return str(Path(path).parent)
    return folder


def _rows_with(path: str, columns: Sequence[str], key: str, values: set) -> pd.DataFrame:
    """The rows of a table whose ``key`` is one of ``values`` (``columns`` only), read a
    chunk at a time: the table may have a row per record."""
    from sysrev.recordtable import tsv_chunks
    return pd.concat([chunk[chunk[key].isin(values)]
                      for chunk in tsv_chunks(path, columns=columns)], ignore_index=True)


def update_changes(*, versions: Sequence[str], records: str, clusters: str, final: str,
                   included: str, arms: str, summary: str, sof: str, searches: str,
                   studies: str, stopping: str | None, outcomes: Sequence[Mapping],
                   changes_out: str, versions_out: str, paragraph_out: str, page_out: str,
                   audit: str, pubmed_date: str | None = None,
                   archive_files: Sequence[str] = ()) -> None:
    """Compare the current tables with the latest archived version; the per-version results
    of every archived version (for :func:`versions_plots`); the update paragraph and page.
    An archive missing a file stops with an error naming it; archives are only read."""
    from sysrev.update.archive import archive_paths, load_version
    from sysrev.update.changes import CHANGES_COLUMNS, changes_table, summary_numbers
    from sysrev.update.text import changes_page, update_paragraph
    from sysrev.workflow.search import load_searches

    # Read from the declared (possibly staged) files; named by the configured folder.
    # Record tables left on disk: the latest version's is read a chunk at a time below.
    archived = [replace(load_version(staged_archive(folder, archive_files), records=False),
                        folder=folder) for folder in versions]
    archived.sort(key=lambda v: v.search_date)
    previous = archived[-1]
    # This version's date: the latest search date of any source (searches.tsv, and the
    # configured PubMed search date, which a living update moves on).
    current_date = max([str(d) for d in load_searches(searches)["search_date"]]
                       + ([pubmed_date] if pubmed_date else []))
    summary_table, sof_table = read_tsv(summary), read_tsv(sof)
    # Of the tables that grow with the library, only the columns compared (issue 20).
    # Of the clusters and the final decisions (a row per record, per publication), only
    # those the previous version's decisions are followed to, read a chunk at a time.
    earlier = set(previous.final_decisions["record_id"])
    followed = _rows_with(clusters, ["record_id", "cluster_id"], "record_id", earlier)
    changes = changes_table(previous, records=read_tsv(records, ["record_id", "source"]),
                            clusters=followed,
                            final_decisions=_rows_with(
                                final, ["record_id", "stage", "final_decision"], "record_id",
                                earlier | set(followed["cluster_id"])),
                            included=read_tsv(included),
                            arms=read_tsv(arms), summary=summary_table,
                            summary_of_findings=sof_table,
                            previous_records=str(Path(staged_archive(
                                previous.folder, archive_files)) / "records.tsv"))
    write_tsv(changes, changes_out, CHANGES_COLUMNS)

    per_version = version_rows([(v.search_date, v.summary, v.summary_of_findings)
                                for v in archived] + [(current_date, summary_table,
                                                       sof_table)])
    write_tsv(per_version, versions_out, VERSION_COLUMNS)

    labels = {o["id"]: o["label"] for o in outcomes}
    labels.update(dict(zip(read_tsv(studies)["study_id"], read_tsv(studies)["label"])))
    searched = load_searches(searches)
    labels.update(dict(zip(searched["source"], searched["database"])))
    statement = ""
    if stopping:
        with open(stopping, encoding="utf-8") as handle:
            statement = json.load(handle)["statement"]
    # How screening stopped is stated in the methods' selection section and the PRISMA
    # notes; the page shows it under the paragraph.
    paragraph = update_paragraph(changes, previous_date=previous.search_date,
                                 current_date=current_date, labels=labels)
    numbers = summary_numbers(changes)
    write_json({"previous_version": previous.folder, "previous_search_date":
                previous.search_date, "search_date": current_date, "paragraph": paragraph,
                "numbers": numbers}, paragraph_out)
    with atomic_path(page_out) as handle:
        handle.write(changes_page(changes, previous_date=previous.search_date,
                                  paragraph=paragraph, stopping=statement,
                                  link=os.path.relpath(changes_out,
                                                       os.path.dirname(page_out) or ".")))
    write_audit(audit, stage="update",
                inputs={"versions": list(archive_files) or [
                            p for v in archived for p in archive_paths(v.folder)],
                        "records": records, "clusters": clusters, "final_decisions": final,
                        "included": included, "arms": arms, "summary": summary, "sof": sof,
                        "searches": searches,
                        **({"stopping": stopping} if stopping else {})},
                outputs={"changes": changes_out, "versions": versions_out,
                         "paragraph": paragraph_out, "page": page_out},
                counts={"changes": int((changes["changed"] == "yes").sum()), **numbers},
                parameters={"versions": [v.folder for v in archived],
                            "previous_search_date": previous.search_date,
                            "search_date": current_date})
    log.info("update_changes: %d changes since %s", int((changes["changed"] == "yes").sum()),
             previous.search_date)


def versions_plots(*, versions: str, outcomes: Sequence[Mapping], level: float,
                   outputs: Mapping[str, str]) -> None:
    """Draw each outcome's pooled result by review version (``versions.tsv``), to
    ``outputs["png_<outcome id>"]`` and ``outputs["svg_<outcome id>"]``."""
    table = read_tsv(versions)
    for outcome in outcomes:
        versions_plot(table, outcome, level=level, png=outputs[f"png_{outcome['id']}"],
                      svg=outputs[f"svg_{outcome['id']}"])


def versions_plot(table: pd.DataFrame, outcome: Mapping, *, level: float, png: str,
                  svg: str) -> None:
    """Draw one outcome's pooled result by review version (``table``: versions.tsv)."""
    from sysrev.plots.versions import versions_forest_plot

    rows = table[table["outcome"] == outcome["id"]].to_dict("records")
    versions_forest_plot(rows, png, svg, label=outcome["label"], measure=outcome["measure"],
                         level=level, favours_left=outcome.get("favours_left", ""),
                         favours_right=outcome.get("favours_right", ""))
