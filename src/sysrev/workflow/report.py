"""Rules of the report stage: risk-of-bias figures, summary of findings, methods text, the
report's HTML tables and the exports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping

import pandas as pd

from sysrev.audit import write_audit
from sysrev.exports import bibtex_text, excluded_references, included_references, ris_text
from sysrev.grade import SOF_COLUMNS, load_overrides, summary_of_findings as build_sof
from sysrev.report.methods import methods_html
from sysrev.report.tables import (agreement_page, conflicts_page, duplicates_page,
                                  effects_page, flagged_reports, maybe_head, maybe_page,
                                  prisma_page,
                                  related_page,
                                  rob_page, sensitivity_page, summary_page, table_head)
from sysrev.rob import TOOLS, load_rob
from sysrev.study_order import study_order as order_studies
from sysrev.recordtable import tsv_chunks
from sysrev.tables import atomic_path, read_tsv, write_tsv
from sysrev.workflow.search import load_searches

# The libraries of single rules are imported inside the functions that use them: the
# Snakefile and every job of the stage import this module, and a job should load only
# what its own rule needs (start-up dominates a job's time; BENCHMARKS.md, Start-up).


def _study_sizes(arms: str) -> dict[str, float]:
    """Participants per study: the largest total over outcomes of its arms' n or totals."""
    table = read_tsv(arms)
    size = pd.to_numeric(table["n"], errors="coerce").fillna(
        pd.to_numeric(table["total"], errors="coerce"))
    table = table.assign(size=size)
    per_outcome = table.groupby(["study_id", "outcome"])["size"].sum()
    return {s: float(v) for s, v in per_outcome.groupby(level=0).max().items()}


def risk_of_bias_figures(*, rob: str, studies: str, arms: str, tool: str,
                         traffic_png: str, traffic_svg: str, summary_png: str,
                         summary_svg: str, table_out: str, audit: str,
                         study_order: str = "year", sheet: str | None = None) -> None:
    """Traffic-light and weighted summary plots from the judgements table; studies in
    ``study_order`` (``sheet``: the extraction sheet, for ``as_entered``)."""
    from sysrev.plots.rob import summary_plot, traffic_light
    rob_tool = TOOLS[tool]
    study_table = read_tsv(studies)
    judgements = load_rob(rob, rob_tool, set(study_table["study_id"]))
    labels = dict(zip(study_table["study_id"], study_table["label"]))
    traffic_light(judgements, labels, rob_tool, traffic_png, traffic_svg,
                  order=order_studies(study_table, study_order, sheet))
    weights = _study_sizes(arms)
    shares = summary_plot(judgements, weights, rob_tool, summary_png, summary_svg)
    write_tsv(shares, table_out, ["domain", "judgement", "percent"],
              sort_by=["domain", "judgement"])
    write_audit(audit, stage="risk_of_bias", inputs={"rob": rob, "studies": studies,
                                                     "arms": arms},
                outputs={"traffic_light": traffic_png, "summary": summary_png,
                         "shares": table_out},
                counts={"studies": int(judgements["study_id"].nunique()),
                        "overall": {k: int(v) for k, v in judgements[
                            judgements["domain"] == "overall"]["judgement"]
                            .value_counts().sort_index().items()}},
                parameters={"tool": rob_tool.name, "weights": "participants per study"})


def summary_of_findings(*, pooled: list[str], rob: str, studies: str, tool: str,
                        overrides: str | None, tsv: str, html_out: str, png: str,
                        audit: str, study_order: str = "year",
                        sheet: str | None = None, intervention: str = "intervention",
                        comparison: str = "control", sof: Mapping | None = None,
                        rob_sensitivity: str | None = None) -> None:
    """The GRADE summary-of-findings table as TSV, HTML and PNG.

    Titled as GRADE titles them, "<Intervention> compared with <comparison> for
    <condition>", from ``sof`` (config ``report.summary_of_findings``: condition,
    population, setting, intervention, comparison; each optional) and, where it gives no
    intervention or comparison, the analysis' ``intervention`` and ``comparison`` labels.
    The lines under the title show the population, setting, intervention and comparison the
    configuration gives."""
    from sysrev.plots.sof import sof_context, sof_html, sof_png, sof_title
    sof = dict(sof or {})
    shown_intervention = sof.get("intervention") or intervention
    shown_comparison = sof.get("comparison") or comparison
    title = sof_title(shown_intervention, shown_comparison,
                      sof.get("condition") or sof.get("population") or "")
    context = sof_context(population=sof.get("population", ""),
                          setting=sof.get("setting", ""),
                          intervention=sof.get("intervention", ""),
                          comparison=sof.get("comparison", ""))
    results = []
    effects = {}
    for path in pooled:
        with open(path, encoding="utf-8") as handle:
            result = json.load(handle)
        results.append(result)
        effects_path = Path(path).with_name("effects.tsv")
        effects[result["outcome"]] = read_tsv(effects_path)
    study_table = read_tsv(studies)
    study_ids = set(study_table["study_id"])
    judgements = load_rob(rob, TOOLS[tool], study_ids)
    overall = dict(zip(judgements.loc[judgements["domain"] == "overall", "study_id"],
                       judgements.loc[judgements["domain"] == "overall", "judgement"]))
    table = build_sof(results, effects, overall,
                      load_overrides(overrides, {r["outcome"] for r in results}),
                      labels=dict(zip(study_table["study_id"], study_table["label"])),
                      order=order_studies(study_table, study_order, sheet),
                      comments=sof.get("comments") or {})
    if rob_sensitivity:
        from sysrev.analysis_models import rob_sensitivity_footnotes
        table = rob_sensitivity_footnotes(table, read_tsv(rob_sensitivity))
    write_tsv(table, tsv, SOF_COLUMNS)
    with atomic_path(html_out) as handle:
        handle.write(sof_html(table, title, intervention=intervention, comparison=comparison,
                              context=context))
    sof_png(table, title, png, intervention=intervention, comparison=comparison,
            context=context)
    inputs = {"pooled": pooled, "rob": rob, "studies": studies}
    if overrides:
        inputs["grade_overrides"] = overrides
    write_audit(audit, stage="report", inputs=inputs,
                outputs={"summary_of_findings": tsv, "html": html_out, "png": png},
                counts={"outcomes": int(len(table)),
                        "certainty": dict(zip(table["outcome"], table["certainty"]))},
                parameters={"risk_of_bias_tool": TOOLS[tool].name, "title": title,
                            "grade_rules": "sysrev.grade module docstring",
                            "overrides": overrides})


def methods_text(*, review: str, question: str, audits: dict[str, str], prisma: str,
                 pooled: list[str], output: str, disclosure: str = "", title: str = "",
                 searches: str | None = None, included: str | None = None,
                 update: str | None = None, analyses: Mapping | None = None,
                 labels: Mapping | None = None) -> None:
    """The methods section of the report; each database search is shown with its own note
    from ``searches.tsv``; included reports retracted or under an expression of concern
    (``included``: ``screening/included.tsv``) are named."""
    notes = {}
    if searches:
        table = load_searches(searches)
        notes = {row["source"]: row["notes"].strip() for _, row in table.iterrows()}
    flagged = (flagged_reports(read_tsv(included)).to_dict(orient="records") if included
               else [])
    with atomic_path(output) as handle:
        handle.write(methods_html(review=review, question=question, audits=audits,
                                  prisma=prisma, pooled=pooled, disclosure=disclosure,
                                  title=title, search_notes=notes, flagged=flagged,
                                  update=update, analyses=analyses, labels=labels))


def _write_page(path: str, page: str) -> None:
    with atomic_path(path) as handle:
        handle.write(page)


def report_tables(*, summary: str, counts: str, duplicates: str, maybe: str, agreement: str,
                  conflicts: str, level: float, disclosure: str, outputs: dict[str, str],
                  related: str | None = None, unique: str | None = None,
                  rob_shares: str | None = None, included: str | None = None,
                  tool: str = "rob2") -> None:
    """The tables the report shows inline, each as a standalone HTML page.

    ``outputs`` maps summary, prisma, duplicates, maybe, agreement and conflicts (and
    related, rob when ``related``/``rob_shares`` are given) to the pages to write. The
    summary lists the included reports that are retracted or under an expression of concern
    (``included``: ``screening/included.tsv``).
    """
    with open(counts, encoding="utf-8") as handle:
        prisma = json.load(handle)
    _write_page(outputs["summary"], summary_page(
        read_tsv(summary), level=level, included=read_tsv(included) if included else None))
    _write_page(outputs["prisma"], prisma_page(prisma, disclosure=disclosure))
    # Tables that grow with the library: their first rows, their size and a link.
    _write_page(outputs["duplicates"], duplicates_page(
        table_head(duplicates, outputs["duplicates"])))
    # The maybe pairs: those marked for review (the band's cap bounds them).
    _write_page(outputs["maybe"], maybe_page(maybe_head(maybe, outputs["maybe"])))
    _write_page(outputs["agreement"], agreement_page(read_tsv(agreement),
                                                     disclosure=disclosure))
    _write_page(outputs["conflicts"], conflicts_page(read_tsv(conflicts),
                                                     disclosure=disclosure))
    if related:
        head = table_head(related, outputs["related"])
        shown = set(head.rows["record_id"]) | set(head.rows["related_record_id"])
        titles, records = unique_titles(unique, shown) if unique else (None, 0)
        _write_page(outputs["related"], related_page(head, titles,
                                                     with_titles=records > 0))
    if rob_shares:
        _write_page(outputs["rob"], rob_page(read_tsv(rob_shares), tool=tool,
                                             disclosure=disclosure))


def unique_titles(unique: str, record_ids: set[str]) -> tuple[pd.DataFrame, int]:
    """record_id and title of the records of ``unique.tsv`` in ``record_ids``, and how many
    records the table has, read chunk by chunk (the table has a row per unique record)."""
    chunks, records = [], 0
    for chunk in tsv_chunks(unique, columns=["record_id", "title"]):
        chunks.append(chunk[chunk["record_id"].isin(record_ids)])
        records += len(chunk)
    titles = (pd.concat(chunks, ignore_index=True) if chunks
              else pd.DataFrame(columns=["record_id", "title"]))
    return titles, records


def outcomes_with_sensitivity(contrasts: str) -> list[str]:
    """Outcomes with two or more analysable studies: those whose leave-one-out and
    cumulative analyses the report shows."""
    table = read_tsv(contrasts)
    counts = table.loc[table["status"] == "analysable"].groupby("outcome")["study_id"].nunique()
    return sorted(counts[counts >= 2].index)


def sensitivity_table(*, leave1out: str, cumulative: str, pooled: str, level: float,
                      output: str, rob_sensitivity: str | None = None) -> None:
    """One outcome's leave-one-out and cumulative analyses as an HTML page."""
    with open(pooled, encoding="utf-8") as handle:
        result = json.load(handle)
    rob = None
    if rob_sensitivity:
        rows = read_tsv(rob_sensitivity)
        rows = rows[rows["outcome"] == result["outcome"]]
        rob = rows.iloc[0].to_dict() if len(rows) else None
    _write_page(output, sensitivity_page(read_tsv(leave1out), read_tsv(cumulative), result,
                                         level=level, rob=rob))


def outcome_table(*, effects: str, pooled: str, level: float, output: str) -> None:
    """One outcome's study effects and pooled estimate as an HTML page."""
    with open(pooled, encoding="utf-8") as handle:
        result = json.load(handle)
    _write_page(output, effects_page(read_tsv(effects), result, level=level))


def export_references(*, unique: str, final: str, included: str, included_ris: str,
                      included_bib: str, excluded_ris: str, excluded_bib: str) -> None:
    """RIS and BibTeX of the included studies' reports and of the excluded records (each
    with the stage and reason of its exclusion)."""
    included_table = read_tsv(included)
    # Only the exclusions of the final decisions (a row per publication and stage) and the
    # exported records of unique.tsv (a row per publication: 650k at 1M records), each read
    # a chunk at a time.
    final_table = pd.concat([chunk[chunk["final_decision"] == "exclude"]
                             for chunk in tsv_chunks(final)], ignore_index=True)
    wanted = set(included_table["record_id"]) | set(final_table["record_id"])
    records = pd.concat([chunk[chunk["record_id"].isin(wanted)]
                         for chunk in tsv_chunks(unique)], ignore_index=True)
    inc = included_references(records, included_table)
    exc = excluded_references(records, final_table)
    for table, ris, bib in ((inc, included_ris, included_bib), (exc, excluded_ris, excluded_bib)):
        with atomic_path(ris) as handle:
            handle.write(ris_text(table))
        with atomic_path(bib) as handle:
            handle.write(bibtex_text(table))
