"""The logic behind rules/common.smk's helpers (sysrev.workflow.inputs): code inputs, raw-input
digests, the staged-file prefix, snapshot XML files."""

import hashlib
import os
from types import SimpleNamespace

import pytest
from snakemake.exceptions import IncompleteCheckpointException

from sysrev.paths import STAGED_PREFIX_VARIABLE
from sysrev.workflow import inputs
from sysrev.workflow.inputs import (SHARED_CODE, code_paths, export_staged_prefix,
                                    input_digests, local_copy, sha256_once, staged_prefix,
                                    xml_files)


def test_code_paths_are_relative_when_the_workflow_is_the_review_folder(tmp_path):
    paths = code_paths(tmp_path, ["src/sysrev/report/tables.py", "src/sysrev/tables.py"],
                       cwd=tmp_path)
    assert paths == sorted({"src/sysrev/report/tables.py", *SHARED_CODE})
    assert len(paths) == len(set(paths))  # a shared module named again is listed once


def test_code_paths_name_the_workflow_folder_when_the_review_is_elsewhere(tmp_path):
    workflow, review = tmp_path / "workflow", tmp_path / "review"
    workflow.mkdir(), review.mkdir()
    paths = code_paths(workflow, ["src/sysrev/analysis.py"], cwd=review)
    assert paths[0] == f"{workflow}/src/sysrev/analysis.py"
    assert all(p.startswith(f"{workflow}/") for p in paths)


def test_a_workflow_without_a_local_folder_has_no_code_inputs(tmp_path):
    assert code_paths(tmp_path / "remote-module", ["src/sysrev/analysis.py"]) == []


@pytest.mark.parametrize("provider, prefix, expected", [
    ("s3", "s3://bucket/review/", ".snakemake/storage/s3/bucket/review/"),
    ("fs", "/shared/reviews", ".snakemake/storage/fs/shared/reviews/"),
    (None, "s3://bucket", None),
    ("s3", None, None),
])
def test_staged_prefix(provider, prefix, expected):
    assert staged_prefix(provider, prefix, ".snakemake/storage") == expected


def test_export_staged_prefix_sets_the_variable_only_with_a_provider(monkeypatch):
    monkeypatch.delenv(STAGED_PREFIX_VARIABLE, raising=False)
    export_staged_prefix(SimpleNamespace(default_storage_provider=None,
                                         default_storage_prefix=None,
                                         local_storage_prefix=".snakemake/storage"))
    assert STAGED_PREFIX_VARIABLE not in os.environ
    export_staged_prefix(SimpleNamespace(default_storage_provider="s3",
                                         default_storage_prefix="s3://b/r",
                                         local_storage_prefix=".snakemake/storage"))
    assert os.environ[STAGED_PREFIX_VARIABLE] == ".snakemake/storage/s3/b/r/"


def test_input_digests_of_paths_lists_and_input_functions(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.xml"
    a.write_text("x\n"), b.write_text("<y/>\n")

    def pending(wildcards):
        raise IncompleteCheckpointException(None, None)

    digests = input_digests([str(a), lambda w: [str(b), str(tmp_path / "missing.xml")],
                             pending], wildcards=None)
    assert digests == {str(a): hashlib.sha256(b"x\n").hexdigest(),
                       str(b): hashlib.sha256(b"<y/>\n").hexdigest()}


def test_a_file_is_hashed_once_unless_it_changes(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(inputs, "sha256_file", lambda p: calls.append(p) or f"h{len(calls)}")
    sha256_once.cache_clear()
    path = tmp_path / "export.ris"
    path.write_text("TY  - JOUR\n")
    first = input_digests([str(path)], None)
    assert input_digests([str(path)], None) == first and len(calls) == 1
    path.write_text("TY  - JOUR\nER  -\n")  # another size: hashed again
    assert input_digests([str(path)], None) != first and len(calls) == 2
    sha256_once.cache_clear()



def _new_invocation():
    """What a new snakemake process starts with: no digest in memory."""
    sha256_once.cache_clear()
    inputs._REMEMBERED.clear()


def test_digests_are_remembered_between_runs_until_the_file_changes(tmp_path, monkeypatch):
    """Issue 20: a no-op rerun does not read a large export again; an edit that restores
    the modification time and size still changes the ctime, so it is hashed again."""
    calls = []
    monkeypatch.setattr(inputs, "sha256_file", lambda p: calls.append(p) or f"h{len(calls)}")
    monkeypatch.setattr(inputs, "RACY_SECONDS", 0.0)
    cache = tmp_path / ".snakemake/sysrev/input_digests.json"
    path = tmp_path / "export.ris"
    path.write_text("TY  - JOUR\n")
    _new_invocation()
    first = input_digests([str(path)], None, cache=cache)
    assert cache.is_file() and len(calls) == 1
    _new_invocation()
    assert input_digests([str(path)], None, cache=cache) == first and len(calls) == 1
    before = os.stat(path)
    path.write_text("TY  - BOOK\n")  # same size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # same mtime
    _new_invocation()
    assert input_digests([str(path)], None, cache=cache) != first and len(calls) == 2
    cache.write_text("not json")  # a broken cache is ignored
    _new_invocation()
    assert input_digests([str(path)], None, cache=cache) and len(calls) == 3
    _new_invocation()


def test_a_file_changed_just_now_is_not_remembered(tmp_path):
    cache = tmp_path / "digests.json"
    path = tmp_path / "export.ris"
    path.write_text("TY  - JOUR\n")
    _new_invocation()
    digest = input_digests([str(path)], None, cache=cache)[str(path)]
    assert digest == hashlib.sha256(b"TY  - JOUR\n").hexdigest()
    assert not cache.exists()  # its ctime is within RACY_SECONDS of now
    _new_invocation()


def test_xml_files_sorted_and_only_xml(tmp_path):
    for name in ("b.xml", "a.xml", "provenance.json"):
        (tmp_path / name).write_text("")
    assert xml_files(tmp_path) == [f"{tmp_path}/a.xml", f"{tmp_path}/b.xml"]


def test_local_copy_fetches_a_missing_storage_file_only(tmp_path):
    fetched = []

    class Stored(str):
        is_storage = True
        storage_object = SimpleNamespace(retrieve_object=lambda: fetched.append(True))

    missing = Stored(tmp_path / "results" / "contrasts.tsv")
    assert local_copy(missing) is missing and fetched == [True]
    assert (tmp_path / "results").is_dir()
    present = tmp_path / "here.tsv"
    present.write_text("")
    assert local_copy(Stored(present)) == str(present) and fetched == [True]


def test_snapshot_data_files(tmp_path):
    for name in ("page_00002.json", "page_00001.json", "provenance.json", "notes.txt",
                 "page_00003.xml"):
        (tmp_path / name).write_text("x")
    from sysrev.workflow.inputs import snapshot_data_files
    assert snapshot_data_files(tmp_path, provenance=False) == [
        f"{tmp_path}/page_00001.json", f"{tmp_path}/page_00002.json",
        f"{tmp_path}/page_00003.xml"]
    assert f"{tmp_path}/provenance.json" in snapshot_data_files(tmp_path)


def test_search_settings_file_holds_the_date_and_a_digest_of_the_search(tmp_path):
    """Issue 17: the file that carries a changed search date into the job reading the
    snapshot (rule search_settings). The contact address is no part of it."""
    import json

    from sysrev.workflow.search import search_identity, search_settings

    search = {"query": "denosumab[tiab]", "date": "2026-01-31", "start_date": None,
              "date_type": "publication", "email": "someone@example.org"}
    assert "email" not in search_identity(search)
    written = {}
    for name, changed in (("a", {}), ("b", {"email": "other@example.org"}),
                          ("c", {"date": "2026-02-28"}), ("d", {"query": "prolia[tiab]"})):
        search_settings(source="pubmed", search={**search, **changed},
                        output=str(tmp_path / f"{name}.json"))
        written[name] = (tmp_path / f"{name}.json").read_text(encoding="utf-8")
    assert json.loads(written["a"])["date"] == "2026-01-31"
    assert "example.org" not in written["a"]
    assert written["a"] == written["b"]
    assert len({written["a"], written["c"], written["d"]}) == 3


class _Inputs:
    def __init__(self, size_mb: float):
        self.size_mb = size_mb


def test_memory_for_input_grows_with_the_input_above_its_floor():
    from sysrev.workflow.inputs import memory_for_input

    mem_mb = memory_for_input(4000, 20)
    assert mem_mb(None, _Inputs(0.0)) == 4000       # the bundled review: the floor
    assert mem_mb(None, _Inputs(33.5)) == 4000      # 100k records: 670 MB, the floor
    assert mem_mb(None, _Inputs(335.3)) == 6706     # 1M records: 20 MB per MB, rounded up
    assert memory_for_input(500, 2.5)(None, _Inputs(1000.1)) == 2501
