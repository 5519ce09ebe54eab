"""What the helpers of ``rules/common.smk`` compute, where it can be tested: the code inputs
of a rule, the digests of its raw inputs, the storage prefix the jobs are told about, and the
XML files of a PubMed snapshot folder.

``rules/common.smk`` keeps only the get_*/is_* functions the rules call (and ``code_of``);
they read the configuration and the workflow object and hand plain values to these.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import time
from pathlib import Path
from typing import Iterable

from snakemake.exceptions import IncompleteCheckpointException

from sysrev.paths import STAGED_PREFIX_VARIABLE
from sysrev.tables import sha256_file

#: Modules every stage's results depend on: how tables are read, validated and written.
SHARED_CODE = ["src/sysrev/tables.py", "src/sysrev/csvtables.py", "src/sysrev/columns.py",
               "src/sysrev/audit.py", "src/sysrev/errors.py", "src/sysrev/config.py",
               "src/sysrev/paths.py"]


def memory_for_input(base_mb: int, mb_per_input_mb: float):
    """A ``resources: mem_mb`` value for a rule whose memory grows with its input: ``base_mb``,
    or ``mb_per_input_mb`` MB per MB of the job's input files when that is more. Snakemake
    calls it with the job's wildcards and inputs once they exist.

    ``deduplicate_records`` peaked at 5,327 MiB (main process and largest worker) for a
    335 MiB ``records.tsv`` of 1M records, and 704 MiB for 33.5 MiB at 100k (BENCHMARKS.md,
    issue 20, on the quiet machine): 16-21 MB per MB of input; 20 keeps a cluster job's
    request above what it uses at either size."""

    def mem_mb(wildcards, input) -> int:
        return max(base_mb, math.ceil(mb_per_input_mb * input.size_mb))

    return mem_mb


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


def input_digests(sources: Iterable, wildcards,
                  cache: str | Path | None = None) -> dict[str, str]:
    """The SHA-256 of a rule's raw inputs (exports, snapshot XML, sheets), each source a path,
    a list of paths or an input function of ``wildcards``; files that do not exist (yet) are
    left out, as are the files of a checkpoint not yet run (hashed once the DAG is updated).

    Used as a param: Snakemake reruns a job when an input is newer than its outputs, and an
    edit that keeps an old modification time (a copy with ``cp -p``, an unpacked archive, a
    restored backup) would leave the old results accepted; a changed digest is a changed
    param, so the job reruns.

    ``cache`` (a JSON file in the review's ``.snakemake/``) keeps the digests between
    snakemake invocations (:func:`remembered_sha256`): a no-op rerun, a dry run or
    ``--report`` of a review with large exports then reads none of them again.
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
                digests[str(path)] = sha256_once(
                    str(path), stat.st_mtime_ns, stat.st_size, stat.st_ctime_ns, stat.st_ino,
                    None if cache is None else str(cache))
    return digests


@functools.lru_cache(maxsize=None)
def sha256_once(path: str, mtime_ns: int, size: int, ctime_ns: int = 0, inode: int = 0,
                cache: str | None = None) -> str:
    """A raw input's digest, computed once per snakemake invocation however many rules read
    the file (an export is read by import_export and collect_records, searches.tsv by
    collect_records and prisma_counts); the modification time and size in the key make a file
    changed during the run hashed again. With ``cache``, once across invocations
    (:func:`remembered_sha256`)."""
    if cache is None:
        return sha256_file(path)
    return remembered_sha256(path, (size, mtime_ns, ctime_ns, inode), cache)


#: A file whose status changed less than this many seconds before it was hashed is not
#: remembered: on a file system with coarse time stamps, a second edit within the same tick
#: could keep every field of its status.
RACY_SECONDS = 2.0

_REMEMBERED: dict[str, dict] = {}


def remembered_sha256(path: str, status: tuple[int, int, int, int], cache: str) -> str:
    """The SHA-256 of ``path`` from ``cache`` when the file's size, modification time,
    status-change time (ctime) and inode are those it had when it was hashed; otherwise
    computed and remembered. The ctime is what makes this safe: every write, ``cp -p``,
    ``touch -d`` or restore sets it to the current time, and no tool can set it back, so a
    file whose content changed never matches its old entry. The cache is a plain JSON file
    written atomically; an unreadable one is ignored (everything is hashed again)."""
    entries = _REMEMBERED.get(cache)
    if entries is None:
        try:
            with open(cache, encoding="utf-8") as handle:
                entries = dict(json.load(handle))
        except (OSError, ValueError, TypeError):
            entries = {}
        _REMEMBERED[cache] = entries
    key = os.path.abspath(path)
    entry = entries.get(key)
    if isinstance(entry, list) and len(entry) == 5 and tuple(entry[:4]) == tuple(status):
        return str(entry[4])
    digest = sha256_file(path)
    if time.time() - status[2] / 1e9 > RACY_SECONDS:
        entries[key] = [*status, digest]
        try:
            Path(cache).parent.mkdir(parents=True, exist_ok=True)
            temporary = f"{cache}.{os.getpid()}.tmp"
            with open(temporary, "w", encoding="utf-8") as handle:
                json.dump(entries, handle, indent=0, sort_keys=True)
            os.replace(temporary, cache)
        except OSError:
            pass  # a cache only: a read-only folder hashes again next time
    return digest


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
