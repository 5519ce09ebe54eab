"""Incremental deduplication: an update compares its new records with each other and with
the clusters of the earlier run only, at a cost in proportion to the new records.

The index (``results/<review>/dedup/index/``, beside the outputs) holds what matching
needs, in files that are read in part (memory-mapped numpy arrays and UTF-8 blobs, no
pickle, no timestamps):

``store/<field>.npy``, ``store/<field>.offsets.npy`` + ``store/<field>.utf8``
    Every earlier record's normalised fields (each field of
    :class:`~sysrev.dedup.normalise._Prepared`: numbers as arrays, texts as one UTF-8
    blob with offsets), so that an update normalises its new records only. Rows are in
    the order the records came (the first run's in record-id order, each update's
    appended).
``store/digest.npy``, ``store/id_hash.npy``
    A 64-bit digest of each record's line in ``records.tsv`` (every cell as written,
    :class:`Records`) and of its id: an earlier record that changed, or is gone, makes the
    update run from scratch.
``store/cluster_row.npy``
    The row of each record's cluster's kept record (the cluster id).
``store/title_order.npy``
    The rows in (normalised title, record id) order: the blocking neighbourhood order.
``store/key_<key>.npy``, ``store/keyorder_<key>.npy``, ``store/keysorted_<key>.npy``
    The blocking index: each record's 64-bit hash of the key (0: no key), the rows that
    have one in (key, title, record id) order, and their hashes in that order.
``<table>.tsv.prev``
    The earlier run's ``clusters``, ``unique``, ``duplicates``, ``maybe`` and ``related``
    tables (a hard link to the output where the file system allows it, else a copy;
    Snakemake removes a rule's outputs before running it). The named ``.prev`` so that
    nothing takes them for results.
``manifest.json``
    Format version, the matcher's digest (the source of every :mod:`sysrev.dedup`
    module), the parameters (source priority, errata, window), the overrides file's
    digest, the record columns, the pandas version (its hashing), the number of records,
    the table counts of the audit, each file's SHA-256 and a SHA-256 of the manifest
    itself.

An index is used only when all of these agree with the run, every file has its SHA-256
(a changed or damaged index is detected) and every record of the earlier run is still
there with the same cells; otherwise deduplication runs from scratch and the index is
written again (never silently reused). The sources' related-report links
(``search/related_reports.tsv``, cannot-links between a trial and its papers) are among
the settings (their SHA-256): a review whose sources link reports runs from scratch when an
update brings new links. The reason is logged and written to
``index/last_run.json`` (not to the audit, which records the tables only: see
:func:`sysrev.workflow.dedup.deduplicate_records`).

An update (:func:`update`):

1. The new records (ids not in the index) are normalised and their blocking keys made.
2. For each blocking key, the earlier records sharing the key's value with a new record,
   and within :data:`~sysrev.dedup.block.WINDOW` places of one in the union's (key,
   title, record id) order (exactly the window a run from scratch would use), are its
   neighbours; with every other record of their clusters they form the *subset*. Found
   with binary searches in the stored order: the cost grows with the new records and
   the sizes of the key groups they fall in, not with the earlier records.
3. :func:`~sysrev.dedup.find.find_duplicates` runs on the subset (the earlier records'
   normalised fields read from the store), with the earlier clusters held together (a
   ``same`` override from each member to its kept record) and the earlier kept records
   kept first (``prefer_kept``), scoring only the pairs that hold a new record.
4. A new record that links two earlier clusters (a *bridge*) does not merge them: the kept
   records of those clusters get a ``different`` override and the subset is clustered
   again, so the new record joins the cluster its strongest link reaches; the links it had
   to the other clusters are put in ``maybe.tsv`` (reason :data:`BRIDGE_REASON`) for a
   reviewer, whose ``same`` override then merges them (an override change rebuilds the
   index).
5. Earlier records keep their rows in ``clusters.tsv`` and ``duplicates.tsv``; new
   records get theirs from the subset; ``unique.tsv`` is made again for the clusters the
   update touched (a new record joined them, or a new related report names them) only.
   These three tables list every record, so writing them stays linear, but as a merge of
   the earlier file's lines with the new lines (:func:`merge_lines`: bytes, no per-row
   pandas). ``maybe.tsv`` and ``related.tsv`` (small) gain the subset's rows that involve
   a new record (or were not there before) and are written whole.

What stays linear in the earlier records, as whole-array operations: reading
``records.tsv`` as bytes, splitting it into lines and hashing each (:class:`Records`; the
earlier records are never parsed into a table), a few vectorised passes over the stored arrays (``np.isin``,
sorts of 64-bit keys), copying the store with the new rows appended, and the line merges
and SHA-256s of the tables. ``benchmarks/bench_dedup_incremental.py`` measures them.

Where the result may differ from a from-scratch run on the union (the test
``tests/unit/test_dedup_incremental.py`` checks that nothing else does):

- *Kept record*: a new record more complete than an earlier cluster's kept record would be
  kept from scratch; an update keeps the earlier one (kept records stay kept).
- *Bridges* (step 4): from scratch the two earlier clusters would be one.
- *Neighbourhoods*: the subset's own windows (step 3) can hold pairs the union's windows
  do not (the subset is smaller), so an update can find a link a run from scratch misses;
  earlier records are never compared with each other again.
- *Evidence*: the link a new record's row names (``rule``, ``linked_to``, scores) is the
  one found in the subset, which can be another link of the same cluster.
- ``related.tsv``: a related-report link the subset's pairs hold and the union's window
  did not (or the reverse), and evidence naming other records where the kept record
  differs.
- ``maybe.tsv``: the bridge pairs, and so the ``review_rank`` of pairs ranked after them.
- A ``records.tsv`` with a cell that spans lines is read whole and deduplicated from
  scratch (its lines are not records).
- Blocking keys are compared by 64-bit hash: two different keys with one hash (about one
  chance in 10^7 for a million distinct keys) would share a neighbourhood in an update
  and not from scratch.
"""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import io
import json
import logging
import mmap
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from sysrev.dedup.block import KEY_GROUPS, WINDOW, key_hash
from sysrev.dedup.find import MAYBE_COLUMNS, DedupResult, find_duplicates
from sysrev.dedup.normalise import _Prepared, prepare
from sysrev.dedup.related import RELATED_COLUMNS
from sysrev.dedup.score import DUPLICATE, RULES
from sysrev.tables import FLOAT_FORMAT, atomic_path, write_json

log = logging.getLogger(__name__)

#: Version of the index format; another version is rebuilt.
INDEX_VERSION = 2
#: Names of the blocking keys (the order of :data:`~sysrev.dedup.block.KEY_GROUPS`).
KEY_COLUMNS = ["key_doi", "key_pmid", "key_year_volume_page", "key_title_first",
               "key_core_first", "key_title_last", "key_author_year", "key_author_page"]
#: ``maybe.tsv``'s reason for a new record's link to a second earlier cluster.
BRIDGE_REASON = ("links two clusters of the earlier run (an update keeps them apart; a "
                 "reviewer's 'same' override merges them)")
#: The rule's tables the index keeps a copy of (``<name>.tsv.prev``).
TABLES = ("clusters", "unique", "duplicates", "maybe", "related")
#: The column each table is sorted by (its first).
TABLE_KEYS = {"clusters": "record_id", "unique": "record_id",
              "duplicates": "removed_record_id"}
_STORE = "store"


def matcher_sha256() -> str:
    """SHA-256 over the source of every module of :mod:`sysrev.dedup`, of the rule's
    function (:mod:`sysrev.workflow.dedup`: the tables' layout and counts) and of
    :mod:`sysrev.columns` (the matcher's version: any change of method or of the tables
    rebuilds the index)."""
    digest = hashlib.sha256()
    package = Path(__file__).parents[1]
    for path in sorted(Path(__file__).parent.glob("*.py")) + [
            package / "workflow" / "dedup.py", package / "columns.py"]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _hash_texts(values) -> np.ndarray:
    """64-bit hash of each text (:func:`pandas.util.hash_array`, fixed key)."""
    return pd.util.hash_array(np.asarray(values, dtype=object), categorize=False)


@dataclass
class Records:
    """The record table as the lines of its TSV, one record a line: the ids and a 64-bit
    digest of each line's bytes (every cell, as written), and rows parsed only when asked
    for (:meth:`rows`). An update reads the earlier records this way: their lines are
    split and hashed, never parsed into a table."""

    header: bytes
    columns: list[str]
    ids: np.ndarray
    digests: np.ndarray
    lines: list[bytes] | None

    def __len__(self) -> int:
        return len(self.ids)

    def rows(self, wanted) -> pd.DataFrame:
        """The records whose id is in ``wanted``, in the file's order, as
        :func:`~sysrev.tables.read_tsv` reads them."""
        picked = np.nonzero(pd.Series(self.ids).isin(wanted).to_numpy())[0]
        body = b"".join(self.lines[i] + b"\n" for i in picked.tolist())
        return pd.read_csv(io.BytesIO(self.header + body), sep="\t", dtype=str,
                           keep_default_na=False, na_values=[""])


def read_records(path: str | Path) -> Records | None:
    """``records.tsv`` (written by :func:`~sysrev.tables.write_tsv`) as :class:`Records`;
    ``None`` when a cell spans lines or an id is quoted (then the table is read whole and
    the index is not used)."""
    data = Path(path).read_bytes()
    head, _, body = data.partition(b"\n")
    del data
    lines = body.split(b"\n")
    del body
    if lines and lines[-1] == b"":
        lines.pop()
    if any(b'"' in line and (line.count(b'"') % 2 or line.startswith(b'"'))
           for line in lines):
        return None
    columns = list(pd.read_csv(io.BytesIO(head + b"\n"), sep="\t", dtype=str).columns)
    ids = np.array([line.partition(b"\t")[0].decode("utf-8") for line in lines],
                   dtype=object)
    digests = _hash_texts(np.array(lines, dtype=object)) if lines else \
        np.zeros(0, dtype=np.uint64)
    return Records(header=head + b"\n", columns=columns, ids=ids, digests=digests,
                   lines=lines)


def key_hashes(p: _Prepared, workers: int = 1) -> dict[str, np.ndarray]:
    """Each blocking key of each record (:data:`KEY_COLUMNS`) as a 64-bit hash
    (:func:`~sysrev.dedup.block.key_hash`); 0 where the record has no such key. The key
    groups on ``workers`` processes (records below
    :data:`~sysrev.dedup.parallel.MIN_PARALLEL` per worker: one). A run from scratch takes
    them from its blocking instead (:attr:`DedupResult.key_hashes`)."""
    from sysrev.dedup import parallel

    def task(start: int, stop: int) -> list[np.ndarray]:
        return [key_hash(keys) for group in KEY_GROUPS[start:stop] for keys in group(p)]

    if len(p.ids) < 2 * parallel.MIN_PARALLEL:
        workers = 1
    hashed = [h for part in parallel.map_ranges(task, len(KEY_GROUPS), workers, min_items=0,
                                                chunk=1) for h in part]
    return _key_columns(hashed)


def _key_columns(hashed: list[np.ndarray]) -> dict[str, np.ndarray]:
    if len(hashed) != len(KEY_COLUMNS):
        raise RuntimeError("the blocking keys changed; update KEY_COLUMNS")
    return dict(zip(KEY_COLUMNS, hashed))


# --- the store: numbers as .npy, texts as a UTF-8 blob with offsets ------------------------

def _field_kind(annotation: str, value) -> str:
    """How a field of :class:`~sysrev.dedup.normalise._Prepared` is stored, from its type:
    numbers as an array; texts as a blob; sets of integers and tuples of texts as one text
    per record (``intsets``, ``tuples``); anything else as JSON per record."""
    if isinstance(value, np.ndarray):
        return "texts" if value.dtype == object else "array"
    annotation = str(annotation).replace(" ", "")
    if annotation == "list[str]":
        return "texts_list"
    if annotation.startswith("list[frozenset"):
        return "intsets"
    if annotation.startswith("list[tuple"):
        return "tuples"
    return "json"


def _as_texts(kind: str, values) -> list[str]:
    if kind == "intsets":
        return _intsets_as_texts(values)
    if kind == "tuples":
        done: dict = {}
        out = []
        for value in values:
            text = done.get(value)
            if text is None:
                text = done[value] = json.dumps(list(value), ensure_ascii=False) \
                    if value else ""
            out.append(text)
        return out
    if kind == "json":
        return [json.dumps(v, ensure_ascii=False) for v in values]
    return list(values)


def _from_texts(kind: str, texts: list[str]) -> list:
    done: dict = {}
    if kind == "intsets":
        return [done[t] if t in done else done.setdefault(
            t, frozenset(int(x) for x in t.split(",")) if t else frozenset())
            for t in texts]
    if kind == "tuples":
        return [done[t] if t in done else done.setdefault(
            t, tuple(json.loads(t)) if t else ()) for t in texts]
    if kind == "json":
        return [json.loads(t) for t in texts]
    return texts


def _encode_texts(values) -> tuple[np.ndarray, bytes]:
    """``values`` as one UTF-8 blob and the offsets of each text in it (``n + 1``)."""
    values = list(values)
    text = "".join(values)
    if text.isascii():
        # one byte a character: the lengths are the texts' (no encoding one by one)
        blob, lengths = text.encode("ascii"), map(len, values)
    else:
        data = [v.encode("utf-8") for v in values]
        blob, lengths = b"".join(data), map(len, data)
    del text
    offsets = np.zeros(len(values) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(lengths, dtype=np.int64, count=len(values)), out=offsets[1:])
    return offsets, blob


def _intsets_as_texts(values) -> list[str]:
    done: dict = {}
    return [done.get(v) or done.setdefault(v, ",".join(map(str, sorted(v))))
            for v in values]


class _Texts:
    """Texts of a store field, read by row from a memory-mapped blob."""

    def __init__(self, offsets: np.ndarray, path: Path):
        self.offsets = np.asarray(offsets)
        self._handle = open(path, "rb")
        size = os.fstat(self._handle.fileno()).st_size
        self._data = mmap.mmap(self._handle.fileno(), 0, access=mmap.ACCESS_READ) \
            if size else b""

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, row: int) -> str:
        offsets = self.offsets
        return self._data[offsets[row]:offsets[row + 1]].decode()

    def take(self, rows: np.ndarray) -> list[str]:
        rows = np.asarray(rows, dtype=np.int64)
        data = self._data
        return [data[a:b].decode() for a, b in zip(self.offsets[rows].tolist(),
                                                   self.offsets[rows + 1].tolist())]


class Store:
    """The index's stored arrays (memory-mapped, read by row)."""

    def __init__(self, folder: Path, manifest: dict):
        self.folder = folder / _STORE
        self.n = int(manifest["records"])
        self.kinds: dict[str, str] = manifest["fields"]
        self._texts: dict[str, _Texts] = {}

    def array(self, name: str) -> np.ndarray:
        path = self.folder / f"{name}.npy"
        return np.load(path, mmap_mode="r" if self.n else None, allow_pickle=False)

    def texts(self, name: str) -> _Texts:
        if name not in self._texts:
            self._texts[name] = _Texts(self.array(f"{name}.offsets"),
                                       self.folder / f"{name}.utf8")
        return self._texts[name]

    def prepared(self, rows: np.ndarray) -> _Prepared:
        """The normalised records of ``rows``, in that order."""
        values = {}
        for name, kind in self.kinds.items():
            if kind == "array":
                values[name] = np.asarray(self.array(name)[rows])
            elif kind == "texts":
                values[name] = np.array(self.texts(name).take(rows), dtype=object)
            else:
                values[name] = _from_texts(kind, self.texts(name).take(rows))
        return _Prepared(**values)


def _take(p: _Prepared, rows: np.ndarray) -> _Prepared:
    """The records ``rows`` of ``p``, in that order."""
    rows = np.asarray(rows, dtype=np.int64)
    out = {}
    for f in dataclasses.fields(_Prepared):
        value = getattr(p, f.name)
        out[f.name] = value[rows] if isinstance(value, np.ndarray) else \
            [value[i] for i in rows.tolist()]
    return _Prepared(**out)


def _concat(first: _Prepared, second: _Prepared) -> _Prepared:
    out = {}
    for f in dataclasses.fields(_Prepared):
        a, b = getattr(first, f.name), getattr(second, f.name)
        out[f.name] = np.concatenate([a, b]) if isinstance(a, np.ndarray) else \
            list(a) + list(b)
    return _Prepared(**out)


def _write_npy(path: Path, parts: Sequence[np.ndarray], dtype) -> None:
    """``parts`` one after the other as one .npy array, written atomically without
    holding them joined in memory."""
    dtype = np.dtype(dtype)
    total = sum(len(p) for p in parts)
    fmt = np.lib.format
    with atomic_path(path, "wb") as handle:
        fmt.write_array_header_1_0(handle, {"descr": fmt.dtype_to_descr(dtype),
                                            "fortran_order": False, "shape": (total,)})
        for part in parts:
            np.ascontiguousarray(part, dtype=dtype).tofile(handle)


def _write_blob(path: Path, parts: Sequence) -> None:
    """``parts`` (bytes or memory-mapped blobs) one after the other, atomically."""
    with atomic_path(path, "wb") as handle:
        for part in parts:
            handle.write(part)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def _manifest_digest(manifest: dict) -> str:
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Index:
    """An index that matches the run: the stored records and the earlier tables' paths,
    and which rows of the run's table are new."""

    folder: Path
    manifest: dict
    store: Store
    new_ids: list[str]

    def table(self, name: str) -> Path:
        return self.folder / f"{name}.tsv.prev"

    def read_table(self, name: str) -> pd.DataFrame:
        return pd.read_csv(self.table(name), sep="\t", dtype=str, keep_default_na=False,
                           na_values=[""])


def settings(source_priority: Sequence[str], errata: str, overrides: str | None,
             columns: Sequence[str], window: int = WINDOW) -> dict:
    """What an index must agree with to be used."""
    return {"format": "sysrev-dedup-index", "version": INDEX_VERSION,
            "matcher_sha256": matcher_sha256(),
            "parameters": {"source_priority": list(source_priority), "errata": errata,
                           "window": int(window), "rules": RULES},
            "overrides_sha256": _sha256(Path(overrides)) if overrides else "none",
            "record_columns": sorted(columns), "pandas": pd.__version__,
            "numpy": np.__version__}


def load_index(folder: str | Path, ids: np.ndarray, expected: dict,
               digests: np.ndarray) -> tuple[Index | None, str]:
    """The index in ``folder`` if it matches ``expected`` (:func:`settings`), its files
    have their SHA-256 and every earlier record is among the run's (``ids``) unchanged
    (``digests``: :attr:`Records.digests`, by id); else ``None`` and the reason."""
    folder = Path(folder)
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        return None, "no index"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return None, f"index manifest unreadable ({error})"
    if not isinstance(manifest, dict) or \
            manifest.get("manifest_sha256") != _manifest_digest(manifest):
        return None, "index manifest changed (its SHA-256 differs)"
    for key, value in expected.items():
        if manifest.get(key) != value:
            return None, f"index made with another {key}"
    if not manifest.get("line_safe"):
        return None, "index tables have cells that span lines"
    for name, digest in manifest.get("files", {}).items():
        path = folder / name
        if not path.is_file() or _sha256(path) != digest:
            return None, f"index file {name} missing or changed"
    store = Store(folder, manifest)
    ids = np.asarray(ids, dtype=object)
    id_hash = _hash_texts(ids)
    if not pd.Index(id_hash).is_unique:
        return None, "two record ids share a 64-bit hash"
    rows = pd.Index(id_hash).get_indexer(store.array("id_hash"))
    missing = rows < 0
    if missing.any():
        first = store.texts("ids")[int(np.nonzero(missing)[0][0])]
        return None, f"{int(missing.sum())} records of the earlier run are gone " \
            f"(first: {first})"
    changed = digests[rows] != store.array("digest")
    if changed.any():
        first = store.texts("ids")[int(np.nonzero(changed)[0][0])]
        return None, f"{int(changed.sum())} records of the earlier run changed " \
            f"(first: {first})"
    is_new = np.ones(len(ids), dtype=bool)
    is_new[rows] = False
    return Index(folder=folder, manifest=manifest, store=store,
                 new_ids=sorted(ids[is_new].tolist())), "index matches"


def _link_or_copy(source: Path, target: Path) -> None:
    tmp = target.with_name(target.name + ".tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(source, tmp)
    except OSError:
        shutil.copyfile(source, tmp)
    os.replace(tmp, target)


def write_index(folder: str | Path, *, expected: dict, counts: dict,
                tables: dict[str, str], prepared: _Prepared | None = None,
                digests: np.ndarray | None = None, cluster_ids: np.ndarray | None = None,
                index: Index | None = None, step: "Update | None" = None,
                workers: int = 1, key_hashes_made: list[np.ndarray] | None = None,
                title_rank: np.ndarray | None = None) -> str:
    """Write the index (after the outputs ``tables``: name -> path): from scratch
    (``prepared``, every record in record-id order; ``digests`` and ``cluster_ids`` by
    record), or the earlier ``index`` with an update's new records (``step``) appended.
    ``counts`` are the audit's table counts. Returns the manifest's SHA-256.

    From scratch, ``key_hashes_made`` and ``title_rank`` (:attr:`DedupResult.key_hashes`
    and ``title_rank``, made by the blocking) spare making the keys again; without them
    the keys are made here (on ``workers`` processes)."""
    folder = Path(folder)
    store_dir = folder / _STORE
    store_dir.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").unlink(missing_ok=True)  # half-written index: not valid
    if index is None:
        new = prepared
        old_n = 0
        if title_rank is None:
            title_rank = pd.factorize(pd.Series(list(prepared.title), dtype=object),
                                      sort=True)[0]
        order = np.argsort(title_rank, kind="stable")
        row_of = pd.Index(prepared.ids)
        new_digests, new_cluster_rows = digests, row_of.get_indexer(cluster_ids)
        keys = key_hashes(prepared, workers) if key_hashes_made is None else \
            _key_columns(key_hashes_made)
        old = None
    else:
        new, old_n, old = step.new_prep, index.store.n, index.store
        order = step.title_order
        new_digests, new_cluster_rows = step.new_digests, step.new_cluster_rows
        keys = step.new_keys
    kinds = {f.name: _field_kind(f.type, getattr(new, f.name))
             for f in dataclasses.fields(_Prepared)}
    if old is not None and kinds != old.kinds:
        raise RuntimeError("the normalised fields changed; the index must be rebuilt")

    def olds(name: str) -> list:
        return [] if old is None or not old_n else [old.array(name)]

    for name, kind in kinds.items():
        value = getattr(new, name)
        if kind == "array":
            _write_npy(store_dir / f"{name}.npy", olds(name) + [value], value.dtype)
            continue
        offsets, blob = _encode_texts(_as_texts(kind, value))
        old_offsets, old_blobs = [], []
        if old is not None and old_n:
            old_texts = old.texts(name)
            old_offsets, old_blobs = [old_texts.offsets[:-1]], [old_texts._data]
            offsets = offsets + int(old_texts.offsets[-1])
        _write_npy(store_dir / f"{name}.offsets.npy", old_offsets + [offsets], np.int64)
        _write_blob(store_dir / f"{name}.utf8", old_blobs + [blob])
    _write_npy(store_dir / "digest.npy", olds("digest") + [new_digests], np.uint64)
    _write_npy(store_dir / "id_hash.npy", olds("id_hash") + [_hash_texts(new.ids)],
               np.uint64)
    _write_npy(store_dir / "cluster_row.npy", olds("cluster_row") + [new_cluster_rows],
               np.int64)
    _write_npy(store_dir / "title_order.npy", [order], np.int64)
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    for name in KEY_COLUMNS:
        hashed = np.concatenate(olds(f"key_{name}") + [keys[name]]).astype(np.uint64)
        _write_npy(store_dir / f"key_{name}.npy", [keys[name]] if old is None else
                   olds(f"key_{name}") + [keys[name]], np.uint64)
        rows = np.nonzero(hashed)[0]
        rows = rows[np.lexsort((position[rows], hashed[rows]))]
        _write_npy(store_dir / f"keyorder_{name}.npy", [rows], np.int64)
        _write_npy(store_dir / f"keysorted_{name}.npy", [hashed[rows]], np.uint64)
    for name in TABLES:
        _link_or_copy(Path(tables[name]), folder / f"{name}.tsv.prev")
    files = {f"{_STORE}/{p.name}": _sha256(p) for p in sorted(store_dir.iterdir())
             if not p.name.endswith(".tmp")}
    files.update({f"{name}.tsv.prev": _sha256(folder / f"{name}.tsv.prev")
                  for name in TABLES})
    # Tables with a cell that spans lines cannot be merged line by line: such an index is
    # written (for the record) but not used.
    safe = all(line_safe(folder / f"{name}.tsv.prev") for name in TABLE_KEYS)
    manifest = {**expected, "records": old_n + len(new.ids), "fields": kinds,
                "counts": counts, "files": files, "line_safe": safe}
    manifest["manifest_sha256"] = _manifest_digest(manifest)
    write_json(manifest, folder / "manifest.json")
    return manifest["manifest_sha256"]


# --- an update --------------------------------------------------------------------------

class _ByTitle:
    """The stored rows in (title, record id) order, as a sequence for :mod:`bisect`."""

    def __init__(self, store: Store):
        self.order = np.asarray(store.array("title_order"))
        self.title, self.ids = store.texts("title"), store.texts("ids")

    def __len__(self) -> int:
        return len(self.order)

    def __getitem__(self, k: int) -> tuple[str, str]:
        row = int(self.order[k])
        return self.title[row], self.ids[row]


def _merge_title_order(store: Store, new: _Prepared) -> tuple[np.ndarray, np.ndarray,
                                                               np.ndarray]:
    """Where the new records (``new``, in record-id order) fall in the union's (title,
    record id) order: the union's order (stored rows, then new rows numbered from
    ``store.n``), the union position of every stored row and of every new row."""
    by_title = _ByTitle(store)
    keys = list(zip(new.title, new.ids.tolist()))
    before = np.array([bisect.bisect_left(by_title, key) for key in keys], dtype=np.int64)
    rank = np.array(sorted(range(len(keys)), key=keys.__getitem__), dtype=np.int64)
    # new record k (sorted among the new by title, id) lands at before + its rank
    new_position = np.empty(len(keys), dtype=np.int64)
    sorted_before = before[rank]
    new_position[rank] = sorted_before + np.arange(len(keys))
    old_order = np.asarray(by_title.order)
    old_position = np.empty(store.n, dtype=np.int64)
    old_position[old_order] = np.arange(store.n) + np.searchsorted(
        np.sort(sorted_before), np.arange(store.n), side="right")
    union = np.empty(store.n + len(keys), dtype=np.int64)
    union[old_position] = np.arange(store.n)
    union[new_position] = store.n + np.arange(len(keys))
    return union, old_position, new_position


def _ranges(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """``np.concatenate([np.arange(a, b) for a, b in zip(starts, stops)])``, vectorised."""
    lengths = stops - starts
    keep = lengths > 0
    starts, lengths = starts[keep], lengths[keep]
    if not len(starts):
        return np.zeros(0, dtype=np.int64)
    steps = np.ones(int(lengths.sum()), dtype=np.int64)
    firsts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    steps[firsts] = starts - np.concatenate([[0], starts[:-1] + lengths[:-1] - 1])
    return np.cumsum(steps)


def neighbours(store: Store, new_keys: dict[str, np.ndarray], old_position: np.ndarray,
               new_position: np.ndarray, window: int = WINDOW) -> np.ndarray:
    """Rows of the stored records within ``window`` places of a new record sharing one of
    its blocking keys, in the union's (key, title, record id) order."""
    found = []
    for key in KEY_COLUMNS:
        new_hash = new_keys[key]
        has = np.nonzero(new_hash)[0]
        if not len(has):
            continue
        values = np.unique(new_hash[has])
        sorted_hash = store.array(f"keysorted_{key}")
        lo = np.searchsorted(sorted_hash, values, side="left")
        hi = np.searchsorted(sorted_hash, values, side="right")
        old_rows = np.asarray(store.array(f"keyorder_{key}")[_ranges(lo, hi)])
        if not len(old_rows):
            continue
        value = np.concatenate([np.asarray(store.array(f"key_{key}")[old_rows]),
                                new_hash[has]])
        place = np.concatenate([old_position[old_rows], new_position[has]])
        is_new = np.concatenate([np.zeros(len(old_rows), bool), np.ones(len(has), bool)])
        rows = np.concatenate([old_rows, np.full(len(has), -1)])
        order = np.lexsort((place, value))
        value, is_new, rows = value[order], is_new[order], rows[order]
        near = np.zeros(len(value), dtype=bool)
        for w in range(1, min(window, len(value) - 1) + 1):
            same = value[w:] == value[:-w]
            near[:-w] |= same & is_new[w:]
            near[w:] |= same & is_new[:-w]
        found.append(rows[near & ~is_new])
    return np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)


@dataclass
class Update:
    """What :func:`update` found: the new records' rows of ``clusters.tsv`` (``kept``
    bool), every maybe pair and related report (text), the clusters whose unique row must
    be made again, the subset's result, what the index appends, and counts."""

    new_rows: pd.DataFrame
    maybe: pd.DataFrame
    related: pd.DataFrame
    related_added: pd.DataFrame
    touched: pd.DataFrame  # record_id, cluster_id, kept of every record of a touched cluster
    subset: DedupResult | None
    new_prep: _Prepared
    new_keys: dict
    new_digests: np.ndarray
    new_cluster_rows: np.ndarray
    title_order: np.ndarray
    counts: dict


def with_source_links(related_table: pd.DataFrame, links: pd.DataFrame,
                      clusters: pd.DataFrame) -> pd.DataFrame:
    """``related_table`` with its source-link rows (trial/paper, preprint/journal: see
    :mod:`sysrev.related_reports`) made again from ``links`` between the clusters
    (``clusters``: at least every record a link names); an update's related table holds
    the earlier run's."""
    from sysrev.related_reports import SOURCE_RELATIONS, dedup_relations

    return pd.concat([related_table[~related_table["relation"].isin(SOURCE_RELATIONS)],
                      dedup_relations(links, clusters)], ignore_index=True)


def _store_rows(store: Store, ids) -> np.ndarray:
    """The store row of each id (-1 for an id not stored)."""
    ids = np.asarray(list(ids), dtype=object)
    if not len(ids):
        return np.zeros(0, dtype=np.int64)
    return pd.Index(store.array("id_hash")).get_indexer(_hash_texts(ids))


def update(records: Records, index: Index, *, source_priority: Sequence[str],
           errata: str, overrides: pd.DataFrame | None, threads: int = 1,
           window: int = WINDOW, links: pd.DataFrame | None = None) -> Update:
    """Add the new records of ``records`` (``index.new_ids``) to the earlier clusters (see
    the module docstring). ``links``: the sources' related-report links
    (:func:`with_source_links`), when the run has them."""
    store = index.store
    new_ids = set(index.new_ids)
    new_table = records.rows(new_ids).sort_values("record_id", kind="mergesort"
                                                  ).reset_index(drop=True)
    new_prep = prepare(new_table, errata, threads)
    new_keys = key_hashes(new_prep)
    new_digests = pd.Series(records.digests, index=records.ids).reindex(
        new_table["record_id"]).to_numpy(dtype=np.uint64)
    title_order, old_position, new_position = _merge_title_order(store, new_prep)
    near = neighbours(store, new_keys, old_position, new_position, window)
    cluster_row = store.array("cluster_row")
    near_clusters = np.unique(np.asarray(cluster_row[near]))
    member_rows = np.nonzero(np.isin(cluster_row, near_clusters))[0]
    member_ids = np.array(store.texts("ids").take(member_rows), dtype=object)
    member_cluster = np.array(store.texts("ids").take(cluster_row[member_rows]),
                              dtype=object)
    member_kept = np.asarray(cluster_row[member_rows]) == member_rows
    members = pd.DataFrame({"record_id": member_ids, "cluster_id": member_cluster,
                            "kept": member_kept})
    log.info("deduplicate (update): %d new records, %d earlier records compared "
             "(%d clusters)", len(new_ids), len(members), len(near_clusters))
    # The subset, in record-id order, normalised (earlier records from the store).
    sub_prep = _concat(store.prepared(member_rows), new_prep)
    sub_order = np.argsort(sub_prep.ids, kind="stable")
    sub_prep = _take(sub_prep, sub_order)
    subset_ids = set(sub_prep.ids.tolist())
    sub_table = pd.concat([records.rows(set(member_ids.tolist())), new_table],
                          ignore_index=True).sort_values(
        "record_id", kind="mergesort").reset_index(drop=True)
    cluster_of = dict(zip(member_ids.tolist(), member_cluster.tolist()))
    held = members[~members["kept"]]
    rows = [pd.DataFrame({"record_id_a": held["record_id"], "record_id_b": held["cluster_id"],
                          "decision": "same", "note": "earlier run"})]
    if overrides is not None and len(overrides):
        inside = overrides["record_id_a"].isin(subset_ids) & \
            overrides["record_id_b"].isin(subset_ids)
        rows.insert(0, overrides[inside])
    prefer = frozenset(members.loc[members["kept"], "record_id"])
    fresh = frozenset(new_ids)
    given = pd.concat(rows, ignore_index=True)
    position = {rid: k for k, rid in enumerate(sub_prep.ids.tolist())}

    def run(ids: set[str], apart: list[tuple[str, str]]) -> DedupResult:
        inside = given["record_id_a"].isin(ids) & given["record_id_b"].isin(ids)
        extra = pd.DataFrame(apart, columns=["record_id_a", "record_id_b"]).assign(
            decision="different", note="update: earlier clusters kept apart")
        take = sorted(position[r] for r in ids)
        return find_duplicates(sub_table.iloc[take], source_priority,
                               overrides=pd.concat([given[inside], extra], ignore_index=True),
                               window=window, errata=errata, threads=threads,
                               prefer_kept=prefer & ids, compare_only=fresh,
                               prepared=_take(sub_prep, np.array(take, dtype=np.int64)))

    result = run(subset_ids, [])
    first_cluster = result.clusters.set_index("record_id")["cluster_id"]
    bridged = _bridges(result.clusters, cluster_of)
    again: DedupResult | None = None
    again_ids: set[str] = set()
    if bridged:
        # Only the clusters a new record bridged are clustered again, with their earlier
        # kept records kept apart.
        again_ids = set(result.clusters.loc[result.clusters["cluster_id"].isin(bridged),
                                            "record_id"])
        apart = sorted((a, b) for kept_ids in bridged.values()
                       for k, a in enumerate(kept_ids) for b in kept_ids[k + 1:])
        again = run(again_ids, apart)
        if _bridges(again.clusters, cluster_of):
            raise RuntimeError("an update could not keep the earlier clusters apart")

    def touches(frame: pd.DataFrame, ids, a: str = "record_id_a",
                b: str = "record_id_b") -> pd.Series:
        return frame[a].isin(ids) | frame[b].isin(ids)

    parts = [result.clusters[~result.clusters["record_id"].isin(again_ids)]]
    maybe_parts = [result.maybe[~touches(result.maybe, again_ids)]]
    related_parts = [result.related]
    if again is not None:
        parts.append(again.clusters)
        maybe_parts.append(again.maybe)
        related_parts.insert(0, again.related)
    found = pd.concat(parts, ignore_index=True)
    final = found.set_index("record_id")["cluster_id"]
    new_rows = found[found["record_id"].isin(new_ids)].sort_values(
        "record_id", kind="mergesort").reset_index(drop=True)

    # Bridges: links of the first clustering that the kept-apart clusters refused.
    pairs = again.pairs if again is not None else result.pairs.iloc[:0]
    bridge = pairs[(pairs["decision"] == DUPLICATE) & touches(pairs, new_ids)]
    bridge = bridge[(bridge["record_id_a"].map(first_cluster).to_numpy()
                     == bridge["record_id_b"].map(first_cluster).to_numpy())
                    & (bridge["record_id_a"].map(final).to_numpy()
                       != bridge["record_id_b"].map(final).to_numpy())]
    title = sub_table.set_index("record_id")["title"]
    bridge = bridge.assign(reason=BRIDGE_REASON,
                           title_a=bridge["record_id_a"].map(title).to_numpy(),
                           title_b=bridge["record_id_b"].map(title).to_numpy())
    maybe_new = pd.concat(maybe_parts, ignore_index=True)
    maybe_new = maybe_new[touches(maybe_new, new_ids)]
    maybe = pd.concat([index.read_table("maybe").loc[:, MAYBE_COLUMNS],
                       _text_table(maybe_new, MAYBE_COLUMNS),
                       _text_table(bridge, MAYBE_COLUMNS)], ignore_index=True)
    maybe = maybe.drop_duplicates(["record_id_a", "record_id_b"], keep="first")
    related_before = index.read_table("related")
    related_new = _text_table(pd.concat(related_parts, ignore_index=True), RELATED_COLUMNS)
    related_all = pd.concat([related_before, related_new], ignore_index=True
                            ).drop_duplicates(["record_id", "related_record_id"],
                                              keep="first")
    ids_text = store.texts("ids")
    if links is not None:
        named = sorted(set(links["record_id_a"]) | set(links["record_id_b"]))
        rows = _store_rows(store, named)
        stored = rows >= 0
        link_clusters = pd.concat([
            pd.DataFrame({"record_id": np.array(named, dtype=object)[stored],
                          "cluster_id": ids_text.take(cluster_row[rows[stored]])}),
            new_rows[["record_id", "cluster_id"]]], ignore_index=True)
        related_all = _text_table(with_source_links(related_all, links, link_clusters),
                                  RELATED_COLUMNS)
    # Rows of related.tsv added or gone: the unique rows of the articles they name change.
    both = related_before.merge(related_all, how="outer", indicator=True,
                                on=list(RELATED_COLUMNS))
    changed = both[both["_merge"] != "both"]

    # The clusters whose unique row changes: a new record joined them, or a related report
    # names them (added or gone). With their records, from the store and the new rows.
    touched_ids = set(new_rows["cluster_id"]) | set(changed["related_record_id"])
    old_touched = _store_rows(store, touched_ids)
    old_touched = old_touched[old_touched >= 0]
    touched_rows = np.nonzero(np.isin(cluster_row, old_touched))[0]
    touched = pd.concat([
        pd.DataFrame({"record_id": np.array(ids_text.take(touched_rows), dtype=object),
                      "cluster_id": np.array(ids_text.take(cluster_row[touched_rows]),
                                             dtype=object),
                      "kept": np.asarray(cluster_row[touched_rows]) == touched_rows}),
        new_rows.loc[new_rows["cluster_id"].isin(touched_ids),
                     ["record_id", "cluster_id", "kept"]]], ignore_index=True
    ).sort_values("record_id", kind="mergesort").reset_index(drop=True)
    added = changed[changed["_merge"] == "right_only"].drop(columns="_merge")
    row_of = dict(zip(member_ids.tolist(), member_rows.tolist()))
    row_of.update({rid: store.n + k for k, rid in enumerate(new_prep.ids.tolist())})
    new_cluster_rows = np.array([row_of[c] for c in new_rows["cluster_id"]], dtype=np.int64)
    counts = {"new_records": len(new_ids), "earlier_records_compared": len(members),
              "bridges_kept_apart": len(bridge),
              "subset_candidate_pairs": result.counts["candidate_pairs"],
              "clusters_touched": len(touched_ids)}
    return Update(new_rows=new_rows, maybe=maybe, related=related_all, related_added=added,
                  touched=touched, subset=result, new_prep=new_prep, new_keys=new_keys,
                  new_digests=new_digests, new_cluster_rows=new_cluster_rows,
                  title_order=title_order, counts=counts)


def _text_table(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """``frame`` as :func:`~sysrev.tables.write_tsv` writes it and
    :func:`~sysrev.tables.read_tsv` reads it back (every cell text)."""
    out = io.StringIO()
    frame.loc[:, list(columns)].to_csv(out, sep="\t", index=False, lineterminator="\n",
                                       float_format=FLOAT_FORMAT, na_rep="")
    out.seek(0)
    return pd.read_csv(out, sep="\t", dtype=str, keep_default_na=False, na_values=[""])


def _bridges(found: pd.DataFrame, cluster_of: dict) -> dict[str, list[str]]:
    """Clusters of ``found`` holding records of more than one earlier cluster: cluster id ->
    the earlier clusters' ids (their kept records), sorted."""
    earlier = found[found["record_id"].isin(cluster_of)]
    pairs = pd.DataFrame({"cluster_id": earlier["cluster_id"].to_numpy(),
                          "before": earlier["record_id"].map(cluster_of).to_numpy()}
                         ).drop_duplicates()
    size = pairs.groupby("cluster_id").size()
    pairs = pairs[pairs["cluster_id"].isin(size.index[size > 1])]
    return {cid: sorted(group) for cid, group in pairs.groupby("cluster_id")["before"]}


# --- tables as lines ------------------------------------------------------------------------

def tsv_lines(frame: pd.DataFrame, columns: Sequence[str]) -> list[bytes]:
    """The body lines :func:`~sysrev.tables.write_tsv` writes for ``frame`` (each with its
    newline), in ``frame``'s order."""
    out = io.StringIO()
    frame.loc[:, list(columns)].to_csv(out, sep="\t", index=False, header=False,
                                       lineterminator="\n", float_format=FLOAT_FORMAT,
                                       na_rep="")
    return out.getvalue().encode("utf-8").splitlines(keepends=True)


def line_safe(path: Path) -> bool:
    """Whether ``path`` (a table :func:`~sysrev.tables.write_tsv` wrote) has one record per
    line: no quoted cell spans a line end and no first cell is quoted."""
    data = path.read_bytes()
    if b'"' not in data:
        return True
    return not any(line.count(b'"') % 2 or line.startswith(b'"')
                   for line in data.split(b"\n"))


def merge_lines(before: Path, target: str | Path, header: bytes, new_lines: list[bytes],
                drop: set[str] = frozenset()) -> list[bytes]:
    """Write ``target``: the body lines of ``before`` (a table sorted by its first column,
    one record per line: :func:`line_safe`) but those whose first cell is in ``drop``,
    with ``new_lines`` (sorted the same way) merged in by first cell: the bytes
    :func:`~sysrev.tables.write_tsv` would write for the merged table. Returns the dropped
    lines."""
    data = before.read_bytes()
    head, _, body = data.partition(b"\n")
    if head + b"\n" != header:
        raise RuntimeError(f"{before}: another header than the table's")
    lines = body.split(b"\n")[:-1] if body else []
    firsts = [line.partition(b"\t")[0] for line in lines]
    dropped: list[bytes] = []
    if drop:
        drop_bytes = {d.encode("utf-8") for d in drop}
        keep = [f not in drop_bytes for f in firsts]
        dropped = [line + b"\n" for line, k in zip(lines, keep) if not k]
        lines = [line for line, k in zip(lines, keep) if k]
        firsts = [f for f, k in zip(firsts, keep) if k]
    # UTF-8 byte order is code point order: the order pandas sorts the texts in.
    new_firsts = [line.partition(b"\t")[0] for line in new_lines]
    where = [bisect.bisect_right(firsts, f) for f in new_firsts]
    with atomic_path(target, "wb") as handle:
        handle.write(header)
        start = 0
        for at, line in zip(where, new_lines):
            if at > start:
                handle.write(b"\n".join(lines[start:at]) + b"\n")
                start = at
            handle.write(line)
        if start < len(lines):
            handle.write(b"\n".join(lines[start:]) + b"\n")
    return dropped


def header_line(columns: Sequence[str]) -> bytes:
    out = io.StringIO()
    pd.DataFrame(columns=list(columns)).to_csv(out, sep="\t", index=False,
                                               lineterminator="\n")
    return out.getvalue().encode("utf-8")


def combine_counts(total, plus, minus=None):
    """``total + plus - minus`` of nested count dicts (missing keys count 0; dict keys
    sorted; entries that end at 0 and were not in ``total`` or ``plus`` left out)."""
    if isinstance(total, dict) or isinstance(plus, dict):
        total, plus, minus = total or {}, plus or {}, minus or {}
        return {k: combine_counts(total.get(k), plus.get(k), minus.get(k))
                for k in sorted(set(total) | set(plus))}
    return int(total or 0) + int(plus or 0) - int(minus or 0)


def differences(before: pd.DataFrame, scratch: pd.DataFrame, updated: pd.DataFrame,
                new_ids: Sequence[str]) -> pd.DataFrame:
    """Where an update's clusters (``updated``) differ from a from-scratch run on the
    union (``scratch``), one row per cluster of either, with the cause: ``bridge`` (the
    from-scratch cluster holds two clusters of the earlier run, ``before``), ``split`` (the
    from-scratch cluster holds part of an earlier cluster only: the union's windows or
    cluster checks took it apart, an update keeps earlier clusters whole), ``kept`` (same
    records, but from scratch a new record is kept), ``neighbourhood`` (a link one run found
    and the other did not, see the module docstring) or ``other`` (unexplained). Tables as
    :func:`~sysrev.dedup.unique.read_clusters` reads them."""
    new = set(new_ids)
    earlier = dict(zip(before["record_id"], before["cluster_id"]))
    earlier_members = before.groupby("cluster_id")["record_id"].agg(frozenset).to_dict()

    def groups(table: pd.DataFrame) -> dict[str, frozenset]:
        members = table.groupby("cluster_id")["record_id"].agg(frozenset)
        return {rid: members[cid] for rid, cid in zip(table["record_id"],
                                                        table["cluster_id"])}

    got, want = groups(updated), groups(scratch)
    kept_got = dict(zip(updated["record_id"], updated["kept_record_id"]))
    kept_want = dict(zip(scratch["record_id"], scratch["kept_record_id"]))
    rows, seen = [], set()
    for rid in sorted(want):
        cluster = want[rid]
        if cluster in seen:
            continue
        seen.add(cluster)
        if got[rid] == cluster:
            if kept_got[rid] != kept_want[rid]:
                cause = "kept" if kept_want[rid] in new and kept_got[rid] not in new \
                    else "other"
                rows.append((min(cluster), kept_want[rid], kept_got[rid], cause))
            continue
        before_clusters = {earlier[r] for r in cluster if r in earlier}
        if len(before_clusters) > 1:
            cause = "bridge"
        elif any(earlier_members[c] - cluster for c in before_clusters):
            cause = "split"
        elif any(r in new for r in cluster ^ got[rid]) or \
                any(r in new for r in cluster):
            cause = "neighbourhood"
        else:
            cause = "other"
        rows.append((min(cluster), kept_want[rid], kept_got[rid], cause))
    return pd.DataFrame(rows, columns=["first_record_id", "kept_from_scratch",
                                       "kept_in_update", "cause"])
