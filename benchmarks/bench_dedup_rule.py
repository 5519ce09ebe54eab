"""The ``deduplicate_records`` rule's cost against the library call it wraps, on one
``records.tsv``, measured the same way in the same session.

Two measurements, each in a fresh Python process (imports done before the clock starts):

``find_duplicates``
    :func:`sysrev.tables.read_tsv` of the table, then
    :func:`sysrev.dedup.find_duplicates` (the bare library, as
    ``benchmarks/bench_workflow.py`` times it: the call alone; the read is reported apart).
``rule``
    :func:`sysrev.workflow.dedup.deduplicate_records`, the rule's function, into an empty
    folder: read the table, deduplicate, write ``unique``, ``duplicates``, ``clusters``,
    ``maybe``, ``related``, the audit and the incremental index (from scratch).

Both with the bundled review's parameters (source priority, errata ``related``) and the
same worker count. Memory is sampled every ``--interval`` seconds over the process and its
worker processes, as Snakemake's ``benchmark:`` does: the RSS summed over the processes
(Snakemake's ``max_rss``: pages the forked workers share with the main process count once
per process) and the PSS summed (shared pages counted once, as the machine holds them);
plus the main process's own peak (``VmHWM``). Each step's wall time and the peak PSS seen
during it come from the steps' log lines (``find_duplicates``' and the rule's).

``--outputs`` keeps the rule's outputs (to compare them with another run's)::

    nice -n 10 python benchmarks/bench_dedup_rule.py results/denosumab_ra/search/records.tsv \\
        --json /tmp/dedup-rule.json
    flock /work/wt/bigrun.lock nice -n 10 python benchmarks/bench_dedup_rule.py \\
        /tmp/records-1m.tsv --json /tmp/dedup-rule-1m.json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PRIORITY = ["pubmed", "embase", "wos", "central"]
OUTPUTS = ("unique", "duplicates", "clusters", "maybe", "related")

_FIND_STEP = re.compile(r"deduplicate: (.+?) in ([\d.]+) s \(CPU")
_RULE_STEP = re.compile(r"deduplicate_records: (.+?) in ([\d.]+) s")


class _Sampler:
    """Peak RSS and PSS summed over this process and its children, sampled every
    ``interval`` seconds, overall and per step (:meth:`take_step`)."""

    def __init__(self, interval: float):
        self.interval = interval
        self.rss = self.pss = self.step_pss = self.step_rss = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self, me) -> None:
        import psutil

        rss = pss = 0
        for proc in [me, *me.children(recursive=True)]:
            try:
                info = proc.memory_full_info()
            except (psutil.Error, AttributeError):
                continue
            rss, pss = rss + info.rss, pss + getattr(info, "pss", 0)
        self.rss, self.pss = max(self.rss, rss), max(self.pss, pss)
        self.step_rss, self.step_pss = max(self.step_rss, rss), max(self.step_pss, pss)

    def _run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self.stop.is_set():
            self._sample(me)
            self.stop.wait(self.interval)

    def take_step(self) -> tuple[int, int]:
        """Peak (RSS, PSS) since the last call, in bytes."""
        out = self.step_rss, self.step_pss
        self.step_rss = self.step_pss = 0
        return out

    def __enter__(self) -> "_Sampler":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()


def _cpu() -> tuple[float, float]:
    """CPU seconds (user + system) of this process and of its finished workers."""
    times = os.times()
    return times.user + times.system, times.children_user + times.children_system


class _Steps(logging.Handler):
    """Each step's wall time (from its log line), CPU time here and in the workers since
    the step before (steadier than wall time on a loaded machine) and peak memory."""

    def __init__(self, sampler: _Sampler):
        super().__init__(logging.INFO)
        self.sampler, self.rows, self.cpu = sampler, [], _cpu()

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        m = _FIND_STEP.match(text) or _RULE_STEP.match(text)
        if m:
            rss, pss = self.sampler.take_step()
            cpu = _cpu()
            # the rule's "matching" step holds find_duplicates' steps: CPU since the step
            # before it
            self.rows.append({"step": m[1], "seconds": float(m[2]),
                              "cpu_main": round(cpu[0] - self.cpu[0], 2),
                              "cpu_workers": round(cpu[1] - self.cpu[1], 2),
                              "peak_rss_mib": round(rss / 2**20),
                              "peak_pss_mib": round(pss / 2**20)})
            self.cpu = cpu


def _vm_hwm_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _phase(kind: str, records: str, folder: str, threads: int, interval: float,
           src: str) -> None:
    """One measurement in this (fresh) process; prints JSON."""
    sys.path.insert(0, src)
    from sysrev.dedup import find_duplicates
    from sysrev.tables import read_tsv
    from sysrev.workflow.dedup import deduplicate_records

    for name in ("sysrev.dedup.find", "sysrev.workflow.dedup"):
        logging.getLogger(name).setLevel(logging.INFO)
    with _Sampler(interval) as sampler:
        steps = _Steps(sampler)
        logging.getLogger("sysrev").addHandler(steps)
        extra = {}
        start, cpu_start = time.perf_counter(), _cpu()
        if kind == "rule":
            deduplicate_records(records=records, audit=f"{folder}/audit/dedup.json",
                                source_priority=PRIORITY, threads=threads,
                                **{k: f"{folder}/dedup/{k}.tsv" for k in OUTPUTS})
        else:
            table = read_tsv(records)
            extra["read_seconds"] = round(time.perf_counter() - start, 2)
            extra["read_cpu"] = round(_cpu()[0] - cpu_start[0], 2)
            start, cpu_start = time.perf_counter(), _cpu()
            result = find_duplicates(table, source_priority=PRIORITY, threads=threads)
            extra["records"] = len(result.clusters)
        seconds = time.perf_counter() - start
    cpu = _cpu()
    print(json.dumps({"kind": kind, "seconds": round(seconds, 2),
                      "cpu_main": round(cpu[0] - cpu_start[0], 2),
                      "cpu_workers": round(cpu[1] - cpu_start[1], 2),
                      "peak_rss_sum_mib": round(sampler.rss / 2**20),
                      "peak_pss_mib": round(sampler.pss / 2**20),
                      "main_vmhwm_mib": round(_vm_hwm_mib()), **extra,
                      "steps": steps.rows}))


def measure(kind: str, records: str, folder: str, threads: int, interval: float,
            src: str = str(REPO / "src")) -> dict:
    done = subprocess.run([sys.executable, __file__, "--phase", kind, records, folder,
                           str(threads), str(interval), src], check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("records", nargs="?")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--interval", type=float, default=0.2,
                        help="memory sampling interval, seconds")
    parser.add_argument("--outputs", help="keep the rule's outputs in this folder")
    parser.add_argument("--only", choices=("rule", "find_duplicates"))
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--src", default=str(REPO / "src"),
                        help="the sysrev source tree to measure (default: this checkout's)")
    parser.add_argument("--phase", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        kind, records, folder, threads, interval, src = args.phase
        _phase(kind, records, folder, int(threads), float(interval), src)
        return
    results = {"records_tsv": args.records, "threads": args.threads, "src": args.src,
               "load_average_before": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="bench-dedup-rule-") as scratch:
        for kind in ("find_duplicates", "rule"):
            if args.only and kind != args.only:
                continue
            folder = args.outputs if kind == "rule" and args.outputs else scratch
            results[kind] = measure(kind, args.records, folder, args.threads, args.interval,
                                    args.src)
            print(json.dumps(results[kind]), flush=True)
    results["load_average_after"] = os.getloadavg()
    if "rule" in results and "find_duplicates" in results:
        rule, bare = results["rule"], results["find_duplicates"]
        results["ratios"] = {
            "time": round(rule["seconds"] / bare["seconds"], 2),
            "time_with_read": round(rule["seconds"] / (bare["seconds"]
                                                       + bare["read_seconds"]), 2),
            "pss": round(rule["peak_pss_mib"] / bare["peak_pss_mib"], 2),
            "rss_sum": round(rule["peak_rss_sum_mib"] / bare["peak_rss_sum_mib"], 2),
            "main_vmhwm": round(rule["main_vmhwm_mib"] / bare["main_vmhwm_mib"], 2),
            "cpu": round((rule["cpu_main"] + rule["cpu_workers"])
                         / (bare["cpu_main"] + bare["cpu_workers"]), 2)}
        print(json.dumps(results["ratios"]))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
