"""Logging set-up for rule scripts: everything to the rule's log file and to stderr."""

from __future__ import annotations

import logging
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def rule_log(path: str | Path) -> Iterator[logging.Logger]:
    """Send log records to ``path`` and stderr while the rule runs; log any failure.

    The exception is re-raised so that Snakemake stops, removes the rule's outputs, and
    points at the log, whose last line names the file, row and field at fault.
    """
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    handlers = [logging.FileHandler(path, mode="w", encoding="utf-8"),
                logging.StreamHandler(sys.stderr)]
    formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield root
    except Exception as exc:
        root.error("%s: %s", type(exc).__name__, exc)
        raise
    finally:
        for handler in handlers:
            root.removeHandler(handler)
            handler.close()


def warnings_in_logs(log_dir: str | Path) -> list[tuple[str, str]]:
    """Every WARNING (and ERROR) line in the rule logs under ``log_dir``, as ``(log, line)``
    pairs sorted by log path: what the results on disk were made with, whether the jobs ran
    in this run or an earlier one (a job's log is rewritten whenever the job reruns)."""
    found = []
    for log in sorted(Path(log_dir).rglob("*.log")):
        with log.open(encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith(("WARNING ", "ERROR ")):
                    found.append((str(log), line.rstrip("\n")))
    return found


def print_warning_summary(log_dir: str | Path, *, limit: int = 40,
                          stream=None) -> int:
    """After a successful run, repeat the rules' warnings at the end of the output, where a
    reviewer sees them (a run that exits 0 may still carry a warning that changes what the
    results mean: a dropped extraction row, a pending decision, a suspicious export).
    Returns how many there were."""
    stream = stream or sys.stderr
    found = warnings_in_logs(log_dir)
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
