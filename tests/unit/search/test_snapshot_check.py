"""The one snapshot check (:func:`sysrev.search.adapters.verify_snapshot`) that PubMed's
snapshots and the REST sources' go through, with one behaviour: a changed, missing or added
answer file is refused naming it; a provenance listing no digests is read with a warning."""

import json
import shutil
from pathlib import Path

import pytest

from sysrev.errors import InputError
from sysrev.search import ctgov
from sysrev.search.snapshot import read_snapshot

REPO = Path(__file__).resolve().parents[3]
PUBMED = REPO / "data/denosumab_ra/search/pubmed/2025-06-30"
QUERY = json.loads((PUBMED / "provenance.json").read_text())["query"]
CTGOV = REPO / ".test/data/sources_demo/search/ctgov/2026-01-31"


def _copy(source: Path, tmp_path: Path) -> Path:
    copy = tmp_path / source.name
    shutil.copytree(source, copy)
    return copy


def _edit_provenance(folder: Path, change) -> None:
    path = folder / "provenance.json"
    provenance = json.loads(path.read_text())
    change(provenance)
    path.write_text(json.dumps(provenance))


def _drop_files(provenance):
    del provenance["files"]


@pytest.mark.parametrize("source, read", [
    (PUBMED, lambda folder: read_snapshot(folder, query=QUERY)),
    (CTGOV, lambda folder: ctgov.read(folder))], ids=["pubmed", "ctgov"])
def test_no_digests_read_with_a_warning_for_every_source(tmp_path, caplog, source, read):
    """Before: PubMed warned, the REST sources skipped the check silently."""
    folder = _copy(source, tmp_path)
    _edit_provenance(folder, _drop_files)
    with caplog.at_level("WARNING"):
        assert len(read(folder)) > 0
    assert any("provenance.json lists no files" in r.getMessage() for r in caplog.records)


def test_pubmed_refuses_an_added_file_the_job_was_not_given(tmp_path):
    """Before: PubMed checked only the XML files the job was given, so an unlisted file
    beside them passed; the REST sources' check refused it. Now both refuse it."""
    folder = _copy(PUBMED, tmp_path)
    shutil.copy2(folder / "records.xml", folder / "added.xml")
    with pytest.raises(InputError, match="added.xml.*not listed in provenance.json"):
        read_snapshot(folder, query=QUERY, files=[folder / "records.xml"])


def test_ctgov_refuses_an_added_file(tmp_path):
    folder = _copy(CTGOV, tmp_path)
    shutil.copy2(folder / "page_00001.json", folder / "page_00003.json")
    with pytest.raises(InputError, match="page_00003.json.*not listed in provenance.json"):
        ctgov.read(folder)


def test_a_listed_file_without_its_digest_is_refused(tmp_path):
    """Before: the REST sources skipped such an entry and PubMed failed on it with a
    'differs from None' message; now both name the entry."""
    folder = _copy(CTGOV, tmp_path)
    _edit_provenance(folder, lambda p: p["files"][1].pop("sha256"))
    with pytest.raises(InputError, match="entry 2 of 'files' has no file name or no sha256"):
        ctgov.read(folder)


def test_a_missing_listed_file_is_refused_naming_it(tmp_path):
    folder = _copy(PUBMED, tmp_path)
    (folder / "records.xml").rename(folder / "records.bak")
    with pytest.raises(InputError, match="records.xml.*missing from the snapshot"):
        read_snapshot(folder, query=QUERY, files=[folder / "records.xml"])


def test_one_generic_reader_serves_every_rest_source(tmp_path):
    """ClinicalTrials.gov and Europe PMC read through :func:`adapters.read_records`, given
    their per-record function; a reader of another paged source is the same call."""
    from sysrev.search import adapters, europepmc
    folder = _copy(CTGOV, tmp_path)
    seen = []

    def record(study):
        seen.append(study)
        return ctgov.study_record(study)

    table = adapters.read_records(folder, None, source="ctgov", normalise=ctgov.normalise_spec,
                                  items=ctgov.dated_studies, record=record,
                                  left_out=ctgov.after_search_date)
    assert table.equals(ctgov.read(folder)) and len(seen) == len(table)
    assert ctgov.read.__code__.co_names.count("read_records") == 1
    assert europepmc.read.__code__.co_names.count("read_records") == 1
