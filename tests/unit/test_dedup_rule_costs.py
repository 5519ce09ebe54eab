"""The shortcuts that make the ``deduplicate_records`` rule cost little more than
``find_duplicates`` (issue 20) give what the plain code gave: the title-suffix test, the
float cells of written tables, a table written without re-sorting, the index's text blobs,
the blocking keys the index takes from the blocking, the records whose retraction status
is read. (Whole runs: tests/unit/test_dedup_incremental.py, test_dedup_unique.py and the
bundled review's tables in tests/workflow.)"""

from __future__ import annotations

import io
import random

import numpy as np
import pandas as pd
import pytest

from sysrev.dedup import incremental as inc
from sysrev.dedup import related
from sysrev.dedup.block import blocking, candidate_pairs
from sysrev.dedup.normalise import _text, prepare
from sysrev.dedup.unique import _may_be_retracted
from sysrev.tables import FLOAT_FORMAT, write_tsv


def _random_titles(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    chars = "ab1)_ .!é\u00a0\u0301\u017f\u212aKRrEePpLlYyCcOoMmNnTtAa(-:"
    ends = ["", "reply", "Reply", "comments", "commentary", "COMMENT", "response", "3)",
            "3))", "12))", "authors' reply", "in reply", "repl\u0301y", "re\u017fponse"]
    return ["".join(rng.choice(chars) for _ in range(rng.randint(0, 14))) + rng.choice(ends)
            + "".join(rng.choice(" .)!_\u00a0]") for _ in range(rng.randint(0, 3)))
            for _ in range(n)]


def test_title_suffix_test_equals_the_whole_title_search():
    titles = _random_titles(20_000, 1) + [
        "", " ", "reply", "x reply", "Denosumab in RA: Reply.", "foo (comment)", "a 1)",
        "a 1)) ...", "1)a", "__", "x_reply", "x reply_", "réponse reply…", "commentary!!",
        "The authors reply\u2003", "Ｒｅｐｌｙ", "x 12)\u00a0"]
    for title in titles:
        assert related._maybe_suffix(title) == bool(related._MAYBE_SUFFIX.search(title)), \
            repr(title)


def _plain_tsv(frame: pd.DataFrame, columns, sort_by=None) -> bytes:
    out = frame.loc[:, list(columns)]
    if sort_by:
        out = out.sort_values(list(sort_by), kind="mergesort")
    text = io.StringIO()
    out.to_csv(text, sep="\t", index=False, lineterminator="\n", float_format=FLOAT_FORMAT,
               na_rep="")
    return text.getvalue().encode("utf-8")


@pytest.mark.parametrize("sort_by", [None, ["id"], ["score"], ["id", "text"]])
def test_written_tables_are_the_plain_to_csv(tmp_path, sort_by):
    rng = np.random.default_rng(4)
    n = 400
    scores = np.round(rng.uniform(0, 100, n), 1)
    scores[::7] = np.nan
    scores[1:4] = [0.0, -0.0, np.inf]
    scores[5:9] = [1e20, 1 / 3, -2.5e-12, 123456789012.0]
    frame = pd.DataFrame({
        "id": [f"r{k:04d}" for k in range(n)], "score": scores,
        "whole": rng.integers(0, 9, n), "text": [None if k % 5 == 0 else f"t\t{k % 3}"
                                                 for k in range(n)],
        "small": np.float32(0.1) * np.arange(n, dtype=np.float32)})
    columns = ["id", "score", "whole", "text", "small"]
    for case in (frame, frame.iloc[::-1], frame.sample(frac=1, random_state=2),
                 frame.iloc[:0], frame[["small", "text", "whole", "score", "id"]]):
        path = tmp_path / "out.tsv"
        write_tsv(case, path, columns, sort_by=sort_by)
        assert path.read_bytes() == _plain_tsv(case, columns, sort_by)
    # the frame given is left as it was
    assert frame["score"].dtype == np.float64 and np.isnan(frame["score"][0])


def test_a_sort_key_with_missing_values_is_sorted(tmp_path):
    frame = pd.DataFrame({"id": ["b", None, "a"], "x": [1.5, 2.0, None]})
    write_tsv(frame, tmp_path / "out.tsv", ["id", "x"], sort_by=["id"])
    assert (tmp_path / "out.tsv").read_bytes() == _plain_tsv(frame, ["id", "x"], ["id"])


@pytest.mark.parametrize("values", [["abc", "", "d e"], ["é", "", "\u212b", "x"], [], [""]])
def test_index_text_blobs(values):
    offsets, blob = inc._encode_texts(values)
    data = [v.encode("utf-8") for v in values]
    assert blob == b"".join(data)
    assert offsets.tolist() == [0, *np.cumsum([len(d) for d in data]).tolist()]


def _records(n: int) -> pd.DataFrame:
    rng = random.Random(5)
    words = ["denosumab", "erosion", "arthritis", "bone", "trial", "hip", "fracture", "of"]
    return pd.DataFrame({
        "record_id": [f"r{k:04d}" for k in range(n)], "source": "s",
        "title": [" ".join(rng.choice(words) for _ in range(rng.randint(2, 7)))
                  for _ in range(n)],
        "authors": [rng.choice(["Smith J", "Jones K", ""]) for _ in range(n)],
        "year": [rng.choice(["2018", "2019", ""]) for _ in range(n)],
        "volume": [rng.choice(["3", "4", ""]) for _ in range(n)],
        "pages": [rng.choice(["1-9", "5-9", ""]) for _ in range(n)],
        "doi": [rng.choice(["", "10.1/a", "10.1/b"]) for _ in range(n)],
        "pmid": [rng.choice(["", "11", "12"]) for _ in range(n)]})


def test_blocking_keeps_the_index_keys():
    """The hashes the blocking keeps are the keys the index would make itself, and the
    title rank is the index's title order; the pairs are the same as without them."""
    prep = prepare(_records(300))
    found = blocking(prep, hashes=True)
    made = inc.key_hashes(prep)
    assert list(made) == inc.KEY_COLUMNS
    for got, (name, want) in zip(found.key_hashes, made.items()):
        assert np.array_equal(got, want), name
    assert np.array_equal(found.title_rank, pd.factorize(
        pd.Series(list(prep.title), dtype=object), sort=True)[0])
    assert np.array_equal(found.pairs, candidate_pairs(prep))
    assert blocking(prep).key_hashes is None


def test_index_from_the_blocking_keys_is_the_same(tmp_path):
    from sysrev.dedup import find_duplicates

    records = _records(200)
    result = find_duplicates(records, index_keys=True)
    plain = find_duplicates(records)
    assert plain.key_hashes is None
    pd.testing.assert_frame_equal(result.clusters, plain.clusters)
    tables = {}
    for name in inc.TABLES:
        tables[name] = tmp_path / f"{name}.tsv"
        tables[name].write_text("record_id\n", encoding="utf-8")
    kwargs = dict(expected={"format": "test"}, counts={}, tables=tables,
                  prepared=result.prepared,
                  digests=np.arange(len(records), dtype=np.uint64),
                  cluster_ids=result.clusters["cluster_id"].to_numpy())
    inc.write_index(tmp_path / "made", **kwargs)
    inc.write_index(tmp_path / "kept", key_hashes_made=result.key_hashes,
                    title_rank=result.title_rank, **kwargs)
    made = sorted(p.relative_to(tmp_path / "made") for p in (tmp_path / "made").rglob("*")
                  if p.is_file())
    assert made == sorted(p.relative_to(tmp_path / "kept")
                          for p in (tmp_path / "kept").rglob("*") if p.is_file())
    for path in made:
        assert (tmp_path / "made" / path).read_bytes() == \
            (tmp_path / "kept" / path).read_bytes(), path


def test_records_whose_retraction_is_read():
    """Every record the per-record test of unique_records would read is among those
    _may_be_retracted picks."""
    cells = [None, np.nan, "", " ", "x", 3, 2.5, "Retracted Publication",
             "Journal Article; RETRACTED PUBLICATION", "RetractionIn 12", "Ｒｅｔｒａｃｔｅｄ: x",
             "RETRACTED: bone", "Withdrawn: x", "withdrawal of", "é", "bone"]
    grid = np.array([(a, b, c, d) for a in cells[:5] for b in cells[:6] + cells[9:10]
                     for c in cells for d in cells], dtype=object)
    picked = _may_be_retracted(grid[:, 0], grid[:, 1], grid[:, 2], grid[:, 3])
    for (given, notes, types, title), pick in zip(grid.tolist(), picked.tolist()):
        given, notes, types, title = map(_text, (given, notes, types, title))
        readable = notes or "retracted publication" in types.casefold() or (
            title and (not title.isascii() or "retract" in title.casefold()
                       or "withdraw" in title.casefold()))
        if given or readable:
            assert pick, (given, notes, types, title)
    assert not picked.all()


@pytest.mark.slow
def test_rule_benchmark_runs(tmp_path):
    """benchmarks/bench_dedup_rule.py on a small table: both measurements, the ratios, and
    the rule's outputs kept."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    from sysrev.columns import RECORD_COLUMNS

    repo = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(repo / "benchmarks"))
    from dedup_generator import generate

    records = generate(200, seed=2)[0].reindex(columns=RECORD_COLUMNS)
    write_tsv(records, tmp_path / "records.tsv", RECORD_COLUMNS, sort_by=["record_id"])
    subprocess.run([sys.executable, str(repo / "benchmarks/bench_dedup_rule.py"),
                    str(tmp_path / "records.tsv"), "--threads", "1", "--outputs",
                    str(tmp_path / "out"), "--json", str(tmp_path / "out.json")],
                   check=True, capture_output=True)
    result = json.loads((tmp_path / "out.json").read_text())
    assert result["find_duplicates"]["records"] == 200
    assert {"time", "cpu", "pss", "rss_sum", "main_vmhwm"} <= set(result["ratios"])
    steps = [s["step"] for s in result["rule"]["steps"]]
    assert "index written" in steps and "normalised" in steps
    assert (tmp_path / "out/dedup/unique.tsv").is_file()
