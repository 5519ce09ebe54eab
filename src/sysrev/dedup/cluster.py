"""Step 5: clusters by union-find with cannot-link constraints between clusters."""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)


class _Clusters:
    """Union-find with cannot-link constraints between clusters."""

    def __init__(self, n: int):
        self.parent = np.arange(n)
        self.cannot: dict[int, set[int]] = {}

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return int(root)

    def roots(self) -> np.ndarray:
        """The cluster of every record, as its smallest record index."""
        return np.fromiter((self.find(i) for i in range(len(self.parent))), dtype=np.int64,
                           count=len(self.parent))

    def forbid(self, x: int, y: int) -> None:
        rx, ry = self.find(x), self.find(y)
        if rx != ry:
            self.cannot.setdefault(rx, set()).add(ry)
            self.cannot.setdefault(ry, set()).add(rx)

    def union(self, x: int, y: int) -> bool:
        """Merge unless forbidden; True when the two are now in one cluster."""
        rx, ry = self.find(x), self.find(y)
        if rx == ry:
            return True
        cx, cy = self.cannot.get(rx, set()), self.cannot.get(ry, set())
        if ry in cx:
            return False
        keep, gone = (rx, ry) if rx < ry else (ry, rx)
        self.parent[gone] = keep
        merged = cx | cy
        merged.discard(rx)
        merged.discard(ry)
        self.cannot.pop(gone, None)
        if merged:
            self.cannot[keep] = merged
            for other in merged:
                peers = self.cannot[other]
                peers.discard(gone)
                peers.add(keep)
        else:
            self.cannot.pop(keep, None)
        return True


_RULE_ORDER = {"override": 0, "doi": 1, "pmid": 2, "title_year_author": 3, "fuzzy": 4,
               "bibliographic": 5, "erratum": 6}


def components(n: int, edges: np.ndarray) -> np.ndarray:
    """Connected component of each of ``n`` records under ``edges`` (``(i, j)`` rows).

    Records in different components can never share a cluster, so a cannot-link between
    them changes nothing: only those within a component need recording.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if not len(edges):
        return np.arange(n)
    graph = coo_matrix((np.ones(len(edges), dtype=np.int8), (edges[:, 0], edges[:, 1])),
                       shape=(n, n))
    return connected_components(graph, directed=False)[1].astype(np.int64)


def within_pairs(roots: np.ndarray) -> np.ndarray:
    """Every pair ``(i, j)``, ``i < j``, of records that share a cluster (``roots``)."""
    n = len(roots)
    order = np.lexsort((np.arange(n), roots))
    sorted_roots = roots[order]
    chunks = []
    for gap in range(1, n):
        same = sorted_roots[gap:] == sorted_roots[:-gap]
        if not same.any():
            break
        a, b = order[:-gap][same], order[gap:][same]
        chunks.append(np.stack([np.minimum(a, b), np.maximum(a, b)], axis=1))
    if not chunks:
        return np.empty((0, 2), dtype=np.int64)
    pairs = np.concatenate(chunks)
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
