"""Run the workflow in a throw-away copy of the project, and share finished runs.

Snakemake is the slow part of the suite, so a finished run is made once per session and
shared (see tests/README.md):

- ``bundled_run``: the bundled review, run once. Read-only: a test reads its outputs and
  never writes there or runs Snakemake in it (checked after every test that uses it).
- ``second_review_run``: a copy of ``bundled_run`` in which the second review
  (``.test/config/config.yaml``) has also run, once. Read-only as well.
- ``bundled_copy``: this test's own ``cp -a`` of ``bundled_run`` (results, logs and the
  ``.snakemake`` metadata, modification times kept), to change inputs in and rerun only the
  targets the test needs.
- ``copy_run(finished, target)``: the same copy made by hand (for a module-scoped fixture).

Under pytest-xdist (``-n 2`` in pyproject's addopts) the session's runs are still made once
for all workers: the first worker that needs one makes it under a file lock in the folder the
workers share (``build_once``), the others wait for it and read the same folder.
"""

from __future__ import annotations

import fcntl
import os
import pickle
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROJECT_PARTS = ["Snakefile", "rules", "scripts", "config", "data", "src", "report", "envs",
                 ".test", "profiles"]
SHARED = REPO.parent / "shared"
#: A closed local port: any attempt to reach E-utilities fails at once instead of going out.
OFFLINE = {"SYSREV_EUTILS_URL": "http://127.0.0.1:9/"}
SECOND_REVIEW_CONFIG = ".test/config/config.yaml"


def _link_shared(target: Path) -> None:
    """../shared beside ``target`` when the repository has one (the second review reads it)."""
    shared = target.parent / "shared"
    if SHARED.is_dir() and not shared.exists():
        shared.symlink_to(SHARED, target_is_directory=True)


def copy_project(target: Path) -> Path:
    """Copy what the workflow needs into ``target`` (no results, logs or .snakemake), with
    ../shared beside it when the repository has one (the second review reads from it)."""
    target.mkdir(parents=True, exist_ok=True)
    for part in PROJECT_PARTS:
        source = REPO / part
        if not source.exists():
            continue
        (target / part).parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target / part,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(source, target / part)
    _link_shared(target)
    return target


def copy_run(finished: Path, target: Path) -> Path:
    """``cp -a`` of a finished run into ``target`` (which must not exist): the project, its
    results, logs and ``.snakemake`` metadata with their modification times, so that
    Snakemake finds "Nothing to be done" there until the test changes something."""
    shutil.copytree(finished, target, symlinks=True)
    _link_shared(target)
    return target


@contextmanager
def environment(**values: str):
    """Set environment variables for a block (the server URLs and keys a run reads), and
    restore them after."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_snakemake(workdir: Path, *args: str, env: dict[str, str] | None = None,
                  timeout: int = 600) -> subprocess.CompletedProcess:
    """``snakemake --cores 2 *args`` in ``workdir``; ``env`` is added to os.environ."""
    return subprocess.run(["snakemake", "--cores", "2", *args], cwd=workdir,
                          capture_output=True, text=True, timeout=timeout,
                          env=None if env is None else {**os.environ, **env})


def _fingerprint(root: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder below ``root``: (size, modification time in ns)."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            info = path.lstat()
            found[str(path.relative_to(root))] = (info.st_size, info.st_mtime_ns)
    return found


_SHARED_RUNS: dict[str, tuple[Path, dict[str, tuple[int, int]]]] = {}


def _share(name: str, path: Path) -> Path:
    _SHARED_RUNS[name] = (path, _fingerprint(path))
    return path


@pytest.fixture(autouse=True)
def _shared_runs_stay_unchanged(request):
    """A test that uses a shared finished run must leave it as it found it: the tests after
    it read the same run. (Tests run as root in CI, so file modes cannot enforce this.)"""
    yield
    for name in ("bundled_run", "second_review_run"):
        if name in request.fixturenames and name in _SHARED_RUNS:
            path, before = _SHARED_RUNS[name]
            after = _fingerprint(path)
            changed = sorted(set(before.items()) ^ set(after.items()))
            if changed:
                _SHARED_RUNS[name] = (path, after)  # report it once, in the test that did it
                pytest.fail(f"{request.node.nodeid} changed the shared {name} ({path}): "
                            f"{sorted({item[0] for item in changed})[:10]} ... use "
                            "bundled_copy (or copy_run) to change inputs or rerun Snakemake",
                            pytrace=False)


def build_once(tmp_path_factory, name: str, build):
    """``build(folder)`` once for the whole test run, also when pytest-xdist runs the tests in
    several worker processes, and what it returned (pickled between workers).

    Without xdist: ``build(tmp_path_factory.mktemp(name))``. Under xdist the workers share
    their base temporary folder's parent: the first worker to get here takes a file lock
    there and builds in ``<that folder>/<name>``; the others wait on the lock and return the
    same value, or fail with the same error without trying again."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        return build(tmp_path_factory.mktemp(name))
    root = tmp_path_factory.getbasetemp().parent
    outcome_file = root / f"{name}.outcome"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        if not outcome_file.exists():
            folder = root / name
            folder.mkdir()
            try:
                value = build(folder)
            except (Exception, pytest.fail.Exception) as error:
                outcome_file.write_bytes(pickle.dumps(("failed", f"{type(error).__name__}: "
                                                                 f"{error}")))
                raise
            outcome_file.write_bytes(pickle.dumps(("built", value)))
            return value
    kind, value = pickle.loads(outcome_file.read_bytes())
    if kind == "failed":
        pytest.fail(f"{name} failed in the pytest-xdist worker that made it: {value}",
                    pytrace=False)
    return value


def _run_bundled(folder: Path) -> Path:
    workdir = copy_project(folder)
    result = run_snakemake(workdir, env=OFFLINE)
    assert result.returncode == 0, result.stderr[-5000:]
    return workdir


@pytest.fixture(scope="session")
def bundled_run(tmp_path_factory) -> Path:
    """The bundled review, run once for the whole test session. Read it; never change it.
    E-utilities point at a closed port: the bundled review must need no network."""
    return _share("bundled_run", build_once(tmp_path_factory, "bundled", _run_bundled))


@pytest.fixture(scope="session")
def _second_review(bundled_run, tmp_path_factory):
    def run_second(folder: Path):
        workdir = copy_run(bundled_run, folder / "review")
        result = run_snakemake(workdir, "--configfile", SECOND_REVIEW_CONFIG, env=OFFLINE)
        assert result.returncode == 0, result.stderr[-5000:]
        return workdir, result

    workdir, result = build_once(tmp_path_factory, "second_review", run_second)
    return _share("second_review_run", workdir), result


@pytest.fixture(scope="session")
def second_review_run(_second_review) -> Path:
    """A copy of ``bundled_run`` in which the second review (``.test/config/config.yaml``, no
    PubMed) has also run, once per session. Read it; never change it."""
    return _second_review[0]


@pytest.fixture(scope="session")
def second_review_process(_second_review) -> subprocess.CompletedProcess:
    """The Snakemake process that ran the second review in ``second_review_run``."""
    return _second_review[1]


@pytest.fixture
def bundled_copy(bundled_run, tmp_path) -> Path:
    """This test's own copy of the finished bundled run (``tmp_path / "w"``), to change."""
    return copy_run(bundled_run, tmp_path / "w")
