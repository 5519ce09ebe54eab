"""The methods text of the report, written from what the pipeline actually did.

Every sentence is filled from the stage audits, the PRISMA counts and the pooled results, so
the methods state exactly which sources, rules, conversions and estimators were used.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Mapping


def _load(path: str | Path) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _table(headers: list[str], rows: list[list[object]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _disclosure(text: str) -> str:
    return (f"<p class='disclosure'><b>Note on this review:</b> {html.escape(text)}</p>"
            if text else "")


def methods_html(*, review: str, audits: Mapping[str, str], prisma: str,
                 pooled: list[str], question: str = "", disclosure: str = "") -> str:
    """The methods section as HTML: search (PRISMA-S), deduplication, screening,
    extraction, statistics, with the numbers behind each step.

    ``disclosure`` is the review's own note on how its decisions were made (config
    ``report.disclosure``); it is printed at the top and again where agreement (kappa),
    disagreements and the reports assessed are shown.
    """
    search, dedup = _load(audits["search"]), _load(audits["dedup"])
    screening, extraction = _load(audits["screening"]), _load(audits["extraction"])
    counts = _load(prisma)
    results = [_load(p) for p in pooled]
    parts = [f"<h2>Methods of the review '{html.escape(review)}'</h2>"]
    if question:
        parts.append(f"<h3>Review question</h3><p>{html.escape(question)}</p>")
    if disclosure:
        parts.append(_disclosure(disclosure))

    sources = search["parameters"]["sources"]
    parts.append("<h3>Information sources and search (PRISMA-S)</h3>")
    parts.append(_table(["Database", "Platform", "Search date", "Query", "Records"],
                        [[s["database"], s["platform"], s["search_date"], s["query"],
                          s["records"]] for s in sources]))
    snap = search["parameters"].get("pubmed_snapshot") or {}
    if snap.get("note"):
        parts.append(f"<p>PubMed snapshot: {html.escape(str(snap['note']))}</p>")

    dc = dedup["counts"]
    parts.append("<h3>Deduplication</h3>")
    parts.append(f"<p>{dc['records_in']} records were identified; {dc['duplicates_removed']} "
                 f"duplicates were removed ({dc['duplicates_across_sources']} across sources, "
                 f"{dc['duplicates_within_source']} within a source), leaving "
                 f"{dc['unique_records']} unique records. Rules, in order: "
                 + html.escape("; ".join(dedup["parameters"]["rules"])) + ". Removals by "
                 "rule: " + html.escape(", ".join(f"{k} {v}" for k, v in
                                                   dc["duplicates_by_rule"].items()))
                 + ". Every removal is listed with its evidence in results/dedup/"
                   "duplicates.tsv.</p>")

    sc = screening["counts"]
    parts.append("<h3>Selection of studies</h3>")
    if disclosure:
        parts.append(_disclosure(disclosure))
    parts.append(f"<p>{html.escape(screening['parameters']['rule_text'])} "
                 f"{sc['conflicts']} disagreements were recorded, "
                 f"{sc['resolved_by_consensus']} settled by consensus; {sc['pending']} "
                 "decisions were pending.</p>")
    agreement = sc.get("agreement") or []
    if agreement:
        parts.append(_table(["Stage", "Reviewers", "Records", "Raw agreement",
                             "Cohen's kappa (95% CI)"],
                            [[a["stage"], f"{a['reviewer_a']} / {a['reviewer_b']}",
                              a["records"], f"{100 * a['raw_agreement']:.1f}%",
                              f"{a['kappa']:.2f} ({a['kappa_ci_lower']:.2f} to "
                              f"{a['kappa_ci_upper']:.2f})"] for a in agreement]))
    inc = counts["included"]
    parts.append(f"<p>{inc['studies']} studies in {inc['reports']} reports were included.</p>")

    parts.append("<h3>Data extraction and conversions</h3>")
    conversions = extraction["counts"].get("conversions", [])
    impute = extraction["parameters"].get("impute_sd", "none")
    parts.append("<p>Arm-level data were extracted with their sources; numbers a study does "
                 "not report are recorded as not reported"
                 + (" and were not imputed. " if impute == "none" else
                    f"; missing standard deviations were imputed ({html.escape(impute)}) and "
                    "flagged. ") +
                 f"Multi-arm trials: {html.escape(extraction['parameters']['multi_arm'])}. "
                 f"Standard deviations from confidence intervals: "
                 f"{html.escape(extraction['parameters']['ci_distribution'])} quantiles "
                 "(Cochrane Handbook 6.5.2.3).</p>")
    if conversions:
        parts.append("<ul>" + "".join(f"<li>{html.escape(c)}</li>" for c in conversions)
                     + "</ul>")

    parts.append("<h3>Statistical analysis</h3>")
    rows = []
    for r in sorted(results, key=lambda x: x["outcome"]):
        m = r["methods"]
        rows.append([r["label"], r["measure"], r["k"], r["status"],
                     f"{m['random']}; test {m['test']}"])
    if results:
        m = results[0]["methods"]
        parts.append(f"<p>Effect measures were computed per study ({html.escape(m['fixed'])} "
                     f"for the fixed-effect model; random effects with the "
                     f"{html.escape(m['random'])}). {html.escape(m['i2_definition'])}. "
                     "Zero cells: " + html.escape(str(results[-1]['methods'].get('zero_cells')
                                                      or "not applicable")) + ".</p>")
    parts.append(_table(["Outcome", "Measure", "Studies", "Status", "Model"], rows))
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><style>body{font-family:"
            "sans-serif;font-size:13px;max-width:980px}table{border-collapse:collapse;"
            "margin:6px 0}th,td{border:1px solid #999;padding:3px 6px;vertical-align:top}"
            "th{background:#dbe5f1}p.disclosure{padding:6px;border:1px solid #c9a100;"
            "background:#fff8db}</style></head><body>" + "\n".join(parts)
            + "</body></html>\n")
