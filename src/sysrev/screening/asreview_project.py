"""Reviewers' labels in an ASReview LAB project file (``.asreview``).

A project file is a zip archive holding the dataset as uploaded (``data/<file>``) and the
labelling state in SQLite. Three layouts exist (project file versions; ASReview's own
migration code, ``asreview/project/migration``, documents them):

1. ASReview 1.x: ``project.json`` names the dataset (``dataset_path``); the labels are in
   ``reviews/<review id>/results.sql``, table ``results`` (``record_id``, ``label``,
   ``query_strategy``, ``notes``). ``record_id`` is the row position (0, 1, ...) of the
   record in the dataset; prior knowledge has ``query_strategy = 'prior'``.
2. ASReview 2.0: the records are in ``data_store.db`` (table ``record``: ``record_id``,
   ``dataset_row``, ``title``, ``authors``, ``year``, ``doi``, ``included``) and the labels
   in ``reviews/<review id>/results.db`` (``results``: ``record_id``, ``label``,
   ``querier``, ``note``); prior knowledge has no ``querier``.
3. ASReview 2.x after the 2026 migration: one ``results.db`` at the root holding both
   tables.

The labels read are the reviewers' (the ``results`` table), never the dataset's own label
column: a label 1 is ``include``, 0 ``exclude``; a record without a label (the one on screen,
or never shown) has no decision. Prior knowledge that ASReview took from the dataset's own
labels (a prior whose label equals the dataset's) is not a new decision and is skipped; this
is what a living update screened from ``to_screen_asreview.csv`` carries. Records are
matched through the dataset: sysrev's ``record_id`` column when the dataset came from
sysrev, else PMID, DOI, title + year + first author. ASReview 0.x projects (``result.json``
or ``state.h5``) are not read: open them in ASReview 1 or later, which converts them.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

import pandas as pd

from sysrev.errors import InputError
from sysrev.screening.decisions import DECISION_TABLE_COLUMNS
from sysrev.screening.readers import _read_rows, _row, file_kind, ris_entries, ris_keys
from sysrev.screening.matching import RecordMatcher

log = logging.getLogger(__name__)

#: Columns ASReview reads as the dataset's own label (``asreview/data/base.py``).
DATASET_LABEL_COLUMNS = ("asreview_label", "included", "label", "final_included",
                         "label_included", "included_label", "included_final",
                         "included_flag")
_PMID_COLUMNS = ("pubmed_id", "pmid", "pubmed id", "pubmedid")
_TITLE_COLUMNS = ("title", "primary_title", "article title", "ti")
_YEAR_COLUMNS = ("year", "publication_year", "publication year", "py")
_AUTHOR_COLUMNS = ("authors", "author", "first_authors", "au")


def _first(row: dict, names: tuple[str, ...]) -> str:
    for name in names:
        value = row.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def dataset_rows(path: Path, shown_as: str) -> list[dict]:
    """Every record of the project's dataset in file order, with its line and keys.

    CSV/TSV (columns matched case-insensitively) and RIS datasets are read; the keys are
    sysrev's ``record_id`` (when the dataset came from sysrev), PMID, DOI, title, year,
    first author and the dataset's own label.
    """
    kind = file_kind(path)
    rows = []
    if kind == "ris":
        for line, entry in ris_entries(path):
            rows.append({"line": line, **ris_keys(entry), "record_id": "", "label": ""})
        return rows
    if kind != "csv" or path.suffix.lower() in (".xlsx", ".xls"):
        raise InputError(shown_as, "the project's dataset is neither CSV/TSV nor RIS; "
                                   "export the labelled dataset from ASReview as CSV instead")
    _, table = _read_rows(path, shown_as)
    for line, raw in table:
        row = {str(k).strip().lower(): v for k, v in raw.items() if k is not None}
        record_id = (row.get("record_id") or "").strip()
        rows.append({"line": line, "record_id": record_id if ":" in record_id else "",
                     "pmid": _first(row, _PMID_COLUMNS), "doi": _first(row, ("doi",)),
                     "title": _first(row, _TITLE_COLUMNS), "year": _first(row, _YEAR_COLUMNS),
                     "authors": _first(row, _AUTHOR_COLUMNS),
                     "label": _first(row, DATASET_LABEL_COLUMNS)})
    return rows


def _query(db: Path, sql: str) -> pd.DataFrame:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return pd.read_sql_query(sql, conn)


def _columns(db: Path, table: str) -> set[str]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}


def _label_value(value: object) -> int | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or str(value) == "":
        return None
    try:
        number = int(float(value))
    except ValueError:
        return None
    return number if number in (0, 1) else None


def read_asreview_project(path: str | Path, matcher: RecordMatcher, *, stage: str,
                          reviewer: str) -> pd.DataFrame:
    """The labels of an ASReview project file as ``reviewer``'s decisions at ``stage``.

    Rows point at the dataset inside the project (``file`` is ``<project>:data/<dataset>``,
    ``line`` the record's line in it).

    Raises
    ------
    InputError
        When the file is not a zip archive, has no ``project.json``, is an ASReview 0.x
        project, has more than one review, or its SQLite tables lack the columns above.
    """
    path = Path(path)
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as err:
        raise InputError(path, f"not an ASReview project file (not a zip archive: {err})")
    with archive, tempfile.TemporaryDirectory() as tmp:
        names = [n for n in archive.namelist()
                 if not n.startswith("__MACOSX/") and not n.endswith("/")]
        configs = sorted((n for n in names if PurePosixPath(n).name == "project.json"
                          and "legacy" not in PurePosixPath(n).parts[:-1]), key=len)
        if not configs:
            raise InputError(path, "not an ASReview project file: no project.json inside")
        root = str(PurePosixPath(configs[0]).parent)
        root = "" if root == "." else root + "/"
        config = json.loads(archive.read(configs[0]).decode("utf-8"))

        def member(name: str) -> Path | None:
            if root + name not in names:
                return None
            target = Path(tmp, name.replace("/", "_"))
            target.write_bytes(archive.read(root + name))
            return target

        if any(n.startswith(root) and PurePosixPath(n).name in ("result.json", "state.h5")
               for n in names) and not any(n.endswith(("results.sql", "results.db"))
                                           for n in names):
            raise InputError(path, "an ASReview 0.x project; open it in ASReview 1 or later "
                                   "(which converts it) and export the project again")
        reviews = config.get("reviews") or []
        if len(reviews) > 1:
            raise InputError(path, f"{len(reviews)} reviews in one project; sysrev cannot "
                                   "tell which holds the decisions")
        review_id = reviews[0].get("id") if reviews else None

        if member("results.db") is not None and "record" in _tables(Path(tmp,
                                                                         "results.db")):
            layout, results_db = 3, Path(tmp, "results.db")
            store_db = results_db
        elif review_id and member(f"reviews/{review_id}/results.db") is not None:
            layout = 2
            results_db = Path(tmp, f"reviews_{review_id}_results.db")
            store_db = member("data_store.db")
            if store_db is None:
                raise InputError(path, "ASReview 2 project without data_store.db")
        elif review_id and member(f"reviews/{review_id}/results.sql") is not None:
            layout, results_db, store_db = 1, Path(tmp, f"reviews_{review_id}_results.sql"), None
        else:
            raise InputError(path, "no labelling results in the project (no results.db or "
                                   "reviews/<id>/results.sql); was a review started?")

        if layout == 1:
            dataset_name = config.get("dataset_path")
        else:
            datasets = config.get("datasets") or []
            if len(datasets) > 1:
                raise InputError(path, f"{len(datasets)} datasets in one project; sysrev "
                                       "reads projects of one dataset")
            dataset_name = datasets[0].get("name") if datasets else None
        data_file = member(f"data/{dataset_name}") if dataset_name else None
        shown_as = f"{path}:data/{dataset_name}"
        rows = dataset_rows(data_file, shown_as) if data_file is not None else []

        needed = {"record_id", "label"}
        have = _columns(results_db, "results")
        if not needed <= have:
            raise InputError(path, f"the results table lacks {sorted(needed - have)}; "
                                   f"its columns are {sorted(have)}")
        prior_column = "query_strategy" if layout == 1 else "querier"
        note_column = next((c for c in ("notes", "note") if c in have), None)
        results = _query(results_db, "SELECT record_id, label, "
                         + (f"{prior_column} AS prior_mark, " if prior_column in have
                            else "NULL AS prior_mark, ")
                         + (f"{note_column} AS note" if note_column else "'' AS note")
                         + " FROM results")
        if layout == 1:
            by_id = {i: dict(r) for i, r in enumerate(rows)}
            results["is_prior"] = results["prior_mark"] == "prior"
        else:
            store = _query(store_db, "SELECT record_id, dataset_row, title, authors, year, "
                                     "doi, included FROM record")
            by_id = {}
            for rec in store.itertuples(index=False):
                base = dict(rows[rec.dataset_row]) if 0 <= rec.dataset_row < len(rows) else {
                    "line": int(rec.dataset_row) + 2, "record_id": "", "pmid": ""}
                authors = rec.authors
                try:
                    parsed = json.loads(authors) if isinstance(authors, str) else []
                    authors = "; ".join(parsed) if isinstance(parsed, list) else authors
                except ValueError:
                    pass
                base.update({k: v for k, v in (("title", rec.title), ("doi", rec.doi),
                                               ("authors", authors),
                                               ("year", "" if pd.isna(rec.year) else
                                                str(int(rec.year)))) if v})
                included = _label_value(rec.included)
                base["label"] = "" if included is None else str(included)
                by_id[int(rec.record_id)] = base
            results["is_prior"] = results["prior_mark"].isna()
    out, skipped, unlabelled = [], 0, 0
    for result in results.itertuples(index=False):
        label = _label_value(result.label)
        if label is None:
            unlabelled += 1
            continue
        info = by_id.get(int(result.record_id))
        if info is None:
            raise InputError(path, f"label for ASReview record {result.record_id}, which "
                                   "is not in the project's dataset")
        if result.is_prior and str(_label_value(info.get("label"))) == str(label):
            skipped += 1
            continue
        found = matcher.match(record_id=info.get("record_id") or None,
                              pmid=info.get("pmid"), doi=info.get("doi"),
                              title=info.get("title"), year=info.get("year"),
                              authors=info.get("authors"))
        note = result.note if isinstance(result.note, str) else ""
        out.append(_row(shown_as, info["line"], found,
                        info.get("record_id") or f"ASReview record {result.record_id}",
                        reviewer, stage, "include" if label == 1 else "exclude", note=note))
    log.info("%s: ASReview project layout %d, %d records in the dataset, %d labels read, "
             "%d prior-knowledge labels from the dataset skipped, %d records on screen "
             "without a label", path, layout, len(by_id), len(out), skipped, unlabelled)
    return pd.DataFrame(out, columns=DECISION_TABLE_COLUMNS)


def _tables(db: Path) -> set[str]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master "
                                           "WHERE type='table'")}
