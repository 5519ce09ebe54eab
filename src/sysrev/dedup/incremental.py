"""Incremental deduplication: an update compares its new records with each other and with
the clusters of the earlier run only, at a cost in proportion to the new records.

The index (``results/<review>/dedup/index/``, beside the outputs) holds what matching
needs, in deterministic gzip-compressed TSV (no pickle, no timestamps):

``records.tsv.gz``
    Every record of the earlier run: ``record_id``, ``row_digest`` (a 64-bit digest of
    the record's cells, :func:`row_digests`), ``title`` (normalised: the neighbourhood order) and its eight blocking keys
    (:data:`sysrev.dedup.block.KEY_GROUPS`).
``clusters.tsv.gz``, ``maybe.tsv.gz``, ``related.tsv.gz``
    The earlier run's ``clusters.tsv``, ``maybe.tsv`` and ``related.tsv`` (Snakemake
    removes a rule's outputs before running it, so the index keeps its own copies).
``manifest.json``
    Format version, the matcher's digest (the source of every :mod:`sysrev.dedup` module),
    the parameters (source priority, errata, window), the overrides file's digest, the
    record columns and each file's SHA-256.

An index is used only when all of these agree with the run and every record of the earlier
run is still there with the same cells; otherwise deduplication runs from scratch and the
index is written again (never silently reused). The reason is logged and put in the audit.

An update (:func:`update`):

1. The new records (ids not in the index) are normalised and their blocking keys made.
2. For each blocking key, the earlier records sharing the key's value with a new record,
   and within :data:`~sysrev.dedup.block.WINDOW` places of one in title order, are its
   neighbours; with every other record of their clusters they form the *subset*.
3. :func:`~sysrev.dedup.find.find_duplicates` runs on the subset, with the earlier clusters
   held together (a ``same`` override from each member to its kept record) and the earlier
   kept records kept first (``prefer_kept``).
4. A new record that links two earlier clusters (a *bridge*) does not merge them: the kept
   records of those clusters get a ``different`` override and the subset is clustered
   again, so the new record joins the cluster its strongest link reaches; the links it had
   to the other clusters are put in ``maybe.tsv`` (reason :data:`BRIDGE_REASON`) for a
   reviewer, whose ``same`` override then merges them (an override change rebuilds the
   index).
5. Earlier records keep their rows in ``clusters.tsv``; new records get theirs from the
   subset; ``maybe.tsv`` and ``related.tsv`` gain the subset's rows that involve a new
   record (or were not there before); ``unique.tsv`` and ``duplicates.tsv`` are made again
   from the whole table (vectorised, linear).

Where the result may differ from a from-scratch run on the union (the test
``tests/unit/test_dedup_incremental.py`` checks that nothing else does):

- *Kept record*: a new record more complete than an earlier cluster's kept record would be
  kept from scratch; an update keeps the earlier one (kept records stay kept).
- *Bridges* (step 4): from scratch the two earlier clusters would be one.
- *Neighbourhoods*: a sorted-neighbourhood window over the union can hold other records
  than the window in step 2 (new records crowd earlier ones out of it, or the reverse),
  so a pair of near-duplicates found one way may be missed the other; earlier records are
  never compared with each other again.
- *Evidence*: the link a new record's row names (``rule``, ``linked_to``, scores) is the
  one found in the subset, which can be another link of the same cluster.
- ``related.tsv``: a related-report link the subset's pairs hold and the union's window
  did not (or the reverse), and evidence naming other records where the kept record
  differs.
- ``maybe.tsv``: the bridge pairs, and so the ``review_rank`` of pairs ranked after them.
- The audit's pair counts (candidate pairs, maybe pairs scored) are the subset's.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from sysrev.columns import DEDUP_COLUMNS
from sysrev.dedup.block import KEY_GROUPS, WINDOW
from sysrev.dedup.find import MAYBE_COLUMNS, DedupResult, find_duplicates
from sysrev.dedup.normalise import _Prepared, prepare
from sysrev.dedup.related import RELATED_COLUMNS
from sysrev.dedup.score import DUPLICATE, RULES
from sysrev.tables import FLOAT_FORMAT, atomic_path

log = logging.getLogger(__name__)

#: Version of the index format; another version is rebuilt.
INDEX_VERSION = 1
#: Names of the blocking keys (the order of :data:`~sysrev.dedup.block.KEY_GROUPS`).
KEY_COLUMNS = ["key_doi", "key_pmid", "key_year_volume_page", "key_title_first",
               "key_core_first", "key_title_last", "key_author_year", "key_author_page"]
INDEX_COLUMNS = ["record_id", "row_digest", "title", *KEY_COLUMNS]
#: ``maybe.tsv``'s reason for a new record's link to a second earlier cluster.
BRIDGE_REASON = ("links two clusters of the earlier run (an update keeps them apart; a "
                 "reviewer's 'same' override merges them)")
_FILES = ("records", "clusters", "maybe", "related")


def matcher_sha256() -> str:
    """SHA-256 over the source of every module of :mod:`sysrev.dedup` (the matcher's
    version: any change of method rebuilds the index)."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def row_digests(table: pd.DataFrame) -> np.ndarray:
    """A 64-bit digest of each record's cells (columns in name order; an empty cell differs
    from any text), as 16 hex digits: :func:`pandas.util.hash_pandas_object`, vectorised (a
    SHA-256 per row costs seconds per 100,000 records). The pandas version is in the index's
    :func:`settings`, so a pandas whose hashing changed rebuilds the index."""
    cells = table.loc[:, sorted(table.columns)].astype(object)
    cells = cells.where(cells.notna(), "\0").astype(str)
    digest = pd.util.hash_pandas_object(cells, index=False, categorize=False).to_numpy()
    return np.char.mod("%016x", digest.astype(np.uint64)).astype(object)


def blocking_keys(p: _Prepared) -> pd.DataFrame:
    """Each record's normalised title and blocking keys (``INDEX_COLUMNS`` but the
    digest)."""
    keys = [list(k) for group in KEY_GROUPS for k in group(p)]
    if len(keys) != len(KEY_COLUMNS):
        raise RuntimeError("the blocking keys changed; update KEY_COLUMNS")
    return pd.DataFrame({"record_id": p.ids, "title": list(p.title),
                         **dict(zip(KEY_COLUMNS, keys))})


def _text_table(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """``frame`` as :func:`~sysrev.tables.write_tsv` writes it and
    :func:`~sysrev.tables.read_tsv` reads it back (every cell text)."""
    out = io.StringIO()
    frame.loc[:, list(columns)].to_csv(out, sep="\t", index=False, lineterminator="\n",
                                       float_format=FLOAT_FORMAT, na_rep="")
    out.seek(0)
    return pd.read_csv(out, sep="\t", dtype=str, keep_default_na=False, na_values=[""])


def _write_gz(path: Path, data: bytes) -> None:
    with atomic_path(path, "wb") as handle:
        with gzip.GzipFile(filename="", mode="wb", fileobj=handle, mtime=0,
                           compresslevel=1) as gz:
            gz.write(data)


def _read_gz_table(path: Path) -> pd.DataFrame:
    with gzip.open(path, "rb") as handle:
        return pd.read_csv(handle, sep="\t", dtype=str, keep_default_na=False,
                           na_values=[""])


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class Index:
    """An index that matches the run: the earlier records and outputs, and the new ids."""

    records: pd.DataFrame   # INDEX_COLUMNS, text
    clusters: pd.DataFrame  # clusters.tsv as read_clusters reads it
    maybe: pd.DataFrame
    related: pd.DataFrame
    new_ids: list[str]
    manifest_sha256: str


def settings(source_priority: Sequence[str], errata: str, overrides: str | None,
             columns: Sequence[str], window: int = WINDOW) -> dict:
    """What an index must agree with to be used."""
    return {"format": "sysrev-dedup-index", "version": INDEX_VERSION,
            "matcher_sha256": matcher_sha256(),
            "parameters": {"source_priority": list(source_priority), "errata": errata,
                           "window": int(window), "rules": RULES},
            "overrides_sha256": _sha256(Path(overrides)) if overrides else "none",
            "record_columns": sorted(columns), "pandas": pd.__version__}


def load_index(folder: str | Path, table: pd.DataFrame, expected: dict,
               digests: np.ndarray) -> tuple[Index | None, str]:
    """The index in ``folder`` if it matches ``expected`` (:func:`settings`) and every
    earlier record is in ``table`` unchanged (``digests``: :func:`row_digests`); else
    ``None`` and the reason."""
    folder = Path(folder)
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        return None, "no index"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return None, f"index manifest unreadable ({error})"
    for key, value in expected.items():
        if manifest.get(key) != value:
            return None, f"index made with another {key}"
    files = manifest.get("files", {})
    for name in _FILES:
        path = folder / f"{name}.tsv.gz"
        if not path.is_file() or _sha256(path) != files.get(name):
            return None, f"index file {name}.tsv.gz missing or changed"
    records = _read_gz_table(folder / "records.tsv.gz").fillna("")
    if list(records.columns) != INDEX_COLUMNS:
        return None, "index records.tsv.gz has other columns"
    now = pd.Series(digests, index=table["record_id"].to_numpy())
    before = records.set_index("record_id")["row_digest"]
    missing = ~before.index.isin(now.index)
    if missing.any():
        return None, f"{int(missing.sum())} records of the earlier run are gone " \
            f"(first: {before.index[missing][0]})"
    changed = now.reindex(before.index).to_numpy() != before.to_numpy()
    if changed.any():
        return None, f"{int(changed.sum())} records of the earlier run changed " \
            f"(first: {before.index[changed][0]})"
    clusters = _read_gz_table(folder / "clusters.tsv.gz")
    clusters["kept"] = clusters["kept"] == "yes"
    new_ids = sorted(set(now.index) - set(before.index))
    return Index(records=records, clusters=clusters,
                 maybe=_read_gz_table(folder / "maybe.tsv.gz"),
                 related=_read_gz_table(folder / "related.tsv.gz"), new_ids=new_ids,
                 manifest_sha256=_sha256(manifest_path)), "index matches"


def write_index(folder: str | Path, keys: pd.DataFrame, digests: pd.Series, *,
                clusters: str, maybe: str, related: str, expected: dict) -> str:
    """Write the index (after the outputs ``clusters``, ``maybe``, ``related``): ``keys``
    (:func:`blocking_keys`) of every record, ``digests`` by record id. Returns the
    manifest's SHA-256 (for the audit)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    table = keys.assign(row_digest=keys["record_id"].map(digests)).sort_values(
        "record_id", kind="mergesort")
    out = io.StringIO()
    table.loc[:, INDEX_COLUMNS].to_csv(out, sep="\t", index=False, lineterminator="\n",
                                       na_rep="")
    files = {}
    sources = {"records": out.getvalue().encode("utf-8"),
               "clusters": Path(clusters).read_bytes(), "maybe": Path(maybe).read_bytes(),
               "related": Path(related).read_bytes()}
    (folder / "manifest.json").unlink(missing_ok=True)  # half-written index: not valid
    for name, data in sources.items():
        _write_gz(folder / f"{name}.tsv.gz", data)
        files[name] = _sha256(folder / f"{name}.tsv.gz")
    with atomic_path(folder / "manifest.json") as handle:
        json.dump({**expected, "files": files}, handle, indent=2, sort_keys=True)
        handle.write("\n")
    return _sha256(folder / "manifest.json")


def neighbours(old: pd.DataFrame, new: pd.DataFrame, window: int = WINDOW) -> set[str]:
    """Ids of the earlier records (``old``) within ``window`` places of a new record
    (``new``) sharing one of its blocking keys, in (key, title, record id) order."""
    found: set[str] = set()
    for key in KEY_COLUMNS:
        values = new[key][new[key] != ""]
        if values.empty:
            continue
        both = pd.concat([old.loc[old[key].isin(set(values)), [key, "title", "record_id"]]
                          .assign(is_new=False),
                          new.loc[new[key] != "", [key, "title", "record_id"]]
                          .assign(is_new=True)], ignore_index=True)
        both = both.sort_values([key, "title", "record_id"], kind="mergesort")
        value = both[key].to_numpy()
        is_new = both["is_new"].to_numpy()
        ids = both["record_id"].to_numpy()
        near = np.zeros(len(both), dtype=bool)
        for w in range(1, min(window, len(both) - 1) + 1):
            same = value[w:] == value[:-w]
            near[:-w] |= same & is_new[w:]
            near[w:] |= same & is_new[:-w]
        found.update(ids[near & ~is_new].tolist())
    return found


@dataclass
class Update:
    """What :func:`update` found: the whole run's clusters (text scores, ``kept`` bool),
    maybe pairs and related reports, the subset's result, and counts for the audit."""

    clusters: pd.DataFrame
    maybe: pd.DataFrame
    related: pd.DataFrame
    subset: DedupResult | None
    keys: pd.DataFrame
    counts: dict


def update(table: pd.DataFrame, index: Index, *, source_priority: Sequence[str],
           errata: str, overrides: pd.DataFrame | None, threads: int = 1,
           window: int = WINDOW) -> Update:
    """Add the new records of ``table`` (``index.new_ids``) to the earlier clusters (see
    the module docstring)."""
    new_ids = set(index.new_ids)
    is_new = table["record_id"].isin(new_ids)
    new_table = table[is_new].sort_values("record_id", kind="mergesort")
    if new_table.empty:
        return Update(clusters=index.clusters, maybe=index.maybe, related=index.related,
                      subset=None, keys=index.records.drop(columns="row_digest"),
                      counts={"new_records": 0, "earlier_records_compared": 0,
                              "bridges_kept_apart": 0})
    new_keys = blocking_keys(prepare(new_table.reset_index(drop=True), errata, threads))
    near = neighbours(index.records, new_keys, window)
    old = index.clusters
    cluster_of = dict(zip(old["record_id"], old["cluster_id"]))
    near_clusters = {cluster_of[r] for r in near}
    members = old[old["cluster_id"].isin(near_clusters)]
    subset_ids = new_ids | set(members["record_id"])
    subset = table[table["record_id"].isin(subset_ids)]
    log.info("deduplicate (update): %d new records, %d earlier records compared "
             "(%d clusters)", len(new_ids), len(members), len(near_clusters))
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

    def run(ids: set[str], apart: list[tuple[str, str]]) -> DedupResult:
        inside = given["record_id_a"].isin(ids) & given["record_id_b"].isin(ids)
        extra = pd.DataFrame(apart, columns=["record_id_a", "record_id_b"]).assign(
            decision="different", note="update: earlier clusters kept apart")
        return find_duplicates(table[table["record_id"].isin(ids)], source_priority,
                               overrides=pd.concat([given[inside], extra], ignore_index=True),
                               window=window, errata=errata, threads=threads,
                               prefer_kept=prefer & ids, compare_only=fresh)

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
    found = found[found["record_id"].isin(new_ids)]
    new_rows = _text_table(found.assign(kept=found["kept"].map({True: "yes", False: "no"})),
                           DEDUP_COLUMNS)
    new_rows["kept"] = new_rows["kept"] == "yes"
    clusters = pd.concat([old, new_rows], ignore_index=True).sort_values(
        "record_id", kind="mergesort").reset_index(drop=True)

    # Bridges: links of the first clustering that the kept-apart clusters refused.
    pairs = again.pairs if again is not None else result.pairs.iloc[:0]
    bridge = pairs[(pairs["decision"] == DUPLICATE) & touches(pairs, new_ids)]
    bridge = bridge[(bridge["record_id_a"].map(first_cluster).to_numpy()
                     == bridge["record_id_b"].map(first_cluster).to_numpy())
                    & (bridge["record_id_a"].map(final).to_numpy()
                       != bridge["record_id_b"].map(final).to_numpy())]
    title = table.set_index("record_id")["title"]
    bridge = bridge.assign(reason=BRIDGE_REASON,
                           title_a=bridge["record_id_a"].map(title).to_numpy(),
                           title_b=bridge["record_id_b"].map(title).to_numpy())
    maybe_new = pd.concat(maybe_parts, ignore_index=True)
    maybe_new = maybe_new[touches(maybe_new, new_ids)]
    maybe = pd.concat([index.maybe, _text_table(maybe_new, MAYBE_COLUMNS),
                       _text_table(bridge, MAYBE_COLUMNS)], ignore_index=True)
    maybe = maybe.drop_duplicates(["record_id_a", "record_id_b"], keep="first")
    related_new = _text_table(pd.concat(related_parts, ignore_index=True), RELATED_COLUMNS)
    related_all = pd.concat([index.related, related_new], ignore_index=True).drop_duplicates(
        ["record_id", "related_record_id"], keep="first")
    keys = pd.concat([index.records.drop(columns="row_digest"), new_keys], ignore_index=True)
    counts = {"new_records": len(new_ids), "earlier_records_compared": len(members),
              "bridges_kept_apart": len(bridge),
              "subset_candidate_pairs": result.counts["candidate_pairs"]}
    return Update(clusters=clusters, maybe=maybe, related=related_all, subset=result,
                  keys=keys, counts=counts)


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


def differences(before: pd.DataFrame, scratch: pd.DataFrame, updated: pd.DataFrame,
                new_ids: Sequence[str]) -> pd.DataFrame:
    """Where an update's clusters (``updated``) differ from a from-scratch run on the
    union (``scratch``), one row per cluster of either, with the cause: ``bridge`` (the
    from-scratch cluster holds two clusters of the earlier run, ``before``), ``kept`` (same
    records, but from scratch a new record is kept), ``neighbourhood`` (a link one run found
    and the other did not, see the module docstring) or ``other`` (unexplained). Tables as
    :func:`~sysrev.dedup.unique.read_clusters` reads them."""
    new = set(new_ids)
    earlier = dict(zip(before["record_id"], before["cluster_id"]))

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
        elif any(r in new for r in cluster ^ got[rid]) or \
                any(r in new for r in cluster):
            cause = "neighbourhood"
        else:
            cause = "other"
        rows.append((min(cluster), kept_want[rid], kept_got[rid], cause))
    return pd.DataFrame(rows, columns=["first_record_id", "kept_from_scratch",
                                       "kept_in_update", "cause"])
