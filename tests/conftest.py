"""Shared fixtures: paths to the repository and to the shared test data; the folder markers;
the pytest-xdist groups."""

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# This checkout's own package first, as the workflow's scripts do: an editable install made
# from another checkout (a git worktree) must not be what the tests exercise.
sys.path.insert(0, str(REPO / "src"))
SHARED_TESTDATA = REPO.parent / "shared" / "testdata"
#: Each test folder's marker: ``-m unit`` runs no Snakemake, ``-m workflow`` only what does.
FOLDER_MARKERS = {"unit": "unit", "workflow": "workflow"}


def _names_only_files(config) -> bool:
    """The command line names test files or test ids only (no folder, not the whole suite)."""
    paths = [str(arg).split("::", 1)[0] for arg in config.args]
    return bool(paths) and all(Path(config.invocation_params.dir, path).is_file()
                               for path in paths)


def _chose_workers(config) -> bool:
    """``-n``/``--numprocesses``/``--dist`` given on the command line or in PYTEST_ADDOPTS."""
    given = [*config.invocation_params.args, *os.environ.get("PYTEST_ADDOPTS", "").split()]
    return any(str(arg).startswith(("--numprocesses", "--dist"))
               or (str(arg).startswith("-n") and not str(arg).startswith("--"))
               for arg in given)


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config):
    """pyproject's addopts start two pytest-xdist workers, which pays for a folder or the whole
    suite; a run of named test files or ids is faster in one process (starting the workers
    costs more than it saves), unless ``-n`` is given on the command line. ``--pdb`` needs
    one process too."""
    if getattr(config.option, "numprocesses", None) and not _chose_workers(config) \
            and (_names_only_files(config) or config.getoption("usepdb", False)):
        config.option.numprocesses = 0
        config.option.dist = "no"


def _module_fixtures(item) -> list[str]:
    """The module-scoped fixtures a test uses (directly or through other fixtures)."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return []
    return sorted(name for name, defs in info.name2fixturedefs.items()
                  if defs and defs[-1].scope == "module")


# tryfirst: the xdist_group marks must be there before pytest-xdist reads them.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    tests = Path(__file__).resolve().parent
    in_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER") is not None
    for item in items:
        try:
            folder = Path(item.path).resolve().relative_to(tests).parts[0]
        except ValueError:
            continue
        marker = FOLDER_MARKERS.get(folder)
        if marker is not None:
            item.add_marker(marker)
        # Under pytest-xdist (--dist loadgroup), the tests that share a module-scoped fixture
        # (a run made once for the module) go to one worker, which makes it once.
        if in_xdist_worker and _module_fixtures(item):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))


@pytest.fixture
def testdata() -> Path:
    """The shared, read-only test data folder; tests using it skip when it is absent."""
    if not SHARED_TESTDATA.is_dir():
        pytest.skip("../shared/testdata is not present")
    return SHARED_TESTDATA
