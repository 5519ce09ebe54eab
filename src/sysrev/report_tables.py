"""The tables of the report as HTML pages: pooled results, PRISMA counts, duplicates,
screening agreement and conflicts, and each outcome's study effects.

Each function takes the table the pipeline wrote (as read by :func:`sysrev.tables.read_tsv`,
every cell text) or the PRISMA counts, and returns a standalone HTML page
(:func:`sysrev.htmltable.html_page`). Numbers are rounded for reading only; the TSV and JSON
files keep full precision.
"""

from __future__ import annotations

import logging
from typing import Mapping, Sequence

import pandas as pd

from sysrev.htmltable import html_page, html_table, is_missing, number, p_value

log = logging.getLogger(__name__)

#: Measures whose estimates are ratios (shown exponentiated, no effect at 1).
RATIO_MEASURES = {"RR", "OR", "PETO", "HR"}

#: Labels of the PRISMA counts (keys of counts.json); an unknown key is shown by its name.
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
    "total_studies_ma": "Studies included in a meta-analysis",
    "total_reports_ma": "Reports of studies included in a meta-analysis",
}
PRISMA_SECTIONS = [("identification", "Identification"), ("screening", "Screening"),
                   ("retrieval", "Retrieval"), ("eligibility", "Eligibility"),
                   ("included", "Included")]


def _text(value: object) -> str:
    return "" if is_missing(value) else str(value)


def ci_text(estimate: object, lower: object, upper: object) -> str:
    """'1.00 (0.54 to 1.86)', or '' without an estimate."""
    if is_missing(estimate):
        return ""
    if is_missing(lower) or is_missing(upper):
        return number(estimate)
    return f"{number(estimate)} ({number(lower)} to {number(upper)})"


def summary_page(summary: pd.DataFrame, *, level: float, title: str = "Pooled results",
                 disclosure: str = "") -> str:
    """The cross-outcome summary (``analysis/summary.tsv``) as a table.

    Columns named with the configured confidence ``level``; outcomes by their labels.
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
            "egger": p_value(r["egger_p"]), "studies": _text(r["studies"]),
            "not_analysable": _text(r["not_analysable"]).replace("; ", ";\n"),
        })
    frame = pd.DataFrame(rows, columns=["label", "measure", "k", "participants", "status",
                                        "model", "random", "p", "tau2", "i2", "q", "fixed",
                                        "prediction", "egger", "studies", "not_analysable"])
    headers = ["Outcome", "Measure", "Studies", "Participants", "Status", "Model",
               f"Random effects ({lvl} CI)", "p", "\u03c4\u00b2", "I\u00b2", "Q (p)",
               f"Fixed effect ({lvl} CI)", f"Prediction interval ({lvl})", "Egger p",
               "Studies analysed", "Not analysable (why)"]
    table = html_table(frame, headers=headers, numeric={"k", "participants", "p", "tau2",
                                                        "i2", "egger"},
                       caption=f"Pooled results of every outcome with {lvl} confidence "
                               "intervals; ratio measures on their natural scale")
    log.info("summary_page: %d outcomes", len(frame))
    return html_page(title, [table], disclosure=disclosure)


def prisma_page(counts: Mapping, *, title: str = "PRISMA 2020 flow counts",
                disclosure: str = "") -> str:
    """The PRISMA 2020 counts (``prisma/counts.json``): the boxes of the flow, per database,
    the reasons for exclusion, the checks, and the notes (the disclosure among them)."""
    names = counts.get("identification", {}).get("database_names", {})
    rows = []
    for section, heading in PRISMA_SECTIONS:
        values = counts.get(section) or {}
        for key, value in values.items():
            if isinstance(value, (dict, list)) or value is None:
                continue
            rows.append([heading, PRISMA_LABELS.get(key, key.replace("_", " ").capitalize()),
                         str(value)])
        if section == "identification":
            for key, value in (values.get("databases") or {}).items():
                rows.append([heading, f"Records from {names.get(key, key)}", str(value)])
            for key, value in (values.get("registers") or {}).items():
                rows.append([heading, f"Records from register {key}", str(value)])
        if section == "eligibility":
            for reason, value in (values.get("exclusion_reasons") or {}).items():
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


def plain_page(table: pd.DataFrame, *, title: str, caption: str,
               columns: Sequence[str] | None = None, headers: Sequence[str] | None = None,
               numeric: Sequence[str] = (), decimals: Mapping[str, int] | None = None,
               notes: Sequence[str] = (), disclosure: str = "") -> str:
    """Any table as a page: ``columns`` (default: all) with readable ``headers`` (default:
    the names with spaces), numbers in ``decimals`` rounded."""
    columns = list(columns or table.columns)
    shown = table.loc[:, columns].copy()
    for column, digits in (decimals or {}).items():
        shown[column] = [number(v, digits) for v in shown[column]]
    headers = headers or [c.replace("_", " ").capitalize() for c in columns]
    log.info("plain_page %s: %d rows", title, len(shown))
    return html_page(title, [html_table(shown, headers=headers, numeric=numeric,
                                        caption=caption)], notes=notes, disclosure=disclosure)


def duplicates_page(duplicates: pd.DataFrame) -> str:
    """Every record removed as a duplicate, the record kept and the evidence."""
    return plain_page(
        duplicates, title="Duplicate records removed",
        caption=f"{len(duplicates)} records removed as duplicates, with the record kept in "
                "their place and the rule that linked them",
        columns=["removed_record_id", "kept_record_id", "rule", "detail", "removed_source",
                 "kept_source", "title_score", "author_score", "journal_score", "year_match",
                 "volume_match", "pages_match"],
        numeric=["title_score", "author_score", "journal_score"])


def maybe_page(maybe: pd.DataFrame) -> str:
    """Pairs that look alike but were not merged, for a reviewer to decide."""
    return plain_page(
        maybe, title="Possible duplicates left for a reviewer",
        caption=f"{len(maybe)} pairs of records that look alike but were not merged",
        numeric=["title_score", "author_score", "journal_score"])


def agreement_page(agreement: pd.DataFrame, *, level: float = 95,
                   disclosure: str = "") -> str:
    """Agreement between reviewers per screening stage (raw agreement, Cohen's kappa)."""
    table = agreement.copy()
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
    """Records on which the reviewers disagreed and how each disagreement was resolved."""
    return plain_page(
        conflicts, title="Disagreements between reviewers",
        caption=f"{len(conflicts)} records on which the reviewers disagreed, and how each "
                "disagreement was resolved",
        headers=["Record", "Stage", "Decisions", "Resolution", "Final decision"],
        disclosure=disclosure)


def effects_page(effects: pd.DataFrame, pooled: Mapping, *, level: float) -> str:
    """One outcome's study effects (``effects.tsv``) with the pooled estimates under them.

    Ratio measures are shown exponentiated, as the forest plot shows them.
    """
    import math

    measure = str(pooled.get("measure", ""))
    ratio = measure.upper() in RATIO_MEASURES
    lvl = f"{level:g}%"

    def scale(value: object) -> object:
        if is_missing(value):
            return value
        return math.exp(float(value)) if ratio else float(value)

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
        notes.append(f"Not analysable: {item.get('study_id', '')}: {item.get('reason', '')}")
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
