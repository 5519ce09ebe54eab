"""The folder a PubMed retrieval fills batch by batch, and its commit as a frozen snapshot.

A retrieval for ``<snapshots>/<date>/`` writes into the sibling ``<date>.partial/``:

- ``plan.json``: the search's settings and its date windows, written once the windows are
  known; each window's PMIDs are in ``pmids_w<window>.txt``, written as its esearch answers
  (so that no process holds every window's PMIDs at once);
- ``batch_w<window>_<batch>.xml``: one file per efetch batch, each written to a temporary
  file, flushed to disk and renamed, so a batch file is either complete or absent.

An interrupted run leaves the partial folder; the next run with the same settings reads the
plan, skips the batches present and fetches the rest. When every batch is there,
``provenance.json`` is written and the folder is renamed to ``<date>/`` in one step, so a
snapshot folder with a ``provenance.json`` is always complete. A snapshot is never
overwritten: the commit refuses a target that exists and is not empty.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterable

from sysrev.errors import InputError
from sysrev.tables import give_umask_mode

log = logging.getLogger(__name__)

PLAN = "plan.json"
PROVENANCE = "provenance.json"
_BATCH = re.compile(r"^batch_w(\d{4})_(\d{5})\.xml$")
_WINDOW_PMIDS = "pmids_w{:04d}.txt"

#: The XML of a search with no hits: a snapshot always has at least one file to read.
EMPTY_SET = (b'<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD '
             b'PubMedArticle, 1st January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/'
             b'pubmed_250101.dtd">\n<PubmedArticleSet>\n</PubmedArticleSet>\n')


def write_atomic(path: Path, data: bytes | Iterable[bytes]) -> None:
    """Write ``data`` (bytes, or pieces of bytes written as they come) to ``path`` through a
    flushed temporary file and a rename."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        give_umask_mode(fd)
        with os.fdopen(fd, "wb") as handle:
            if isinstance(data, (bytes, bytearray)):
                handle.write(data)
            else:
                handle.writelines(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def batch_name(window: int, batch: int) -> str:
    """File name of batch ``batch`` of window ``window`` (both from 1); sorts in fetch order."""
    return f"batch_w{window:04d}_{batch:05d}.xml"


class PartialSnapshot:
    """The ``<date>.partial/`` folder of a retrieval into ``snapshot_dir``.

    ``pattern`` names the files that hold the answers (PubMed's efetch batches by default),
    ``empty`` is the file written for a search with no hits (name, bytes), or None.
    """

    pattern = _BATCH
    empty: tuple[str, bytes] | None = ("batch_w0000_00000.xml", b"")

    def __init__(self, snapshot_dir: str | Path):
        self.final = Path(snapshot_dir)
        self.path = self.final.parent / f"{self.final.name}.partial"

    # -- plan ---------------------------------------------------------------------------
    def load_plan(self) -> dict[str, Any] | None:
        """The saved plan, or None when there is no (readable) partial retrieval."""
        path = self.path / PLAN
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            log.warning("unreadable %s; starting the retrieval again", path)
            return None

    def resume_plan(self, key: Any) -> dict[str, Any] | None:
        """The saved plan of an interrupted retrieval with the same ``key`` (its search and
        settings), or None; a partial retrieval made with another key is removed."""
        plan = self.load_plan()
        if plan is not None and plan.get("key") != key:
            log.warning("%s holds a retrieval made with other settings; starting again",
                        self.path)
            self.reset()
            plan = None
        return plan

    def save_plan(self, plan: dict[str, Any]) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path / PLAN,
                     (json.dumps(plan, indent=1, sort_keys=True) + "\n").encode("utf-8"))

    # -- the PMIDs of each date window --------------------------------------------------
    def pmids_path(self, window: int) -> Path:
        return self.path / _WINDOW_PMIDS.format(window)

    def write_pmids(self, window: int, pmids: Iterable[str]) -> str:
        """Write window ``window``'s PMIDs, one a line; return the file's name."""
        self.path.mkdir(parents=True, exist_ok=True)
        path = self.pmids_path(window)
        write_atomic(path, (f"{p}\n".encode("ascii") for p in pmids))
        return path.name

    def remove_window_pmids(self) -> None:
        """Remove every window's PMID file (before a new plan, and at the commit)."""
        if self.path.is_dir():
            for path in self.path.glob("pmids_w*.txt"):
                path.unlink()

    # -- batches ------------------------------------------------------------------------
    def batch_path(self, window: int, batch: int) -> Path:
        return self.path / batch_name(window, batch)

    def has_batch(self, window: int, batch: int) -> bool:
        return self.batch_path(window, batch).is_file()

    def write_batch(self, window: int, batch: int, data: bytes) -> Path:
        self.path.mkdir(parents=True, exist_ok=True)
        path = self.batch_path(window, batch)
        write_atomic(path, data)
        return path

    def batch_files(self) -> list[Path]:
        """Every complete batch file, in fetch order."""
        if not self.path.is_dir():
            return []
        return sorted(p for p in self.path.iterdir() if self.pattern.match(p.name))

    def clean_temporaries(self) -> None:
        """Remove temporary files left by a run killed while writing."""
        if self.path.is_dir():
            for tmp in self.path.glob(".*.tmp"):
                tmp.unlink()

    def reset(self) -> None:
        """Remove the partial folder (only ever a partial retrieval, never a snapshot)."""
        if self.path.is_dir():
            shutil.rmtree(self.path)

    # -- commit -------------------------------------------------------------------------
    def commit(self, provenance: dict[str, Any]) -> Path:
        """Write ``provenance.json`` and rename the partial folder to the snapshot folder."""
        if self.final.exists() and (not self.final.is_dir() or any(self.final.iterdir())):
            raise InputError(self.final, "a snapshot folder already exists here and snapshots "
                                         "are never overwritten; the retrieval is kept in "
                                         f"{self.path}")
        if not self.batch_files() and self.empty is not None:
            self.path.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path / self.empty[0], self.empty[1] or EMPTY_SET)
        write_atomic(self.path / PROVENANCE,
                     (json.dumps(provenance, indent=2, sort_keys=True, ensure_ascii=False)
                      + "\n").encode("utf-8"))
        (self.path / PLAN).unlink(missing_ok=True)
        self.clean_temporaries()
        if self.final.is_dir():
            # An empty folder (Snakemake creates an output's folder before the job runs).
            self.final.rmdir()
        os.rename(self.path, self.final)
        return self.final
