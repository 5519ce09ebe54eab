"""The maybe band: how many maybe pairs are true duplicates, what the rule settles, and the
precision of the ranked list, on the labelled sets in ../shared/testdata/dedup and on the
look-alike library (benchmarks/dedup_generator.py; its truth is known)::

    nice -n 10 python benchmarks/bench_maybe_band.py --generated 20000 100000

Per set: records, maybe pairs, true duplicates among them, pairs settled by rule (and true
ones among those, i.e. lost to the rule), pairs left ranked, precision of the ranked list,
of its first 10 and of its better and worse halves, and the number marked ``for_review``
with the default cap.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_dedup import load_sets  # noqa: E402
from dedup_generator import generate  # noqa: E402

from sysrev.dedup import find_duplicates  # noqa: E402
from sysrev.dedup.band import review_band  # noqa: E402


def _share(values) -> float | None:
    return round(float(values.mean()), 3) if len(values) else None


def measure(name: str, records, truth, threads: int) -> dict:
    cluster = {r: k for k, c in enumerate(truth) for r in c}
    maybe = find_duplicates(records, threads=threads).maybe
    band = review_band(maybe, len(records))
    band["true"] = [cluster.get(a, -1) == cluster.get(b, -2)
                    for a, b in zip(band["record_id_a"], band["record_id_b"])]
    settled = band[band["settled"] != ""]
    ranked = band[band["settled"] == ""].sort_values("review_rank")
    half = len(ranked) // 2
    return {"set": name, "records": len(records), "maybe_pairs": len(band),
            "true_pairs": int(band["true"].sum()), "precision_all": _share(band["true"]),
            "settled": len(settled), "true_settled": int(settled["true"].sum()),
            "ranked": len(ranked), "precision_ranked": _share(ranked["true"]),
            "precision_top10": _share(ranked["true"].head(10)),
            "precision_top_half": _share(ranked["true"].head(half)),
            "precision_bottom_half": _share(ranked["true"].iloc[half:]),
            "for_review": int((band["for_review"] == "yes").sum())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--generated", type=int, nargs="*", default=[20_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-labelled", action="store_true", help="the generated sets only")
    args = parser.parse_args()
    for name, (records, truth) in ({} if args.no_labelled else load_sets()).items():
        print(json.dumps(measure(name, records, truth, args.threads)), flush=True)
    for n in args.generated:
        records, truth = generate(n, seed=args.seed)
        print(json.dumps(measure(f"look-alike {n}", records, truth, args.threads)),
              flush=True)


if __name__ == "__main__":
    main()
