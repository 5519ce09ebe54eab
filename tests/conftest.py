"""Shared fixtures: paths to the repository and to the shared test data."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_TESTDATA = REPO.parent / "shared" / "testdata"


@pytest.fixture
def testdata() -> Path:
    """The shared, read-only test data folder; tests using it skip when it is absent."""
    if not SHARED_TESTDATA.is_dir():
        pytest.skip("../shared/testdata is not present")
    return SHARED_TESTDATA
