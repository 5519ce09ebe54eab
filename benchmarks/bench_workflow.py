"""End-to-end workflow benchmark: the bundled review plus N look-alike records.

The bundled review (``data/denosumab_ra``) gets one more database export, ``lookalike``: N
records from :mod:`dedup_generator` (real titles, surnames and journals with a few words
changed; a third of the publications with one to three copies carrying database noise),
written as an Embase-style RIS file. The workflow then runs in a temporary copy of this
checkout from a cold start (no results), as a review team would run it::

    python benchmarks/bench_workflow.py 10000            # N as the argument
    python benchmarks/bench_workflow.py 100000 --json /tmp/bench-100k.json

Measured, in this order, in the copy:

* ``snakemake --cores 2``: the total wall time, and every job's wall time (``s``) and peak
  memory (``max_rss``, MB) from its ``benchmark:`` file, summed (time) or maximised
  (memory) per rule; beside them the job's own exact peak (VmHWM, MiB) and CPU time (user +
  system) from the last lines of its log (Snakemake samples ``max_rss`` and can miss a short
  peak); the CPU time (user + system) of snakemake and all its jobs together;
* ``snakemake --report report.html``: its time, CPU time and the page's size;
* the no-op rerun ``snakemake --cores 2`` (nothing to do): its time and CPU time;
* the bare library cost under the record-table rules, each in a fresh process on the same
  files as the rule: ``rispy.load`` on the look-alike RIS file (under
  ``import_export/lookalike``), and :func:`sysrev.dedup.find_duplicates` on the run's
  ``records.tsv`` (under ``deduplicate_records``); the ratio rule / bare is the workflow's
  overhead.

Run it under ``nice -n 10`` on a shared machine; ratios against the bare library in the same
run stay meaningful when the machine is loaded.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO / "src"))  # this checkout's sysrev first

SOURCE = "lookalike"
REVIEW = "denosumab_ra"


def ris_text(table) -> str:
    """The generated records as an Embase-style RIS export (one ``TY``…``ER`` per record):
    ``AN`` the generator's record id, the PMID in ``C5`` with ``DB  - Embase`` as Embase.com
    writes it, one ``AU`` line per author."""
    out = []
    for rec in table.itertuples(index=False):
        lines = ["TY  - JOUR", "DB  - Embase", f"AN  - {rec.record_id}", f"TI  - {rec.title}"]
        lines += [f"AU  - {name.strip()}" for name in (rec.authors or "").split(";")
                  if name.strip() and name.strip() != "et al."]
        lines += [f"PY  - {rec.year}", f"T2  - {rec.journal}"]
        if rec.volume:
            lines.append(f"VL  - {rec.volume}")
        if rec.issue:
            lines.append(f"IS  - {rec.issue}")
        if rec.pages:
            start, _, end = str(rec.pages).partition("-")
            lines.append(f"SP  - {start}")
            if end:
                lines.append(f"EP  - {end}")
        if rec.doi:
            lines.append(f"DO  - {rec.doi}")
        if rec.pmid:
            lines.append(f"C5  - {rec.pmid}")
        lines.append(f"M3  - {rec.publication_types}")
        lines.append("ER  - ")
        out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


def make_copy(n: int, seed: int, root: Path) -> Path:
    """A copy of this checkout's tracked files (as they are now) in ``root``, with the
    look-alike export added to the bundled review."""
    from dedup_generator import generate

    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, check=True,
                           capture_output=True).stdout.decode().split("\0")
    for name in filter(None, files):
        src = REPO / name
        if src.is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, root / name)
    table, _ = generate(n, seed=seed)
    table = table.astype(object).where(table.notna(), None)
    data = root / "data" / REVIEW
    (data / "exports" / f"{SOURCE}.ris").write_text(ris_text(table), encoding="utf-8")
    with open(data / "search" / "searches.tsv", "a", encoding="utf-8") as handle:
        handle.write("\t".join([SOURCE, "Look-alike library (synthetic)", "benchmark",
                                f"exports/{SOURCE}.ris", "benchmark records",
                                "2025-06-30", f"{n} generated records, seed {seed}"]) + "\n")
    config_path = root / "config" / "config.yaml"
    config = yaml.safe_load(config_path.read_text("utf-8"))
    config["search"]["exports"].append({"source": SOURCE, "format": "ris"})
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return root


#: CPU time (user + system, s) of the last :func:`timed` command with every process it
#: started (snakemake and its jobs): steadier than wall time on a loaded machine.
LAST_CPU = {"s": 0.0}


def timed(command: list[str], cwd: Path, log: Path) -> float:
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with open(log, "w") as handle:
        subprocess.run(command, cwd=cwd, check=True, stdout=handle, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    LAST_CPU["s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds


def rule_benchmarks(root: Path) -> dict[str, dict]:
    """Per rule: jobs, summed wall time and largest max_rss from the ``benchmark:`` files,
    and beside them each job's own exact figures from the last lines of its log (written by
    :func:`sysrev.workflow.logs.rule_log`): peak memory (VmHWM, MiB; Snakemake samples
    max_rss and can miss a short peak) maximised, CPU time (user + system, s) summed."""
    try:
        from sysrev.workflow.logs import job_resources
    except ImportError:  # a checkout from before the logs had the line

        def job_resources(log):
            return None

    rules: dict[str, dict] = {}
    for path in sorted((root / "benchmarks" / REVIEW).rglob("*.tsv")):
        rule = path.parent.name
        with open(path, encoding="utf-8") as handle:
            row = next(csv.DictReader(handle, delimiter="\t"))
        entry = rules.setdefault(rule, {"jobs": 0, "s": 0.0, "cpu_s": 0.0, "max_rss_mb": 0.0,
                                        "mean_load": 0.0, "peak_mib": None,
                                        "job_cpu_s": None, "wildcards": {}})
        entry["jobs"] += 1
        entry["s"] += float(row["s"])
        rss, cpu, load = (_number(row.get(key)) for key in ("max_rss", "cpu_time", "mean_load"))
        # Kept in the JSON only: Snakemake's sampled cpu_time misses most of a script
        # job's CPU (19.9 s for a dedup job whose library call alone took minutes).
        entry["cpu_s"] += cpu
        entry["max_rss_mb"] = max(entry["max_rss_mb"], rss)
        # The machine's load while the rule's jobs ran (mean over its jobs, time-weighted).
        entry["mean_load"] += load * float(row["s"])
        entry["wildcards"][path.stem] = {"s": float(row["s"]), "cpu_s": cpu,
                                         "max_rss_mb": rss, "mean_load": load}
        own = job_resources(root / "logs" / REVIEW / rule / f"{path.stem}.log") or {}
        # The job's process and its worker processes (deduplication's): CPU summed; peak
        # the process's own plus its largest worker's (the peaks need not coincide, and two
        # workers alive at once hold more: an estimate, where the process's own VmHWM alone
        # would leave the workers out).
        peak, job_cpu = own.get("peak_mib"), own.get("cpu_s")
        if peak is not None and own.get("children_peak_mib"):
            peak += own["children_peak_mib"]
        if job_cpu is not None and own.get("children_cpu_s"):
            job_cpu += own["children_cpu_s"]
        entry["wildcards"][path.stem].update(peak_mib=peak, job_cpu_s=job_cpu)
        if peak is not None:
            entry["peak_mib"] = max(entry["peak_mib"] or 0.0, peak)
        if job_cpu is not None:
            entry["job_cpu_s"] = (entry["job_cpu_s"] or 0.0) + job_cpu
    for entry in rules.values():
        entry["mean_load"] = entry["mean_load"] / entry["s"] if entry["s"] else 0.0
    return rules


def _number(text: str | None) -> float:
    return float(text) if text not in (None, "", "NA", "-") else 0.0


#: Prepended to each measurement: the process's peak memory in MiB (VmHWM; ru_maxrss would
#: keep the size of the benchmark process that forked it across exec), and its CPU time so
#: far (user + system, seconds: steadier than wall time on a loaded machine).
PEAK = """
import time as _time
def cpu():
    return _time.process_time()
def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
"""

#: rispy alone on a RIS file (argv[1]): records, seconds, peak MiB.
RISPY = """
import sys, time
import rispy
start = time.perf_counter()
with open(sys.argv[1], encoding="utf-8") as handle:
    records = rispy.load(handle, skip_unknown_tags=False)
seconds = time.perf_counter() - start
print(len(records), seconds, peak(), cpu())
"""

_BARE = {
    "rispy": RISPY,
    "find_duplicates": """
import sys, time
sys.path.insert(0, sys.argv[2])
from sysrev.dedup import find_duplicates
from sysrev.tables import read_tsv
table = read_tsv(sys.argv[1])
start = time.perf_counter()
result = find_duplicates(table, source_priority=["pubmed", "embase", "wos", "central"],
                         threads=2)
seconds = time.perf_counter() - start
print(len(table), seconds, peak(), cpu())
""",
}


def run_snippet(code: str, *args: str) -> dict:
    """Run a measurement (``code`` printing records, seconds, ``peak()`` and optionally
    ``cpu()``) in a fresh process with ``args`` as its arguments."""
    out = subprocess.run([sys.executable, "-c", PEAK + code, *args], check=True,
                         capture_output=True, text=True).stdout.split()
    result = {"records": int(out[0]), "s": float(out[1]), "max_rss_mb": float(out[2])}
    if len(out) > 3:
        result["cpu_s"] = float(out[3])  # the whole process's, its start-up included
    return result


def bare(name: str, *args: str) -> dict:
    """Run one bare-library measurement in a fresh process: records, seconds, peak MiB."""
    return run_snippet(_BARE[name], *args)


def run(n: int, seed: int, keep: Path | None, skip_bare: Sequence[str] = (),
        json_path: Path | None = None) -> dict:
    """Measure in a fresh copy (``keep``: in that folder, kept). With ``json_path`` the
    measurements so far are written there after each step, so that a run stopped part way
    keeps what it measured (the per-rule figures of a cold run that did not finish can be
    read from the folder's ``benchmarks/``)."""
    root = Path(tempfile.mkdtemp(prefix=f"sysrev-bench-{n}-")) if keep is None else keep
    root.mkdir(parents=True, exist_ok=True)
    result: dict = {"n": n, "seed": seed, "load_start": os.getloadavg()}

    def save() -> None:
        if json_path is not None:
            json_path.write_text(json.dumps(result, indent=1), encoding="utf-8")

    try:
        start = time.perf_counter()
        # In a child process, so that the generated table's memory is not held during the
        # run.
        subprocess.run([sys.executable, __file__, str(n), "--seed", str(seed),
                        "--prepare", str(root)], check=True)
        ris = root / "data" / REVIEW / "exports" / f"{SOURCE}.ris"
        result.update(generate_s=time.perf_counter() - start,
                      ris_mb=ris.stat().st_size / 2**20)
        save()
        snakemake = [sys.executable, "-m", "snakemake"]
        result["cold_s"] = timed(snakemake + ["--cores", "2"], root, root / "cold.log")
        result["cold_cpu_s"] = LAST_CPU["s"]
        save()
        result["rules"] = rule_benchmarks(root)
        result["load_after_cold"] = os.getloadavg()
        save()
        result["report_s"] = timed(snakemake + ["--report", "report.html"], root,
                                   root / "report.log")
        result["report_cpu_s"] = LAST_CPU["s"]
        result["report_mb"] = (root / "report.html").stat().st_size / 2**20
        result["noop_s"] = timed(snakemake + ["--cores", "2"], root, root / "noop.log")
        result["noop_cpu_s"] = LAST_CPU["s"]
        result["jobs"] = sum(entry["jobs"] for entry in result["rules"].values())
        tables = root / "results" / REVIEW / "report" / "tables"
        result["report_tables_mb"] = {p.name: p.stat().st_size / 2**20
                                      for p in sorted(tables.iterdir()) if p.is_file()}
        records = root / "results" / REVIEW / "search" / "records.tsv"
        result["records"] = sum(1 for _ in open(records, encoding="utf-8")) - 1
        save()
        result["bare"] = {}
        for name, args in (("rispy", [str(ris)]),
                           ("find_duplicates", [str(records), str(root / "src")])):
            if name not in skip_bare:
                result["bare"][name] = bare(name, *args)
                save()
        result["load_end"] = os.getloadavg()
        save()
        return result
    finally:
        if keep is None:
            shutil.rmtree(root, ignore_errors=True)


def markdown(result: dict) -> str:
    rules = result["rules"]
    bare_of = {key: result["bare"][name] for key, name in (
        (("import_export", SOURCE), "rispy"), (("deduplicate_records", None), "find_duplicates"))
        if name in result["bare"]}
    lines = [f"N = {result['n']:,} look-alike records ({result['records']:,} in records.tsv, "
             f"look-alike RIS {result['ris_mb']:.0f} MiB)", "",
             "| rule | jobs | wall time | s / 1k records | max_rss (sampled) "
             "| peak (VmHWM) | CPU | job CPU % | bare library | overhead |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    per_k = result["records"] / 1000
    for rule, entry in sorted(rules.items(), key=lambda kv: -kv[1]["s"]):
        whole = True
        for (name, wildcard), peer in bare_of.items():
            if name != rule:
                continue
            if wildcard is not None:
                own = entry["wildcards"][wildcard]
                label = f"{rule} ({wildcard})"
            else:
                own, label, whole = entry, rule, False
            lines.append(f"| {label} | 1 | {own['s']:.1f} s | "
                         f"{own['s'] / per_k:.3f} | {own['max_rss_mb']:.0f} MB | "
                         f"{_own_figures(own)} | "
                         f"{own['mean_load']:.1f} | {peer['s']:.1f} s, "
                         f"{peer['max_rss_mb']:.0f} MB | {own['s'] / peer['s']:.1f}× time, "
                         f"{own['max_rss_mb'] / peer['max_rss_mb']:.1f}× memory |")
        if whole:
            lines.append(f"| {rule} | {entry['jobs']} | {entry['s']:.1f} s | "
                         f"{entry['s'] / per_k:.3f} | "
                         f"{entry['max_rss_mb']:.0f} MB | {_own_figures(entry)} | "
                         f"{entry['mean_load']:.1f} | | |")
    total_jobs = sum(e["s"] for e in rules.values())
    lines += ["", f"Cold run `snakemake --cores 2`: {result['cold_s']:.0f} s wall, "
                  f"{result.get('cold_cpu_s', 0):.0f} s CPU of all its processes, "
                  f"{sum(e['jobs'] for e in rules.values())} jobs "
                  f"(jobs' own time summed: {total_jobs:.0f} s; "
                  f"load average {result['load_start'][0]:.1f} at the start, "
                  f"{result['load_after_cold'][0]:.1f} after the cold run). "
                  f"`snakemake --report`: {result['report_s']:.0f} s, "
                  f"{result['report_mb']:.1f} MB. No-op rerun: {result['noop_s']:.1f} s."]
    return "\n".join(lines)


def _own_figures(entry: dict) -> str:
    """The peak (VmHWM) and CPU columns: the jobs' own figures from their logs ("n/a" for a
    log without them)."""
    peak, cpu = entry.get("peak_mib"), entry.get("job_cpu_s")
    return (f"{'n/a' if peak is None else f'{peak:.0f} MiB'} | "
            f"{'n/a' if cpu is None else f'{cpu:.1f} s'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", type=int, help="look-alike records to add")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="run in this folder and keep it")
    parser.add_argument("--json", type=Path, help="write the measurements here (after "
                                                  "each step)")
    parser.add_argument("--skip-bare", action="append", default=[],
                        choices=sorted(_BARE), help="leave out this bare-library measurement")
    parser.add_argument("--prepare", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        make_copy(args.n, args.seed, args.prepare)
        return
    result = run(args.n, args.seed, args.keep, args.skip_bare, args.json)
    print(markdown(result))


if __name__ == "__main__":
    main()
