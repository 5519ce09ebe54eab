"""Step 6: the unique records (kept record filled from its duplicates), the removed
duplicates and the counts for the audit and PRISMA."""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Sequence

import numpy as np
import pandas as pd

from sysrev.columns import DUPLICATE_COLUMNS, RECORD_COLUMNS
from sysrev.dedup import related
from sysrev.dedup.normalise import COMPLETENESS_FIELDS, _text

log = logging.getLogger(__name__)

SCORE_COLUMNS = ["linked_to", "title_score", "author_score", "journal_score", "year_match",
                 "volume_match", "pages_match"]

UNIQUE_COLUMNS = RECORD_COLUMNS + ["cluster_size", "cluster_records", "cluster_sources",
                                   "filled_fields", "report_kind", "related_reports"]


def _present(values: pd.Series) -> np.ndarray:
    """Cells that hold a value: a non-empty string, or a non-missing non-string."""
    return (values.notna() & (values.astype(object) != "")).to_numpy()


def _texts(values: pd.Series) -> list[str]:
    return [_text(v) for v in values.tolist()]


def _join_groups(keys: np.ndarray, values: Sequence[str]) -> dict:
    """``"; "``-joined values per key, in the order given (keys with one value skip the
    join)."""
    out: dict = {}
    for key, value in zip(keys.tolist(), values):
        got = out.get(key)
        out[key] = value if got is None else f"{got}; {value}"
    return out


def _may_be_retracted(given: np.ndarray, notes: np.ndarray, types: np.ndarray,
                      titles: np.ndarray) -> np.ndarray:
    """Records whose retraction status :func:`unique_records` must read (a superset of
    those with one): a status or CommentsCorrections given, a publication type naming a
    retracted publication, or a title that is not ASCII or names a retraction or
    withdrawal. Plain string tests on the cells as they are (text cells are not stripped
    or converted one by one: most records have none of these)."""
    def as_text(value) -> str:
        if isinstance(value, str):
            return value
        if value is None or value is pd.NA or (isinstance(value, float) and value != value):
            return ""
        return _text(value)

    def typed(value) -> bool:
        return "retracted publication" in as_text(value).casefold()

    def titled(value) -> bool:
        value = as_text(value)
        if not value.isascii():
            return True
        lower = value.lower()  # casefold() of ASCII text
        return "retract" in lower or "withdraw" in lower

    out = _present(pd.Series(given, dtype=object)) | _present(pd.Series(notes, dtype=object))
    out |= np.fromiter(map(typed, types.tolist()), dtype=bool, count=len(types))
    out |= np.fromiter(map(titled, titles.tolist()), dtype=bool, count=len(titles))
    return out


def unique_records(records: pd.DataFrame, clusters: pd.DataFrame,
                   related_reports: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per cluster: the kept record with empty fields filled from its duplicates.

    ``filled_fields`` lists each filled field with the record it came from
    (``doi<-embase:SYSREV-EMB-0003``). ``retraction`` is the cluster's status: any of its
    records marked retracted or under an expression of concern (PubMed publication type or
    CommentsCorrections, a ``RETRACTED:`` title), or a retraction notice or expression of
    concern linked to it in ``related_reports`` (:attr:`DedupResult.related`).
    ``report_kind`` says what the kept record is (``erratum``, ``comment``…; empty for an
    article) and ``related_reports`` lists the reports linked to it (``erratum:<id>``).

    Notes
    -----
    Whole-table operations (sorts, first-per-cluster selections, maps): time and memory grow
    linearly with the number of records. A field is filled from the first record, in
    record-id order, of the cluster's other records that has it.
    """
    # The records that have a cluster, each cluster's in record-id order, as rows of
    # ``records`` (no copy of the whole table: only the kept rows are copied, below).
    record_index = pd.Index(records["record_id"])
    if not (record_index.is_unique and pd.Index(clusters["record_id"]).is_unique):
        raise pd.errors.MergeError("record ids are not unique in the records or the "
                                   "clusters; not a one-to-one merge")
    at = record_index.get_indexer(clusters["record_id"])
    has = at >= 0
    if not has.any():
        return pd.DataFrame(columns=UNIQUE_COLUMNS)
    order = pd.DataFrame({"cluster_id": clusters["cluster_id"].to_numpy()[has],
                          "record_id": records["record_id"].to_numpy()[at[has]]}
                         ).sort_values(["cluster_id", "record_id"], kind="mergesort"
                                       ).index.to_numpy()
    rows = at[has][order]  # row in records of each record, in (cluster, record id) order
    cluster = clusters["cluster_id"].to_numpy()[has][order]
    kept_mask = clusters["kept"].to_numpy(dtype=bool)[has][order]

    def column(name: str) -> np.ndarray:
        """``records[name]`` in that order (None where the table has no such column)."""
        if name not in records.columns:
            return np.full(len(rows), None, dtype=object)
        return records[name].to_numpy()[rows]

    # The first kept record of each cluster.
    kept_rows = np.nonzero(kept_mask)[0]
    first_kept = np.ones(len(kept_rows), dtype=bool)
    first_kept[1:] = cluster[kept_rows[1:]] != cluster[kept_rows[:-1]]
    kept_rows = kept_rows[first_kept]
    out = records.take(rows[kept_rows])
    for name in ("retraction", "comments_corrections", "publication_types", "title"):
        if name not in out.columns:
            out[name] = None
    kept_cluster = cluster[kept_rows]
    others = ~kept_mask
    record_ids = column("record_id")

    filled = [[] for _ in range(len(out))]
    for name in COMPLETENESS_FIELDS:
        if name not in records.columns:
            continue
        values = records[name]
        present = _present(values)[rows]
        empty = np.nonzero(~present[kept_rows])[0]
        if not len(empty):
            continue
        donors = np.nonzero(others & present)[0]
        if not len(donors):
            continue
        # The first donor of each cluster (rows are in cluster, record-id order).
        first = np.ones(len(donors), dtype=bool)
        first[1:] = cluster[donors[1:]] != cluster[donors[:-1]]
        donors = donors[first]
        donor_of = pd.Series(donors, index=cluster[donors])
        found = donor_of.reindex(kept_cluster[empty])
        hit = found.notna().to_numpy()
        if not hit.any():
            continue
        targets, sources = empty[hit], found.to_numpy()[hit].astype(np.int64)
        out.iloc[targets, out.columns.get_loc(name)] = values.to_numpy()[rows[sources]]
        for target, rid in zip(targets.tolist(), record_ids[sources].tolist()):
            filled[target].append(f"{name}<-{rid}")

    sizes = pd.Series(cluster).value_counts(sort=False)
    out["cluster_size"] = sizes.reindex(kept_cluster).to_numpy()
    out["cluster_records"] = [*map(_join_groups(cluster, record_ids.tolist()).get,
                                   kept_cluster.tolist())]
    sources = pd.DataFrame({"cluster_id": cluster, "source": column("source")}
                           ).drop_duplicates().sort_values(["cluster_id", "source"],
                                                           kind="mergesort")
    out["cluster_sources"] = [*map(_join_groups(sources["cluster_id"].to_numpy(),
                                                sources["source"].tolist()).get,
                                   kept_cluster.tolist())]
    out["filled_fields"] = ["; ".join(f) for f in filled]

    # Retraction status: the records' own (as given, then as read from their fields), then
    # the notices linked to the cluster, for the few clusters that have any. Only the
    # records that may have one are read one by one (_may_be_retracted).
    given_col, notes_col = column("retraction"), column("comments_corrections")
    types_col, titles_col = column("publication_types"), column("title")
    statuses: dict = {}
    for k in np.nonzero(_may_be_retracted(given_col, notes_col, types_col, titles_col)
                        )[0].tolist():
        given, notes = _text(given_col[k]), _text(notes_col[k])
        types, title = _text(types_col[k]), _text(titles_col[k])
        # retraction_status gives "" unless one of these holds (a title that folds to
        # "retracted:" may be written in other characters: non-ASCII titles are read too).
        readable = notes or "retracted publication" in types.casefold() or (
            title and (not title.isascii() or "retract" in title.casefold()
                       or "withdraw" in title.casefold()))
        if given or readable:
            own = related.retraction_status(types, notes, title) if readable else ""
            if given or own:
                first, second = statuses.setdefault(cluster[k], ([], []))
                first.append(given)
                second.append(own)
    linked: dict[str, list[str]] = defaultdict(list)
    if related_reports is not None:
        for rid, article, relation in zip(related_reports["record_id"].tolist(),
                                          related_reports["related_record_id"].tolist(),
                                          related_reports["relation"].tolist()):
            linked[article].append(f"{relation}:{rid}")
            if relation == related.RETRACTION:
                statuses.setdefault(article, ([], []))[1].append(
                    f"{related.RETRACTED} (retraction notice {rid})")
            elif relation == related.CONCERN:
                statuses.setdefault(article, ([], []))[1].append(
                    f"{related.EXPRESSION_OF_CONCERN} (notice {rid})")
    combined = {key: related.combine_status(first + second)
                for key, (first, second) in statuses.items()}
    out["retraction"] = [combined.get(c, "") for c in kept_cluster.tolist()]
    out["report_kind"] = related.report_kinds(
        [related.strip_retracted_prefix(t) for t in _texts(out["title"])],
        _texts(out["publication_types"]))
    out["related_reports"] = ["; ".join(linked.get(c, [])) for c in kept_cluster.tolist()]
    table = out.reindex(columns=UNIQUE_COLUMNS)
    return table.sort_values("record_id", kind="mergesort").reset_index(drop=True)


def duplicate_table(records: pd.DataFrame, clusters: pd.DataFrame) -> pd.DataFrame:
    """The removed records: which record each was removed for, by which rule, with scores."""
    removed = clusters[~clusters["kept"]]
    source = records.set_index("record_id")["source"]
    table = pd.DataFrame({
        "removed_record_id": removed["record_id"],
        "kept_record_id": removed["kept_record_id"],
        "cluster_id": removed["cluster_id"],
        "rule": removed["rule"],
        "detail": removed["detail"],
        "removed_source": removed["record_id"].map(source),
        "kept_source": removed["kept_record_id"].map(source),
        **{c: removed[c] for c in SCORE_COLUMNS if c in removed.columns},
    }, columns=DUPLICATE_COLUMNS)
    return table.sort_values("removed_record_id", kind="mergesort").reset_index(drop=True)


def duplicate_counts(records: pd.DataFrame, clusters: pd.DataFrame) -> dict[str, object]:
    """Counts for the audit and PRISMA: per source, and duplicates within and across sources."""
    merged = records[["record_id", "source"]].merge(clusters, on="record_id")
    kept_source = merged.set_index("record_id")["source"]
    removed = merged[~merged["kept"]]
    same_source = removed["source"].values == removed["kept_record_id"].map(kept_source).values
    within = int(same_source.sum())
    by_source = {}
    for src, group in merged.groupby("source", sort=True):
        gone = group[~group["kept"]]
        g_same = gone["source"].values == gone["kept_record_id"].map(kept_source).values
        by_source[str(src)] = {"records": int(len(group)), "kept": int(group["kept"].sum()),
                               "removed_within_source": int(g_same.sum()),
                               "removed_across_sources": int(len(gone) - g_same.sum())}
    return {
        "records_in": int(len(records)),
        "records_per_source": {s: int(n) for s, n in
                               records["source"].value_counts().sort_index().items()},
        "unique_records": int(clusters["kept"].sum()),
        "duplicates_removed": int(len(removed)),
        "duplicates_within_source": within,
        "duplicates_across_sources": int(len(removed)) - within,
        "duplicates_by_rule": {r: int(n) for r, n in
                               removed["rule"].value_counts().sort_index().items()},
        "by_source": by_source,
    }


def read_clusters(path) -> pd.DataFrame:
    """Read ``clusters.tsv`` back, with ``kept`` as booleans."""
    from sysrev.tables import read_tsv

    table = read_tsv(path)
    table["kept"] = table["kept"] == "yes"
    return table
