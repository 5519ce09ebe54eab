"""Cluster-level conflicts: no cluster holds two records that cannot be one publication,
even when they were never compared directly; and the worker processes change nothing."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sysrev.columns import RECORD_COLUMNS
from sysrev.dedup import find_duplicates
from sysrev.dedup.cluster import within_pairs
from sysrev.dedup.normalise import _prepare
from sysrev.dedup.score import score_pairs

TITLE = "Denosumab and bone erosion in rheumatoid arthritis: a randomised trial"


def _records(rows):
    return pd.DataFrame([{c: r.get(c) for c in RECORD_COLUMNS} for r in rows])


def _clusters(result) -> dict[str, str]:
    return dict(zip(result.clusters["record_id"], result.clusters["cluster_id"]))


def _bridge(first="a:1", second="b:1", bridge="c:1"):
    """Two distinct articles (same title, other volume and pages) and a copy of one of them
    with no volume or pages, which matches both."""
    base = {"title": TITLE, "authors": "Takeuchi T; Tanaka Y", "year": "2019",
            "journal": "Ann Rheum Dis", "source": "x"}
    return _records([
        {**base, "record_id": first, "volume": "78", "pages": "899-907"},
        {**base, "record_id": second, "volume": "80", "pages": "1200-1207"},
        {**base, "record_id": bridge},
    ])


def test_records_linked_through_a_third_are_split_when_they_conflict():
    result = find_duplicates(_bridge())
    clusters = _clusters(result)
    # a:1 and b:1 differ in volume and pages: never one cluster, though each matches c:1.
    assert clusters["a:1"] != clusters["b:1"]
    # The strongest link wins, ties by record order: c:1 stays with a:1.
    assert clusters["c:1"] == clusters["a:1"] == "a:1"
    assert clusters["b:1"] == "b:1"
    kept = result.clusters.set_index("record_id")
    assert kept.loc["c:1", "linked_to"] == "a:1"
    assert kept.loc["b:1", "rule"] == ""


def test_split_is_deterministic_whatever_the_input_order():
    records = _bridge()
    first = find_duplicates(records).clusters
    for seed in range(3):
        shuffled = records.sample(frac=1, random_state=seed).reset_index(drop=True)
        pd.testing.assert_frame_equal(find_duplicates(shuffled).clusters, first)
    # With the ids the other way round, the bridge goes with the other article.
    other = _clusters(find_duplicates(_bridge(first="b:1", second="a:1")))
    assert other["c:1"] == "a:1" and other["b:1"] == "b:1"


def test_years_far_apart_never_share_a_cluster():
    base = {"title": TITLE, "authors": "Takeuchi T; Tanaka Y", "journal": "Ann Rheum Dis",
            "source": "x"}
    records = _records([
        {**base, "record_id": "a:1", "year": "2010"},
        {**base, "record_id": "b:1", "year": "2011"},
        {**base, "record_id": "c:1", "year": "2012"},
    ])
    clusters = _clusters(find_duplicates(records))
    assert clusters["a:1"] != clusters["c:1"]


def test_reviewer_same_override_still_wins():
    records = _bridge()
    overrides = pd.DataFrame({"record_id_a": ["a:1"], "record_id_b": ["b:1"],
                              "decision": ["same"], "note": [""]})
    clusters = _clusters(find_duplicates(records, overrides=overrides))
    assert clusters["a:1"] == clusters["b:1"]


def _no_conflict_within_clusters(records, result):
    work = records.sort_values("record_id", kind="mergesort").reset_index(drop=True)
    prep = _prepare(work)
    index = {rid: i for i, rid in enumerate(prep.ids)}
    roots = np.array([index[c] for c in result.clusters["cluster_id"]])
    # result.clusters is in record-id order, as prep is
    assert list(result.clusters["record_id"]) == list(prep.ids)
    inner = within_pairs(roots)
    assert not score_pairs(prep, inner).conflict.any()
    return len(inner)


@pytest.fixture(scope="module")
def generated():
    folder = Path(__file__).resolve().parents[2] / "benchmarks"
    if not (folder.parents[1] / "shared" / "testdata" / "dedup").is_dir():
        pytest.skip("../shared/testdata is not present")
    sys.path.insert(0, str(folder))
    from dedup_generator import generate

    return generate(3000, seed=5)[0]


def test_no_generated_cluster_holds_a_conflict(generated):
    result = find_duplicates(generated)
    assert _no_conflict_within_clusters(generated, result) > 500


def test_worker_processes_give_the_same_result(generated, monkeypatch):
    from sysrev.dedup import normalise, parallel, score

    one = find_duplicates(generated, threads=1)
    # Worker processes even for this small table, and several chunks of pairs each.
    monkeypatch.setattr(parallel, "MIN_PARALLEL", 10)
    monkeypatch.setattr(score, "SCORE_CHUNK", 1000)
    monkeypatch.setattr(normalise, "PREPARE_CHUNK", 700)
    two = find_duplicates(generated, threads=2)
    pd.testing.assert_frame_equal(one.clusters, two.clusters)
    pd.testing.assert_frame_equal(one.pairs, two.pairs)
    pd.testing.assert_frame_equal(one.maybe, two.maybe)
    pd.testing.assert_frame_equal(one.related, two.related)
    assert one.counts == two.counts


def test_generator_uses_the_bundled_review_titles():
    """The look-alike library's real material includes the bundled review's titles and
    journals, read from its committed inputs (a path into results/ gave none)."""
    folder = Path(__file__).resolve().parents[2] / "benchmarks"
    if not (folder.parents[1] / "shared" / "testdata" / "dedup").is_dir():
        pytest.skip("../shared/testdata is not present")
    sys.path.insert(0, str(folder))
    from dedup_generator import _real_material, bundled_records

    bundled = bundled_records()
    assert len(bundled) == 151
    titles, _, journals = _real_material()
    own = {t.strip() for t in bundled["title"].dropna() if len(t.strip()) > 30}
    assert len(own) > 90 and own <= set(titles)
    assert {j.strip() for j in bundled["journal"].dropna() if j.strip()} <= set(journals)


def test_scores_for_clustering_keep_every_pair_that_matters(generated):
    """score_for_clusters gives the scores of the duplicate, maybe and erratum pairs and the
    other cannot-links as bare pairs: together what the full scores hold."""
    from sysrev.dedup.block import candidate_pairs
    from sysrev.dedup.normalise import prepare
    from sysrev.dedup.score import DISTINCT, score_candidates, score_for_clusters

    work = generated.sort_values("record_id", kind="mergesort").reset_index(drop=True)
    prep = prepare(work)
    pairs = candidate_pairs(prep)
    full = score_candidates(prep, pairs)
    kept, cannot = score_for_clusters(prep, pairs)
    keep = (full.decision != DISTINCT) | (full.erratum != 0)
    for name in ("a", "b", "title", "decision", "rule", "cannot_link", "reason"):
        np.testing.assert_array_equal(getattr(kept, name), getattr(full, name)[keep])
    only = full.cannot_link & ~keep
    assert only.sum() > 100 and cannot.dtype == np.int32
    np.testing.assert_array_equal(cannot, np.stack([full.a[only], full.b[only]], axis=1))
