"""Shared fixtures: paths to the repository and to the shared test data."""

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# This checkout's own package first, as the workflow's scripts do: an editable install made
# from another checkout (a git worktree) must not be what the tests exercise.
sys.path.insert(0, str(REPO / "src"))
SHARED_TESTDATA = REPO.parent / "shared" / "testdata"


@pytest.fixture
def testdata() -> Path:
    """The shared, read-only test data folder; tests using it skip when it is absent."""
    if not SHARED_TESTDATA.is_dir():
        pytest.skip("../shared/testdata is not present")
    return SHARED_TESTDATA
