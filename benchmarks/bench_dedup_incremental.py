"""Incremental deduplication benchmark: an update of M new records against an earlier run
of N, against a from-scratch run on the N + M records, in the same run.

Both through the rule's function (:func:`sysrev.workflow.dedup.deduplicate_records`: read
the record table, deduplicate, write every table, and the index), on one look-alike table
(benchmarks/dedup_generator.py, seed fixed): M records drawn at random (seed fixed) are the
update, the rest the earlier run. Reported: wall time of the earlier run, the update and the
from-scratch run (the rule's function: every table read and written); the matching alone
(``update`` against the index vs ``find_duplicates`` on the union); the records the update compared; pairwise precision and recall of both
against the generator's truth; and how the update's clusters differ from the from-scratch
ones (causes as :func:`sysrev.dedup.incremental.differences` names them)::

    nice -n 10 python benchmarks/bench_dedup_incremental.py --sizes 100000 --update 10000
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_dedup import metrics  # noqa: E402
from dedup_generator import generate  # noqa: E402

from sysrev.columns import RECORD_COLUMNS  # noqa: E402
from sysrev.dedup import find_duplicates  # noqa: E402
from sysrev.dedup.incremental import (differences, load_index, row_digests,  # noqa: E402
                                      settings, update)
from sysrev.tables import read_tsv  # noqa: E402
from sysrev.dedup.unique import read_clusters  # noqa: E402
from sysrev.workflow.dedup import deduplicate_records  # noqa: E402

OUTPUTS = ("unique", "duplicates", "clusters", "maybe", "related")


PRIORITY = ["pubmed", "embase", "wos", "scopus"]


def _write(path: Path, records) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    records.reindex(columns=RECORD_COLUMNS).to_csv(path, sep="\t", index=False,
                                                  lineterminator="\n")
    return path


def _run(folder: Path, records, incremental: bool, threads: int) -> float:
    path = _write(folder / "records.tsv", records)
    start = time.perf_counter()
    deduplicate_records(records=str(path), audit=str(folder / "audit.json"),
                        source_priority=PRIORITY,
                        incremental=incremental, threads=threads,
                        **{k: str(folder / f"dedup/{k}.tsv") for k in OUTPUTS})
    return time.perf_counter() - start


def _clusters(table) -> list[list[str]]:
    return [list(g) for _, g in table.groupby("cluster_id")["record_id"] if len(g) > 1]


def run(n: int, m: int, seed: int, threads: int) -> dict:
    records, truth = generate(n + m, seed=seed)
    rng = random.Random(seed)
    new = set(rng.sample(sorted(records["record_id"]), m))
    is_new = records["record_id"].isin(new)
    with tempfile.TemporaryDirectory(prefix="bench_inc_") as tmp:
        root = Path(tmp)
        t_before = _run(root / "inc", records[~is_new], True, threads)
        before = read_clusters(root / "inc/dedup/clusters.tsv")
        # The matching alone (no tables read or written): the update against the index,
        # and find_duplicates on the union.
        union = read_tsv(root / "inc/records.tsv")
        union = pd.concat([union, read_tsv(_write(root / "new.tsv", records[is_new]))],
                          ignore_index=True)
        start = time.perf_counter()
        index, _ = load_index(root / "inc/dedup/index", union, settings(
            PRIORITY, "related", None, union.columns), row_digests(union))
        update(union, index, source_priority=PRIORITY, errata="related", overrides=None,
               threads=threads)
        t_match_update = time.perf_counter() - start
        start = time.perf_counter()
        find_duplicates(union, PRIORITY, threads=threads)
        t_match_scratch = time.perf_counter() - start
        t_update = _run(root / "inc", records, True, threads)
        audit = json.loads((root / "inc/audit.json").read_text())["counts"]["index"]
        t_scratch = _run(root / "scratch", records, False, threads)
        updated = read_clusters(root / "inc/dedup/clusters.tsv")
        scratch = read_clusters(root / "scratch/dedup/clusters.tsv")
        diff = differences(before, scratch, updated, sorted(new))
        same = {k: (root / f"inc/dedup/{k}.tsv").read_bytes() ==
                (root / f"scratch/dedup/{k}.tsv").read_bytes() for k in OUTPUTS}
        maybe = {k: sum(1 for _ in open(root / f"{k}/dedup/maybe.tsv")) - 1
                 for k in ("inc", "scratch")}
    return {"earlier": n, "new": m, "t_earlier_s": round(t_before, 1),
            "t_update_s": round(t_update, 1), "t_scratch_s": round(t_scratch, 1),
            "update_over_scratch": round(t_update / t_scratch, 3),
            "t_match_update_s": round(t_match_update, 1),
            "t_match_scratch_s": round(t_match_scratch, 1),
            "match_update_over_scratch": round(t_match_update / t_match_scratch, 3),
            "earlier_records_compared": audit["earlier_records_compared"],
            "bridges_kept_apart": audit["bridges_kept_apart"],
            "update": metrics(_clusters(updated), truth),
            "scratch": metrics(_clusters(scratch), truth),
            "differences": diff["cause"].value_counts().to_dict(),
            "maybe_pairs": maybe, "byte_identical": same}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000],
                        help="records of the earlier run")
    parser.add_argument("--update", type=int, default=10_000, help="new records")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    for n in args.sizes:
        print(json.dumps(run(n, args.update, args.seed, args.threads), sort_keys=True),
              flush=True)


if __name__ == "__main__":
    main()
