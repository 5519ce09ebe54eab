"""A set of PMIDs held as bits, and the sorted PMID list a snapshot keeps beside its XML.

A retrieval must know which PMIDs an earlier date window already stored (a record can match
two windows on its print and electronic dates) and, at the end, that the batches hold
exactly the PMIDs the windows listed, each once. Held as Python strings in sets, that costs
about 100 bytes a record (over 100 MiB at 1M records). PMIDs are positive integers below
about 4 * 10**7 (PubMed's newest in 2026), so a bit per possible PMID, in 8 KiB chunks
made only where a PMID falls, costs at most about 5 MiB whatever the number of records.

The snapshot's ``pmids.txt`` (:data:`PMID_LIST`) lists the search's PMIDs, one a line,
in numeric order; ``provenance.json`` records its ``sha256`` and ``records``. As the
digest is that of the sorted list, a reader checks the XML's PMIDs against it without
loading the list (:func:`list_digest`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterable, Iterator

#: File name of the sorted PMID list in a snapshot (and its key in provenance.json).
PMID_LIST = "pmids.txt"

_CHUNK_BITS = 1 << 16
_CHUNK_BYTES = _CHUNK_BITS // 8


def pmid_number(pmid: str) -> int:
    """A PMID as its number; ``ValueError`` for anything but digits with no leading zero."""
    if not pmid.isdigit() or pmid.startswith("0") or not pmid.isascii():
        raise ValueError(f"not a PMID: {pmid!r}")
    return int(pmid)


class PmidSet:
    """A set of PMIDs (strings of digits) as a sparse bitmap: memory grows with the span of
    PMID numbers (8 KiB per 65,536 of them that hold one), not with the number held."""

    __slots__ = ("_chunks", "_len")

    def __init__(self, pmids: Iterable[str] = ()):
        self._chunks: dict[int, bytearray] = {}
        self._len = 0
        self.update(pmids)

    def add(self, pmid: str) -> bool:
        """Add ``pmid``; True when it was not there yet."""
        number = pmid_number(pmid)
        chunk = self._chunks.get(number >> 16)
        if chunk is None:
            chunk = self._chunks[number >> 16] = bytearray(_CHUNK_BYTES)
        offset, bit = (number & 0xFFFF) >> 3, 1 << (number & 7)
        if chunk[offset] & bit:
            return False
        chunk[offset] |= bit
        self._len += 1
        return True

    def update(self, pmids: Iterable[str]) -> list[str]:
        """Add every PMID of ``pmids``; return those already there (in the order given)."""
        return [p for p in pmids if not self.add(p)]

    def __contains__(self, pmid: object) -> bool:
        try:
            number = pmid_number(str(pmid))
        except ValueError:
            return False
        chunk = self._chunks.get(number >> 16)
        return bool(chunk and chunk[(number & 0xFFFF) >> 3] & (1 << (number & 7)))

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[str]:
        """The PMIDs in numeric order."""
        for key in sorted(self._chunks):
            chunk, base = self._chunks[key], key << 16
            for offset in range(_CHUNK_BYTES):
                byte = chunk[offset]
                if byte:
                    for bit in range(8):
                        if byte >> bit & 1:
                            yield str(base + (offset << 3) + bit)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PmidSet):
            return NotImplemented
        if self._len != other._len:
            return False
        zero = bytes(_CHUNK_BYTES)
        for key in set(self._chunks) | set(other._chunks):
            if (self._chunks.get(key) or zero) != (other._chunks.get(key) or zero):
                return False
        return True

    def difference(self, other: "PmidSet", limit: int | None = None) -> list[str]:
        """PMIDs here and not in ``other``, in numeric order (the first ``limit``)."""
        out = []
        for pmid in self:
            if pmid not in other:
                out.append(pmid)
                if limit is not None and len(out) >= limit:
                    break
        return out


def list_lines(pmids: PmidSet) -> Iterator[bytes]:
    """The lines of ``pmids.txt`` for ``pmids``."""
    for pmid in pmids:
        yield f"{pmid}\n".encode("ascii")


def list_digest(pmids: PmidSet) -> str:
    """SHA-256 of the ``pmids.txt`` that lists ``pmids`` (without writing it)."""
    digest = hashlib.sha256()
    for line in list_lines(pmids):
        digest.update(line)
    return digest.hexdigest()


def read_pmid_file(path: str | Path) -> list[str]:
    """The PMIDs of a one-a-line file (a window's, or the snapshot's list)."""
    with open(path, encoding="ascii") as handle:
        return [line.strip() for line in handle if line.strip()]


def read_pmid_set(path: str | Path) -> PmidSet:
    """The PMIDs of a one-a-line file as a :class:`PmidSet`, read line by line."""
    pmids = PmidSet()
    with open(path, encoding="ascii") as handle:
        for line in handle:
            if line.strip():
                pmids.add(line.strip())
    return pmids
