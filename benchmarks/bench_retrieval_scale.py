"""Benchmark: PubMed retrieval at scale (10k, 100k, 1M records), client and server apart.

The local E-utilities server (``tests/eutils_server.py``) runs in its own process with N
synthetic records published 1990-2025 (it keeps N small record objects and builds each
batch's XML when asked, so it never holds N records' XML); the client runs in another
process, ``retrieve_snapshot`` with the default settings (batch 500, split threshold 9,999,
no start date) and no rate limit. Then a third process reads the snapshot into the record
table as ``pubmed_records`` does (``sysrev.workflow.search.pubmed_records``).

Reported per N: the retrieval's wall time, the client's peak resident memory (``VmHWM``
from ``/proc/self/status``, the kernel's exact high-water mark, not a sample), HTTP
requests, snapshot size on disk, the server's peak memory, and the read's time and peak.

``--src DIR`` runs the client and reader with another checkout's ``src`` first on the path
(the code before a change, for a before/after table). Run from the project root::

    nice -n 10 python benchmarks/bench_retrieval_scale.py 10000 100000
    flock /work/wt/bigrun.lock nice -n 10 python benchmarks/bench_retrieval_scale.py 1000000

``--keep DIR`` keeps the snapshot (otherwise a temporary folder is removed);
``--json FILE`` writes the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def vm_hwm_mib(pid: str | int = "self") -> float:
    """Peak resident set size of a process (``VmHWM``), MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def client(url: str, folder: str) -> None:
    """Run one retrieval in this process and print its figures as JSON (with
    ``BENCH_TRACEMALLOC=1``, also the peak of Python's allocations during the retrieval)."""
    import tracemalloc
    from sysrev.search.entrez_client import EntrezSettings, SearchSpec, retrieve_snapshot
    settings = EntrezSettings(base_url=url, email="bench@example.org", rate=None)
    spec = SearchSpec(query="denosumab[tiab]", search_date="2025-12-31")
    traced = os.environ.get("BENCH_TRACEMALLOC") == "1"
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    provenance = retrieve_snapshot(spec, Path(folder), settings)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 2**20 if traced else None
    print(json.dumps({"seconds": seconds, "vmhwm_mib": vm_hwm_mib(), "traced_peak_mib": peak,
                      "count": provenance["count"], "requests": provenance["requests"],
                      "retries": provenance["retries"],
                      "windows": len(provenance["windows"]),
                      "windows_with_hits": sum(1 for w in provenance["windows"] if w["count"]),
                      "files": len(provenance["files"])}), flush=True)


def reader(folder: str, out: str) -> None:
    """Read the snapshot into the record table as the pubmed_records rule does."""
    from sysrev.workflow.search import pubmed_records
    searches = Path(out).with_name("searches.tsv")
    searches.write_text("source\tdatabase\tplatform\tfile\tquery\tsearch_date\tnotes\n"
                        "pubmed\tMEDLINE\tPubMed\tsearch/pubmed\tdenosumab[tiab]\t2025-12-31\t\n")
    xml = sorted(str(p) for p in Path(folder).glob("*.xml"))
    started = time.perf_counter()
    pubmed_records(provenance=str(Path(folder) / "provenance.json"), xml=xml,
                   query="denosumab[tiab]", searches=str(searches), output=out)
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "vmhwm_mib": vm_hwm_mib(),
                      "bytes": Path(out).stat().st_size}), flush=True)


def _env(src: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(src), str(REPO)])
    return env


def measure(n: int, workdir: Path, src: Path, read: bool) -> dict:
    server = subprocess.Popen([sys.executable, "-m", "tests.eutils_server", str(n)], cwd=REPO,
                              env=_env(REPO / "src"), stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    folder = workdir / "2025-12-31"
    try:
        url = server.stdout.readline().strip()
        done = subprocess.run([sys.executable, __file__, "--client", url, str(folder)],
                              env=_env(src), stdout=subprocess.PIPE, text=True, check=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["server_vmhwm_mib"] = vm_hwm_mib(server.pid)
    finally:
        server.stdin.close()
        server.wait(timeout=120)
    result["n"] = n
    result["snapshot_bytes"] = sum(p.stat().st_size for p in folder.iterdir())
    result["provenance_bytes"] = (folder / "provenance.json").stat().st_size
    if read:
        out = workdir / "records.tsv"
        done = subprocess.run([sys.executable, __file__, "--read", str(folder), str(out)],
                              env=_env(src), stdout=subprocess.PIPE, text=True, check=True)
        result["read"] = json.loads(done.stdout.strip().splitlines()[-1])
        out.unlink()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sizes", type=int, nargs="*", default=[10000, 100000])
    parser.add_argument("--src", type=Path, default=REPO / "src")
    parser.add_argument("--keep", type=Path)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--no-read", action="store_true")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="also trace the client's Python allocations (slower)")
    parser.add_argument("--client", nargs=2, metavar=("URL", "FOLDER"))
    parser.add_argument("--read", nargs=2, metavar=("FOLDER", "OUT"))
    args = parser.parse_args()
    if args.client:
        return client(*args.client)
    if args.read:
        return reader(*args.read)
    if args.tracemalloc:
        os.environ["BENCH_TRACEMALLOC"] = "1"
    rows = []
    print(f"{'N':>8} {'s':>7} {'rec/s':>6} {'client MiB':>10} {'requests':>8} "
          f"{'snapshot MiB':>12} {'prov. KiB':>9} {'server MiB':>10} {'read s':>7} "
          f"{'read MiB':>8}", flush=True)
    for n in args.sizes:
        workdir = Path(tempfile.mkdtemp(prefix=f"retrieval{n}-", dir=args.keep))
        try:
            r = measure(n, workdir, args.src.resolve(), not args.no_read)
        finally:
            if args.keep is None:
                shutil.rmtree(workdir, ignore_errors=True)
        rows.append(r)
        read = r.get("read", {})
        print(f"{n:>8} {r['seconds']:>7.1f} {n / r['seconds']:>6.0f} {r['vmhwm_mib']:>10.1f} "
              f"{r['requests']:>8} {r['snapshot_bytes'] / 2**20:>12.0f} "
              f"{r['provenance_bytes'] / 1024:>9.0f} {r['server_vmhwm_mib']:>10.0f} "
              f"{read.get('seconds', float('nan')):>7.1f} "
              f"{read.get('vmhwm_mib', float('nan')):>8.0f}"
              + (f" traced {r['traced_peak_mib']:.1f} MiB" if r.get("traced_peak_mib") else ""),
              flush=True)
        if args.json:
            args.json.write_text(json.dumps({"src": str(args.src), "load": os.getloadavg(),
                                             "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
