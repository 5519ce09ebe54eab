"""Deduplication benchmark: accuracy against labelled sets, side by side with bib-dedupe,
and time and peak memory at scale on generated duplicates.

Accuracy (both tools on the same records, in the same run)::

    python benchmarks/bench_dedup.py accuracy --bibdedupe /tmp/bibdedupe-venv/bin/python

Scale (each size in a fresh process, so peak memory is that size's alone)::

    python benchmarks/bench_dedup.py scale --sizes 10000 100000 500000

bib-dedupe lives in its own venv (``python -m venv /tmp/bibdedupe-venv &&
/tmp/bibdedupe-venv/bin/pip install bib-dedupe``) and is run by subprocess
(benchmarks/bibdedupe_runner.py), so the project's pinned environment is untouched.

The labelled sets are read from ``../shared/testdata/dedup`` (see SOURCES.md there):

* ``asysd_diabetes``: ASySD's labelled diabetes set (latin-1, CRLF inside quoted cells).
  The truth is the ``source`` column (``unique`` = one kept record per publication). Pairwise
  metrics need clusters, which the file does not hold; they come from bib-dedupe's
  ``merged_record_ids`` for this set, reconciled with ``source``: the one cluster with two
  ``unique`` records is split into the two publications (pages 51 and 52, different
  author lists), and the one cluster with no ``unique`` record is kept as one publication.
* ``bibdedupe_cytology_screening`` and ``bibdedupe_special_cases``: bib-dedupe's own sets
  (``merged_record_ids.csv``: one cluster per row; other ids are singletons).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from itertools import combinations
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
TESTDATA = REPO.parent / "shared" / "testdata" / "dedup"
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))

from sysrev.columns import RECORD_COLUMNS  # noqa: E402
from sysrev.dedup import find_duplicates  # noqa: E402
from sysrev.imports.csv_export import read_csv_export  # noqa: E402


# ------------------------------------------------------------------------ labelled sets

def _table(rows: pd.DataFrame, source: str) -> pd.DataFrame:
    frame = pd.DataFrame({c: rows[c] if c in rows.columns else None for c in RECORD_COLUMNS})
    frame["source"] = source
    frame["record_id"] = rows["record_id"].astype(str)
    return frame.reset_index(drop=True)


def _bibtex_rows(path: Path) -> pd.DataFrame:
    """bib-dedupe's records_pre_merged.csv as a record table (authors ' and ' -> '; ')."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    journal = raw["journal"] if "journal" in raw.columns else ""
    if "booktitle" in raw.columns:
        journal = raw["journal"].where(raw["journal"] != "", raw["booktitle"])
    rows = pd.DataFrame({
        "record_id": raw["ID"], "title": raw["title"],
        "authors": raw["author"].str.replace(r"\s+and\s+", "; ", regex=True),
        "year": raw["year"], "journal": journal,
        "volume": raw.get("volume", ""), "issue": raw.get("number", raw.get("issue", "")),
        "pages": raw.get("pages", "").str.replace("--", "-", regex=False)
        if "pages" in raw.columns else "",
        "doi": raw.get("doi", ""), "publication_types": raw["ENTRYTYPE"],
        "abstract": raw.get("abstract", "")})
    return _table(rows.replace({"": None}), "set")


def _clusters_file(path: Path) -> list[list[str]]:
    return [c.split(";") for c in pd.read_csv(path)["merged_ids"]]


def load_sets() -> dict[str, tuple[pd.DataFrame, list[list[str]]]]:
    """Each labelled set: (record table, truth clusters of size >= 2)."""
    sets = {}
    asysd = TESTDATA / "asysd_diabetes"
    records = read_csv_export(asysd / "labelled_test_set.csv", source="asysd", layout="csv")
    raw = pd.read_csv(asysd / "labelled_test_set.csv", encoding="latin-1")
    label = dict(zip(raw["record_id"].astype(str), raw["source"]))
    pages = dict(zip(raw["record_id"].astype(str), raw["pages"].astype(str)))
    truth = []
    for cluster in _clusters_file(asysd / "merged_record_ids_bibdedupe.csv"):
        ids = [str(int(x.split("_")[1])) for x in cluster]
        uniques = [i for i in ids if label[i] == "unique"]
        if len(uniques) > 1:  # two publications merged in the file: split by pages
            for page in sorted({pages[i] for i in ids}):
                truth.append([i for i in ids if pages[i] == page])
        else:
            truth.append(ids)
    records["record_id"] = records["source_id"]
    sets["asysd_diabetes"] = (records, truth)
    for name in ("bibdedupe_cytology_screening", "bibdedupe_special_cases"):
        folder = TESTDATA / name
        sets[name] = (_bibtex_rows(folder / "records_pre_merged.csv"),
                      _clusters_file(folder / "merged_record_ids.csv"))
    return sets


def pairs_of(clusters) -> set[tuple[str, str]]:
    out = set()
    for cluster in clusters:
        out.update(combinations(sorted(map(str, cluster)), 2))
    return out


def metrics(predicted, truth) -> dict[str, float]:
    p, t = pairs_of(predicted), pairs_of(truth)
    tp = len(p & t)
    precision = tp / len(p) if p else 1.0
    recall = tp / len(t) if t else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "true_pairs": len(t),
            "predicted_pairs": len(p), "false_pairs": len(p - t), "missed_pairs": len(t - p)}


def sysrev_clusters(records: pd.DataFrame) -> tuple[list[list[str]], float]:
    start = time.perf_counter()
    result = find_duplicates(records)
    seconds = time.perf_counter() - start
    groups = result.clusters.groupby("cluster_id")["record_id"].apply(list)
    return [g for g in groups if len(g) > 1], seconds


def bibdedupe_clusters(records: pd.DataFrame, python: str) -> tuple[list[list[str]], float,
                                                                    str]:
    table = pd.DataFrame({
        "ID": records["record_id"],
        "ENTRYTYPE": records["publication_types"].fillna("article")
        .where(records["publication_types"].fillna("").isin(
            ["article", "inproceedings", "book", "incollection", "misc", "phdthesis"]),
            "article"),
        "title": records["title"], "author": records["authors"].fillna("")
        .str.replace("; ", " and ", regex=False),
        "year": records["year"], "journal": records["journal"], "volume": records["volume"],
        "number": records["issue"], "pages": records["pages"], "doi": records["doi"]})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "records.csv"
        table.fillna("").to_csv(path, index=False)
        out = subprocess.run([python, str(REPO / "benchmarks" / "bibdedupe_runner.py"),
                              str(path)], capture_output=True, text=True, cwd=tmp,
                             check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result["clusters"], result["seconds"], result["version"]


def run_accuracy(python: str | None) -> list[dict]:
    rows = []
    for name, (records, truth) in load_sets().items():
        ours, seconds = sysrev_clusters(records)
        row = {"set": name, "records": len(records),
               **{f"sysrev_{k}": v for k, v in metrics(ours, truth).items()},
               "sysrev_seconds": seconds}
        if python:
            theirs, their_seconds, version = bibdedupe_clusters(records, python)
            row.update({f"bibdedupe_{k}": v for k, v in metrics(theirs, truth).items()})
            row["bibdedupe_seconds"] = their_seconds
            row["bibdedupe_version"] = version
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


# ---------------------------------------------------------------------------- scale

def run_scale_one(n: int, seed: int, bibdedupe: str | None = None) -> dict:
    from dedup_generator import generate

    records, truth = generate(n, seed=seed)
    peer = {}
    if bibdedupe:
        theirs, their_seconds, _ = bibdedupe_clusters(records, bibdedupe)
        peer = {f"bibdedupe_{k}": v for k, v in metrics(theirs, truth).items()}
        peer["bibdedupe_seconds"] = their_seconds
    start = time.perf_counter()
    result = find_duplicates(records)
    seconds = time.perf_counter() - start
    groups = result.clusters.groupby("cluster_id")["record_id"].apply(list)
    predicted = [g for g in groups if len(g) > 1]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB
    return {"records": len(records), "seconds": seconds, "peak_rss_mib": peak,
            "candidate_pairs": result.counts["candidate_pairs"],
            **metrics(predicted, truth), **peer}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    acc = sub.add_parser("accuracy")
    acc.add_argument("--bibdedupe", help="python of the bib-dedupe venv")
    scale = sub.add_parser("scale")
    scale.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 500_000])
    scale.add_argument("--seed", type=int, default=1)
    scale.add_argument("--bibdedupe", help="python of the bib-dedupe venv: also run "
                                           "bib-dedupe on the sizes up to 20,000")
    one = sub.add_parser("scale-one")
    one.add_argument("--n", type=int, required=True)
    one.add_argument("--seed", type=int, default=1)
    one.add_argument("--bibdedupe")
    args = parser.parse_args()
    if args.command == "accuracy":
        run_accuracy(args.bibdedupe)
    elif args.command == "scale-one":
        print(json.dumps(run_scale_one(args.n, args.seed, args.bibdedupe)))
    else:
        for n in args.sizes:
            peer = ["--bibdedupe", args.bibdedupe] if args.bibdedupe and n <= 20_000 else []
            out = subprocess.run([sys.executable, __file__, "scale-one", "--n", str(n),
                                  "--seed", str(args.seed), *peer], capture_output=True,
                                 text=True, check=True,
                                 env={**os.environ, "PYTHONHASHSEED": "0"})
            print(out.stdout.strip().splitlines()[-1], flush=True)


if __name__ == "__main__":
    main()
