"""Start-up cost of the workflow: a cold run of the bundled review, a no-op rerun, and the
import time of each rule script, for two or more versions of the project side by side.

Each version is a git ref, exported with ``git archive`` (committed code only) into its own
folder; runs alternate between the versions (A, B, A, B, ...) so that other load on the
machine falls on both alike, and the table reports medians and the ratio to the first ref.
Every run uses the version's own ``src`` (PYTHONPATH), for the Snakefile's imports too.

    python benchmarks/bench_startup.py --refs 74f25f3 HEAD --repeat 3

Columns: cold = ``snakemake --cores 2`` on a fresh copy (no results, no .snakemake);
no-op = the same command again (nothing to do: parse, DAG, exit); dry-run = ``snakemake -n``
on a fresh copy; each as wall time and as CPU time (user + system of snakemake and every
process it started: steadier than wall time when other work shares the machine). Per rule:
the start-up of one job (a fresh interpreter running snakemake's script preamble imports and
the script's module-level imports, best of ``--import-repeat``; imports a function makes
when called are not in it) and the wall time of the rule's jobs from its ``benchmark:``
files, where the version has them.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: What a run needs, as in tests/workflow/conftest.py (copy_project).
PROJECT_PARTS = ["Snakefile", "rules", "scripts", "config", "data", "src", "report", "envs",
                 "profiles"]


def export_ref(ref: str, target: Path) -> Path:
    """The project's files at ``ref`` in ``target`` (git archive of the run's parts)."""
    target.mkdir(parents=True)
    present = subprocess.run(["git", "-C", str(REPO), "ls-tree", "--name-only", ref],
                             check=True, capture_output=True, text=True).stdout.split()
    parts = [part for part in PROJECT_PARTS if part in present]
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", ref,
                              *parts], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def env_for(project: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(project / "src"),
            # a closed port: nothing goes out to NCBI (the bundled snapshot is frozen)
            "SYSREV_EUTILS_URL": "http://127.0.0.1:9/"}


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system, of the command and every process it started)."""
    start, cpu = time.perf_counter(), cpu_of_children()
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed, cpu = time.perf_counter() - start, cpu_of_children() - cpu
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed in {cwd}:\n{result.stderr[-3000:]}")
    return elapsed, cpu


def fresh_copy(project: Path, scratch: Path) -> Path:
    target = Path(tempfile.mkdtemp(dir=scratch))
    shutil.copytree(project, target, dirs_exist_ok=True)
    return target


def count_jobs(workdir: Path) -> dict[str, int]:
    """Jobs per rule of the finished run (one log per job under logs/<review>/<rule>/)."""
    logs = next((workdir / "logs").iterdir())
    return {rule.name: sum(1 for _ in rule.glob("*.log")) for rule in logs.iterdir()}


def job_seconds(workdir: Path) -> dict[str, float]:
    """Wall seconds per rule, summed over its jobs, from the rules' ``benchmark:`` files
    (empty for a version without them)."""
    seconds: dict[str, float] = {}
    for path in workdir.glob("benchmarks/*/*/*.tsv"):
        rows = path.read_text().splitlines()
        seconds[path.parent.name] = seconds.get(path.parent.name, 0.0) + float(
            rows[1].split("\t")[0])
    return seconds


def script_imports(script: Path) -> str:
    """The import statements of a rule script (the start-up a job pays before its work)."""
    tree = ast.parse(script.read_text())
    lines = script.read_text().splitlines()
    return "\n".join("\n".join(lines[node.lineno - 1:node.end_lineno])
                     for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom)))


def import_time(project: Path, script: Path, repeat: int) -> float:
    """Best wall time of a fresh interpreter running the script's imports, with the
    preamble snakemake puts in front of every script (it unpickles the job's object)."""
    code = (f"import sys; sys.path.insert(0, {str(project / 'src')!r})\n"
            "import pickle, snakemake.script, snakemake.logging, snakemake.iocontainers\n"
            + re.sub(r"^import sys$", "", script_imports(script), flags=re.M))
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=env_for(project))
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--refs", nargs="+", default=["main", "HEAD"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--import-repeat", type=int, default=3)
    parser.add_argument("--cores", default="2")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="bench_startup_"))
    projects = {ref: export_ref(ref, scratch / f"ref{i}") for i, ref in enumerate(args.refs)}
    kinds = ["cold", "noop", "dry"]
    times: dict[str, dict[str, list[float]]] = {ref: {k: [] for k in kinds} for ref in args.refs}
    cpu: dict[str, dict[str, list[float]]] = {ref: {k: [] for k in kinds} for ref in args.refs}
    jobs: dict[str, dict[str, int]] = {}
    job_s: dict[str, dict[str, list[float]]] = {ref: {} for ref in args.refs}
    snakemake = ["snakemake", "--cores", args.cores]
    for round_ in range(args.repeat):
        for ref, project in projects.items():
            env = env_for(project)
            dry = fresh_copy(project, scratch)
            runs = {"dry": timed([*snakemake, "-n"], dry, env)}
            shutil.rmtree(dry)
            work = fresh_copy(project, scratch)
            runs["cold"] = timed(snakemake, work, env)
            runs["noop"] = timed(snakemake, work, env)
            for kind, (wall, seconds) in runs.items():
                times[ref][kind].append(wall)
                cpu[ref][kind].append(seconds)
            jobs[ref] = count_jobs(work)
            for rule, seconds in job_seconds(work).items():
                job_s[ref].setdefault(rule, []).append(seconds)
            shutil.rmtree(work)
            print(f"round {round_ + 1} {ref}: cold {times[ref]['cold'][-1]:.1f} s, "
                  f"no-op {times[ref]['noop'][-1]:.1f} s, dry-run {times[ref]['dry'][-1]:.1f} s; "
                  f"CPU {cpu[ref]['cold'][-1]:.1f} / {cpu[ref]['noop'][-1]:.1f} / "
                  f"{cpu[ref]['dry'][-1]:.1f} s",
                  file=sys.stderr, flush=True)

    imports: dict[str, dict[str, float]] = {}
    for ref, project in projects.items():
        imports[ref] = {rule: import_time(project, project / "scripts" / f"{rule}.py",
                                          args.import_repeat)
                        for rule in sorted(jobs[ref])
                        if (project / "scripts" / f"{rule}.py").is_file()}

    first = args.refs[0]
    med = {ref: {k: statistics.median(v) for k, v in t.items()} for ref, t in times.items()}
    mcpu = {ref: {k: statistics.median(v) for k, v in t.items()} for ref, t in cpu.items()}
    job_import = {ref: sum(imports[ref][rule] * n for rule, n in jobs[ref].items()
                           if rule in imports[ref]) for ref in args.refs}
    print(f"\nmedian of {args.repeat} runs each, alternating; --cores {args.cores}\n")
    print("| ref | jobs | cold run | no-op rerun | dry-run (fresh) | job imports, summed |")
    print("|---|---|---|---|---|---|")
    for ref in args.refs:
        def cell(value: float, base: float) -> str:
            return f"{value:.1f} s" + ("" if ref == first else f" ({value / base:.2f}×)")
        print(f"| {ref} | {sum(jobs[ref].values())} | {cell(med[ref]['cold'], med[first]['cold'])}"
              f" | {cell(med[ref]['noop'], med[first]['noop'])}"
              f" | {cell(med[ref]['dry'], med[first]['dry'])}"
              f" | {cell(job_import[ref], job_import[first])} |")
    print("\nCPU time (user + system of snakemake and all its jobs; less sensitive to other "
          "load on the machine than wall time), median")
    print("| ref | cold run | no-op rerun | dry-run (fresh) |")
    print("|---|---|---|---|")
    for ref in args.refs:
        print(f"| {ref} | " + " | ".join(
            f"{mcpu[ref][k]:.1f} s" + ("" if ref == first
                                       else f" ({mcpu[ref][k] / mcpu[first][k]:.2f}×)")
            for k in ("cold", "noop", "dry")) + " |")
    print("\nper rule: start-up of one job (interpreter + snakemake preamble + the script's "
          f"module-level imports, best of {args.import_repeat}) and the wall time of all its "
          "jobs in the cold run (benchmark: files, median; - where a version has none)")
    print("| rule | jobs | " + " | ".join(f"{r} start-up" for r in args.refs) + " | "
          + " | ".join(f"{r} jobs' wall time" for r in args.refs) + " |")
    print("|---|---|" + "---|" * 2 * len(args.refs))
    for rule in sorted(set().union(*(imports[r] for r in args.refs))):
        cells = [f"{imports[r][rule]:.2f} s" if rule in imports[r] else "-" for r in args.refs]
        cells += [f"{statistics.median(job_s[r][rule]):.2f} s" if rule in job_s[r] else "-"
                  for r in args.refs]
        print(f"| {rule} | {jobs[first].get(rule, 0)} | " + " | ".join(cells) + " |")
    totals = [sum(statistics.median(v) for v in job_s[r].values()) for r in args.refs]
    print("| all | " + str(sum(jobs[first].values())) + " | " + " | ".join("" for _ in args.refs)
          + " | " + " | ".join(f"{total:.1f} s" if total else "-" for total in totals) + " |")
    shutil.rmtree(scratch)


if __name__ == "__main__":
    main()
