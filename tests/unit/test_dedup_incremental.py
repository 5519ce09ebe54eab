"""Incremental deduplication (sysrev.dedup.incremental through the rule's function
sysrev.workflow.dedup.deduplicate_records): an update of an earlier run equals a run from
scratch on the union but for the differences the module lists; a stale index is rebuilt."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from sysrev.dedup import incremental as inc
from sysrev.dedup.unique import read_clusters
from sysrev.tables import read_tsv
from sysrev.workflow.dedup import deduplicate_records

from tests.unit.test_dedup_unique import _as_read, _bibtex_set

OUTPUTS = ("unique", "duplicates", "clusters", "maybe", "related")


def _run(folder: Path, records: pd.DataFrame, incremental: bool = True, **kwargs) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    records.to_csv(folder / "records.tsv", sep="\t", index=False, lineterminator="\n")
    out = {k: str(folder / f"dedup/{k}.tsv") for k in OUTPUTS}
    deduplicate_records(records=str(folder / "records.tsv"), audit=str(folder / "audit.json"),
                        source_priority=["pubmed"], incremental=incremental, **out, **kwargs)
    return json.loads((folder / "audit.json").read_text())


def _check_update(tmp_path: Path, records: pd.DataFrame, every: int = 5) -> pd.DataFrame:
    """Split ``records`` (every ``every``-th in record-id order is the update), run the
    earlier part, then the union as an update and from scratch; returns the differences,
    after checking they are only the listed kinds."""
    records = records.sort_values("record_id", kind="mergesort").reset_index(drop=True)
    update = records.index % every == 2
    _run(tmp_path / "before", records[~update], incremental=False)
    _run(tmp_path / "inc", records[~update])
    audit = _run(tmp_path / "inc", records)
    assert audit["counts"]["index"]["mode"] == "update"
    assert audit["counts"]["index"]["new_records"] == int(update.sum())
    _run(tmp_path / "scratch", records, incremental=False)
    before = read_clusters(tmp_path / "before/dedup/clusters.tsv")
    updated = read_clusters(tmp_path / "inc/dedup/clusters.tsv")
    scratch = read_clusters(tmp_path / "scratch/dedup/clusters.tsv")
    # The earlier run's rows are unchanged: a kept record stays kept, in its cluster.
    merged = before.merge(updated, on="record_id", suffixes=("", "_now"))
    assert len(merged) == len(before)
    assert (merged["cluster_id"] == merged["cluster_id_now"]).all()
    assert (merged["kept"] == merged["kept_now"]).all()
    found = inc.differences(before, scratch, updated, records.loc[update, "record_id"])
    assert set(found["cause"]) <= {"kept", "bridge", "neighbourhood"}, found
    return found


def test_update_equals_scratch_on_special_cases(tmp_path, testdata):
    records = _bibtex_set(testdata / "dedup" / "bibdedupe_special_cases")
    found = _check_update(tmp_path, records)
    assert found.empty
    for name in OUTPUTS:
        assert (tmp_path / f"inc/dedup/{name}.tsv").read_bytes() == \
            (tmp_path / f"scratch/dedup/{name}.tsv").read_bytes(), name


@pytest.mark.slow
@pytest.mark.parametrize("name", ["bibdedupe_cytology_screening", "asysd_diabetes"])
def test_update_on_labelled_sets(tmp_path, testdata, name):
    if name == "asysd_diabetes":
        from sysrev.imports.csv_export import read_csv_export

        records = _as_read(read_csv_export(testdata / "dedup/asysd_diabetes/labelled_test_set.csv",
                                           source="asysd", layout="csv"))
    else:
        records = _bibtex_set(testdata / "dedup" / name)
    found = _check_update(tmp_path, records)
    # Measured: the same clusters as from scratch; only kept records differ (from scratch a
    # more complete or lower-id new record would be kept).
    assert set(found["cause"]) <= {"kept"}
    # maybe.tsv is the same pairs as from scratch
    assert (tmp_path / "inc/dedup/maybe.tsv").read_bytes() == \
        (tmp_path / "scratch/dedup/maybe.tsv").read_bytes()


def _record(rid: str, **fields) -> dict:
    base = {"record_id": rid, "source": "pubmed", "authors": "Smith J; Jones K",
            "year": "2019", "journal": "Ann Rheum Dis"}
    return {**base, **fields}


def _records(rows: list[dict]) -> pd.DataFrame:
    return _as_read(pd.DataFrame(rows))


def test_bridge_keeps_earlier_clusters_apart(tmp_path):
    # a and b are a maybe pair (same title, other authors, b has no journal); n has a's DOI
    # and b's author among its own: it links both.
    title = "Denosumab for erosions in rheumatoid arthritis"
    a = _record("a", doi="10.1/a", title=title)
    b = _record("b", title=title, authors="Brown K", journal="")
    n = _record("n", doi="10.1/a", title=title, authors="Smith J; Jones K; Brown K")
    _run(tmp_path / "inc", _records([a, b]))
    before = read_clusters(tmp_path / "inc/dedup/clusters.tsv")
    assert before["kept"].all()
    audit = _run(tmp_path / "inc", _records([a, b, n]))
    assert audit["counts"]["index"]["bridges_kept_apart"] == 1
    clusters = read_clusters(tmp_path / "inc/dedup/clusters.tsv").set_index("record_id")
    assert clusters.loc["a", "kept"] and clusters.loc["b", "kept"]
    assert clusters.loc["n", "cluster_id"] == "a"  # the DOI link is the stronger
    maybe = read_tsv(tmp_path / "inc/dedup/maybe.tsv")
    row = maybe[maybe["record_id_b"] == "n"]
    assert list(row["reason"]) == [inc.BRIDGE_REASON]
    # From scratch the three are one cluster: a listed difference, cause 'bridge'.
    _run(tmp_path / "scratch", _records([a, b, n]), incremental=False)
    found = inc.differences(before, read_clusters(tmp_path / "scratch/dedup/clusters.tsv"),
                            read_clusters(tmp_path / "inc/dedup/clusters.tsv"), ["n"])
    assert "bridge" in set(found["cause"])


def _three() -> list[dict]:
    return [_record("a", title="Denosumab for erosions in rheumatoid arthritis", pages="1-9"),
            _record("b", title="Denosumab for erosions in rheumatoid arthritis", pages="1-9",
                    volume="3"),
            _record("c", title="Zoledronate and hip fracture in older women", pages="5-7")]


def test_index_is_deterministic_and_versioned(tmp_path):
    audit = _run(tmp_path / "one", _records(_three()))
    _run(tmp_path / "two", _records(_three()))
    for name in ("records", "clusters", "maybe", "related"):
        assert (tmp_path / f"one/dedup/index/{name}.tsv.gz").read_bytes() == \
            (tmp_path / f"two/dedup/index/{name}.tsv.gz").read_bytes()
    manifest = json.loads((tmp_path / "one/dedup/index/manifest.json").read_text())
    assert manifest["version"] == inc.INDEX_VERSION
    assert audit["counts"]["index"]["manifest_sha256"] == inc._sha256(
        tmp_path / "one/dedup/index/manifest.json")
    with gzip.open(tmp_path / "one/dedup/index/records.tsv.gz", "rt") as handle:
        assert handle.readline().rstrip("\n").split("\t") == inc.INDEX_COLUMNS


def test_nothing_new_reuses_the_outputs(tmp_path):
    _run(tmp_path, _records(_three()))
    first = {k: (tmp_path / f"dedup/{k}.tsv").read_bytes() for k in OUTPUTS}
    audit = _run(tmp_path, _records(_three()))
    assert audit["counts"]["index"]["mode"] == "update"
    assert {k: (tmp_path / f"dedup/{k}.tsv").read_bytes() for k in OUTPUTS} == first


@pytest.mark.parametrize("change, reason", [
    ("record", "records of the earlier run changed"),
    ("removed", "records of the earlier run are gone"),
    ("parameter", "index made with another parameters"),
    ("file", "index file clusters.tsv.gz missing or changed"),
    ("version", "index made with another version"),
])
def test_stale_index_is_rebuilt(tmp_path, change, reason):
    rows = _three()
    _run(tmp_path, _records(rows))
    kwargs = {}
    if change == "record":
        rows[2]["year"] = "2020"
    elif change == "removed":
        rows = rows[:2]
    elif change == "parameter":
        kwargs["errata"] = "duplicate"
    elif change == "file":
        (tmp_path / "dedup/index/clusters.tsv.gz").write_bytes(b"")
    elif change == "version":
        path = tmp_path / "dedup/index/manifest.json"
        manifest = json.loads(path.read_text())
        manifest["version"] = 0
        path.write_text(json.dumps(manifest))
    audit = _run(tmp_path, _records(rows + [_record("d", title="Another trial of things")]),
                 **kwargs)
    assert audit["counts"]["index"]["mode"] == "from scratch"
    assert reason in audit["counts"]["index"]["reason"]
    # ... and the index is written again, valid for the next update
    audit = _run(tmp_path, _records(rows + [_record("d", title="Another trial of things")]),
                 **kwargs)
    assert audit["counts"]["index"]["mode"] == "update"


def test_incremental_off_writes_no_index(tmp_path):
    audit = _run(tmp_path, _records(_three()), incremental=False)
    assert not (tmp_path / "dedup/index").exists()
    assert "index" not in audit["counts"]
