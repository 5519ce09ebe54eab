"""The methods text of the report, written from what the pipeline actually did.

Every sentence is filled from the stage audits, the PRISMA counts and the pooled results, so
the methods state exactly which sources, rules, conversions and estimators were used. Nothing
in it belongs to one review: what a review must say about itself (how its decisions were
made) comes from its configuration (``report.disclosure``), and each search's caveats from
its own row of ``searches.tsv``.
"""

from __future__ import annotations

import html
import json
import logging
import re
from pathlib import Path
from typing import Mapping, Sequence

from sysrev.report.htmltable import plural

log = logging.getLogger(__name__)

#: Screening stages in the order they happen, with the names the text uses.
STAGES = {"title_abstract": "Title and abstract", "full_text": "Full text"}


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


def symbols(text: str) -> str:
    """Statistical names as printed: 'tau2' as 'τ²', 'I2' as 'I²', 's2' as 's²'."""
    text = re.sub(r"\btau\^?2\b", "\u03c4\u00b2", text)
    text = re.sub(r"\bs\^?2\b", "s\u00b2", text)
    return re.sub(r"\bI\^?2\b", "I\u00b2", text)


def _were(count: int, singular: str, plural_form: str | None = None) -> str:
    """'1 duplicate was', '2 duplicates were'."""
    return f"{plural(count, singular, plural_form)} {'was' if count == 1 else 'were'}"


def _stage_order(entry: Mapping) -> tuple[int, str]:
    order = list(STAGES)
    stage = entry.get("stage", "")
    return (order.index(stage) if stage in order else len(order), stage)


def methods_html(*, review: str, audits: Mapping[str, str], prisma: str,
                 pooled: list[str], question: str = "", disclosure: str = "",
                 title: str = "", search_notes: Mapping[str, str] | None = None,
                 flagged: Sequence[Mapping[str, str]] = (), update: str | None = None,
                 analyses: Mapping | None = None, labels: Mapping | None = None) -> str:
    """The methods section as HTML: search (PRISMA-S), deduplication, screening,
    extraction, statistics, with the numbers behind each step.

    Parameters
    ----------
    review
        The review's short name (shown only when it has no ``title``).
    audits
        Stage name to its audit JSON (search, dedup, screening, extraction).
    prisma
        The PRISMA counts JSON.
    pooled
        Each outcome's pooled.json.
    question, title
        The review question and title (config ``report``).
    disclosure
        The review's own note on how its decisions were made (config
        ``report.disclosure``); printed at the top and again where agreement (kappa),
        disagreements and the reports assessed are shown.
    search_notes
        Source to its note in ``searches.tsv``, shown with each database search.
    flagged
        Included reports that are retracted or under an expression of concern (rows of
        ``screening/included.tsv`` with ``study_id``, ``record_id``, ``title`` and
        ``retraction``); named after the included studies when there are any.
    update
        The update stage's ``paragraph.json`` (an updated review): its paragraph opens the
        selection section.
    """
    search, dedup = _load(audits["search"]), _load(audits["dedup"])
    screening, extraction = _load(audits["screening"]), _load(audits["extraction"])
    counts = _load(prisma)
    results = [_load(p) for p in pooled]
    notes = dict(search_notes or {})
    heading = title or review
    parts = [f"<h2>Methods: {html.escape(heading)}</h2>"]
    if question:
        parts.append(f"<h3>Review question</h3><p>{html.escape(question)}</p>")
    if disclosure:
        parts.append(_disclosure(disclosure))

    sources = search["parameters"]["sources"]
    parts.append("<h3>Information sources and search (PRISMA-S)</h3>")
    parts.append(_table(["Database", "Platform", "Search date", "Query", "Records", "Notes"],
                        [[s["database"], s["platform"], s["search_date"], s["query"],
                          s["records"], notes.get(s["source"], "")] for s in sources]))
    snap = search["parameters"].get("pubmed_snapshot") or {}
    if snap.get("note"):
        parts.append(f"<p>PubMed snapshot: {html.escape(str(snap['note']))}</p>")
    limits = [s for s in sources if s["source"] in ("ctgov", "europepmc")
              and (s.get("snapshot") or {}).get("date_limit")]
    if limits:
        parts.append("<p>Date limits sent with the searches: " + "; ".join(
            f"{html.escape(str(s['database']))}: <code>"
            f"{html.escape(str(s['snapshot']['date_limit']))}</code>"
            f"{' (left out as dated outside it' + _left_out(s) + ')' if _left_out(s) else ''}"
            for s in limits) + ".</p>")
    if any(s["source"] == "citations" for s in sources):
        parts.append(_citation_chase_paragraph(sources, counts.get("other_methods")))

    dc = dedup["counts"]
    parts.append("<h3>Deduplication</h3>")
    parts.append(f"<p>{_were(dc['records_in'], 'record')} identified; "
                 f"{_were(dc['duplicates_removed'], 'duplicate')} removed "
                 f"({dc['duplicates_across_sources']} across sources, "
                 f"{dc['duplicates_within_source']} within a source), leaving "
                 f"{plural(dc['unique_records'], 'unique record')}. Rules, in order: "
                 + html.escape("; ".join(dedup["parameters"]["rules"])) + ". Removals by "
                 "rule: " + html.escape(", ".join(f"{k} {v}" for k, v in
                                                   dc["duplicates_by_rule"].items()))
                 + ". Every removal is listed with its evidence in dedup/duplicates.tsv.</p>")

    sc = screening["counts"]
    parts.append("<h3>Selection of studies</h3>")
    parts.append(f"<p>{html.escape(screening['parameters']['rule_text'])}</p>")
    parts.append(_flow_sentence(counts))
    stopping = (sc.get("stopping") or {}).get("statement")
    if stopping:
        parts.append(f"<p>{html.escape(stopping)}</p>")
    if update:
        parts.append(f"<p>{html.escape(_load(update)['paragraph'])}</p>")
    if disclosure:
        parts.append(_disclosure(disclosure))
    parts.append(f"<p>{_were(sc['conflicts'], 'disagreement')} recorded, "
                 f"{sc['resolved_by_consensus']} settled by consensus; "
                 f"{_were(sc['pending'], 'decision')} pending.</p>")
    agreement = sorted(sc.get("agreement") or [], key=_stage_order)
    if agreement:
        parts.append(_table(["Stage", "Reviewers", "Records", "Raw agreement",
                             "Cohen's kappa (95% CI)"],
                            [[STAGES.get(a["stage"], a["stage"]),
                              f"{a['reviewer_a']} / {a['reviewer_b']}",
                              a["records"], f"{100 * a['raw_agreement']:.1f}%",
                              f"{a['kappa']:.2f} ({a['kappa_ci_lower']:.2f} to "
                              f"{a['kappa_ci_upper']:.2f})"] for a in agreement]))
    inc = counts["included"]
    parts.append(f"<p>{plural(inc['studies'], 'study', 'studies')} in "
                 f"{plural(inc['reports'], 'report')} "
                 f"{'was' if inc['studies'] == 1 else 'were'} included.</p>")
    if flagged:
        parts.append(_flagged_paragraph(flagged))

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
    details = extraction["counts"].get("conversion_details")
    if details:  # outcome and study labels; audits written before them have ids only
        conversions = [f"{d['outcome_label']}, {d['study_label']}"
                       f"{' (' + d['comparison'] + ')' if d['comparison'] else ''}: "
                       f"{d['conversions']}" for d in details]
    if conversions:
        parts.append("<ul>" + "".join(f"<li>{html.escape(c)}</li>" for c in conversions)
                     + "</ul>")

    parts.append("<h3>Statistical analysis</h3>")
    rows = []
    for r in results:  # in the configured order, as in the other tables
        m = r["methods"]
        rows.append([r["label"], r["measure"], plural(r["k"], "study", "studies"),
                     r["status"], symbols(f"{m['random']}; test {m['test']}")])
    if results:
        m = results[0]["methods"]
        level = m.get("level")
        parts.append(symbols(
            f"<p>Effect measures were computed per study ({html.escape(m['fixed'])} "
            f"for the fixed-effect model; random effects with the "
            f"{html.escape(m['random'])})"
            + (f", with {level:g}% confidence intervals" if level else "")
            + f". {html.escape(m['i2_definition'])}. Zero cells: "
            + html.escape(str(results[-1]['methods'].get('zero_cells') or "not applicable"))
            + ".</p>"))
    parts.append(_table(["Outcome", "Measure", "Studies", "Status", "Model"], rows))
    if results:
        parts.append(_further_analyses(results, analyses or {}, labels or {}))
    log.info("methods_html: %d sources, %d outcomes", len(sources), len(results))
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>"
            + html.escape(f"Methods: {heading}") + "</title><style>body{font-family:"
            "sans-serif;font-size:13px;max-width:980px}table{border-collapse:collapse;"
            "margin:6px 0}th,td{border:1px solid #999;padding:3px 6px;vertical-align:top}"
            "th{background:#dbe5f1}p.disclosure{padding:6px;border:1px solid #c9a100;"
            "background:#fff8db}</style></head><body>" + "\n".join(parts)
            + "</body></html>\n")


def _flagged_paragraph(flagged: Sequence[Mapping[str, str]]) -> str:
    """Included reports retracted or under an expression of concern, one by one."""
    items = [f"report {row['record_id']} of study {row['study_id']}"
             + (f" (\u201c{row['title']}\u201d)" if row.get("title") else "")
             + f": {row['retraction']}" for row in flagged]
    n = len(flagged)
    return ("<p class='disclosure'><b>Retractions and expressions of concern:</b> "
            + html.escape(f"{plural(n, 'included report')} {'is' if n == 1 else 'are'} "
                          "retracted or under an expression of concern (PubMed publication "
                          "type, CommentsCorrections, a retraction notice or expression of "
                          "concern linked to the article in deduplication): "
                          + "; ".join(items) + ".") + "</p>")


def _further_analyses(results: Sequence[Mapping], analyses: Mapping,
                      labels: Mapping) -> str:
    """Small-study tests (which outcomes had enough studies), sensitivity analyses and the
    configured analyses beyond one pooled estimate (``analyses``, config ``analysis``)."""
    rule = results[0]["methods"].get("small_study_tests")
    minimum = (results[0].get("small_study") or {}).get("min_studies")
    assessed = [r["label"] for r in results if (r.get("small_study") or {}).get("assessed")]
    sentences = []
    if rule:
        sentences.append(f"Small-study effects: {rule}.")
        if minimum is not None:
            sentences.append(
                f"Assessed for {', '.join(assessed)}." if assessed else
                f"No outcome had {minimum} or more analysable studies, so none has a funnel "
                "plot or Egger's test.")
    sensitivity = [r["label"] for r in results if r.get("leave_one_out")]
    if sensitivity:
        sentences.append("Sensitivity analyses: leave-one-out (the random-effects model "
                         "refitted without each study in turn) and cumulative (studies added "
                         "by year of publication) meta-analyses of "
                         + ", ".join(sensitivity) + ".")
    if analyses:
        from sysrev.analysis_models import methods_sentences
        sentences += methods_sentences(analyses, labels)
    return "<p>" + html.escape(" ".join(sentences)) + "</p>" if sentences else ""


def _flow_sentence(counts: Mapping) -> str:
    """The selection in the order it happened: titles and abstracts, then full texts."""
    screened = counts.get("screening") or {}
    retrieval = counts.get("retrieval") or {}
    eligibility = counts.get("eligibility") or {}
    sentences = []
    if "records_screened" in screened:
        text = (f"{_were(screened['records_screened'], 'record')} screened on title and "
                f"abstract and {plural(screened.get('records_excluded', 0), 'record')} "
                "excluded")
        pending = screened.get("records_pending") or 0
        if pending:
            text += f"; {_were(pending, 'record')} still awaiting screening"
        sentences.append(text + ".")
    if "reports_sought" in retrieval:
        text = (f"Then {_were(retrieval['reports_sought'], 'full-text report')} sought, "
                f"{plural(retrieval.get('reports_not_retrieved', 0), 'report')} could not be "
                "retrieved")
        if "reports_assessed" in eligibility:
            text += (f", {_were(eligibility['reports_assessed'], 'report')} assessed for "
                     f"eligibility and {plural(eligibility.get('reports_excluded', 0), 'report')}"
                     " excluded with reasons")
        sentences.append(text + ".")
    return f"<p>{' '.join(sentences)}</p>" if sentences else ""


def _left_out(source: dict) -> str:
    """": N records" when a source's snapshot held records after its search date."""
    late = (source.get("snapshot") or {}).get("records_after_search_date")
    return f": {plural(late, 'record')}" if late else ""


def _citation_chase_paragraph(sources: list[dict], other: dict | None) -> str:
    """What the citation chase covered (PRISMA 2020 item 7, PRISMA-S item 5)."""
    from sysrev.search.citations import COVERAGE_NOTE, DATE_NOTE
    chase = next(s for s in sources if s["source"] == "citations")
    found = (f" It identified {plural(other['records_identified'], 'record')} not found by the "
             f"database and register searches ({other['duplicates_of_databases_and_registers']}"
             " more were duplicates of them and are counted there only)." if other else "")
    return ("<p>Citation searching (other methods): the reports of the included studies were "
            "chased one step forward (articles citing them) and backward (their references) "
            "through PubMed's citation links (Entrez elink, pubmed_pubmed_citedin and "
            f"pubmed_pubmed_refs) on {html.escape(str(chase['search_date']))}; the records "
            f"found were deduplicated against the database and register searches.{found} "
            f"{html.escape(DATE_NOTE)}"
            f"{_left_out(chase)}. "
            f"Coverage: {html.escape(COVERAGE_NOTE)}, so the chase does not replace reading "
            "the included studies' reference lists.</p>")
