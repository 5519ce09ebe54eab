"""Record tables read a chunk at a time (issue 20): the streamed concatenation writes the
bytes the whole-table concatenation wrote, with chunks of 2 or 3 rows so that every chunk
boundary is crossed, and repeated record ids are still an error before anything is
written."""

import numpy as np
import pandas as pd
import pytest

from sysrev.columns import RECORD_COLUMNS
from sysrev.recordtable import id_hashes, repeated_record_ids, tsv_chunks, write_record_tables
from sysrev.tables import read_tsv, write_tsv


def _table(source, ids, **extra):
    rows = [{c: "" for c in RECORD_COLUMNS} | {"record_id": f"{source}:{i}", "source": source,
                                               "source_id": str(i),
                                               "title": f"Title {i}, \"quoted\"\tand tab"}
            for i in ids]
    for row in rows:
        row.update(extra)
    return pd.DataFrame(rows, columns=RECORD_COLUMNS)


def _whole(paths, out):
    """What collect_records wrote before: the tables concatenated, sorted, written whole."""
    frames = [read_tsv(p) for p in paths]
    combined = pd.concat(frames, ignore_index=True).loc[:, RECORD_COLUMNS]
    write_tsv(combined, out, RECORD_COLUMNS, sort_by=["source", "record_id"])
    return out.read_bytes()


def _streamed(paths, out, rows):
    per_source, total = write_record_tables([str(p) for p in paths], out, RECORD_COLUMNS,
                                            rows=rows)
    return out.read_bytes(), per_source, total


def _write(tmp_path, name, frame, sort_by=None):
    path = tmp_path / name
    write_tsv(frame, path, RECORD_COLUMNS, sort_by=sort_by)
    return path


@pytest.mark.parametrize("rows", [1, 2, 3, 100])
def test_sorted_tables_are_copied_chunk_by_chunk_with_the_same_bytes(tmp_path, rows):
    paths = [_write(tmp_path, "wos.tsv", _table("wos", ["a", "b", "c", "d", "e"])),
             _write(tmp_path, "embase.tsv", _table("embase", ["01", "02", "03", "10"])),
             _write(tmp_path, "empty.tsv", _table("none", [])),
             _write(tmp_path, "central.tsv", _table("central", ["x\ny", "z"]))]
    streamed, per_source, total = _streamed(paths, tmp_path / "out.tsv", rows)
    assert streamed == _whole(paths, tmp_path / "whole.tsv")
    assert dict(per_source) == {"wos": 5, "embase": 4, "central": 2}
    assert total == 11


@pytest.mark.parametrize("rows", [1, 2, 3, 100])
def test_unsorted_and_mixed_tables_are_sorted_through_temporary_files(tmp_path, rows):
    # Rows not in record-id order, a source in two tables, a table with two sources, a
    # table with fewer columns: the rows go through the external sort, same bytes.
    mixed = pd.concat([_table("wos", ["q", "b"]), _table("embase", ["9", "1"])])
    short = _table("wos", ["m", "a"]).drop(columns=["abstract", "retraction"])
    paths = [_write(tmp_path, "one.tsv", _table("embase", ["5", "3", "4", "2"])),
             _write(tmp_path, "two.tsv", mixed),
             _write(tmp_path, "three.tsv", _table("pubmed", ["7", "6", "8"]))]
    short_path = tmp_path / "short.tsv"
    short.to_csv(short_path, sep="\t", index=False, lineterminator="\n")
    paths.append(short_path)
    streamed, per_source, total = _streamed(paths, tmp_path / "out.tsv", rows)
    assert streamed == _whole(paths, tmp_path / "whole.tsv")
    assert dict(per_source) == {"embase": 6, "wos": 4, "pubmed": 3}
    assert total == 13


def test_no_tables_give_the_header_only(tmp_path):
    streamed, per_source, total = _streamed([], tmp_path / "out.tsv", 2)
    assert streamed.decode() == "\t".join(RECORD_COLUMNS) + "\n"
    assert (dict(per_source), total) == ({}, 0)


@pytest.mark.parametrize("rows", [1, 2, 100])
def test_a_repeated_record_id_is_an_error_and_nothing_is_written(tmp_path, rows):
    paths = [_write(tmp_path, "a.tsv", _table("wos", ["a", "b", "c"])),
             _write(tmp_path, "b.tsv", _table("wos", ["c", "d", "a"]))]
    out = tmp_path / "out.tsv"
    with pytest.raises(ValueError, match=r"more than one source table: \['wos:a', 'wos:c'\]"):
        _streamed(paths, out, rows)
    assert not out.exists() and not list(tmp_path.glob(".out.tsv*"))


def test_repeated_ids_are_compared_as_text_not_by_hash(tmp_path):
    # Two distinct ids given the same hash (as a collision would) are not repeated ids.
    path = _write(tmp_path, "a.tsv", _table("wos", ["a", "b", "c"]))
    hashes = id_hashes(read_tsv(path)["record_id"])
    assert repeated_record_ids([str(path)], hashes, rows=2) == []
    forged = np.array([hashes[0], hashes[0], hashes[2]], dtype=np.uint64)
    assert repeated_record_ids([str(path)], forged, rows=2) == []


def test_tsv_chunks_read_as_read_tsv(tmp_path):
    path = _write(tmp_path, "a.tsv", _table("wos", ["a", "b", "c"]))
    chunks = list(tsv_chunks(path, rows=2))
    assert [len(c) for c in chunks] == [2, 1]
    pd.testing.assert_frame_equal(pd.concat(chunks), read_tsv(path))
    empty = _write(tmp_path, "e.tsv", _table("wos", []))
    assert [len(c) for c in tsv_chunks(empty, rows=2)] == [0]


def test_collect_records_with_repeated_ids_writes_neither_table_nor_audit(tmp_path,
                                                                          monkeypatch):
    import sysrev.recordtable as recordtable
    from sysrev.workflow.search import collect_records

    monkeypatch.setattr(recordtable, "CHUNK_ROWS", 2)
    searches = tmp_path / "searches.tsv"
    searches.write_text("source\tdatabase\tplatform\tfile\tquery\tsearch_date\tnotes\n"
                        "wos\tWeb of Science\tClarivate\texports/wos.txt\tx\t2025-06-30\t\n",
                        encoding="utf-8")
    tables = [_write(tmp_path, "a.tsv", _table("wos", ["a", "b", "c"])),
              _write(tmp_path, "b.tsv", _table("wos", ["d", "b"]))]
    kwargs = dict(searches=str(searches), provenance=None, output=str(tmp_path / "records.tsv"),
                  audit=str(tmp_path / "audit.json"), parameters={})
    with pytest.raises(ValueError, match=r"\['wos:b'\]"):
        collect_records(tables=[str(t) for t in tables], **kwargs)
    assert not (tmp_path / "records.tsv").exists() and not (tmp_path / "audit.json").exists()
    collect_records(tables=[str(tables[0])], **kwargs)
    assert (tmp_path / "records.tsv").read_bytes() == _whole(tables[:1], tmp_path / "w.tsv")


def test_read_categories_reads_the_values_read_tsv_reads(tmp_path):
    from sysrev.recordtable import read_categories
    frame = _table("wos", ["a", "b", "c", "d", "e"])
    frame.loc[[1, 3], "source"] = ["embase", None]
    path = _write(tmp_path, "a.tsv", frame)
    got = read_categories(path, ["source", "record_id"], rows=2)
    assert isinstance(got["source"].dtype, pd.CategoricalDtype)
    pd.testing.assert_frame_equal(got.astype(object), read_tsv(path, ["record_id", "source"])
                                  .loc[:, ["source", "record_id"]].astype(object))
    assert dict(got["source"].value_counts()) == {"wos": 3, "embase": 1}
    empty = _write(tmp_path, "e.tsv", _table("wos", []))
    assert read_categories(empty, ["source"], rows=2).empty


@pytest.mark.parametrize("rows", [1, 2, 100])
def test_a_repeated_id_in_tables_in_order_is_found_after_the_copy(tmp_path, rows):
    # Each table one source in record-id order (copied in one pass): the repeated id is
    # found at the end, and the partly written table is not left behind.
    embase = _table("embase", ["1", "2", "3"])
    embase.loc[2, "record_id"] = "wos:b"
    paths = [_write(tmp_path, "wos.tsv", _table("wos", ["a", "b", "c"])),
             _write(tmp_path, "embase.tsv", embase)]
    out = tmp_path / "out.tsv"
    with pytest.raises(ValueError, match=r"more than one source table: \['wos:b'\]"):
        _streamed(paths, out, rows)
    assert not out.exists() and not list(tmp_path.glob(".out.tsv*"))
