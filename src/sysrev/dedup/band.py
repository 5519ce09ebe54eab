"""The ``maybe`` band a person can review: pairs a rule can settle are settled, the rest
ranked by how likely a merge is, and only the first of them marked for review.

Measured (BENCHMARKS.md, ``benchmarks/bench_maybe_band.py``): on the labelled sets in
``../shared/testdata/dedup`` few maybe pairs are true duplicates (ASySD diabetes 5 of 177,
bib-dedupe cytology 2 of 43) and most of the false ones have both volume and first page
different; on the look-alike library most true ones are translated titles (title score
near 50) whose authors, year, volume and pages all agree.

Columns added to ``maybe.tsv`` (:data:`BAND_COLUMNS`):

``settled``
    ``distinct: volume and first page both differ`` when both are given and differ: the
    rule :mod:`sysrev.dedup.find` already applies to clusters (two such records never end
    in one cluster), so a reviewer's ``same`` would be needed to merge them; such pairs are
    not put to a reviewer. Empty otherwise.
``likelihood``
    The mean agreement over the evidence present: title, author and journal scores / 100;
    year (same 1, one apart 0.5, different 0); volume and pages (same 1, different 0).
    Missing evidence is left out of the mean, not counted against the pair.
``review_rank``
    Rank of an unsettled pair: first the pairs whose volume and first page do not conflict
    (where given), then those where one of them does; within each, by likelihood (highest
    first; ties by record ids).
``for_review``
    ``yes`` for the first ``max(minimum, per_100k * records / 100,000)`` ranked pairs (the
    list a team reads), ``no`` for the rest and the settled ones.
``evidence_for``, ``evidence_against``
    What agrees (scores of 90 or more, same year, volume, pages) and what does not (the
    pair's ``reason``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

#: Columns :func:`review_band` adds to ``maybe.tsv``.
BAND_COLUMNS = ["for_review", "review_rank", "likelihood", "settled", "evidence_for",
                "evidence_against"]
#: ``settled`` of a pair whose volume and first page both differ.
SETTLED_VOLUME_PAGES = "distinct: volume and first page both differ"
#: Default of ``dedup.maybe_per_100k`` and the smallest list (``dedup.maybe_minimum``).
PER_100K = 300
MINIMUM = 100

_MATCH = {"same": 1.0, "one apart": 0.5, "different": 0.0}


def review_cap(records: int, per_100k: int = PER_100K, minimum: int = MINIMUM) -> int:
    """How many ranked pairs are marked for review for ``records`` records."""
    return max(int(minimum), math.ceil(per_100k * records / 100_000))


def review_band(maybe: pd.DataFrame, records: int, per_100k: int = PER_100K,
                minimum: int = MINIMUM) -> pd.DataFrame:
    """``maybe`` (columns :data:`sysrev.dedup.MAYBE_COLUMNS`, numbers or text) with
    :data:`BAND_COLUMNS`, sorted by record ids. See the module docstring."""
    out = maybe.copy()
    scores = [pd.to_numeric(out[c], errors="coerce").to_numpy(dtype=float) / 100
              for c in ("title_score", "author_score", "journal_score")]
    matches = [out[c].map(_MATCH).to_numpy(dtype=float)
               for c in ("year_match", "volume_match", "pages_match")]
    parts = np.vstack(scores + matches) if len(out) else np.empty((6, 0))
    present = ~np.isnan(parts)
    with np.errstate(invalid="ignore"):
        likelihood = np.where(present.any(axis=0),
                              np.nansum(parts, axis=0) / np.maximum(present.sum(axis=0), 1),
                              0.0)
    out["likelihood"] = np.round(likelihood, 3)
    settled = (out["volume_match"] == "different") & (out["pages_match"] == "different")
    out["settled"] = np.where(settled, SETTLED_VOLUME_PAGES, "")
    # Pairs without a conflicting volume or first page first: on the look-alike library
    # no maybe pair with different first pages is a duplicate and every one with the same
    # first page is (BENCHMARKS.md); the likelihood orders the pairs within each group.
    conflicts = (out["volume_match"] == "different").astype(int) + \
        (out["pages_match"] == "different").astype(int)
    order = out.assign(_conflicts=conflicts)[~settled].sort_values(
        ["_conflicts", "likelihood", "record_id_a", "record_id_b"],
        ascending=[True, False, True, True], kind="mergesort")
    rank = pd.Series(np.arange(1, len(order) + 1), index=order.index)
    out["review_rank"] = rank.reindex(out.index).astype("Int64")
    cap = review_cap(records, per_100k, minimum)
    out["for_review"] = np.where(out["review_rank"].fillna(cap + 1) <= cap, "yes", "no")
    labels = ("title", "authors", "journal")
    evidence = []
    for k in range(len(out)):
        found = [f"{name} {scores[i][k] * 100:.0f}" for i, name in enumerate(labels)
                 if scores[i][k] >= 0.9]
        found += [f"{name} same" for name, m in zip(("year", "volume", "pages"), matches)
                  if m[k] == 1.0]
        evidence.append("; ".join(found))
    out["evidence_for"] = evidence
    out["evidence_against"] = out["reason"].fillna("")
    return out.sort_values(["record_id_a", "record_id_b"], kind="mergesort").reset_index(
        drop=True)
