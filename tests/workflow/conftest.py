"""Run the workflow in a throw-away copy of the project."""

import os
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROJECT_PARTS = ["Snakefile", "rules", "scripts", "config", "data", "src", "report", "envs",
                 ".test", "profiles"]
SHARED = REPO.parent / "shared"


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
    shared = target.parent / "shared"
    if SHARED.is_dir() and not shared.exists():
        shared.symlink_to(SHARED, target_is_directory=True)
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


def run_snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["snakemake", "--cores", "2", *args], cwd=workdir,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="session")
def bundled_run(tmp_path_factory) -> Path:
    """The bundled review, run once for the whole test session."""
    workdir = copy_project(tmp_path_factory.mktemp("bundled"))
    result = run_snakemake(workdir)
    assert result.returncode == 0, result.stderr[-5000:]
    return workdir
