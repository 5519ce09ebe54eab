"""Step 2: candidate pairs by sorted-neighbourhood blocking, never all pairs."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Iterator, Sequence

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


def _identifier_keys(p: _Prepared) -> Iterator[list[str]]:
    yield p.doi
    yield p.pmid
    year = [str(y) if y >= 0 else "" for y in p.year]
    vol = [str(v) if v >= 0 else "" for v in p.volume]
    yield [f"{y}|{v}|{pg}" if y and v and pg else "" for y, v, pg in zip(year, vol, p.page)]


def _title_keys(p: _Prepared) -> Iterator[list[str]]:
    # Both keys of a title in one pass, so that the titles' word lists (ten times the size
    # of the keys) are never held all at once.
    first, last = [], []
    for t in p.title:
        w = [x for x in t.split() if x not in _STOPWORDS]
        first.append(" ".join(w[:4]) if len(w) >= 3 else "")
        last.append(" ".join(w[-4:]) if len(w) >= 5 else "")
    # A related report's title without its prefix ("Erratum:") starts like its article's.
    core = list(first)
    for i in np.nonzero(np.asarray(p.report, dtype=object) != "")[0].tolist():
        c = [x for x in p.core[i].split() if x not in _STOPWORDS]
        if len(c) >= 3:
            core[i] = " ".join(c[:4])
    yield first
    del first
    yield core
    del core
    yield last


def _author_keys(p: _Prepared) -> Iterator[list[str]]:
    year = [str(y) if y >= 0 else "" for y in p.year]
    yield [f"{a}|{y}" if a and y else "" for a, y in zip(p.first_author, year)]
    yield [f"{a}|{pg}" if a and pg else "" for a, pg in zip(p.first_author, p.page)]


#: The blocking keys, in three groups that can be built in parallel: DOI, PMID and year,
#: volume and first page; the title's first and last four words (and a related report's
#: title after its prefix); first author with year and with first page. Each group yields
#: its keys one list at a time, so that only one is held at once.
KEY_GROUPS = (_identifier_keys, _title_keys, _author_keys)


def key_hash(keys: Sequence[str]) -> np.ndarray:
    """Each key as a 64-bit hash (:func:`pandas.util.hash_array`, fixed key); 0 where the
    key is empty (a non-empty key that hashes to 0 gets 1). The incremental index stores
    the blocking keys this way (:mod:`sysrev.dedup.incremental`)."""
    values = np.asarray(keys, dtype=object)
    if not len(values):
        return np.zeros(0, dtype=np.uint64)
    hashed = pd.util.hash_array(values, categorize=False)
    hashed[hashed == 0] = 1
    hashed[values == ""] = 0
    return hashed


@dataclass
class Blocking:
    """What :func:`blocking` found: the candidate pairs and, when asked for, what the
    incremental index keeps of the blocking (so that it need not build the keys again)."""

    #: Unique candidate pairs ``(i, j)``, ``i < j``.
    pairs: np.ndarray
    #: Each record's rank by normalised title (ties share one): the neighbourhood order.
    title_rank: np.ndarray
    #: Each blocking key of each record as :func:`key_hash` makes it, in the order of
    #: :data:`KEY_GROUPS` (None unless asked for).
    key_hashes: list[np.ndarray] | None = None


def candidate_pairs(p: _Prepared, window: int = WINDOW, workers: int = 1) -> np.ndarray:
    """Unique candidate pairs ``(i, j)``, ``i < j``, from all blocking keys (the key groups
    on ``workers`` processes)."""
    return blocking(p, window, workers).pairs


def blocking(p: _Prepared, window: int = WINDOW, workers: int = 1,
             hashes: bool = False) -> Blocking:
    """:func:`candidate_pairs`, with the title rank and, with ``hashes``, each blocking
    key's :func:`key_hash` (made where the keys are, in the workers)."""
    from sysrev.dedup import parallel

    n = len(p.ids)
    # Rank of each record by title (ties in record order): the neighbourhood order.
    rank = pd.factorize(pd.Series(p.title, dtype=object), sort=True)[0].astype(np.int64)

    def task(start: int, stop: int) -> tuple[np.ndarray, list[np.ndarray]]:
        # Each pair as one number, i * n + j, without repeats: half the memory of the pairs
        # and less to send back from a worker.
        found, hashed = [], []
        for group in KEY_GROUPS[start:stop]:
            for keys in group(p):
                if hashes:
                    hashed.append(key_hash(keys))
                pairs = _window_pairs(_codes(keys), rank, window)
                found.append(pairs[:, 0] * n + pairs[:, 1])
                del pairs
        return (np.unique(np.concatenate(found)) if found else np.empty(0, dtype=np.int64),
                hashed)

    if n < 2 * parallel.MIN_PARALLEL:
        workers = 1
    parts = parallel.map_ranges(task, len(KEY_GROUPS), workers, min_items=0, chunk=1)
    hashed = [h for _, part in parts for h in part] if hashes else None
    keys = parts[0][0] if len(parts) == 1 else np.unique(np.concatenate(
        [found for found, _ in parts]))
    del parts
    pairs = np.stack([keys // n, keys % n], axis=1) if len(keys) else \
        np.empty((0, 2), dtype=np.int64)
    return Blocking(pairs=pairs, title_rank=rank, key_hashes=hashed)
