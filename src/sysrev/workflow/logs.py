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
