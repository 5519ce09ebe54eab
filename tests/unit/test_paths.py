"""Paths recorded in audits and record tables are the review's, not a staged copy's."""

from sysrev.paths import STAGED_PREFIX_VARIABLE, logical_path


def test_staged_copies_are_recorded_by_their_path_in_the_review(monkeypatch):
    monkeypatch.setenv(STAGED_PREFIX_VARIABLE, ".snakemake/storage/fs/tmp/store/")
    staged = ".snakemake/storage/fs/tmp/store/data/review/exports/embase.ris"
    assert logical_path(staged) == "data/review/exports/embase.ris"
    assert logical_path("/work/x/" + staged) == "data/review/exports/embase.ris"
    # A path outside the staging folder is left as it is.
    assert logical_path("data/review/exports/embase.ris") == "data/review/exports/embase.ris"


def test_without_a_storage_provider_paths_are_unchanged(monkeypatch):
    monkeypatch.delenv(STAGED_PREFIX_VARIABLE, raising=False)
    path = ".snakemake/storage/fs/tmp/store/data/x.ris"
    assert logical_path(path) == path
