"""Step 6: the unique records (kept record filled from its duplicates), the removed
duplicates and the counts for the audit and PRISMA."""

from __future__ import annotations

import logging
from collections import defaultdict

import pandas as pd

from sysrev.columns import DUPLICATE_COLUMNS, RECORD_COLUMNS
from sysrev.dedup import related
from sysrev.dedup.normalise import COMPLETENESS_FIELDS, _text

log = logging.getLogger(__name__)

SCORE_COLUMNS = ["linked_to", "title_score", "author_score", "journal_score", "year_match",
                 "volume_match", "pages_match"]

UNIQUE_COLUMNS = RECORD_COLUMNS + ["cluster_size", "cluster_records", "cluster_sources",
                                   "filled_fields", "report_kind", "related_reports"]


def _present(value: object) -> bool:
    return isinstance(value, str) and value != "" or (
        value is not None and not isinstance(value, str) and not pd.isna(value))


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
    """
    merged = records.merge(clusters[["record_id", "cluster_id", "kept"]], on="record_id",
                           how="inner", validate="one_to_one")
    for name in ("retraction", "comments_corrections", "publication_types", "title"):
        if name not in merged.columns:
            merged[name] = None
    notices: dict[str, list[str]] = defaultdict(list)
    linked: dict[str, list[str]] = defaultdict(list)
    if related_reports is not None:
        for row in related_reports.itertuples(index=False):
            linked[row.related_record_id].append(f"{row.relation}:{row.record_id}")
            if row.relation == related.RETRACTION:
                notices[row.related_record_id].append(
                    f"{related.RETRACTED} (retraction notice {row.record_id})")
            elif row.relation == related.CONCERN:
                notices[row.related_record_id].append(
                    f"{related.EXPRESSION_OF_CONCERN} (notice {row.record_id})")
    out = []
    for cluster_id, group in merged.groupby("cluster_id", sort=True):
        group = group.sort_values("record_id", kind="mergesort")
        kept = group[group["kept"]].iloc[0].copy()
        others = group[~group["kept"]]
        filled = []
        for name in COMPLETENESS_FIELDS:
            if _present(kept[name]):
                continue
            for _, other in others.iterrows():
                if _present(other[name]):
                    kept[name] = other[name]
                    filled.append(f"{name}<-{other['record_id']}")
                    break
        kept["cluster_size"] = len(group)
        kept["cluster_records"] = "; ".join(group["record_id"])
        kept["cluster_sources"] = "; ".join(sorted(set(group["source"])))
        kept["filled_fields"] = "; ".join(filled)
        statuses = [_text(v) for v in group["retraction"]] + [
            related.retraction_status(_text(t), _text(c), _text(ti)) for t, c, ti in
            zip(group["publication_types"], group["comments_corrections"], group["title"])]
        kept["retraction"] = related.combine_status(statuses + notices.get(cluster_id, []))
        kept["report_kind"] = related.report_kind(
            related.strip_retracted_prefix(_text(kept["title"])),
            _text(kept["publication_types"]))
        kept["related_reports"] = "; ".join(linked.get(cluster_id, []))
        out.append(kept)
    table = pd.DataFrame(out, columns=UNIQUE_COLUMNS) if out else pd.DataFrame(
        columns=UNIQUE_COLUMNS)
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
