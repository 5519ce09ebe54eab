"""Step 2: candidate pairs by sorted-neighbourhood blocking, never all pairs."""

from __future__ import annotations

import logging
from typing import Sequence

import numpy as np
import pandas as pd

from sysrev.dedup.normalise import _Prepared

log = logging.getLogger(__name__)

#: Neighbours compared per record and blocking key (sorted-neighbourhood window).
WINDOW = 8

_STOPWORDS = frozenset(
    "a an the of and or in on for to with by at from as is are be its into vs versus via "
    "und der die das le la les de des du el los".split())

def _codes(keys: Sequence[str]) -> np.ndarray:
    """Integer code per key; -1 where the key is empty."""
    codes, uniques = pd.factorize(pd.Series(list(keys), dtype=object), sort=True)
    codes = codes.astype(np.int64)
    if len(uniques):
        empty = np.nonzero(np.asarray(uniques, dtype=object) == "")[0]
        if len(empty):
            codes[codes == empty[0]] = -1
    return codes


def _window_pairs(codes: np.ndarray, rank: np.ndarray, window: int) -> np.ndarray:
    """Pairs of records that share a code and are within ``window`` of each other when
    sorted by (code, rank)."""
    idx = np.nonzero(codes >= 0)[0]
    if len(idx) < 2:
        return np.empty((0, 2), dtype=np.int64)
    order = idx[np.lexsort((rank[idx], codes[idx]))]
    sorted_codes = codes[order]
    chunks = []
    for w in range(1, min(window, len(order) - 1) + 1):
        same = sorted_codes[w:] == sorted_codes[:-w]
        if not same.any():
            break
        a, b = order[:-w][same], order[w:][same]
        chunks.append(np.stack([np.minimum(a, b), np.maximum(a, b)], axis=1))
    return np.concatenate(chunks) if chunks else np.empty((0, 2), dtype=np.int64)


def _blocking_keys(p: _Prepared) -> dict[str, list[str]]:
    words = [[w for w in t.split() if w not in _STOPWORDS] for t in p.title]
    year = [str(y) if y >= 0 else "" for y in p.year]
    vol = [str(v) if v >= 0 else "" for v in p.volume]
    # A related report's title without its prefix ("Erratum:") starts like its article's.
    core_words = [[w for w in c.split() if w not in _STOPWORDS] if k else []
                  for c, k in zip(p.core, p.report)]
    return {
        "doi": p.doi,
        "pmid": p.pmid,
        "title_start": [" ".join(w[:4]) if len(w) >= 3 else "" for w in words],
        "core_start": [" ".join(c[:4]) if len(c) >= 3 else " ".join(w[:4]) if len(w) >= 3
                       else "" for w, c in zip(words, core_words)],
        "title_end": [" ".join(w[-4:]) if len(w) >= 5 else "" for w in words],
        "author_year": [f"{a}|{y}" if a and y else "" for a, y in zip(p.first_author, year)],
        "year_volume_page": [f"{y}|{v}|{pg}" if y and v and pg else ""
                             for y, v, pg in zip(year, vol, p.page)],
        "author_page": [f"{a}|{pg}" if a and pg else ""
                        for a, pg in zip(p.first_author, p.page)],
    }


def candidate_pairs(p: _Prepared, window: int = WINDOW) -> np.ndarray:
    """Unique candidate pairs ``(i, j)``, ``i < j``, from all blocking keys."""
    n = len(p.ids)
    rank = np.argsort(np.argsort(np.asarray(p.title, dtype=object), kind="stable"),
                      kind="stable").astype(np.int64)
    chunks = [_window_pairs(_codes(keys), rank, window)
              for keys in _blocking_keys(p).values()]
    pairs = np.concatenate(chunks) if chunks else np.empty((0, 2), dtype=np.int64)
    if not len(pairs):
        return pairs
    keys = np.unique(pairs[:, 0] * n + pairs[:, 1])
    return np.stack([keys // n, keys % n], axis=1)
