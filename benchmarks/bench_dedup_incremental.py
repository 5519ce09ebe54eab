"""Incremental deduplication benchmark: an update of M new records against an earlier run
of N, against a from-scratch run on the N + M records, in the same run.

All runs go through the rule's function (:func:`sysrev.workflow.dedup.deduplicate_records`:
read the record table, deduplicate, write every table, the audit and the index), each in a
fresh Python process (its wall time and peak memory measured on its own), on one look-alike
table (benchmarks/dedup_generator.py, seed fixed): M records drawn at random (seed fixed)
are the update, the rest the earlier run. Reported: wall time and peak memory of the
earlier run (from scratch, writing the index), the update and the from-scratch run on the
union; the records the update compared; pairwise precision and recall of both against the
generator's truth; which tables are byte-identical; and how the update's clusters differ
from the from-scratch ones (causes as :func:`sysrev.dedup.incremental.differences` names
them)::

    nice -n 10 python benchmarks/bench_dedup_incremental.py --sizes 100000 --update 10000
    flock /work/wt/bigrun.lock nice -n 10 python benchmarks/bench_dedup_incremental.py \\
        --sizes 990000 --update 10000 --cache /tmp/dedup1m-cache
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))

OUTPUTS = ("unique", "duplicates", "clusters", "maybe", "related")
PRIORITY = ["pubmed", "embase", "wos", "scopus"]


def _phase(folder: str, records: str, incremental: bool, threads: int) -> None:
    """One run of the rule's function (in its own process): prints its wall time and peak
    memory as JSON."""
    from sysrev.workflow.dedup import deduplicate_records

    start = time.perf_counter()
    deduplicate_records(records=records, audit=f"{folder}/audit.json",
                        source_priority=PRIORITY, incremental=incremental, threads=threads,
                        **{k: f"{folder}/dedup/{k}.tsv" for k in OUTPUTS})
    seconds = time.perf_counter() - start
    peak_kib = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                   resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    print(json.dumps({"seconds": round(seconds, 1), "peak_mib": round(peak_kib / 1024)}))


def _run(folder: Path, records: Path, incremental: bool, threads: int) -> dict:
    (folder / "dedup").mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, __file__, "--phase", str(folder), str(records),
         "1" if incremental else "0", str(threads)],
        check=True, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    return json.loads(done.stdout.strip().splitlines()[-1])


def _clusters(table) -> list[list[str]]:
    return [list(g) for _, g in table.groupby("cluster_id")["record_id"] if len(g) > 1]


def run(n: int, m: int, seed: int, threads: int, keep: str | None = None,
        cache: str | None = None) -> dict:
    from bench_dedup import _generated, metrics

    from sysrev.columns import RECORD_COLUMNS
    from sysrev.dedup.incremental import differences
    from sysrev.dedup.unique import read_clusters

    start = time.perf_counter()
    records, truth = _generated(n + m, seed, cache)
    rng = random.Random(seed)
    new = set(rng.sample(sorted(records["record_id"]), m))
    is_new = records["record_id"].isin(new)
    with tempfile.TemporaryDirectory(prefix="bench_inc_") as tmp:
        root = Path(keep or tmp)
        root.mkdir(parents=True, exist_ok=True)
        table = records.reindex(columns=RECORD_COLUMNS)
        table[~is_new.to_numpy()].to_csv(root / "earlier.tsv", sep="\t", index=False,
                                         lineterminator="\n")
        table.to_csv(root / "union.tsv", sep="\t", index=False, lineterminator="\n")
        del records, table
        t_generate = time.perf_counter() - start
        earlier = _run(root / "inc", root / "earlier.tsv", True, threads)
        earlier_steps = json.loads((root / "inc/dedup/index/last_run.json").read_text()
                                   )["seconds"]
        before = read_clusters(root / "inc/dedup/clusters.tsv")
        updated_run = _run(root / "inc", root / "union.tsv", True, threads)
        last = json.loads((root / "inc/dedup/index/last_run.json").read_text())
        scratch_run = _run(root / "scratch", root / "union.tsv", True, threads)
        scratch_steps = json.loads((root / "scratch/dedup/index/last_run.json").read_text()
                                   )["seconds"]
        updated = read_clusters(root / "inc/dedup/clusters.tsv")
        scratch = read_clusters(root / "scratch/dedup/clusters.tsv")
        diff = differences(before, scratch, updated, sorted(new))
        if keep:
            diff.to_csv(root / "differences.tsv", sep="\t", index=False)
        same = {k: (root / f"inc/dedup/{k}.tsv").read_bytes() ==
                (root / f"scratch/dedup/{k}.tsv").read_bytes() for k in OUTPUTS}
        audits = [json.loads((root / f"{k}/audit.json").read_text())["counts"]
                  for k in ("inc", "scratch")]
        maybe = {k: sum(1 for _ in open(root / f"{k}/dedup/maybe.tsv")) - 1
                 for k in ("inc", "scratch")}
        index_mib = sum(p.stat().st_size for p in (root / "inc/dedup/index").rglob("*")
                        if p.is_file()) / 2**20
    return {"earlier": n, "new": m, "threads": threads, "t_generate_s": round(t_generate, 1),
            "earlier_run": earlier, "update": updated_run, "scratch": scratch_run,
            "update_over_scratch": round(updated_run["seconds"] / scratch_run["seconds"], 3),
            "update_mode": last["mode"], "update_seconds_by_step": last["seconds"],
            "earlier_seconds_by_step": earlier_steps,
            "scratch_seconds_by_step": scratch_steps,
            "earlier_records_compared": last.get("earlier_records_compared"),
            "bridges_kept_apart": last.get("bridges_kept_apart"),
            "clusters_touched": last.get("clusters_touched"),
            "index_mib": round(index_mib),
            "metrics_update": metrics(_clusters(updated), truth),
            "metrics_scratch": metrics(_clusters(scratch), truth),
            "differences": diff["cause"].value_counts().to_dict(),
            "maybe_pairs": maybe, "byte_identical": same,
            "audit_counts_equal": audits[0] == audits[1]}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--phase":
        folder, records, incremental, threads = sys.argv[2:6]
        _phase(folder, records, incremental == "1", int(threads))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000],
                        help="records of the earlier run")
    parser.add_argument("--update", type=int, default=10_000, help="new records")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--keep", help="folder to keep the runs' files in (one size)")
    parser.add_argument("--cache", help="folder of generated tables, as bench_dedup.py's "
                        "--cache (the N + M records)")
    args = parser.parse_args()
    print(json.dumps({"load_average": os.getloadavg()}), flush=True)
    for n in args.sizes:
        print(json.dumps(run(n, args.update, args.seed, args.threads, args.keep, args.cache),
                         sort_keys=True),
              flush=True)
        print(json.dumps({"load_average": os.getloadavg()}), flush=True)


if __name__ == "__main__":
    main()
