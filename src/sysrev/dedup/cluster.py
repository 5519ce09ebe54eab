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
