"""Which config a review's results folder belongs to.

Two configs with the same ``review`` name (a config copied and edited for another review)
would share ``results/<review>/``: the second run overwrites the first review's tables and
leaves files of the first beside its own. The first run into a folder records the config
that made it (its file, relative to the review folder); a run of another config into that
folder stops before anything is written.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

#: Written into a review's results folder: the config file(s) whose results it holds.
IDENTITY_FILE = "config_identity.json"


def config_identity(configfiles: list[str | Path], review: str) -> dict:
    """The identity of a config: its review name and config file paths (relative to the
    working directory, the review folder, when inside it)."""
    files = []
    for path in configfiles:
        absolute = os.path.abspath(path)
        relative = os.path.relpath(absolute)
        files.append(relative if not relative.startswith("..") else absolute)
    return {"review": review, "config_files": sorted(set(files))}


def check_results_identity(results_dir: str | Path, identity: dict, *,
                           write: bool) -> None:
    """Stop when ``results_dir`` was made by another config; record ``identity`` there
    when the folder has none yet (``write``: not for a dry run)."""
    marker = Path(results_dir) / IDENTITY_FILE
    if marker.is_file():
        recorded = json.loads(marker.read_text(encoding="utf-8"))
        if recorded.get("config_files") != identity["config_files"]:
            theirs = ", ".join(recorded.get("config_files") or ["(no config file)"])
            ours = ", ".join(identity["config_files"] or ["(no config file)"])
            raise ValueError(
                f"{results_dir} holds the results of the config {theirs} (see {marker}), "
                f"and this run's config {ours} has the same review name "
                f"'{identity['review']}': its results would overwrite them. Give this config "
                "its own `review:` name (or `pathvars: results`); if it is the same review "
                f"and its config file was moved or renamed, delete {marker}.")
        return
    if write:
        marker.parent.mkdir(parents=True, exist_ok=True)
        tmp = marker.with_name(f".{marker.name}.tmp")
        tmp.write_text(json.dumps(identity, indent=2) + "\n", encoding="utf-8")
        tmp.replace(marker)
