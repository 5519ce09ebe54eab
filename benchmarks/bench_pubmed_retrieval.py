"""Benchmark: PubMed retrieval from the local E-utilities server (tests/eutils_server.py).

For each size N the server runs in its own process (so only the client's memory is
measured) with N synthetic records published 1990-2025, and the client retrieves the search
with the default settings (batch 500, split threshold 9,999, no start date) except the rate
limit, which is off for a local server. Reported:

- HTTP requests, against the goal ceil(N / batch) + windows + 1;
- records/s of the retrieval (and the time NCBI's 3/s or 10/s limit alone would impose);
- peak Python memory of the retrieval (tracemalloc) and the process's max RSS;
- parse throughput on the snapshot's files: the client's streaming check
  (``scan_pubmed_set``) against plain ``Bio.Entrez.read``, and the record-table parser
  (``parse_pubmed_xml``, Bio.Entrez.read plus field extraction), same files, same run.

Run from the project root::

    python benchmarks/bench_pubmed_retrieval.py            # 10,000 and 50,000 records
    python benchmarks/bench_pubmed_retrieval.py 2000       # a quick look
"""

from __future__ import annotations

import io
import math
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from Bio import Entrez  # noqa: E402

from sysrev.search.efetch_scan import scan_pubmed_set  # noqa: E402
from sysrev.search.entrez_client import (EntrezSettings, SearchSpec,  # noqa: E402
                                         retrieve_snapshot)
from sysrev.search.pubmed_xml import parse_pubmed_xml  # noqa: E402


def retrieve(n: int, workdir: Path) -> dict:
    server = subprocess.Popen([sys.executable, "-m", "tests.eutils_server", str(n)], cwd=REPO,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().strip()
        settings = EntrezSettings(base_url=url, email="bench@example.org", rate=None)
        spec = SearchSpec(query="denosumab[tiab]", search_date="2025-12-31")
        tracemalloc.start()
        started = time.perf_counter()
        provenance = retrieve_snapshot(spec, workdir / "2025-12-31", settings)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        server.stdin.close()
        server.wait(timeout=60)
    assert provenance["count"] == n, provenance["count"]
    windows = [w for w in provenance["windows"] if w["count"]]
    batch = settings.batch_size
    return {"n": n, "seconds": elapsed, "requests": provenance["requests"],
            "esearch": provenance["requests"] - sum(math.ceil(w["count"] / batch)
                                                    for w in windows),
            "efetch": sum(math.ceil(w["count"] / batch) for w in windows),
            "windows": len(windows), "all_windows": len(provenance["windows"]),
            "goal": math.ceil(n / batch) + len(windows) + 1,
            "peak_mib": peak / 2**20,
            "maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def parse_throughput(folder: Path) -> dict:
    files = sorted(folder.glob("*.xml"))
    blobs = [f.read_bytes() for f in files]
    size = sum(len(b) for b in blobs)
    timings = {}
    for name, fn in [("scan", lambda b: len(scan_pubmed_set(b))),
                     ("entrez_read", lambda b: len(Entrez.read(io.BytesIO(b))["PubmedArticle"]))]:
        started = time.perf_counter()
        records = sum(fn(b) for b in blobs)
        timings[name] = (records, time.perf_counter() - started)
    started = time.perf_counter()
    records = sum(1 for f in files for _ in parse_pubmed_xml(f))
    timings["record_table"] = (records, time.perf_counter() - started)
    return {"mib": size / 2**20, **{k: v for k, v in timings.items()}}


def main(sizes: list[int]) -> None:
    print(f"{'N':>7} {'requests':>8} {'goal':>6} {'esearch':>7} {'efetch':>6} {'windows':>7} "
          f"{'s':>6} {'rec/s':>7} {'at 3/s':>7} {'at 10/s':>7} {'peak MiB':>8} {'RSS MiB':>7}")
    parses = []
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            r = retrieve(n, Path(tmp))
            parses.append((n, parse_throughput(Path(tmp) / "2025-12-31")))
        print(f"{r['n']:>7} {r['requests']:>8} {r['goal']:>6} {r['esearch']:>7} "
              f"{r['efetch']:>6} {r['windows']:>3}/{r['all_windows']:<3} {r['seconds']:>6.1f} "
              f"{n / r['seconds']:>7.0f} {r['requests'] / 3:>6.0f}s {r['requests'] / 10:>6.0f}s "
              f"{r['peak_mib']:>8.1f} {r['maxrss_mib']:>7.0f}", flush=True)
    print()
    print(f"{'N':>7} {'MiB':>6} {'scan rec/s':>11} {'Entrez.read rec/s':>18} {'ratio':>6} "
          f"{'record table rec/s':>19}")
    for n, p in parses:
        scan = p["scan"][0] / p["scan"][1]
        read = p["entrez_read"][0] / p["entrez_read"][1]
        table = p["record_table"][0] / p["record_table"][1]
        print(f"{n:>7} {p['mib']:>6.0f} {scan:>11.0f} {read:>18.0f} {scan / read:>6.1f} "
              f"{table:>19.0f}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10000, 50000])
