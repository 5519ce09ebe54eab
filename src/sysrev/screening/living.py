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

import numpy as np
import pandas as pd

from sysrev.imports.records import display_title

TO_SCREEN_COLUMNS = ["record_id", "stage", "new_since_last_search", "why", "title",
                     "authors", "year", "journal", "abstract", "doi", "doi_url", "pmid",
                     "pubmed_url", "other_ids"]
#: Columns added to ``to_screen.csv`` when the review's sources link related reports (a
#: trial's registration and its papers, a preprint and its journal version).
STUDY_CANDIDATE_COLUMNS = ["study_candidate", "related_reports"]
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


def neutralise_column(column: pd.Series) -> pd.Series:
    """:func:`neutralise` of every cell, looking at the cells that start like a formula only
    (most cells do not)."""
    if column.dtype != object:
        return column
    risky = _formula_like(column)
    if not risky.any():
        return column
    out = column.copy()
    out[risky] = "'" + column[risky]
    return out


def _formula_like(column: pd.Series) -> pd.Series:
    """True for the text cells of an object column that start like a formula."""
    try:
        return column.str.startswith(_FORMULA_START, na=False).astype(bool)
    except AttributeError:  # no text in the column (.str refuses it)
        return pd.Series(False, index=column.index)


def _text_or_empty(column: pd.Series) -> pd.Series:
    """The text cells of ``column``; every other cell (NA, a number) ``""``."""
    return column.where(column.map(type) == str, "")


def new_since_last_search(unique: pd.DataFrame, current_pmids: set[str],
                          previous_pmids: set[str] | None) -> pd.Series:
    """``yes`` for unique records found by this search's PubMed snapshot and not the last
    one, ``no`` for records the last snapshot had, ``unknown`` for records that only other
    sources found (their exports carry no history) or when there is no earlier search."""
    pmid = unique["pmid"]
    result = pd.Series("unknown", index=unique.index, dtype=object, name="pmid")
    if previous_pmids is None:
        return result
    text = pmid.map(type) == str
    current = text & _member(pmid, current_pmids)
    result[current] = "yes"
    result[current & _member(pmid, previous_pmids)] = "no"
    return result


def _member(values: pd.Series, keys) -> pd.Series:
    """``values.isin(keys)`` for a set or a :class:`sysrev.screening.streaming.KeySet`."""
    if isinstance(keys, (set, frozenset)):
        return values.isin(keys)
    return pd.Series(keys.isin(values), index=values.index, dtype=bool)


def new_since_previous_version(unique: pd.DataFrame, clusters: pd.DataFrame,
                               previous_records: set[str]) -> pd.Series:
    """``yes`` for unique records none of whose copies (in any source) the previous version
    of the review had identified, ``no`` otherwise. Exact for every source, because it uses
    the archived record table of that version."""
    seen = set(clusters.loc[clusters["record_id"].isin(previous_records), "cluster_id"])
    return new_since_seen(unique, seen)


def new_since_seen(unique: pd.DataFrame, seen) -> pd.Series:
    """``no`` for unique records in ``seen`` (the unique records some copy of which the
    previous version had: a set or a :class:`~sysrev.screening.streaming.KeySet`), ``yes``
    for the others (:func:`new_since_previous_version`)."""
    known = _member(unique["record_id"], seen).to_numpy()
    return pd.Series(np.where(known, "no", "yes").astype(object), index=unique.index,
                     dtype=object, name="record_id")


def to_screen(unique: pd.DataFrame, finals: pd.DataFrame, newness: pd.Series) -> pd.DataFrame:
    """Unique records whose title/abstract or full-text decision is pending, newest first."""
    pending = finals.loc[finals["final_decision"] == "pending", ["record_id", "stage", "basis"]]
    fields = ["title", "authors", "year", "journal", "abstract", "doi", "pmid",
              "cluster_records"]
    info = unique.loc[:, ["record_id"] + fields].assign(
        new_since_last_search=list(newness))
    # The first row of a record id, as a lookup by id gives it.
    info = info.drop_duplicates("record_id")
    table = pending.merge(info, on="record_id", how="left", sort=False, indicator=True)
    if (table["_merge"] != "both").any():
        raise KeyError(table.loc[table["_merge"] != "both", "record_id"].iloc[0])
    doi, pmid = _text_or_empty(table["doi"]), _text_or_empty(table["pmid"])
    table = table.assign(
        why=table["basis"], title=table["title"].map(display_title), doi=doi, pmid=pmid,
        doi_url=("https://doi.org/" + doi).where(doi != "", ""),
        pubmed_url=("https://pubmed.ncbi.nlm.nih.gov/" + pmid + "/").where(pmid != "", ""),
        other_ids=["; ".join(r for r in str(c).split("; ") if r and r != record)
                   for record, c in zip(table["record_id"], table["cluster_records"])])
    table = table.loc[:, TO_SCREEN_COLUMNS]
    order = {"yes": 0, "unknown": 1, "no": 2}
    stage_order = {"full_text": 0, "title_abstract": 1}
    table = table.assign(_new=table["new_since_last_search"].map(order),
                         _stage=table["stage"].map(stage_order)).sort_values(
        ["_new", "_stage", "record_id"], kind="mergesort").drop(columns=["_new", "_stage"])
    for column in TO_SCREEN_COLUMNS:
        table[column] = neutralise_column(table[column])
    return table.reset_index(drop=True)


def group_by_study(pending: pd.DataFrame, candidates: dict[str, str]) -> pd.DataFrame:
    """``pending`` (:func:`to_screen`) with each record's study candidate (``candidates``:
    :func:`sysrev.related_reports.study_candidates`; a record in none is its own) and the
    other unique records of that candidate (``related_reports``, screened or not: a preprint
    to screen shows the journal version already included), the records of one candidate
    next to each other where the first of them stood."""
    table = with_study_candidates(pending, candidates, study_members(candidates))
    first: dict[str, int] = {}
    for position, name in enumerate(_study_names(pending, candidates)):
        first.setdefault(name, position)
    table = table.assign(_first=[first[name] for name in _study_names(pending, candidates)])
    table = table.sort_values("_first", kind="mergesort").drop(columns="_first")
    return table.reset_index(drop=True)


def study_members(candidates: dict[str, str]) -> dict[str, list[str]]:
    """Study candidate -> its unique records, sorted."""
    members: dict[str, list[str]] = {}
    for record, name in sorted(candidates.items()):
        members.setdefault(name, []).append(record)
    return members


def _study_names(pending: pd.DataFrame, candidates: dict[str, str]) -> list[str]:
    return [candidates.get(r, r) for r in pending["record_id"]]


def with_study_candidates(pending: pd.DataFrame, candidates: dict[str, str],
                          members: dict[str, list[str]]) -> pd.DataFrame:
    """``pending`` with the :data:`STUDY_CANDIDATE_COLUMNS` of each row (neutralised), in
    its order (:func:`group_by_study` then moves the records of one candidate together)."""
    study = _study_names(pending, candidates)
    table = pending.assign(
        study_candidate=study,
        related_reports=["; ".join(m for m in members.get(name, []) if m != record)
                         for record, name in zip(pending["record_id"], study)])
    for column in STUDY_CANDIDATE_COLUMNS:
        table[column] = neutralise_column(table[column])
    return table


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
    rec = unique.sort_values("record_id", kind="mergesort").reset_index(drop=True)
    doi, pmid = _text_or_empty(rec["doi"]), _text_or_empty(rec["pmid"])
    url = ("https://doi.org/" + doi).where(
        doi != "", ("https://pubmed.ncbi.nlm.nih.gov/" + pmid + "/").where(pmid != "", ""))
    table = pd.DataFrame({
        "record_id": rec["record_id"], "title": rec["title"].map(display_title),
        "abstract": _text_or_empty(rec["abstract"]), "authors": _text_or_empty(rec["authors"]),
        "year": _text_or_empty(rec["year"]), "journal": _text_or_empty(rec["journal"]),
        "doi": doi, "pubmed_id": pmid, "url": url,
        "label_included": rec["record_id"].map(label).fillna("")},
        columns=ASREVIEW_COLUMNS)
    for column in ASREVIEW_COLUMNS:
        table[column] = neutralise_column(table[column].astype(object))
    return table
