"""Logging set-up for rule scripts: everything to the rule's log file and to stderr."""

from __future__ import annotations

import atexit
import logging
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def rule_log(path: str | Path) -> Iterator[logging.Logger]:
    """Send log records to ``path`` and stderr while the rule runs; log any failure.

    The exception is re-raised so that Snakemake stops, removes the rule's outputs, and
    points at the log, whose last line names the file, row and field at fault.

    When the job's work is done, the process's own peak memory and CPU time are logged
    (:func:`job_resources_line`): the last line of a successful job's log, the one before the
    error of a failed one.
    """
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    handlers = [logging.FileHandler(path, mode="w", encoding="utf-8"),
                logging.StreamHandler(sys.stderr)]
    formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(_not_about_the_results)
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield root
    except Exception as exc:
        # Before the error, which stays the last line (it names the file, row and field).
        logging.getLogger(__name__).info("%s", job_resources_line())
        root.error("%s: %s", type(exc).__name__, exc)
        raise
    else:
        logging.getLogger(__name__).info("%s", job_resources_line())
    finally:
        for handler in handlers:
            root.removeHandler(handler)
            handler.close()


#: The prefix of the line :func:`rule_log` writes at the end of every job's log.
RESOURCES_PREFIX = "job resources:"


def process_peak_mib() -> float | None:
    """This process's peak resident memory in MiB: VmHWM from /proc/self/status (exact, where
    Snakemake's benchmark samples max_rss and can miss a short peak); where /proc is absent,
    ``ru_maxrss`` (kilobytes on Linux, bytes on macOS); None where neither is available."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def children_peak_mib() -> float | None:
    """The peak resident memory in MiB of the largest subprocess this process waited for
    (``ru_maxrss`` of RUSAGE_CHILDREN: deduplication's worker processes), 0 without any;
    None where :mod:`resource` is missing."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def job_resources_line() -> str:
    """``job resources: peak_mib=143.2 cpu_s=1.52 children_peak_mib=0.0
    children_cpu_s=0.00``: the process's peak memory (:func:`process_peak_mib`) and CPU time
    so far (user + system, from :func:`os.times`), and those of the subprocesses it waited
    for (the largest one's peak, :func:`children_peak_mib`; their CPU time summed); ``NA``
    where unknown. Read by benchmarks/bench_workflow.py from the end of each job's log."""

    def mib(value):
        return "NA" if value is None else f"{value:.1f}"

    times = os.times()
    return (f"{RESOURCES_PREFIX} peak_mib={mib(process_peak_mib())} "
            f"cpu_s={times.user + times.system:.2f} "
            f"children_peak_mib={mib(children_peak_mib())} "
            f"children_cpu_s={times.children_user + times.children_system:.2f}")


def job_resources(log: str | Path) -> dict[str, float | None] | None:
    """The figures of the last ``job resources:`` line of a job's log (None when the log
    has none: a job that ran before the line was written, or was killed)."""
    found = None
    try:
        with open(log, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if RESOURCES_PREFIX in line:
                    found = line
    except OSError:
        return None
    if found is None:
        return None
    values: dict[str, float | None] = {}
    for item in found.split(RESOURCES_PREFIX, 1)[1].split():
        key, _, value = item.partition("=")
        try:
            values[key] = float(value)
        except ValueError:
            values[key] = None
    return values


def _not_about_the_results(record: logging.LogRecord) -> bool:
    """Matplotlib's first-run note that it builds its font cache is logged as a WARNING,
    but says nothing about the results: it is kept in the log as INFO, so that the end-of-run
    summary lists only warnings a reviewer must read."""
    if (record.name == "matplotlib.font_manager" and record.levelno == logging.WARNING
            and "font cache" in record.getMessage()):
        record.levelno, record.levelname = logging.INFO, "INFO"
    return True


def warnings_in_logs(log_dir: str | Path,
                     current: list[str] | None = None) -> list[tuple[str, str]]:
    """Every WARNING (and ERROR) line in the rule logs under ``log_dir``, as ``(log, line)``
    pairs sorted by log path: what the results on disk were made with, whether the jobs ran
    in this run or an earlier one (a job's log is rewritten whenever the job reruns).

    ``current`` (the log files of the jobs that make the requested results, whether they ran
    now or earlier) leaves out logs of jobs that are no longer part of them: an old failed
    retrieval's ERROR does not describe a snapshot retrieved elsewhere."""
    keep = None if current is None else {Path(p).resolve() for p in current}
    found = []
    for log in sorted(Path(log_dir).rglob("*.log")):
        if keep is not None and log.resolve() not in keep:
            continue
        with log.open(encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith(("WARNING ", "ERROR ")):
                    found.append((str(log), line.rstrip("\n")))
    return found


def print_warning_summary(log_dir: str | Path, *, limit: int = 40,
                          stream=None, current: list[str] | None = None) -> int:
    """After a successful run, repeat the rules' warnings at the end of the output, where a
    reviewer sees them (a run that exits 0 may still carry a warning that changes what the
    results mean: a dropped extraction row, a pending decision, a suspicious export).
    ``current`` as in :func:`warnings_in_logs`. Returns how many there were."""
    stream = stream or sys.stderr
    found = warnings_in_logs(log_dir, current)
    if not found:
        return 0
    print(f"\nsysrev: {len(found)} {'warning' if len(found) == 1 else 'warnings'} in the "
          f"logs of these results ({log_dir}):",
          file=stream)
    for log, line in found[:limit]:
        print(f"  {Path(log).relative_to(log_dir)}: {line}", file=stream)
    if len(found) > limit:
        print(f"  ... and {len(found) - limit} more: grep WARNING {log_dir}/*/*.log",
              file=stream)
    return len(found)


#: Written into a review's results folder when a run fails, removed when a run succeeds.
FAILED_RUN_MARKER = "RUN_FAILED.txt"


def mark_failed_run(results_dir: str | Path, snakemake_log: str | None = None) -> Path:
    """Mark ``results_dir`` after a failed run: the tables in it are the last successful
    run's and may not match the inputs any more (Snakemake removes only the failed job's own
    outputs). The next successful run removes the mark."""
    marker = Path(results_dir) / FAILED_RUN_MARKER
    marker.parent.mkdir(parents=True, exist_ok=True)
    text = ("The last snakemake run of this review failed. The files in this folder are from\n"
            "the last successful run and may not reflect the current inputs; do not use them\n"
            "until a run ends without error (`snakemake -n` lists what will be rebuilt).\n")
    if snakemake_log:
        text += f"Snakemake's log of the failed run: {snakemake_log}\n"
    marker.write_text(text, encoding="utf-8")
    print(f"\nsysrev: the run failed; {marker} marks the results as out of date until a run "
          "succeeds.", file=sys.stderr)
    return marker


def clear_failed_run_marker(results_dir: str | Path) -> None:
    """Remove the failed-run mark after a successful run."""
    (Path(results_dir) / FAILED_RUN_MARKER).unlink(missing_ok=True)


def install_run_hooks(workflow, results_dir: str, log_dir: str,
                      identity: dict | None = None) -> None:
    """End every run of the review the same way, whatever the entry point.

    After a successful run, and after a rerun with "Nothing to be done" (Snakemake calls no
    hook then), the warnings of the logs of the jobs that make the requested results are
    printed (the current state, not old logs of jobs that are not part of them) and the
    failed-run mark is removed; after a failed run, ``RUN_FAILED.txt`` is written.
    Snakemake ignores ``onsuccess``/``onerror`` of a workflow used as a ``module``: there
    the hooks are set on the workflow that uses it, chained to its own. ``identity`` (see
    :mod:`sysrev.workflow.identity`) is recorded in the results folder at the end of a run.
    """
    from sysrev.workflow.identity import check_results_identity

    def record_identity():
        if identity is not None:
            check_results_identity(results_dir, identity, write=True)

    state = {"nothing_to_do": False, "hook_ran": False}

    def current_logs() -> list[str] | None:
        dag = getattr(workflow, "dag", None)
        if dag is None:
            return None
        return [str(f) for job in dag.jobs for f in job.log]

    def success(log=None):
        state["hook_ran"] = True
        record_identity()
        print_warning_summary(log_dir, current=current_logs())
        clear_failed_run_marker(results_dir)

    def error(log=None):
        state["hook_ran"] = True
        record_identity()
        mark_failed_run(results_dir, log)

    if not workflow.modifier.is_main_snakefile():
        theirs_success, theirs_error = workflow._onsuccess, workflow._onerror

        def chained_success(log=None):
            success(log)
            theirs_success(log)

        def chained_error(log=None):
            error(log)
            theirs_error(log)

        workflow._onsuccess, workflow._onerror = chained_success, chained_error
    else:
        workflow.onsuccess(lambda log=None: success(log))
        workflow.onerror(lambda log=None: error(log))

    if not workflow.is_main_process:
        return

    from snakemake.common import NOTHING_TO_BE_DONE_MSG

    class _NothingToDo(logging.Filter):
        def filter(self, record):
            if record.getMessage() == NOTHING_TO_BE_DONE_MSG:
                state["nothing_to_do"] = True
            return True

    logging.getLogger("snakemake.logging").addFilter(_NothingToDo())

    def at_exit():
        if (state["nothing_to_do"] and not state["hook_ran"] and not workflow.dryrun
                and not workflow.touch):
            success()

    atexit.register(at_exit)
