"""Run bib-dedupe on one CSV and print its clusters and timing as JSON.

Runs under the separate bib-dedupe venv (never the project's environment):

    /tmp/bibdedupe-venv/bin/python benchmarks/bibdedupe_runner.py records.csv [--native]

The CSV has bib-dedupe's columns (ID, ENTRYTYPE, title, author, year, journal, volume,
number, pages, doi). ``--native``: the file is one of bib-dedupe's own
``data/<set>/records_pre_merged.csv``, read as bib-dedupe's evaluation reads it
(``pd.read_csv(path)``, its DedupeBenchmarker), never converted. Without it the file is a
table this benchmark converted, read as text. Timing covers prep + block + match +
cluster, not the import.
"""
import json
import sys
import time

import pandas as pd

import bib_dedupe.bib_dedupe as bd


def main(path: str, native: bool = False) -> None:
    records = pd.read_csv(path) if native else \
        pd.read_csv(path, dtype=str, keep_default_na=False)
    start = time.perf_counter()
    prepared = bd.prep(records, verbosity_level=0)
    pairs = bd.block(prepared, verbosity_level=0)
    matched = bd.match(pairs, verbosity_level=0)
    clusters = bd.cluster(matched, verbosity_level=0)
    seconds = time.perf_counter() - start
    import importlib.metadata as md
    print(json.dumps({"seconds": seconds, "version": md.version("bib-dedupe"),
                      "clusters": [sorted(map(str, c)) for c in clusters]}))


if __name__ == "__main__":
    main(sys.argv[1], native="--native" in sys.argv[2:])
