"""The whole-table ``unique_records`` and ``duplicate_table`` give, byte for byte, what the
per-cluster implementations they replaced gave (kept below as ``_old_*``, verbatim but for
their names), on the labelled sets in ../shared/testdata/dedup, generated look-alike records
and hand-made edge cases. (The bundled review: tests/workflow/test_dedup_stage.py.)"""

from __future__ import annotations

import io
import sys
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

from sysrev.columns import DUPLICATE_COLUMNS, RECORD_COLUMNS
from sysrev.dedup import (COMPLETENESS_FIELDS, SCORE_COLUMNS, UNIQUE_COLUMNS,
                          duplicate_table, find_duplicates, related, unique_records)
from sysrev.dedup.normalise import _text
from sysrev.tables import FLOAT_FORMAT


# --- the previous implementations (sysrev.dedup at e86e0ef), kept as the reference -------

def _old_present(value: object) -> bool:
    return isinstance(value, str) and value != "" or (
        value is not None and not isinstance(value, str) and not pd.isna(value))


def _old_unique_records(records: pd.DataFrame, clusters: pd.DataFrame,
                        related_reports: pd.DataFrame | None = None) -> pd.DataFrame:
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
            if _old_present(kept[name]):
                continue
            for _, other in others.iterrows():
                if _old_present(other[name]):
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


def _old_duplicate_table(records: pd.DataFrame, clusters: pd.DataFrame) -> pd.DataFrame:
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


# --- comparison ------------------------------------------------------------------------

def _tsv(frame: pd.DataFrame, columns) -> str:
    """What write_tsv writes (same options), as text."""
    out = io.StringIO()
    frame.loc[:, columns].to_csv(out, sep="\t", index=False, lineterminator="\n",
                                 float_format=FLOAT_FORMAT, na_rep="")
    return out.getvalue()


def _as_read(records: pd.DataFrame) -> pd.DataFrame:
    """The record table as the rule reads it (read_tsv: text, empty cells missing)."""
    text = io.StringIO()
    records.reindex(columns=RECORD_COLUMNS).to_csv(
        text, sep="\t", index=False, lineterminator="\n", na_rep="")
    text.seek(0)
    return pd.read_csv(text, sep="\t", dtype=str, keep_default_na=False, na_values=[""])


def _assert_same(records: pd.DataFrame, errata: str = "related",
                 without_related: bool = False) -> None:
    result = find_duplicates(records, errata=errata)
    for rel in (result.related, None) if without_related else (result.related,):
        new = unique_records(records, result.clusters, rel)
        old = _old_unique_records(records, result.clusters, rel)
        pd.testing.assert_frame_equal(new, old, check_dtype=False)
        assert _tsv(new, UNIQUE_COLUMNS) == _tsv(old, UNIQUE_COLUMNS)
    new = duplicate_table(records, result.clusters)
    old = _old_duplicate_table(records, result.clusters)
    pd.testing.assert_frame_equal(new, old)
    assert _tsv(new, DUPLICATE_COLUMNS) == _tsv(old, DUPLICATE_COLUMNS)


def _bibtex_set(folder) -> pd.DataFrame:
    raw = pd.read_csv(folder / "records_pre_merged.csv", dtype=str, keep_default_na=False)
    get = lambda name: raw[name] if name in raw.columns else ""  # noqa: E731
    return _as_read(pd.DataFrame({
        "record_id": raw["ID"], "source": "set", "title": raw["title"],
        "authors": raw["author"].str.replace(r"\s+and\s+", "; ", regex=True),
        "year": get("year"), "journal": get("journal"), "volume": get("volume"),
        "issue": get("number"), "pages": get("pages"), "doi": get("doi"),
        "publication_types": raw["ENTRYTYPE"], "abstract": get("abstract")}))


@pytest.mark.parametrize("name", [
    pytest.param("bibdedupe_cytology_screening", marks=pytest.mark.slow),
    "bibdedupe_special_cases"])
def test_same_as_before_on_bibdedupe_sets(testdata, name):
    _assert_same(_bibtex_set(testdata / "dedup" / name))


@pytest.mark.slow
@pytest.mark.parametrize("errata", ["related", "duplicate"])
def test_same_as_before_on_asysd(testdata, errata):
    from sysrev.imports.csv_export import read_csv_export

    path = testdata / "dedup/asysd_diabetes/labelled_test_set.csv"
    records = read_csv_export(path, source="asysd", layout="csv")
    # Two sources, so that cluster_sources and source-dependent choices are exercised.
    records["source"] = ["asysd" if k % 3 else "other" for k in range(len(records))]
    _assert_same(_as_read(records), errata)


@pytest.mark.slow
def test_same_as_before_on_generated_records(testdata):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from dedup_generator import generate

    records, _ = generate(1500, seed=3)
    _assert_same(_as_read(records))


def test_same_as_before_on_edge_cases():
    rows = [
        # kept record missing fields, filled from the first other record that has them
        {"record_id": "pubmed:1", "source": "pubmed", "pmid": "111", "doi": "10.1/x",
         "title": "Denosumab and bone erosion in rheumatoid arthritis: a randomised trial",
         "authors": "Takeuchi T", "year": "2019", "journal": "Ann Rheum Dis"},
        {"record_id": "embase:1", "source": "embase", "doi": "10.1/x", "volume": "78",
         "title": "Denosumab and bone erosion in rheumatoid arthritis: a randomised trial",
         "authors": "Takeuchi T", "year": "2019", "pages": "899-907", "abstract": "Text"},
        {"record_id": "wos:1", "source": "wos", "doi": "10.1/x", "volume": "77",
         "title": "DENOSUMAB AND BONE EROSION IN RHEUMATOID ARTHRITIS: A RANDOMISED TRIAL",
         "issue": "6", "language": "English", "retraction": "retracted (title marked "
         "retracted/withdrawn)"},
        # a retracted article and its notice; an expression of concern via CommentsCorrections
        {"record_id": "pubmed:2", "source": "pubmed", "pmid": "222",
         "title": "RETRACTED: Zoledronate halves vertebral fractures in older women",
         "authors": "Smith J", "year": "2015", "publication_types": "Retracted Publication",
         "comments_corrections": "RetractionIn 333; ExpressionOfConcernIn 444"},
        {"record_id": "pubmed:3", "source": "pubmed", "pmid": "333",
         "title": "Retraction notice: Zoledronate halves vertebral fractures in older women",
         "authors": "Smith J", "year": "2016", "comments_corrections": "RetractionOf 222"},
        {"record_id": "pubmed:4", "source": "pubmed", "pmid": "444",
         "title": "Expression of concern: Zoledronate halves vertebral fractures in older "
                  "women", "year": "2016",
         "comments_corrections": "ExpressionOfConcernFor 222"},
        # a kept erratum, a non-ASCII title, an empty title, a record alone
        {"record_id": "wos:2", "source": "wos", "title": "Erratum: Teriparatide in men",
         "year": "2018", "publication_types": "Published Erratum"},
        {"record_id": "wos:3", "source": "wos", "title": "Ｒｅｔｒａｃｔｅｄ: ｂｏｎｅ",
         "year": "2018"},
        {"record_id": "central:1", "source": "central", "title": None, "year": "2001"},
        {"record_id": "central:2", "source": "central", "title": "   ", "pages": " "},
    ]
    records = _as_read(pd.DataFrame(rows, columns=RECORD_COLUMNS))
    _assert_same(records, without_related=True)
    # cells that hold a value of another type than text count as present
    records = pd.DataFrame(rows, columns=RECORD_COLUMNS)
    records["year"] = [2019, None, 2019.0, 2015, 2016, 2016, 2018, 2018, float("nan"), 2001]
    _assert_same(records)


def test_empty_tables():
    records = pd.DataFrame(columns=RECORD_COLUMNS)
    clusters = pd.DataFrame(columns=["record_id", "cluster_id", "kept", "kept_record_id",
                                     "rule", "detail"])
    clusters["kept"] = clusters["kept"].astype(bool)
    assert list(unique_records(records, clusters).columns) == UNIQUE_COLUMNS
    assert unique_records(records, clusters).empty


def test_records_beyond_the_clusters_and_in_any_order():
    """unique_records reads the clusters' records by row (no merged copy of the table):
    records without a cluster are left out, the tables' order does not matter, and record
    ids that are not unique are an error, as with the merge it replaced."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from dedup_generator import generate

    records = _as_read(generate(300, seed=5)[0])
    result = find_duplicates(records)
    want = _old_unique_records(records, result.clusters, result.related)
    shuffled = records.sample(frac=1, random_state=1)
    got = unique_records(shuffled, result.clusters.sample(frac=1, random_state=2),
                         result.related)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    whole = result.clusters[result.clusters["cluster_id"].isin(
        set(result.clusters["cluster_id"].iloc[:40]))]
    pd.testing.assert_frame_equal(unique_records(shuffled, whole),
                                  _old_unique_records(records, whole), check_dtype=False)
    with pytest.raises(pd.errors.MergeError):
        unique_records(pd.concat([records, records.iloc[:1]]), result.clusters)
