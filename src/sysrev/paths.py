"""Paths of files in the review, whatever folder a job saw them in."""

from __future__ import annotations

import os
from pathlib import Path

#: Set by the workflow when a storage provider stages the jobs' files (no shared file system):
#: the folder of the staged copies, e.g. ``.snakemake/storage/fs/<prefix>/``.
STAGED_PREFIX_VARIABLE = "SYSREV_STAGED_PREFIX"


def logical_path(path: str | Path) -> str:
    """The path of a file in the review, also for the staged copy a job reads or writes
    when jobs share no file system (so that audits are the same however a job ran)."""
    text = str(path)
    staged = os.environ.get(STAGED_PREFIX_VARIABLE)
    if staged:
        at = text.find(staged)
        if at >= 0:
            return text[at + len(staged):]
    return text
