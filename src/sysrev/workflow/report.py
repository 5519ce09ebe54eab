"""Rules of the report stage: risk-of-bias figures, summary of findings, methods text."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from sysrev.audit import write_audit
from sysrev.grade import SOF_COLUMNS, load_overrides, summary_of_findings as build_sof
from sysrev.report import methods_html
from sysrev.rob import TOOLS, load_rob
from sysrev.tables import atomic_path, read_tsv, write_tsv

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
                         summary_svg: str, table_out: str, audit: str) -> None:
    """Traffic-light and weighted summary plots from the judgements table."""
    from sysrev.plots.rob import summary_plot, traffic_light
    rob_tool = TOOLS[tool]
    study_table = read_tsv(studies)
    judgements = load_rob(rob, rob_tool, set(study_table["study_id"]))
    labels = dict(zip(study_table["study_id"], study_table["label"]))
    traffic_light(judgements, labels, rob_tool, traffic_png, traffic_svg)
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
                        audit: str, title: str) -> None:
    """The GRADE summary-of-findings table as TSV, HTML and PNG."""
    from sysrev.plots.sof import sof_html, sof_png
    results = []
    effects = {}
    for path in pooled:
        with open(path, encoding="utf-8") as handle:
            result = json.load(handle)
        results.append(result)
        effects_path = Path(path).with_name("effects.tsv")
        effects[result["outcome"]] = read_tsv(effects_path)
    study_ids = set(read_tsv(studies)["study_id"])
    judgements = load_rob(rob, TOOLS[tool], study_ids)
    overall = dict(zip(judgements.loc[judgements["domain"] == "overall", "study_id"],
                       judgements.loc[judgements["domain"] == "overall", "judgement"]))
    table = build_sof(results, effects, overall,
                      load_overrides(overrides, {r["outcome"] for r in results}))
    write_tsv(table, tsv, SOF_COLUMNS)
    with atomic_path(html_out) as handle:
        handle.write(sof_html(table, title))
    sof_png(table, title, png)
    inputs = {"pooled": pooled, "rob": rob, "studies": studies}
    if overrides:
        inputs["grade_overrides"] = overrides
    write_audit(audit, stage="report", inputs=inputs,
                outputs={"summary_of_findings": tsv, "html": html_out, "png": png},
                counts={"outcomes": int(len(table)),
                        "certainty": dict(zip(table["outcome"], table["certainty"]))},
                parameters={"risk_of_bias_tool": TOOLS[tool].name,
                            "grade_rules": "sysrev.grade module docstring",
                            "overrides": overrides})


def methods_text(*, review: str, question: str, audits: dict[str, str], prisma: str,
                 pooled: list[str], output: str) -> None:
    """The methods section of the report."""
    with atomic_path(output) as handle:
        handle.write(methods_html(review=review, question=question, audits=audits,
                                  prisma=prisma, pooled=pooled))
