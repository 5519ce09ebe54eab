"""The update's words: one paragraph for the methods/results text and the report page
"Changes since <previous search date>", both generated from ``changes.tsv``."""

from __future__ import annotations

import html
from typing import Mapping, Sequence

import pandas as pd

from sysrev.update.changes import summary_numbers

_SECTION_TITLES = {
    "records_per_source": "Records per source",
    "record": "New and withdrawn records",
    "study": "New included studies",
    "report": "New included reports",
    "extraction": "Studies whose extracted data changed",
    "decision": "Decisions that changed",
    "outcome": "Results per outcome: previous and current version",
}


def _plural(count: int, singular: str, plural_form: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (plural_form or singular + 's')}"


def _names(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def update_paragraph(changes: pd.DataFrame, *, previous_date: str, current_date: str,
                     labels: Mapping[str, str] | None = None,
                     stopping: str = "") -> str:
    """One plain-text paragraph stating the update's numbers (``stopping``: the stopping
    test's statement, appended when given). ``labels`` names outcomes, studies and sources
    (database names) for readers."""
    labels = dict(labels or {})
    n = summary_numbers(changes)
    per_source = ", ".join(f"{count} from {labels.get(source, source)}" for source, count in
                           sorted(n["new_records_per_source"].items()) if count)
    parts = [f"This update extends the search from {previous_date} to {current_date}. It "
             f"identified {_plural(n['new_records'], 'new record')}"
             + (f" ({per_source})" if per_source else "")
             + (f"; {_plural(n['withdrawn_records'], 'record')} of the previous version "
                f"{'is' if n['withdrawn_records'] == 1 else 'are'} no longer found"
                if n["withdrawn_records"] else "") + "."]
    studies = n["new_studies"]
    parts.append(f"{_plural(len(studies), 'new study', 'new studies')}"
                 + (f" ({_names([labels.get(s, s) for s in studies])})" if studies else "")
                 + f" {'was' if len(studies) == 1 else 'were'} included, with "
                 f"{_plural(n['new_reports'], 'new report')} in all (of new or already "
                 "included studies).")
    if n["studies_with_changed_data"]:
        parts.append("Extracted data changed for "
                     + _names([labels.get(s, s) for s in n["studies_with_changed_data"]])
                     + ".")
    if n["changed_decisions"]:
        parts.append(f"{_plural(n['changed_decisions'], 'earlier screening decision')} "
                     f"changed.")
    outcomes = changes[changes["section"] == "outcome"]
    moved = []
    for outcome in n["outcomes_with_new_k"]:
        rows = outcomes[outcomes["item"] == outcome].set_index("field")
        moved.append(f"{labels.get(outcome, outcome)} (k {rows.at['k', 'previous']} to "
                     f"{rows.at['k', 'current']})")
    if moved:
        parts.append("The number of studies pooled changed for " + _names(moved) + ".")
    else:
        parts.append("No pooled analysis gained or lost a study.")
    if n["outcomes_with_changed_conclusion"]:
        parts.append("The direction or statistical significance of the pooled result "
                     "changed for " + _names([labels.get(o, o) for o in
                                             n["outcomes_with_changed_conclusion"]]) + ".")
    else:
        parts.append("No pooled result changed direction or statistical significance.")
    if n["outcomes_with_changed_certainty"]:
        parts.append("GRADE certainty changed for " + _names(
            [labels.get(o, o) for o in n["outcomes_with_changed_certainty"]]) + ".")
    if stopping:
        parts.append(stopping)
    return " ".join(parts)


def changes_page(changes: pd.DataFrame, *, previous_date: str, paragraph: str,
                 stopping: str = "", figures: Sequence[str] = (), link: str = "") -> str:
    """The report page: the paragraph, then one table per section (changed rows only,
    except per source and per outcome, shown in full), then the version plots. A section
    longer than :data:`sysrev.report.tables.INLINE_ROWS` rows (new records of a large
    library) shows its first rows and links the whole table (``link``, ``changes.tsv``
    relative to the page)."""
    from sysrev.report.htmltable import html_page, html_table
    from sysrev.report.tables import INLINE_ROWS, partial_note

    parts = [f"<p>{html.escape(paragraph)}</p>"]
    if stopping:
        parts.append(f"<p>{html.escape(stopping)}</p>")
    for section, title in _SECTION_TITLES.items():
        part = changes[changes["section"] == section]
        if section not in ("records_per_source", "outcome"):
            part = part[part["changed"] == "yes"]
        shown = part.loc[:, ["item", "field", "previous", "current", "changed"]]
        if len(shown) > INLINE_ROWS:
            parts.append(partial_note(INLINE_ROWS, len(shown), link))
            shown = shown.iloc[:INLINE_ROWS]
        parts.append(html_table(shown, caption=title,
                                headers=["Item", "Field", "Previous", "Current", "Changed"],
                                numeric=()))
    for figure in figures:
        parts.append(f"<p><img src='{html.escape(figure, quote=True)}' "
                     "style='max-width:980px' alt='results by review version'></p>")
    return html_page(f"Changes since {previous_date}", parts,
                     notes=["Every number comes from results/<review>/update/changes.tsv; "
                            "the previous version is read from its archive, never "
                            "rewritten."])
