"""The test suite's own machinery (issue 18): a shared run is made once for all pytest-xdist
workers (tests/workflow/conftest.py build_once), and a run of named test files is not spread
over workers (tests/conftest.py)."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import _chose_workers, _names_only_files
from tests.workflow.conftest import build_once


class _Factory:
    """What build_once uses of pytest's tmp_path_factory, for one worker of a run whose
    workers share ``run`` (their base temporary folders are ``run/popen-gwN``)."""

    def __init__(self, run: Path, worker: str):
        self.base = run / f"popen-{worker}"
        self.base.mkdir(parents=True, exist_ok=True)

    def getbasetemp(self) -> Path:
        return self.base

    def mktemp(self, name: str) -> Path:
        folder = self.base / f"{name}0"
        folder.mkdir()
        return folder


def _build(folder: Path) -> tuple[Path, int]:
    count = folder.parent / "builds.txt"
    count.write_text(count.read_text() + "x" if count.exists() else "x")
    (folder / "made").write_text("run")
    return folder, 42


def _in_worker(run: str, worker: str) -> tuple[str, int]:
    import os
    os.environ["PYTEST_XDIST_WORKER"] = worker
    folder, value = build_once(_Factory(Path(run), worker), "shared", _build)
    return str(folder), value


def test_workers_build_a_shared_run_once_and_read_the_same_folder(tmp_path):
    with multiprocessing.get_context("fork").Pool(2) as pool:
        results = pool.starmap(_in_worker, [(str(tmp_path), "gw0"), (str(tmp_path), "gw1")])
    assert results == [(str(tmp_path / "shared"), 42)] * 2
    assert (tmp_path / "builds.txt").read_text() == "x"
    assert (tmp_path / "shared/made").read_text() == "run"


def test_a_failed_build_fails_the_other_workers_without_a_second_try(tmp_path, monkeypatch):
    calls = []

    def failing(folder: Path):
        calls.append(folder)
        raise AssertionError("snakemake exited with 1: MissingInputException")

    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    with pytest.raises(AssertionError, match="MissingInputException"):
        build_once(_Factory(tmp_path, "gw0"), "shared", failing)
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    with pytest.raises(pytest.fail.Exception,
                       match="shared failed in the pytest-xdist worker that made it: "
                             "AssertionError: snakemake exited with 1: MissingInputException"):
        build_once(_Factory(tmp_path, "gw1"), "shared", failing)
    assert calls == [tmp_path / "shared"]


def test_without_xdist_each_session_builds_in_its_own_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    folder, value = build_once(_Factory(tmp_path, "main"), "shared", _build)
    assert (folder, value) == (tmp_path / "popen-main/shared0", 42)


def _config(tmp_path: Path, args: list[str], given: list[str]):
    return SimpleNamespace(args=args, invocation_params=SimpleNamespace(dir=tmp_path,
                                                                        args=given))


def test_only_named_files_or_test_ids_run_in_one_process(tmp_path, monkeypatch):
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    (tmp_path / "tests/unit").mkdir(parents=True)
    (tmp_path / "tests/unit/test_a.py").write_text("")
    named = _config(tmp_path, ["tests/unit/test_a.py::test_x[1]"], ["tests/unit/test_a.py"])
    assert _names_only_files(named)
    assert not _names_only_files(_config(tmp_path, ["tests"], []))
    assert not _names_only_files(_config(tmp_path, ["tests/unit/test_a.py", "tests/unit"],
                                         []))
    assert not _chose_workers(named)
    for given in (["-n", "2"], ["-n2"], ["--numprocesses=2"], ["--dist", "load"]):
        assert _chose_workers(_config(tmp_path, [], given)), given
    assert not _chose_workers(_config(tmp_path, [], ["-m", "not slow", "-x", "-q"]))
    monkeypatch.setenv("PYTEST_ADDOPTS", "-n 4")
    assert _chose_workers(named)
