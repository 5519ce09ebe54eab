"""Ranked screening: sysrev's model against ASReview's default model, on the same labelled
datasets, the same prior knowledge, in the same run.

    python benchmarks/bench_screening.py [--asreview /path/to/venv/bin/asreview] [--priors 5]

ASReview is not a sysrev dependency: install it into its own environment
(``python -m venv /tmp/asreview-venv && /tmp/asreview-venv/bin/pip install asreview``) and
pass its ``asreview`` command. Each dataset is screened in simulation to the end by

- ``sysrev``: sysrev.screening.prioritise as a reviewer would use it, retrained after every
  record: the records keep the file order until 5 includes (and 1 exclude) are labelled,
  then go by the model's score;
- ``sysrev (no threshold)``: the same model ranking from the first include on;
- ``asreview``: ``asreview simulate`` with its default model (``--ai elas_u4``) and
  ``--n-stop -1``, reading the labelling order from the project file;

each from the same prior knowledge (one include and one exclude, chosen by a seeded draw;
``--priors`` draws). Reported: recall after 10, 20 and 50% of the records screened (prior
records count as screened), and WSS@95 (Cohen 2006: the share of records not screened when
95% of includes are found, minus 5%), mean and range over the prior draws.

Datasets: the bundled review's own title/abstract decisions (``to_screen_asreview.csv`` of a
finished run: titles only, the corpus has no abstracts), and the labelled screening files in
``../shared/testdata/screening`` (ASReview's generic_labels demo file; the Rayyan baseline
export, Included and Maybe = 1, Excluded = 0, unlabelled rows left out).
"""

from __future__ import annotations

import os

# One thread each for the numerical libraries (both models, in this process and in
# ASReview's): on a shared machine, BLAS threads fighting over cores only add noise.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import math
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from sysrev.screening.prioritise import MIN_INCLUDES, score_records  # noqa: E402

TESTDATA = REPO.parent / "shared" / "testdata" / "screening"


def load_datasets() -> dict[str, pd.DataFrame]:
    """Each dataset as ``title, abstract, label`` (1 include, 0 exclude)."""
    sets = {}
    bundled = REPO / "results/denosumab_ra/screening/to_screen_asreview.csv"
    if bundled.is_file():
        table = pd.read_csv(bundled, dtype=str, keep_default_na=False)
        table = table[table["label_included"].isin(["0", "1"])]
        sets["denosumab_ra (bundled review)"] = pd.DataFrame({
            "title": table["title"], "abstract": table["abstract"],
            "label": table["label_included"].astype(int)})
    generic = TESTDATA / "asreview__generic_labels.csv"
    if generic.is_file():
        table = pd.read_csv(generic, dtype=str, keep_default_na=False)
        sets["asreview generic_labels (demo)"] = pd.DataFrame({
            "title": table["title"], "abstract": table["abstract"],
            "label": table["label_included"].astype(int)})
    rayyan = TESTDATA / "cff___baseline_rayyan.csv"
    if rayyan.is_file():
        table = pd.read_csv(rayyan, dtype=str, keep_default_na=False)
        label = table["notes"].str.extract(r'=>"(\w+)"')[0]
        keep = label.isin(["Included", "Maybe", "Excluded"])
        sets["rayyan baseline (cff)"] = pd.DataFrame({
            "title": table.loc[keep, "title"], "abstract": table.loc[keep, "abstract"],
            "label": (label[keep] != "Excluded").astype(int)})
    return {name: t.reset_index(drop=True) for name, t in sets.items()}


def simulate_sysrev(data: pd.DataFrame, prior: list[int], min_includes: int) -> list[int]:
    """The order in which a reviewer using sysrev's ranking screens the records."""
    text = (data["title"] + " " + data["abstract"]).str.strip().tolist()
    labels = data["label"].tolist()
    order = list(prior)
    left = [i for i in range(len(data)) if i not in set(prior)]
    while left:
        seen = [labels[i] for i in order]
        if sum(seen) >= min_includes and len(seen) - sum(seen) >= 1:
            scores = score_records([text[i] for i in order], seen, [text[i] for i in left])
            rounded = np.round(scores, 6)
            best = min(range(len(left)), key=lambda j: (-rounded[j], j))
        else:
            best = 0  # the usual order: the file's
        order.append(left.pop(best))
    return order


def simulate_asreview(command: str, data: pd.DataFrame, prior: list[int], seed: int,
                      work: Path) -> list[int]:
    """The labelling order of ``asreview simulate`` (default model) from the same prior."""
    work = Path(tempfile.mkdtemp(dir=work))  # ASReview never overwrites a project file
    csv = work / "data.csv"
    data.assign(label_included=data["label"]).loc[
        :, ["title", "abstract", "label_included"]].to_csv(csv, index=False)
    project = work / f"sim_{seed}.asreview"
    subprocess.run([command, "simulate", str(csv), "--prior-idx", *map(str, prior),
                    "--seed", str(seed), "--n-stop", "-1", "-o", str(project)],
                   check=True, capture_output=True, text=True, cwd=work)
    with zipfile.ZipFile(project) as archive:
        name = next(n for n in archive.namelist() if n.endswith("results.db"))
        archive.extract(name, work / f"x{seed}")
    with sqlite3.connect(work / f"x{seed}" / name) as db:
        rows = db.execute("SELECT r.dataset_row FROM results s JOIN record r "
                          "ON s.record_id = r.record_id ORDER BY s.rowid").fetchall()
    return [int(r[0]) for r in rows]


def metrics(order: list[int], labels: list[int]) -> dict[str, float]:
    n, relevant = len(labels), sum(labels)
    found = np.cumsum([labels[i] for i in order])
    out = {}
    for share in (0.1, 0.2, 0.5):
        screened = math.ceil(share * n)
        out[f"recall@{int(share * 100)}%"] = found[screened - 1] / relevant
    needed = math.ceil(0.95 * relevant)
    n95 = int(np.argmax(found >= needed)) + 1
    out["WSS@95"] = (n - n95) / n - 0.05
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--asreview", default="asreview")
    parser.add_argument("--priors", type=int, default=5)
    args = parser.parse_args()
    version = subprocess.run([args.asreview, "--version"], capture_output=True,
                             text=True).stdout.strip()
    print(f"ASReview: {version}")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in load_datasets().items():
            labels = data["label"].tolist()
            inc = [i for i, v in enumerate(labels) if v == 1]
            exc = [i for i, v in enumerate(labels) if v == 0]
            rng = random.Random(2020)
            for draw in range(args.priors):
                prior = [rng.choice(inc), rng.choice(exc)]
                for method in ("sysrev", "sysrev (no threshold)", "asreview"):
                    start = time.perf_counter()
                    if method == "asreview":
                        order = simulate_asreview(args.asreview, data, prior, draw, Path(tmp))
                    else:
                        order = simulate_sysrev(data, prior, MIN_INCLUDES
                                                if method == "sysrev" else 1)
                    assert sorted(order) == list(range(len(data))), (name, method)
                    results.append({"dataset": name, "records": len(data),
                                    "includes": sum(labels), "method": method,
                                    "draw": draw, "seconds": time.perf_counter() - start,
                                    **metrics(order, labels)})
                    print(name, method, draw, results[-1], flush=True)
    table = pd.DataFrame(results)
    columns = ["recall@10%", "recall@20%", "recall@50%", "WSS@95", "seconds"]
    summary = table.groupby(["dataset", "records", "includes", "method"], sort=False)[
        columns].agg(["mean", "min", "max"])
    pd.set_option("display.width", 200)
    print(summary.round(3).to_string())
    print("\n| dataset | records (includes) | method | recall@10% | recall@20% | recall@50% "
          "| WSS@95 | s per simulation |")
    print("|---|---|---|---|---|---|---|---|")
    for (dataset, n, r, method), row in summary.iterrows():
        cells = [f"{row[(c, 'mean')]:.2f} ({row[(c, 'min')]:.2f}–{row[(c, 'max')]:.2f})"
                 for c in columns[:-1]]
        print(f"| {dataset} | {n} ({r}) | {method} | " + " | ".join(cells)
              + f" | {row[('seconds', 'mean')]:.1f} |")


if __name__ == "__main__":
    main()
