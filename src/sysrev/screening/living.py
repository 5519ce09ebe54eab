"""The living review's work list: unique records that still need a screening decision.

``to_screen.csv`` lists the records still to screen. ``to_screen_asreview.csv`` is the same
work for ASReview LAB: every unique record, the already-screened ones labelled with the
team's final title/abstract decision (``label_included`` 1 include, 0 exclude) and the
others left empty, so that ASReview takes the team's decisions as prior knowledge and ranks
only the unlabelled records (ASReview documentation, "Partially labeled data"). Its
``record_id`` column carries sysrev's ids back: the project file or export read as decisions
matches every record by it.

Both files are meant to be opened in a spreadsheet or imported into Rayyan or
ASReview, so every text cell that a spreadsheet would read as a formula (starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return) is prefixed with a single quote (OWASP,
"CSV injection").
"""

from __future__ import annotations

import pandas as pd

from sysrev.imports.records import display_title

TO_SCREEN_COLUMNS = ["record_id", "stage", "new_since_last_search", "why", "title",
                     "authors", "year", "journal", "abstract", "doi", "doi_url", "pmid",
                     "pubmed_url", "other_ids"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Columns of the ASReview file, named as ASReview reads them (``label_included`` is one of
#: its label column names; ``record_id`` is ignored by ASReview and kept in the dataset).
ASREVIEW_COLUMNS = ["record_id", "title", "abstract", "authors", "year", "journal", "doi",
                    "pubmed_id", "url", "label_included"]
_LABELS = {"include": "1", "exclude": "0"}


def neutralise(value: object) -> object:
    """Prefix a text cell that a spreadsheet would evaluate as a formula with ``'``."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def new_since_last_search(unique: pd.DataFrame, current_pmids: set[str],
                          previous_pmids: set[str] | None) -> pd.Series:
    """``yes`` for unique records found by this search's PubMed snapshot and not the last
    one, ``no`` for records the last snapshot had, ``unknown`` for records that only other
    sources found (their exports carry no history) or when there is no earlier search."""
    def judge(pmid: object) -> str:
        if previous_pmids is None or not isinstance(pmid, str) or pmid not in current_pmids:
            return "unknown"
        return "no" if pmid in previous_pmids else "yes"

    return unique["pmid"].map(judge)


def new_since_previous_version(unique: pd.DataFrame, clusters: pd.DataFrame,
                               previous_records: set[str]) -> pd.Series:
    """``yes`` for unique records none of whose copies (in any source) the previous version
    of the review had identified, ``no`` otherwise. Exact for every source, because it uses
    the archived record table of that version."""
    seen = set(clusters.loc[clusters["record_id"].isin(previous_records), "cluster_id"])
    return unique["record_id"].map(lambda r: "no" if r in seen else "yes")


def to_screen(unique: pd.DataFrame, finals: pd.DataFrame, newness: pd.Series) -> pd.DataFrame:
    """Unique records whose title/abstract or full-text decision is pending, newest first."""
    pending = finals[finals["final_decision"] == "pending"]
    info = unique.set_index("record_id")
    new = dict(zip(unique["record_id"], newness))
    rows = []
    for record, stage, basis in zip(pending["record_id"], pending["stage"], pending["basis"]):
        rec = info.loc[record]
        doi = rec["doi"] if isinstance(rec["doi"], str) else ""
        pmid = rec["pmid"] if isinstance(rec["pmid"], str) else ""
        others = [r for r in str(rec["cluster_records"]).split("; ") if r and r != record]
        rows.append({"record_id": record, "stage": stage, "new_since_last_search":
                     new.get(record, "unknown"), "why": basis,
                     "title": display_title(rec["title"]),
                     "authors": rec["authors"], "year": rec["year"], "journal": rec["journal"],
                     "abstract": rec["abstract"], "doi": doi,
                     "doi_url": f"https://doi.org/{doi}" if doi else "", "pmid": pmid,
                     "pubmed_url": f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" if pmid else "",
                     "other_ids": "; ".join(others)})
    table = pd.DataFrame(rows, columns=TO_SCREEN_COLUMNS)
    order = {"yes": 0, "unknown": 1, "no": 2}
    stage_order = {"full_text": 0, "title_abstract": 1}
    table = table.assign(_new=table["new_since_last_search"].map(order),
                         _stage=table["stage"].map(stage_order)).sort_values(
        ["_new", "_stage", "record_id"], kind="mergesort").drop(columns=["_new", "_stage"])
    for column in TO_SCREEN_COLUMNS:
        table[column] = table[column].map(neutralise)
    return table.reset_index(drop=True)


def asreview_prior_knowledge(unique: pd.DataFrame, finals: pd.DataFrame) -> pd.DataFrame:
    """Every unique record for ASReview, labelled with its final title/abstract decision.

    ``label_included`` is ``1`` for a record that went forward at title/abstract, ``0`` for
    one excluded there, and empty for a record without a final title/abstract decision
    (new, or pending). Title/abstract is the stage ASReview screens, so a record later
    excluded at full text keeps ``1``: it did look relevant on its title and abstract.
    Rows are sorted by ``record_id``; formula-like cells are neutralised.
    """
    ta = finals[finals["stage"] == "title_abstract"]
    label = dict(zip(ta["record_id"], ta["final_decision"].map(_LABELS).fillna("")))

    def text(value: object) -> str:
        return value if isinstance(value, str) else ""

    rows = []
    for rec in unique.sort_values("record_id", kind="mergesort").itertuples(index=False):
        doi, pmid = text(rec.doi), text(rec.pmid)
        rows.append({"record_id": rec.record_id, "title": display_title(rec.title),
                     "abstract": text(rec.abstract), "authors": text(rec.authors),
                     "year": text(rec.year), "journal": text(rec.journal), "doi": doi,
                     "pubmed_id": pmid,
                     "url": (f"https://doi.org/{doi}" if doi else
                             f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" if pmid else ""),
                     "label_included": label.get(rec.record_id, "")})
    table = pd.DataFrame(rows, columns=ASREVIEW_COLUMNS)
    for column in ASREVIEW_COLUMNS:
        table[column] = table[column].map(neutralise)
    return table
