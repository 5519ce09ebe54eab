"""Incremental deduplication (sysrev.dedup.incremental through the rule's function
sysrev.workflow.dedup.deduplicate_records): an update of an earlier run equals a run from
scratch on the union but for the differences the module lists; a stale index is rebuilt."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sysrev.dedup import incremental as inc
from sysrev.columns import DUPLICATE_COLUMNS
from sysrev.dedup.unique import (UNIQUE_COLUMNS, duplicate_counts, duplicate_table,
                                 read_clusters, unique_records)
from sysrev.tables import read_tsv, write_tsv
from sysrev.workflow.dedup import deduplicate_records

from tests.unit.test_dedup_unique import _as_read, _bibtex_set

OUTPUTS = ("unique", "duplicates", "clusters", "maybe", "related")


def _run(folder: Path, records: pd.DataFrame, incremental: bool = True, **kwargs) -> dict:
    """Run the rule's function in ``folder``; the audit, with how the run went (the index's
    ``last_run.json``) under ``"run"``."""
    folder.mkdir(parents=True, exist_ok=True)
    records.to_csv(folder / "records.tsv", sep="\t", index=False, lineterminator="\n")
    out = {k: str(folder / f"dedup/{k}.tsv") for k in OUTPUTS}
    deduplicate_records(records=str(folder / "records.tsv"), audit=str(folder / "audit.json"),
                        source_priority=["pubmed"], incremental=incremental, **out, **kwargs)
    audit = json.loads((folder / "audit.json").read_text())
    last = folder / "dedup/index/last_run.json"
    if incremental:
        audit["run"] = json.loads(last.read_text())
    return audit


def _as_rebuilt(folder: Path) -> None:
    """The update's unique.tsv and duplicates.tsv (earlier lines merged with new ones) are
    what the from-scratch functions make of its clusters, byte for byte; its audit's counts
    are what the from-scratch path counts on its tables."""
    records = read_tsv(folder / "records.tsv")
    clusters = read_clusters(folder / "dedup/clusters.tsv")
    related = read_tsv(folder / "dedup/related.tsv")
    for name, table, columns, key in (
            ("unique", unique_records(records, clusters, related), UNIQUE_COLUMNS,
             "record_id"),
            ("duplicates", duplicate_table(records, clusters), DUPLICATE_COLUMNS,
             "removed_record_id")):
        write_tsv(table, folder / f"{name}.rebuilt.tsv", columns, sort_by=[key])
        assert (folder / f"{name}.rebuilt.tsv").read_bytes() == \
            (folder / f"dedup/{name}.tsv").read_bytes(), name
    counts = json.loads((folder / "audit.json").read_text())["counts"]
    expected = duplicate_counts(records, clusters)
    assert {k: counts[k] for k in expected} == expected
    assert counts["errata_merged"] == int((clusters["rule"] == "erratum").sum())


def _check_update(tmp_path: Path, records: pd.DataFrame, every: int = 5) -> pd.DataFrame:
    """Split ``records`` (every ``every``-th in record-id order is the update), run the
    earlier part, then the union as an update and from scratch; returns the differences,
    after checking they are only the listed kinds."""
    records = records.sort_values("record_id", kind="mergesort").reset_index(drop=True)
    update = records.index % every == 2
    _run(tmp_path / "before", records[~update], incremental=False)
    _run(tmp_path / "inc", records[~update])
    audit = _run(tmp_path / "inc", records)
    assert audit["run"]["mode"] == "update"
    assert audit["run"]["new_records"] == int(update.sum())
    _as_rebuilt(tmp_path / "inc")
    scratch_audit = _run(tmp_path / "scratch", records, incremental=False)
    before = read_clusters(tmp_path / "before/dedup/clusters.tsv")
    updated = read_clusters(tmp_path / "inc/dedup/clusters.tsv")
    scratch = read_clusters(tmp_path / "scratch/dedup/clusters.tsv")
    # The earlier run's rows are unchanged: a kept record stays kept, in its cluster.
    merged = before.merge(updated, on="record_id", suffixes=("", "_now"))
    assert len(merged) == len(before)
    assert (merged["cluster_id"] == merged["cluster_id_now"]).all()
    assert (merged["kept"] == merged["kept_now"]).all()
    found = inc.differences(before, scratch, updated, records.loc[update, "record_id"])
    assert set(found["cause"]) <= {"kept", "bridge", "split", "neighbourhood"}, found
    if found.empty and (tmp_path / "inc/dedup/unique.tsv").read_bytes() == \
            (tmp_path / "scratch/dedup/unique.tsv").read_bytes():
        # The same tables give the same audit counts, whatever the run's history.
        assert audit["counts"] == scratch_audit["counts"]
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
    assert audit["run"]["bridges_kept_apart"] == 1
    _as_rebuilt(tmp_path / "inc")
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


def _same_as_scratch(tmp_path: Path) -> list[dict]:
    """The update's tables (``inc``) are the run from scratch's (``scratch``) byte for
    byte, and so are the audits' counts; returns both audits."""
    for name in OUTPUTS:
        assert (tmp_path / f"inc/dedup/{name}.tsv").read_bytes() == \
            (tmp_path / f"scratch/dedup/{name}.tsv").read_bytes(), name
    audits = [json.loads((tmp_path / f"{k}/audit.json").read_text()) for k in
              ("inc", "scratch")]
    assert audits[0]["counts"] == audits[1]["counts"]
    return audits


def _index_files(folder: Path) -> dict[str, bytes]:
    index = folder / "dedup/index"
    return {str(p.relative_to(index)): p.read_bytes() for p in sorted(index.rglob("*"))
            if p.is_file() and p.name != "last_run.json"}


def test_index_is_deterministic_and_versioned(tmp_path):
    _run(tmp_path / "one", _records(_three()))
    _run(tmp_path / "two", _records(_three()))
    assert _index_files(tmp_path / "one") == _index_files(tmp_path / "two")
    manifest = json.loads((tmp_path / "one/dedup/index/manifest.json").read_text())
    assert manifest["version"] == inc.INDEX_VERSION
    assert manifest["records"] == 3
    assert set(manifest["files"]) == {n for n in _index_files(tmp_path / "one")
                                      if n != "manifest.json"}
    last = json.loads((tmp_path / "one/dedup/index/last_run.json").read_text())
    assert last["manifest_sha256"] == manifest["manifest_sha256"]
    # The store holds each record's normalised fields; the update reads them back.
    store = inc.Store(tmp_path / "one/dedup/index", manifest)
    assert store.texts("ids").take([0, 1, 2]) == ["a", "b", "c"]
    assert store.texts("title")[2] == "zoledronate and hip fracture in older women"


def test_nothing_new_reuses_the_outputs(tmp_path):
    first_audit = _run(tmp_path, _records(_three()))
    first = {k: (tmp_path / f"dedup/{k}.tsv").read_bytes() for k in OUTPUTS}
    audit_bytes = (tmp_path / "audit.json").read_bytes()
    audit = _run(tmp_path, _records(_three()))
    assert first_audit["run"]["mode"] == "from scratch"
    assert audit["run"]["mode"] == "update"
    assert {k: (tmp_path / f"dedup/{k}.tsv").read_bytes() for k in OUTPUTS} == first
    # The audit records the tables only: the same bytes after an update as from scratch.
    assert (tmp_path / "audit.json").read_bytes() == audit_bytes


def test_update_audit_equals_scratch_audit(tmp_path):
    rows = _three()
    extra = _record("d", title="Another trial of things")
    _run(tmp_path / "inc", _records(rows))
    _run(tmp_path / "inc", _records(rows + [extra]))
    _run(tmp_path / "scratch", _records(rows + [extra]))
    audits = _same_as_scratch(tmp_path)
    assert audits[0]["parameters"] == audits[1]["parameters"]


def _tamper_store(folder: Path) -> None:
    path = folder / "dedup/index/store/title.utf8"
    data = bytearray(path.read_bytes())
    data[0] ^= 1
    path.write_bytes(bytes(data))


def _tamper_manifest(folder: Path) -> None:
    path = folder / "dedup/index/manifest.json"
    manifest = json.loads(path.read_text())
    manifest["counts"]["records_in"] += 1
    path.write_text(json.dumps(manifest))


@pytest.mark.parametrize("change, reason", [
    ("record", "records of the earlier run changed"),
    ("removed", "records of the earlier run are gone"),
    ("parameter", "index made with another parameters"),
    ("table", "index file clusters.tsv.prev missing or changed"),
    ("store", "index file store/title.utf8 missing or changed"),
    ("manifest", "index manifest changed"),
    ("version", "index made with another version"),
    ("matcher", "index made with another matcher_sha256"),
])
def test_stale_index_is_rebuilt(tmp_path, monkeypatch, change, reason):
    rows = _three()
    _run(tmp_path, _records(rows))
    kwargs = {}
    if change == "record":
        rows[2]["year"] = "2020"
    elif change == "removed":
        rows = rows[:2]
    elif change == "parameter":
        kwargs["errata"] = "duplicate"
    elif change == "table":
        (tmp_path / "dedup/index/clusters.tsv.prev").unlink()
        (tmp_path / "dedup/index/clusters.tsv.prev").write_bytes(b"")
    elif change == "store":
        _tamper_store(tmp_path)
    elif change == "manifest":
        _tamper_manifest(tmp_path)
    elif change == "version":
        monkeypatch.setattr(inc, "INDEX_VERSION", inc.INDEX_VERSION + 1)
    elif change == "matcher":
        # a changed normalisation (any module of sysrev.dedup) changes the digest
        monkeypatch.setattr(inc, "matcher_sha256", lambda: "0" * 64)
    audit = _run(tmp_path, _records(rows + [_record("d", title="Another trial of things")]),
                 **kwargs)
    assert audit["run"]["mode"] == "from scratch"
    assert reason in audit["run"]["reason"]
    # ... and the index is written again, valid for the next update
    audit = _run(tmp_path, _records(rows + [_record("d", title="Another trial of things")]),
                 **kwargs)
    assert audit["run"]["mode"] == "update"


def test_update_of_an_update(tmp_path):
    """Two updates in a row (the store appended twice) give what one update gives."""
    rows = _three() + [_record("d", title="Another trial of things", doi="10.1/d"),
                       _record("e", title="Another trial of things", doi="10.1/d"),
                       _record("f", title="Zoledronate and hip fracture in older women",
                               pages="5-7")]
    _run(tmp_path / "two", _records(rows[:3]))
    _run(tmp_path / "two", _records(rows[:4]))
    audit = _run(tmp_path / "two", _records(rows))
    assert audit["run"]["mode"] == "update" and audit["run"]["new_records"] == 2
    _run(tmp_path / "one", _records(rows[:3]))
    _run(tmp_path / "one", _records(rows))
    for name in OUTPUTS:
        assert (tmp_path / f"two/dedup/{name}.tsv").read_bytes() == \
            (tmp_path / f"one/dedup/{name}.tsv").read_bytes(), name
    clusters = read_clusters(tmp_path / "two/dedup/clusters.tsv").set_index("record_id")
    assert clusters.loc["e", "cluster_id"] == "d"
    assert clusters.loc["f", "cluster_id"] == "c"
    _as_rebuilt(tmp_path / "two")


def test_incremental_off_writes_no_index(tmp_path):
    audit = _run(tmp_path, _records(_three()), incremental=False)
    assert not (tmp_path / "dedup/index").exists()
    assert "run" not in audit and "index" not in audit["counts"]


def test_neighbours_are_the_union_window(tmp_path):
    """The neighbours found by binary search in the stored order are exactly the earlier
    records a run from scratch on the union would put within the window of a new record
    (same key, (key, title, record id) order)."""
    import random

    import numpy as np

    from sysrev.dedup.block import WINDOW
    from sysrev.dedup.normalise import prepare

    rng = random.Random(3)
    words = ["denosumab", "erosion", "arthritis", "bone", "trial", "hip", "fracture"]
    rows = [_record(f"r{k:03d}", title=" ".join(rng.choice(words) for _ in range(5)),
                    authors=rng.choice(["Smith J", "Jones K", "Brown A"]),
                    year=str(rng.choice([2018, 2019])), volume=str(rng.choice([3, 4])),
                    pages=f"{rng.choice([1, 5])}-9",
                    doi=rng.choice(["", "10.1/a", "10.1/b"]))
            for k in range(160)]
    new = set(rng.sample([r["record_id"] for r in rows], 30))
    records = _records(rows)
    _run(tmp_path, records[~records["record_id"].isin(new)])
    table = read_tsv(tmp_path / "records.tsv")
    manifest = json.loads((tmp_path / "dedup/index/manifest.json").read_text())
    store = inc.Store(tmp_path / "dedup/index", manifest)
    new_prep = prepare(records[records["record_id"].isin(new)].sort_values("record_id")
                       .reset_index(drop=True))
    new_keys = inc.key_hashes(new_prep)
    _, old_position, new_position = inc._merge_title_order(store, new_prep)
    found = set(store.texts("ids").take(inc.neighbours(store, new_keys, old_position,
                                                       new_position)))
    # From scratch: the union in record-id order, each key sorted by (key, title, id).
    union = prepare(records.sort_values("record_id").reset_index(drop=True))
    keys = inc.key_hashes(union)
    ids = union.ids
    expected = set()
    for name in inc.KEY_COLUMNS:
        order = sorted((k for k in range(len(ids)) if keys[name][k]),
                       key=lambda k: (int(keys[name][k]), union.title[k], ids[k]))
        for place, k in enumerate(order):
            if ids[k] not in new:
                continue
            for other in order[max(0, place - WINDOW):place + WINDOW + 1]:
                if keys[name][other] == keys[name][k] and ids[other] not in new:
                    expected.add(ids[other])
    assert found == expected
    assert len(table) == 130 and len(found) > 10
    # the union order the index writes: (title, record id)
    union_order, _, _ = inc._merge_title_order(store, new_prep)
    stored_ids = store.texts("ids").take(np.arange(store.n)) + list(new_prep.ids)
    titles = store.texts("title").take(np.arange(store.n)) + list(new_prep.title)
    assert [(titles[r], stored_ids[r]) for r in union_order] == \
        sorted(zip(titles, stored_ids))


def test_cell_spanning_lines_runs_from_scratch(tmp_path):
    """records.tsv with a cell that spans lines is not one record a line: read whole,
    deduplicated from scratch (as with incremental off), and no index is written."""
    rows = _three()
    rows[0]["abstract"] = "First line\nsecond line"
    audit = _run(tmp_path / "inc", _records(rows))
    assert audit["run"]["mode"] == "from scratch"
    assert "spans lines" in audit["run"]["reason"]
    assert not (tmp_path / "inc/dedup/index/manifest.json").exists()
    _run(tmp_path / "off", _records(rows), incremental=False)
    for name in OUTPUTS:
        assert (tmp_path / f"inc/dedup/{name}.tsv").read_bytes() == \
            (tmp_path / f"off/dedup/{name}.tsv").read_bytes(), name


def test_records_as_lines(tmp_path):
    """Records.rows parses the chosen lines as read_tsv parses the whole table."""
    rows = _three()
    rows[1]["title"] = 'A "quoted" title\twith a tab'
    path = tmp_path / "records.tsv"
    write_tsv(_records(rows), path, list(_records(rows).columns))
    lines = inc.read_records(path)
    assert list(lines.ids) == ["a", "b", "c"]
    whole = read_tsv(path)
    pd.testing.assert_frame_equal(lines.rows({"b", "c"}), whole.iloc[1:].reset_index(drop=True))
    assert len(set(lines.digests.tolist())) == 3


@pytest.mark.parametrize("annotation, values", [
    ("list[str]", ["a", "", "é"]),
    ("list[frozenset]", [frozenset(), frozenset({2, 10}), frozenset({1})]),
    ("list[tuple[str, ...]]", [(), ("titre", "title"), ()]),
    ("list[dict]", [{"a": 1}, {}, {"b": [1, 2]}]),
])
def test_store_field_kinds_round_trip(annotation, values):
    """Every kind of normalised field the store may meet (a new field of _Prepared is stored
    by its type) reads back equal."""
    kind = inc._field_kind(annotation, values)
    assert inc._from_texts(kind, inc._as_texts(kind, values)) == values


def test_update_with_source_links(tmp_path):
    """The sources' trial/paper and preprint/journal links in an update (the links file
    unchanged: a changed one rebuilds, its SHA-256 is in the index's settings): the links
    are made again in related.tsv and the unique rows list them, as from scratch."""
    from sysrev.columns import RECORD_COLUMNS
    from tests.unit.test_related_reports import LINKS, SAME_STUDY

    links = tmp_path / "related_reports.tsv"
    LINKS.to_csv(links, sep="\t", index=False)

    def run(folder: Path, records: pd.DataFrame, incremental: bool) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        write_tsv(records, folder / "records.tsv", RECORD_COLUMNS)
        deduplicate_records(records=str(folder / "records.tsv"),
                            audit=str(folder / "audit.json"),
                            source_priority=["pubmed", "europepmc", "ctgov"],
                            incremental=incremental, source_links=str(links),
                            **{k: str(folder / f"dedup/{k}.tsv") for k in OUTPUTS})

    earlier = SAME_STUDY[SAME_STUDY["record_id"] != "pubmed:22"]
    run(tmp_path / "inc", earlier, True)
    run(tmp_path / "inc", SAME_STUDY, True)
    assert json.loads((tmp_path / "inc/dedup/index/last_run.json").read_text())["mode"] \
        == "update"
    run(tmp_path / "scratch", SAME_STUDY, False)
    _same_as_scratch(tmp_path)
    unique = read_tsv(tmp_path / "inc/dedup/unique.tsv").set_index("record_id")
    assert unique.loc["pubmed:21", "related_reports"] == (
        "registration_of:ctgov:NCT00000021; preprint_of:europepmc:PPR-PPR2")
