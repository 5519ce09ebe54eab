"""What the helpers of ``rules/common.smk`` compute, where it can be tested: the code inputs
of a rule, the digests of its raw inputs, the storage prefix the jobs are told about, and the
XML files of a PubMed snapshot folder.

``rules/common.smk`` keeps only the get_*/is_* functions the rules call (and ``code_of``);
they read the configuration and the workflow object and hand plain values to these.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Iterable

from snakemake.exceptions import IncompleteCheckpointException

from sysrev.paths import STAGED_PREFIX_VARIABLE
from sysrev.tables import sha256_file

#: Modules every stage's results depend on: how tables are read, validated and written.
SHARED_CODE = ["src/sysrev/tables.py", "src/sysrev/csvtables.py", "src/sysrev/columns.py",
               "src/sysrev/audit.py", "src/sysrev/errors.py", "src/sysrev/config.py",
               "src/sysrev/paths.py"]


def code_paths(workflow_root: str | Path, modules: Iterable[str],
               cwd: str | Path | None = None) -> list[str]:
    """The package modules a rule's results depend on (listed as inputs, so that a change of
    method reruns the stage): the given ones plus :data:`SHARED_CODE`, sorted, as paths in
    the workflow's folder ``workflow_root``.

    Relative to the review's folder (``cwd``, default the current one) when the workflow is
    that folder (the usual case), so that a moved or copied project does not rerun every job
    ("set of input files changed"). A workflow read from a remote source (a module from a
    git host) has no local folder and no local code to track: no paths.
    """
    workflow_root = Path(workflow_root)
    if not workflow_root.is_dir():
        return []
    here = Path.cwd() if cwd is None else Path(cwd)
    root = Path() if workflow_root.resolve() == here.resolve() else workflow_root
    return [str(root / module) for module in sorted(set(modules) | set(SHARED_CODE))]


def staged_prefix(provider: str | None, default_prefix: str | None,
                  local_prefix: str | Path) -> str | None:
    """Where a storage provider stages the review's files when jobs share no file system
    (``<local prefix>/<provider>/<remote prefix without its scheme>/``), or ``None`` without
    a default storage provider."""
    if not (provider and default_prefix):
        return None
    remote = re.sub(r"^[A-Za-z0-9+.-]+://", "", default_prefix).strip("/")
    return f"{local_prefix}/{provider}/{remote}/"


def export_staged_prefix(settings) -> None:
    """Tell the jobs where a storage provider stages files (``settings``: the workflow's
    storage settings), so that audits record each file's path in the review, not its staged
    copy (:data:`sysrev.paths.STAGED_PREFIX_VARIABLE`)."""
    prefix = staged_prefix(settings.default_storage_provider,
                           settings.default_storage_prefix, settings.local_storage_prefix)
    if prefix is not None:
        os.environ[STAGED_PREFIX_VARIABLE] = prefix


def input_digests(sources: Iterable, wildcards) -> dict[str, str]:
    """The SHA-256 of a rule's raw inputs (exports, snapshot XML, sheets), each source a path,
    a list of paths or an input function of ``wildcards``; files that do not exist (yet) are
    left out, as are the files of a checkpoint not yet run (hashed once the DAG is updated).

    Used as a param: Snakemake reruns a job when an input is newer than its outputs, and an
    edit that keeps an old modification time (a copy with ``cp -p``, an unpacked archive, a
    restored backup) would leave the old results accepted; a changed digest is a changed
    param, so the job reruns.
    """
    digests = {}
    for source in sources:
        try:
            paths = source(wildcards) if callable(source) else source
        except IncompleteCheckpointException:
            continue  # a snapshot still to retrieve: hashed once the DAG is updated
        for path in [paths] if isinstance(paths, str) else paths:
            if os.path.isfile(path):
                stat = os.stat(path)
                digests[str(path)] = sha256_once(str(path), stat.st_mtime_ns, stat.st_size)
    return digests


@functools.lru_cache(maxsize=None)
def sha256_once(path: str, mtime_ns: int, size: int) -> str:
    """A raw input's digest, computed once per snakemake invocation however many rules read
    the file (an export is read by import_export and collect_records, searches.tsv by
    collect_records and prisma_counts); the modification time and size in the key make a file
    changed during the run hashed again."""
    return sha256_file(path)


def xml_files(folder: str | Path) -> list[str]:
    """The ``.xml`` files of a PubMed snapshot folder, sorted, as ``<folder>/<name>``."""
    return sorted(f"{folder}/{name}" for name in os.listdir(folder) if name.endswith(".xml"))


def snapshot_data_files(folder: str | Path, *, provenance: bool = True) -> list[str]:
    """The answer files (``.json``, ``.xml``) of a source's snapshot folder, sorted, as
    ``<folder>/<name>``; with ``provenance=False`` without its ``provenance.json``."""
    return sorted(f"{folder}/{name}" for name in os.listdir(folder)
                  if name.endswith((".json", ".xml"))
                  and (provenance or name != "provenance.json"))


def local_copy(path):
    """A checkpoint's output as a local file to read: when jobs share no file system, it is
    fetched from the storage provider first (``path``: Snakemake's output file object)."""
    if not os.path.exists(path) and path.is_storage:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        path.storage_object.retrieve_object()
    return path
