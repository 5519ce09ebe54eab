"""The maybe band: how many maybe pairs are true duplicates, what the rule settles, and the
precision of the ranked list, on the labelled sets in ../shared/testdata/dedup and on the
look-alike library (benchmarks/dedup_generator.py; its truth is known)::

    nice -n 10 python benchmarks/bench_maybe_band.py --generated 20000 100000

``bench_dedup.py scale-one`` reports the same figures (:func:`band_metrics`) for its run, so
one 1M-record run gives time, memory, precision and the band.

Per set: records, maybe pairs, true duplicates among them, pairs settled by rule (and true
ones among those, i.e. lost to the rule), pairs left ranked, precision of the ranked list,
of its first 10 and of its better and worse halves, the number marked ``for_review``
with the default cap and the share of true duplicates among them and among the rest (the
ranked pairs below the cut and the settled ones: what no reviewer is shown).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_dedup import _generated, load_sets  # noqa: E402

from sysrev.dedup import find_duplicates  # noqa: E402
from sysrev.dedup.band import review_band, review_cap  # noqa: E402


def _share(values) -> float | None:
    return round(float(values.mean()), 3) if len(values) else None


def band_metrics(maybe, records: int, truth) -> dict:
    """The band of ``maybe`` (``find_duplicates(...).maybe`` of ``records`` records) against
    ``truth`` (lists of the record ids of one publication): its size, what the rule settles
    and the share of true duplicates among the pairs marked for review and the rest."""
    cluster = {r: k for k, c in enumerate(truth) for r in c}
    band = review_band(maybe, records)
    band["true"] = [cluster.get(a, -1) == cluster.get(b, -2)
                    for a, b in zip(band["record_id_a"], band["record_id_b"])]
    settled = band[band["settled"] != ""]
    ranked = band[band["settled"] == ""].sort_values("review_rank")
    marked = band["for_review"] == "yes"
    below = ranked[ranked["for_review"] != "yes"]
    half = len(ranked) // 2
    return {"records": records, "maybe_pairs": len(band),
            "true_pairs": int(band["true"].sum()), "precision_all": _share(band["true"]),
            "settled": len(settled), "true_settled": int(settled["true"].sum()),
            "ranked": len(ranked), "precision_ranked": _share(ranked["true"]),
            "precision_top10": _share(ranked["true"].head(10)),
            "precision_top_half": _share(ranked["true"].head(half)),
            "precision_bottom_half": _share(ranked["true"].iloc[half:]),
            "for_review": int(marked.sum()), "cap": review_cap(records),
            "true_for_review": int(band["true"][marked].sum()),
            "precision_for_review": _share(band["true"][marked]),
            # ranked pairs below the cut and settled pairs: what no reviewer is shown
            "not_for_review": int((~marked).sum()),
            "true_not_for_review": int(band["true"][~marked].sum()),
            "precision_not_for_review": _share(band["true"][~marked]),
            "ranked_below_cut": len(below), "true_below_cut": int(below["true"].sum())}


def measure(name: str, records, truth, threads: int) -> dict:
    maybe = find_duplicates(records, threads=threads).maybe
    return {"set": name, **band_metrics(maybe, len(records), truth)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--generated", type=int, nargs="*", default=[20_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-labelled", action="store_true", help="the generated sets only")
    parser.add_argument("--cache", help="folder of generated tables (bench_dedup.py's --cache)")
    args = parser.parse_args()
    for name, (records, truth) in ({} if args.no_labelled else load_sets()).items():
        print(json.dumps(measure(name, records, truth, args.threads)), flush=True)
    for n in args.generated:
        records, truth = _generated(n, args.seed, args.cache)
        print(json.dumps(measure(f"look-alike {n}", records, truth, args.threads)),
              flush=True)


if __name__ == "__main__":
    main()
