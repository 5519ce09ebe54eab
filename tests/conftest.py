"""Shared fixtures: paths to the repository and to the shared test data; the folder markers."""

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


def pytest_collection_modifyitems(config, items):
    tests = Path(__file__).resolve().parent
    for item in items:
        try:
            folder = Path(item.path).resolve().relative_to(tests).parts[0]
        except ValueError:
            continue
        marker = FOLDER_MARKERS.get(folder)
        if marker is not None:
            item.add_marker(marker)


@pytest.fixture
def testdata() -> Path:
    """The shared, read-only test data folder; tests using it skip when it is absent."""
    if not SHARED_TESTDATA.is_dir():
        pytest.skip("../shared/testdata is not present")
    return SHARED_TESTDATA
