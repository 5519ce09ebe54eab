"""The tables of the report as HTML pages: pooled results, PRISMA counts, duplicates and
related reports, screening agreement and conflicts, the risk-of-bias summary, and each
outcome's study effects and sensitivity analyses.

Each function takes the table the pipeline wrote (as read by :func:`sysrev.tables.read_tsv`,
every cell text) or the PRISMA counts, and returns a standalone HTML page
(:func:`sysrev.report.htmltable.html_page`). Numbers are rounded for reading only; the TSV and JSON
files keep full precision.
"""

from __future__ import annotations

import html
import logging
import math
import os
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from sysrev.imports.records import display_title
from sysrev.report.htmltable import html_page, html_table, is_missing, number, p_value, plural

log = logging.getLogger(__name__)

#: Measures whose estimates are ratios (shown exponentiated, no effect at 1).
RATIO_MEASURES = {"RR", "OR", "PETO", "HR"}

#: Labels of the PRISMA counts (keys of counts.json), in the order of the flow diagram; an
#: unknown key is shown by its name, after the known ones of its stage.
PRISMA_LABELS = {
    "records_identified": "Records identified",
    "duplicates_removed": "Duplicate records removed",
    "removed_by_automation": "Records marked as ineligible by automation tools",
    "removed_other_reasons": "Records removed for other reasons",
    "records_screened": "Records screened",
    "records_excluded": "Records excluded",
    "records_pending": "Records awaiting screening",
    "records_awaiting": "Records awaiting screening",
    "reports_sought": "Reports sought for retrieval",
    "reports_not_retrieved": "Reports not retrieved",
    "reports_assessed": "Reports assessed for eligibility",
    "reports_excluded": "Reports excluded",
    "reports_pending": "Reports awaiting assessment",
    "studies": "Studies included in review",
    "reports": "Reports of included studies",
    "new_studies": "New studies included",
    "new_reports": "Reports of new included studies",
    "total_studies": "Total studies included",
    "total_reports": "Reports of total included studies",
    "studies_meta_analysis": "Studies included in a meta-analysis",
    "reports_meta_analysis": "Reports of studies included in a meta-analysis",
    "total_studies_ma": "Studies included in a meta-analysis",
    "total_reports_ma": "Reports of studies included in a meta-analysis",
}
#: Boxes of an updated review only (equal to studies/reports in a new review: not shown).
UPDATE_ONLY = {"new_studies", "new_reports", "total_studies", "total_reports"}
PRISMA_SECTIONS = [("identification", "Identification"), ("screening", "Screening"),
                   ("retrieval", "Retrieval"), ("eligibility", "Eligibility"),
                   ("included", "Included")]


def _text(value: object) -> str:
    return "" if is_missing(value) else str(value)


def _labelled(row: pd.Series, labels: str, ids: str) -> str:
    """The labels column of a summary row, or its ids when the table predates labels."""
    text = _text(row.get(labels))
    return text if text else _text(row.get(ids))


def ci_text(estimate: object, lower: object, upper: object) -> str:
    """'1.00 (0.54 to 1.86)', or '' without an estimate."""
    if is_missing(estimate):
        return ""
    if is_missing(lower) or is_missing(upper):
        return number(estimate)
    return f"{number(estimate)} ({number(lower)} to {number(upper)})"


#: The pooled-results page's tables: (caption, [(column, header)]); every table starts with
#: the outcome, so a reader (and a test) can join them row by row.
SUMMARY_PARTS = (
    ("Pooled results of every outcome with {lvl} confidence intervals; ratio measures on "
     "their natural scale",
     [("label", "Outcome"), ("measure", "Measure"), ("k", "Studies"),
      ("participants", "Participants"), ("random", "Random effects ({lvl} CI)"),
      ("p", "p")]),
    ("Heterogeneity, the fixed-effect estimate and Egger's test of every outcome",
     [("label", "Outcome"), ("model", "Model"), ("tau2", "\u03c4\u00b2"), ("i2", "I\u00b2"),
      ("q", "Q (p)"), ("fixed", "Fixed effect ({lvl} CI)"),
      ("prediction", "Prediction interval ({lvl})"), ("egger", "Egger p")]),
    ("The studies of every outcome: those analysed, those not analysable and why, and whether "
     "a funnel plot and Egger's test could be made",
     [("label", "Outcome"), ("status", "Status"),
      ("small_study", "Funnel plot and Egger's test"), ("studies", "Studies analysed"),
      ("not_analysable", "Not analysable (why)")]),
)


def summary_page(summary: pd.DataFrame, *, level: float, title: str = "Pooled results",
                 disclosure: str = "", included: pd.DataFrame | None = None) -> str:
    """The cross-outcome summary (``analysis/summary.tsv``) as three tables
    (:data:`SUMMARY_PARTS`: the estimates, heterogeneity and other models, the studies), each
    starting with the outcome, so that each fits the report's pane beside its menu.

    Columns named with the configured confidence ``level``; outcomes by their labels; the
    small-study column says why an outcome has no funnel plot or Egger's test. With
    ``included`` (``screening/included.tsv``), included reports that are retracted or under
    an expression of concern are listed above the table (:func:`flagged_reports`).
    """
    lvl = f"{level:g}%"
    rows = []
    for _, r in summary.iterrows():
        rows.append({
            "label": _text(r["label"]), "measure": _text(r["measure"]),
            "k": _text(r["k"]), "participants": _text(r["participants"]),
            "status": _text(r["status"]), "model": _text(r["model"]),
            "random": ci_text(r["estimate"], r["ci_lower"], r["ci_upper"]),
            "p": p_value(r["p_value"]), "tau2": number(r["tau2"], 3),
            "i2": "" if is_missing(r["i2"]) else f"{float(r['i2']):.0f}%",
            "q": "" if is_missing(r["q"]) else f"{number(r['q'])} (p = {p_value(r['q_p'])})",
            "fixed": ci_text(r["fixed_estimate"], r["fixed_ci_lower"], r["fixed_ci_upper"]),
            "prediction": ("" if is_missing(r["prediction_lower"]) else
                           f"{number(r['prediction_lower'])} to "
                           f"{number(r['prediction_upper'])}"),
            "egger": p_value(r["egger_p"]),
            "studies": _labelled(r, "study_labels", "studies"),
            "small_study": _text(r.get("small_study_tests")),
            "not_analysable": _labelled(r, "not_analysable_labels",
                                        "not_analysable").replace("; ", ";\n"),
        })
    columns = dict.fromkeys(column for _, part in SUMMARY_PARTS for column, _ in part)
    frame = pd.DataFrame(rows, columns=list(columns))
    numeric = {"k", "participants", "p", "tau2", "i2", "egger"}
    # Three tables, each with the outcome first, instead of one of 17 columns: one that wide
    # needed some 1,300 pixels and ran off the report's pane (about 600 pixels at a 900-pixel
    # window, beside the report's menu); each of these fits there (tests/unit/
    # test_report_tables.py measures them).
    parts = []
    for caption, part in SUMMARY_PARTS:
        keys = [column for column, _ in part]
        parts.append(html_table(
            frame[keys], headers=[header.format(lvl=lvl) for _, header in part],
            numeric=numeric & set(keys), caption=caption.format(lvl=lvl)))
    flagged = flagged_reports(included) if included is not None else pd.DataFrame()
    if not flagged.empty:
        parts.insert(0, html_table(
            flagged, headers=["Study", "Report", "Title", "Status"], sortable=False,
            caption=f"{flagged_sentence(flagged)} Check whether their results can still be "
                    "used."))
    log.info("summary_page: %d outcomes, %d flagged reports", len(frame), len(flagged))
    return html_page(title, parts, disclosure=disclosure)


def flagged_reports(included: pd.DataFrame) -> pd.DataFrame:
    """Included reports that are retracted or under an expression of concern: the rows of
    ``screening/included.tsv`` with a ``retraction`` status (study, report, title, status),
    sorted by study and report."""
    if "retraction" not in included.columns:
        return pd.DataFrame(columns=["study_id", "record_id", "title", "retraction"])
    status = included["retraction"].map(_text).str.strip()
    flagged = included.loc[status != "", ["study_id", "record_id", "title", "retraction"]]
    flagged = flagged.map(_text).sort_values(["study_id", "record_id"])
    flagged["title"] = flagged["title"].map(display_title)
    log.info("flagged_reports: %d of %d included reports", len(flagged), len(included))
    return flagged.reset_index(drop=True)


def flagged_sentence(flagged: pd.DataFrame) -> str:
    """'1 included report (study S1) is retracted or under an expression of concern.'"""
    if flagged.empty:
        return ""
    studies = sorted(set(flagged["study_id"]))
    n = len(flagged)
    return (f"{plural(n, 'included report')} (stud{'y' if len(studies) == 1 else 'ies'} "
            f"{', '.join(studies)}) {'is' if n == 1 else 'are'} retracted or under an "
            "expression of concern.")


def prisma_page(counts: Mapping, *, title: str = "PRISMA 2020 flow counts",
                disclosure: str = "") -> str:
    """The PRISMA 2020 counts (``prisma/counts.json``): the boxes of the flow, per database,
    the reasons for exclusion, the checks, and the notes (the disclosure among them).

    Boxes in the order of the flow diagram; the new/total boxes of an updated review only
    when there is a previous version (in a new review they repeat the included counts).
    """
    names = counts.get("identification", {}).get("database_names", {})
    order = list(PRISMA_LABELS)
    updated = bool(counts.get("previous"))
    rows = []
    previous = counts.get("previous") or {}
    if previous:
        rows += [["Previous studies", "Studies included in previous version of review",
                  str(previous.get("studies", ""))],
                 ["Previous studies", "Reports of studies included in previous version of "
                  "review", str(previous.get("reports", ""))]]
    for section, heading in PRISMA_SECTIONS:
        values = counts.get(section) or {}
        if section == "identification" and "records_identified" not in values:
            values = {**values, "records_identified": ""}  # the databases still listed
        if section == "eligibility" and "reports_excluded" not in values:
            values = {**values, "reports_excluded": ""}
        keys = sorted((k for k, v in values.items()
                       if not isinstance(v, (dict, list)) and v is not None
                       and (updated or k not in UPDATE_ONLY)),
                      key=lambda k: (order.index(k) if k in order else len(order), k))
        for key in keys:
            if values[key] != "":
                rows.append([heading, PRISMA_LABELS.get(key, key.replace("_", " ")
                                                        .capitalize()), str(values[key])])
            if key == "records_identified":
                for db, value in (values.get("databases") or {}).items():
                    rows.append([heading, f"Records from {names.get(db, db)}", str(value)])
                for reg, value in (values.get("registers") or {}).items():
                    rows.append([heading, f"Records from register {reg}", str(value)])
            if key == "reports_excluded":
                reasons = (values.get("exclusion_reasons") or {}).items()
                for reason, value in sorted(reasons, key=lambda kv: (-kv[1], kv[0])):
                    rows.append([heading, f"Reports excluded: {reason}", str(value)])
    boxes = html_table(pd.DataFrame(rows, columns=["stage", "box", "count"]),
                       headers=["Stage", "Box", "Count"], numeric={"count"}, sortable=False,
                       caption="Counts of the PRISMA 2020 flow diagram")
    checks = html_table(pd.DataFrame([[c["equation"], str(c["value"]),
                                       "holds" if c["holds"] else "FAILS"]
                                      for c in counts.get("checks", [])],
                                     columns=["equation", "value", "holds"]),
                        headers=["Equation", "Value", "Check"], numeric={"value"},
                        sortable=False, caption="Equations of the flow, checked")
    notes = list(counts.get("notes") or [])
    log.info("prisma_page: %d boxes, %d checks", len(rows), len(counts.get("checks", [])))
    return html_page(title, [boxes, checks], notes=notes,
                     disclosure="" if disclosure in notes else disclosure)


#: Rows a table that grows with the library (duplicates, maybe pairs, related reports) shows
#: inline; the page links the whole table. Small tables are shown whole.
INLINE_ROWS = 1000


@dataclass(frozen=True)
class TableHead:
    """The first rows of a table that may be too large to show whole, with the number of
    rows it has and the path of the whole table (to link, relative to the page)."""

    rows: pd.DataFrame
    total: int
    link: str = ""


def plain_page(table: pd.DataFrame, *, title: str, caption: str,
               columns: Sequence[str] | None = None, headers: Sequence[str] | None = None,
               numeric: Sequence[str] = (), decimals: Mapping[str, int] | None = None,
               notes: Sequence[str] = (), disclosure: str = "",
               total: int | None = None, link: str = "") -> str:
    """Any table as a page: ``columns`` (default: all) with readable ``headers`` (default:
    the names with spaces), numbers in ``decimals`` rounded. ``table`` may be the first rows
    of a larger table of ``total`` rows, the whole of which is at ``link`` (a path relative
    to the page): the page then says so above the rows and links it."""
    columns = list(columns or table.columns)
    shown = table.loc[:, columns].copy()
    for column, digits in (decimals or {}).items():
        shown[column] = [number(v, digits) for v in shown[column]]
    headers = headers or [c.replace("_", " ").capitalize() for c in columns]
    log.info("plain_page %s: %d rows", title, len(shown))
    parts = [html_table(shown, headers=headers, numeric=numeric, caption=caption)]
    if total is not None and total > len(shown):
        parts.insert(0, partial_note(len(shown), total, link))
    return html_page(title, parts, notes=notes, disclosure=disclosure)


def partial_note(shown: int, total: int, link: str) -> str:
    """The note above a table that shows the first ``shown`` of ``total`` rows, linking the
    whole table at ``link`` (relative to the page)."""
    where = (f": the whole table is <a href='{html.escape(link)}'>{html.escape(link)}</a> "
             "(next to this page's folder in results/; in the Snakemake report, open it from "
             "the review's results folder)" if link else "")
    return (f"<p class='note'><b>{total:,} rows; the first {shown:,} are shown</b> (in the "
            f"table's order){where}.</p>")


def table_head(path: str, page: str, limit: int = INLINE_ROWS) -> TableHead:
    """The first ``limit`` rows of the TSV at ``path``, its number of rows and its path
    relative to the HTML page ``page``, read in memory that does not grow with the table."""
    from sysrev.tables import read_tsv_head

    rows, total = read_tsv_head(path, limit)
    return TableHead(rows, total, os.path.relpath(path, os.path.dirname(page) or "."))


def _whole(table: pd.DataFrame | TableHead) -> TableHead:
    return table if isinstance(table, TableHead) else TableHead(table, len(table))


def duplicates_page(duplicates: pd.DataFrame | TableHead) -> str:
    """Every record removed as a duplicate, the record kept and the evidence (the first
    rows of a :class:`TableHead`, with a link to the whole table)."""
    head = _whole(duplicates)
    return plain_page(
        head.rows, total=head.total, link=head.link, title="Duplicate records removed",
        caption=f"{head.total} records removed as duplicates, with the record kept in "
                "their place and the rule that linked them",
        columns=["removed_record_id", "kept_record_id", "rule", "detail", "removed_source",
                 "kept_source", "title_score", "author_score", "journal_score", "year_match",
                 "volume_match", "pages_match"],
        numeric=["title_score", "author_score", "journal_score"])


#: Columns of the maybe page when ``maybe.tsv`` has the review band
#: (:data:`sysrev.dedup.band.BAND_COLUMNS`): the pair, its rank, the evidence, the scores.
MAYBE_REVIEW_COLUMNS = ["review_rank", "likelihood", "record_id_a", "record_id_b", "title_a",
                        "title_b", "evidence_for", "evidence_against", "title_score",
                        "author_score", "journal_score", "year_match", "volume_match",
                        "pages_match"]


def _for_review(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows marked ``for_review``, by review rank."""
    marked = rows[rows["for_review"] == "yes"]
    rank = pd.to_numeric(marked["review_rank"], errors="coerce")
    return marked.iloc[np.argsort(rank.to_numpy(), kind="stable")].reset_index(drop=True)


def maybe_head(path: str, page: str) -> TableHead:
    """What the maybe page shows of ``maybe.tsv`` at ``path``: the pairs marked
    ``for_review`` (bounded by the band's cap, :func:`sysrev.dedup.band.review_cap`), by
    review rank, with the table's number of rows and its path relative to ``page``; the
    first rows (:func:`table_head`) of a table without the band. Read in chunks: memory
    does not grow with the table."""
    from sysrev.tables import read_tsv_chunks

    marked, total, band = [], 0, True
    for chunk in read_tsv_chunks(path):
        if "for_review" not in chunk.columns:
            band = False
            break
        total += len(chunk)
        marked.append(chunk[chunk["for_review"] == "yes"])
    if not band:
        return table_head(path, page)
    return TableHead(_for_review(pd.concat(marked, ignore_index=True)), total,
                     os.path.relpath(path, os.path.dirname(page) or "."))


def maybe_page(maybe: pd.DataFrame | TableHead) -> str:
    """Pairs that look alike but were not merged, for a reviewer to decide.

    With the review band (``for_review`` column; :mod:`sysrev.dedup.band`) the page lists
    the pairs marked for review, most likely duplicates first, each with the evidence for
    and against, and says how many pairs the whole table (linked) has; a whole table
    (DataFrame) is cut to those pairs here. Without the band: the first rows of a
    :class:`TableHead`, with a link to the whole table.
    """
    head = _whole(maybe)
    rows = head.rows
    band = "for_review" in rows.columns
    if band and not isinstance(maybe, TableHead):
        rows = _for_review(rows)
    rows = rows.assign(**{column: rows[column].map(display_title)
                          for column in ("title_a", "title_b") if column in rows.columns})
    if not band:
        return plain_page(
            rows, total=head.total, link=head.link,
            title="Possible duplicates left for a reviewer",
            caption=f"{head.total} pairs of records that look alike but were not merged",
            numeric=["title_score", "author_score", "journal_score"])
    columns = [c for c in MAYBE_REVIEW_COLUMNS if c in rows.columns]
    where = (f" (the whole table, with the pairs settled by rule and those ranked below the "
             f"list: <a href='{html.escape(head.link)}'>{html.escape(head.link)}</a>, next "
             "to this page's folder in results/)" if head.link else "")
    note = (f"<p class='note'><b>{head.total:,} pairs look alike but were not merged; the "
            f"{len(rows):,} marked for review are shown</b>, the most likely duplicates "
            f"first{where}.</p>")
    shown = rows.loc[:, columns]
    log.info("maybe_page: %d of %d pairs", len(shown), head.total)
    table = html_table(
        shown, headers=[c.replace("_", " ").capitalize() for c in columns],
        numeric=["review_rank", "likelihood", "title_score", "author_score",
                 "journal_score"],
        caption=f"{len(rows)} pairs of records that look alike but were not merged, marked "
                f"for review (of {head.total})")
    return html_page("Possible duplicates left for a reviewer",
                     ([note] if head.total > len(rows) else []) + [table])


#: How related.tsv's relations read in the report.
RELATION_LABELS = {"erratum": "Erratum or correction", "retraction": "Retraction notice",
                   "expression_of_concern": "Expression of concern", "comment": "Comment",
                   "reply": "Reply", "registration_of": "Trial registration of",
                   "preprint_of": "Preprint of"}


def related_page(related: pd.DataFrame | TableHead,
                 unique: pd.DataFrame | None = None, *,
                 with_titles: bool | None = None) -> str:
    """Related reports (errata, retraction notices, expressions of concern, comments,
    replies; ``dedup/related.tsv``) next to the article each concerns, with both titles
    when ``unique`` (``dedup/unique.tsv``, or its rows of the reports shown) is given and
    has records (``with_titles`` says whether the whole ``unique.tsv`` has, when only some
    of its rows are given). A :class:`TableHead` shows its first rows, with a link to the
    whole table."""
    head = _whole(related)
    related = head.rows
    titles = ({} if unique is None else
              dict(zip(unique["record_id"], unique["title"].map(display_title))))
    table = pd.DataFrame({
        "relation": [RELATION_LABELS.get(_text(v), _text(v)) for v in related["relation"]],
        "record_id": related["record_id"].map(_text),
        "title": [titles.get(r, "") for r in related["record_id"]],
        "related_record_id": related["related_record_id"].map(_text),
        "related_title": [titles.get(r, "") for r in related["related_record_id"]],
        "evidence": related["evidence"].map(_text)})
    if with_titles is None:
        with_titles = bool(titles)
    columns = list(table.columns) if with_titles else ["relation", "record_id",
                                                       "related_record_id", "evidence"]
    names = {"relation": "Relation", "record_id": "Related report", "title": "Its title",
             "related_record_id": "Article it concerns", "related_title": "Article's title",
             "evidence": "Evidence of the link"}
    return plain_page(
        table, title="Related reports", total=head.total, link=head.link,
        caption=f"{plural(head.total, 'related report')} (errata, retraction notices, "
                "expressions of concern, comments, replies) linked to the article each "
                "concerns; not merged with it",
        columns=columns, headers=[names[c] for c in columns])


def rob_page(shares: pd.DataFrame, *, tool: str = "rob2", disclosure: str = "") -> str:
    """The risk-of-bias summary (``risk_of_bias/summary.tsv``): for each domain (named as
    the ``tool`` names it, overall last), the share of participants per judgement."""
    from sysrev.rob import TOOLS

    rob_tool = TOOLS[tool]
    table = shares.assign(percent=pd.to_numeric(shares["percent"], errors="coerce"))
    wide = table.pivot_table(index="domain", columns="judgement", values="percent",
                             aggfunc="sum")
    domains = [d for d in list(rob_tool.domains) + ["overall"] if d in wide.index]
    domains += sorted(d for d in wide.index if d not in domains)
    judgements = [j for j in rob_tool.judgements if j in wide.columns]
    judgements += sorted(j for j in wide.columns if j not in judgements)
    rows = []
    for domain in domains:
        name = ("Overall risk of bias" if domain == "overall" else
                f"{domain} {rob_tool.domains.get(domain, '')}".strip())
        rows.append([name] + ["" if pd.isna(wide.at[domain, j]) else
                              f"{wide.at[domain, j]:.1f}%" for j in judgements])
    frame = pd.DataFrame(rows, columns=["domain"] + judgements)
    log.info("rob_page: %d domains, %d judgements", len(domains), len(judgements))
    return html_page("Risk-of-bias summary", [html_table(
        frame, headers=["Domain"] + judgements, numeric=set(judgements), sortable=False,
        caption=f"Risk of bias ({rob_tool.name}): share of participants in studies with each "
                "judgement, by domain (studies weighted by their number of participants)")],
        disclosure=disclosure)


def _display_scale(ratio: bool) -> Callable[[object], object]:
    """Estimates as the forest plot shows them: ratio measures (analysed on the log scale)
    exponentiated, others as they are; missing cells stay missing."""
    def scale(value: object) -> object:
        if is_missing(value):
            return value
        return math.exp(float(value)) if ratio else float(value)
    return scale


def sensitivity_page(leave1out: pd.DataFrame, cumulative: pd.DataFrame, pooled: Mapping, *,
                     level: float, rob: Mapping | None = None) -> str:
    """One outcome's leave-one-out and cumulative meta-analyses (``leave1out.tsv``,
    ``cumulative.tsv``) on the scale of its forest plot (ratios exponentiated), and, when
    configured, its risk-of-bias sensitivity analysis (``rob``: its row of
    ``rob_sensitivity.tsv``, already on the natural scale)."""
    measure = str(pooled.get("measure", ""))
    ratio = measure.upper() in RATIO_MEASURES
    lvl = f"{level:g}%"
    scale = _display_scale(ratio)

    def frame(table: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({
            "step": table["step"].map(_text), "study": table["study"].map(_text),
            "k": table["k"].map(_text),
            "effect": [ci_text(scale(e), scale(lo), scale(hi)) for e, lo, hi in
                       zip(table["estimate"], table["ci_lower"], table["ci_upper"])],
            "p": [p_value(v) for v in table["pval"]],
            "tau2": [number(v, 3) for v in table["tau2"]],
            "i2": ["" if is_missing(v) else f"{float(v):.0f}%" for v in table["i2"]]},
            columns=["step", "study", "k", "effect", "p", "tau2", "i2"])

    label = str(pooled.get("label") or pooled.get("outcome"))
    stats = [f"{measure} ({lvl} CI)", "p", "\u03c4\u00b2", "I\u00b2"]
    loo = html_table(frame(leave1out).drop(columns="step"),
                     headers=["Study left out", "Studies"] + stats,
                     numeric={"k", "p", "tau2", "i2"}, sortable=False,
                     caption=f"{label}: leave-one-out analysis, the random-effects model "
                             "refitted without each study in turn")
    cum = html_table(frame(cumulative), headers=["Step", "Study added", "Studies"] + stats,
                     numeric={"step", "k", "p", "tau2", "i2"}, sortable=False,
                     caption=f"{label}: cumulative meta-analysis, studies added by year of "
                             "publication")
    tables = [loo, cum]
    if rob is not None:
        restricted = pd.DataFrame([{
            "analysis": name, "k": _text(k),
            "effect": ci_text(*(None if is_missing(v) else float(v) for v in values)),
            "left_out": _text(left)} for name, k, values, left in [
                ("All studies", rob["k_all"], (rob["estimate_all"], rob["ci_lower_all"],
                                               rob["ci_upper_all"]), ""),
                (f"Restricted: {rob['restriction']}", rob["k_restricted"],
                 (rob["estimate"], rob["ci_lower"], rob["ci_upper"]),
                 rob["studies_left_out"])]],
            columns=["analysis", "k", "effect", "left_out"])
        note = rob.get("note")
        tables.append(html_table(
            restricted, headers=["Analysis", "Studies", f"{measure} ({lvl} CI)",
                                 "Studies left out (overall risk of bias)"],
            numeric={"k"}, sortable=False,
            caption=f"{label}: risk-of-bias sensitivity analysis"
                    + (f" ({note})" if not is_missing(note) and note else "")))
    notes = []
    if ratio:
        notes.append(f"{measure} on its natural scale; the TSV files hold the log scale.")
    log.info("sensitivity_page %s: %d leave-one-out, %d cumulative rows",
             pooled.get("outcome"), len(leave1out), len(cumulative))
    return html_page(f"{label}: sensitivity analyses", tables, notes=notes)


#: Screening stages in the order they happen, as the report names them.
STAGE_LABELS = {"title_abstract": "Title and abstract", "full_text": "Full text"}


def _by_stage(table: pd.DataFrame) -> pd.DataFrame:
    """Rows in the order of the screening stages (title/abstract first), stages named."""
    order = list(STAGE_LABELS)
    rank = [order.index(s) if s in order else len(order) for s in table["stage"]]
    table = table.assign(_rank=rank).sort_values("_rank", kind="stable").drop(columns="_rank")
    return table.assign(stage=[STAGE_LABELS.get(s, s) for s in table["stage"]])


def agreement_page(agreement: pd.DataFrame, *, level: float = 95,
                   disclosure: str = "") -> str:
    """Agreement between reviewers per screening stage (raw agreement, Cohen's kappa),
    title and abstract first."""
    table = _by_stage(agreement)
    table["raw_agreement"] = [("" if is_missing(v) else f"{100 * float(v):.1f}%")
                              for v in table["raw_agreement"]]
    table["kappa_ci"] = [ci_text(k, lo, hi) for k, lo, hi in
                         zip(table["kappa"], table["kappa_ci_lower"], table["kappa_ci_upper"])]
    return plain_page(
        table, title="Agreement between reviewers",
        caption="Agreement between reviewers at each screening stage: Cohen's kappa with its "
                "95% confidence interval",
        columns=["stage", "reviewer_a", "reviewer_b", "records", "agreements",
                 "raw_agreement", "kappa_ci", "categories"],
        headers=["Stage", "Reviewer A", "Reviewer B", "Records", "Agreements",
                 "Raw agreement", "Cohen's kappa (95% CI)", "Categories"],
        numeric=["records", "agreements", "raw_agreement"], disclosure=disclosure)


def conflicts_page(conflicts: pd.DataFrame, *, disclosure: str = "") -> str:
    """Records on which the reviewers disagreed and how each disagreement was resolved,
    title and abstract first."""
    return plain_page(
        _by_stage(conflicts), title="Disagreements between reviewers",
        caption=f"{len(conflicts)} records on which the reviewers disagreed, and how each "
                "disagreement was resolved",
        headers=["Record", "Stage", "Decisions", "Resolution", "Final decision"],
        disclosure=disclosure)


def effects_page(effects: pd.DataFrame, pooled: Mapping, *, level: float) -> str:
    """One outcome's study effects (``effects.tsv``) with the pooled estimates under them.

    Ratio measures are shown exponentiated, as the forest plot shows them.
    """
    measure = str(pooled.get("measure", ""))
    ratio = measure.upper() in RATIO_MEASURES
    lvl = f"{level:g}%"
    scale = _display_scale(ratio)

    rows = []
    for _, r in effects.iterrows():
        rows.append({
            "study": _text(r["label"]), "year": _text(r["year"]),
            "comparison": _text(r["comparison"]), "subgroup": _text(r["subgroup"]),
            "treatment": _arm(r, "treatment"), "control": _arm(r, "control"),
            "effect": ci_text(scale(r["yi"]), scale(r["ci_lower"]), scale(r["ci_upper"])),
            "yi": number(r["yi"], 4), "vi": number(r["vi"], 4),
            "weight": number(r["weight_random"], 1), "conversions": _text(r["conversions"]),
        })
    columns = ["study", "year", "comparison", "subgroup", "treatment", "control", "effect",
               "yi", "vi", "weight", "conversions"]
    frame = pd.DataFrame(rows, columns=columns)
    keep = [c for c in columns if c not in ("comparison", "subgroup")
            or frame[c].astype(str).str.len().gt(0).any()]
    frame = frame.loc[:, keep]
    names = {"study": "Study", "year": "Year", "comparison": "Comparison",
             "subgroup": "Subgroup", "treatment": "Treatment", "control": "Control",
             "effect": f"{measure} ({lvl} CI)",
             "yi": "yi" + (" (log scale)" if ratio else ""), "vi": "vi",
             "weight": "Weight (random, %)", "conversions": "Conversions"}
    label = str(pooled.get("label") or pooled.get("outcome"))
    table = html_table(frame, headers=[names[c] for c in keep],
                       numeric={"year", "yi", "vi", "weight"},
                       caption=f"{label}: study effects ({measure}) with {lvl} confidence "
                               "intervals")
    notes = []
    random = pooled.get("random")
    if random:
        est = "exp_estimate" if ratio else "estimate"
        lo, hi = ("exp_ci_lb", "exp_ci_ub") if ratio else ("ci_lb", "ci_ub")
        notes.append(f"Random effects ({random.get('method', '')}): {measure} "
                     f"{ci_text(random.get(est), random.get(lo), random.get(hi))}, "
                     f"\u03c4\u00b2 = {number(random.get('tau2'), 3)}, "
                     f"I\u00b2 = {number(random.get('i2'), 0)}%.")
    for item in pooled.get("not_analysable") or []:
        name = item.get("label") or item.get("study_id", "")
        notes.append(f"Not analysable: {name}: {item.get('reason', '')}")
    if effects.empty:
        notes.insert(0, "No study had analysable data for this outcome.")
    log.info("effects_page %s: %d rows", pooled.get("outcome"), len(frame))
    return html_page(f"{label} ({pooled.get('timepoint', '')})".replace(" ()", ""),
                     [table], notes=notes)


def _arm(row: pd.Series, arm: str) -> str:
    """'38/443' (events/total) or '-0.10 (SD 0.80), n = 443' for one group of a study."""
    n = _text(row[f"n_{arm}"])
    if not is_missing(row[f"events_{arm}"]):
        return f"{row[f'events_{arm}']}/{n}"
    if not is_missing(row[f"mean_{arm}"]):
        return (f"{number(row[f'mean_{arm}'])} (SD {number(row[f'sd_{arm}'])}), n = {n}")
    return f"n = {n}" if n else ""
