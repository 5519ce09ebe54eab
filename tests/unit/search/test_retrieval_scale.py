"""Retrieval that does not grow in memory with the search (issue 20): tiny date windows and
batches so that every boundary is crossed on a few hundred records, against the local
E-utilities server on 127.0.0.1 (tests/eutils_server.py). No assertion is timed; the memory
itself is measured at 10k, 100k and 1M in benchmarks/bench_retrieval_scale.py."""

import hashlib
import json
import random
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from sysrev.columns import RECORD_COLUMNS
from sysrev.errors import InputError
from sysrev.search import entrez_client
from sysrev.search.batch_store import PartialSnapshot
from sysrev.search.entrez_client import (EntrezError, EntrezSettings, SearchSpec,
                                         retrieve_snapshot)
from sysrev.search.pmid_set import PmidSet, list_digest, pmid_number
from sysrev.search.snapshot import read_snapshot, snapshot_batches
from sysrev.tables import sorted_tsv_batches, write_tsv
from tests.eutils_server import EutilsStub, make_records

REPO = Path(__file__).resolve().parents[3]
BUNDLED = REPO / "data/denosumab_ra/search/pubmed/2025-06-30"
QUERY = "denosumab[tiab]"
SPEC = SearchSpec(query=QUERY, search_date="2024-12-31", start_date="2020-01-01")
# 300 records over five years, 40% with an electronic date up to 60 days before the print
# date: with windows of at most 30 records, many records match two windows.
RECORDS = make_records(300, seed=7, start=date(2020, 1, 1), end=date(2024, 12, 31),
                       epub_share=0.4)


def no_wait(_seconds):
    pass


def settings(stub, **changes):
    values = dict(base_url=stub.url, email="tests@example.org", batch_size=7, rate=None,
                  timeout=2, max_tries=2, backoff_base=0.01, backoff_cap=0.01,
                  split_threshold=30)
    values.update(changes)
    return EntrezSettings(**values)


def expected():
    return sorted((str(r.pmid) for r in RECORDS
                   if r.matches("pdat", date(2020, 1, 1), date(2024, 12, 31))), key=int)


# -- the PMID set -------------------------------------------------------------------------
def test_pmid_set_is_a_set_in_numeric_order():
    pmids = PmidSet(["40000001", "7", "65536", "65535", "7"])
    assert len(pmids) == 4
    assert list(pmids) == ["7", "65535", "65536", "40000001"]
    assert "65536" in pmids and "8" not in pmids and "x" not in pmids
    assert pmids.update(["7", "9"]) == ["7"] and len(pmids) == 5
    assert pmids == PmidSet(["9", "40000001", "65536", "65535", "7"])
    assert pmids != PmidSet(["9"]) and PmidSet() == PmidSet()
    assert pmids.difference(PmidSet(["7", "9"])) == ["65535", "65536", "40000001"]
    assert list_digest(PmidSet(["2", "10"])) == hashlib.sha256(b"2\n10\n").hexdigest()
    for bad in ("", "012", "12a", "١٢"):
        with pytest.raises(ValueError):
            pmid_number(bad)


def test_pmid_set_memory_follows_the_pmid_span_not_the_count():
    dense = PmidSet(str(30000000 + i) for i in range(60000))
    assert len(dense._chunks) <= 2  # 60,000 PMIDs in one or two 8 KiB chunks


# -- a retrieval over many small windows -------------------------------------------------
def test_many_windows_and_batches_give_exactly_the_search(tmp_path, monkeypatch):
    planned = []
    real_plan = entrez_client.plan_windows

    def spy(client, spec, store=None):
        first, windows = real_plan(client, spec, store)
        planned.append((first, windows))
        return first, windows

    monkeypatch.setattr(entrez_client, "plan_windows", spy)
    with EutilsStub(RECORDS) as stub:
        provenance = retrieve_snapshot(SPEC, tmp_path / "2024-12-31", settings(stub),
                                       sleep=no_wait)
    snapshot = tmp_path / "2024-12-31"
    # The plan's answers carry no PMIDs (they went to the window files as they came).
    first, windows = planned[0]
    assert first.pmids == () and all(r.pmids == () for _, r in windows)
    assert len(windows) > 10 and all(w["count"] <= 30 for w in provenance["windows"])
    # Records in two windows are stored once; the list, the XML and the count agree.
    assert sum(w["count"] for w in provenance["windows"]) > len(expected())
    assert (snapshot / "pmids.txt").read_text().splitlines() == expected()
    assert provenance["count"] == provenance["pmid_list"]["records"] == len(expected())
    assert "pmids" not in provenance and not list(snapshot.glob("pmids_w*"))
    assert sorted(read_snapshot(snapshot, query=QUERY)["pmid"], key=int) == expected()


def test_interrupted_plan_keeps_no_pmids_and_resumes(tmp_path):
    with EutilsStub(RECORDS) as stub:
        stub.faults["efetch"] += [None] * 5 + ["503"] * 2
        with pytest.raises(EntrezError, match="HTTP 503"):
            retrieve_snapshot(SPEC, tmp_path / "2024-12-31", settings(stub), sleep=no_wait)
        partial = PartialSnapshot(tmp_path / "2024-12-31")
        plan = json.loads((partial.path / "plan.json").read_text())
        assert all("pmids" not in w for w in plan["windows"])
        files = sorted(partial.path.glob("pmids_w*.txt"))
        assert [len(f.read_text().split()) for f in files] == \
            [w["count"] for w in plan["windows"]]
        assert len(partial.batch_files()) == 5
        provenance = retrieve_snapshot(SPEC, tmp_path / "2024-12-31", settings(stub),
                                       sleep=no_wait)
    assert provenance["resumed"] is True
    snapshot = tmp_path / "2024-12-31"
    assert (snapshot / "pmids.txt").read_text().splitlines() == expected()
    assert sorted(read_snapshot(snapshot, query=QUERY)["pmid"], key=int) == expected()


def test_a_missing_window_file_stops_the_resume_with_its_name(tmp_path):
    with EutilsStub(RECORDS) as stub:
        stub.faults["efetch"] += [None] + ["503"] * 2
        with pytest.raises(EntrezError):
            retrieve_snapshot(SPEC, tmp_path / "2024-12-31", settings(stub), sleep=no_wait)
        partial = PartialSnapshot(tmp_path / "2024-12-31")
        partial.pmids_path(2).unlink()
        with pytest.raises(EntrezError, match="pmids_w0002.txt is missing"):
            retrieve_snapshot(SPEC, tmp_path / "2024-12-31", settings(stub), sleep=no_wait)


# -- reading: the PMID list's digest --------------------------------------------------------
@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scale") / "2024-12-31"
    with EutilsStub(RECORDS) as stub:
        retrieve_snapshot(SPEC, folder, settings(stub, batch_size=40, split_threshold=100),
                          sleep=no_wait)
    return folder


def test_a_changed_pmid_list_is_named(snapshot, tmp_path):
    copy = tmp_path / "2024-12-31"
    import shutil
    shutil.copytree(snapshot, copy)
    (copy / "pmids.txt").chmod(0o644)
    with open(copy / "pmids.txt", "a") as handle:
        handle.write("99999999\n")
    with pytest.raises(InputError, match="pmids.txt.*SHA-256"):
        read_snapshot(copy, query=QUERY)


def test_a_listed_pmid_missing_from_the_xml_is_named(snapshot, tmp_path):
    import shutil
    copy = tmp_path / "2024-12-31"
    shutil.copytree(snapshot, copy)
    provenance = json.loads((copy / "provenance.json").read_text())
    listed = (copy / "pmids.txt").read_text().splitlines()
    swapped = listed[:-1] + ["99999999"]
    (copy / "pmids.txt").chmod(0o644)
    (copy / "pmids.txt").write_text("\n".join(swapped) + "\n")
    provenance["pmid_list"]["sha256"] = hashlib.sha256(
        (copy / "pmids.txt").read_bytes()).hexdigest()
    (copy / "provenance.json").chmod(0o644)
    (copy / "provenance.json").write_text(json.dumps(provenance))
    with pytest.raises(InputError, match=rf"in the XML but not listed \['{listed[-1]}'\]; "
                                         r"listed but not in the XML \['99999999'\]"):
        read_snapshot(copy, query=QUERY)


# -- reading in batches, sorted through runs on disk ---------------------------------------
def test_snapshot_batches_are_the_whole_table(snapshot):
    batches = list(snapshot_batches(snapshot, query=QUERY))
    assert len(batches) == len(list(snapshot.glob("*.xml"))) > 3
    whole = pd.concat(batches, ignore_index=True)
    assert list(whole["source_position"]) == list(range(1, len(expected()) + 1))
    assert sorted(whole["pmid"], key=int) == expected()


@pytest.mark.parametrize("folder", ["scale", "bundled"])
def test_pubmed_records_in_runs_is_byte_identical_to_the_whole_table(snapshot, tmp_path,
                                                                     folder):
    from sysrev.workflow.search import pubmed_records
    source = snapshot if folder == "scale" else BUNDLED
    query = json.loads((source / "provenance.json").read_text())["query"]
    searches = tmp_path / "searches.tsv"
    searches.write_text("source\tdatabase\tplatform\tfile\tquery\tsearch_date\tnotes\n"
                        f"pubmed\tMEDLINE\tPubMed\tsearch/pubmed\t{query}\t2024-12-31\t\n")
    out = tmp_path / "pubmed.tsv"
    pubmed_records(provenance=str(source / "provenance.json"),
                   xml=sorted(str(p) for p in source.glob("*.xml")), query=query,
                   searches=str(searches), output=str(out))
    whole = tmp_path / "whole.tsv"
    write_tsv(read_snapshot(source, query=query), whole, RECORD_COLUMNS,
              sort_by=["record_id"])
    assert out.read_bytes() == whole.read_bytes()
    assert not list(tmp_path.glob(".*"))  # no runs or temporaries left


def test_sorted_tsv_batches_match_write_tsv_with_awkward_cells(tmp_path):
    rng = random.Random(3)
    cells = ["plain", 'with "quotes"', "two\nlines", "tab\there", "", None, "é ü",
             '"\n"', "=1+2", "x\r\ny"]
    rows = [{"key": f"k{rng.randrange(10**6):06d}-{i}", "text": rng.choice(cells),
             "number": rng.choice([1.5, 2.0, None]), "n": i} for i in range(200)]
    frame = pd.DataFrame(rows)
    expected_file = tmp_path / "whole.tsv"
    write_tsv(frame, expected_file, ["key", "text", "number", "n"], sort_by=["key"])
    out = tmp_path / "runs.tsv"
    with sorted_tsv_batches(out, ["key", "text", "number", "n"], key="key",
                            run_rows=13) as write:
        for start in range(0, 200, 9):
            write(frame.iloc[start:start + 9])
    assert out.read_bytes() == expected_file.read_bytes()
    empty = tmp_path / "empty.tsv"
    with sorted_tsv_batches(empty, ["key", "text"], key="key"):
        pass
    assert empty.read_text() == "key\ttext\n"


def test_sorted_tsv_batches_leave_nothing_on_error(tmp_path):
    out = tmp_path / "t.tsv"
    with pytest.raises(RuntimeError):
        with sorted_tsv_batches(out, ["key"], key="key", run_rows=1) as write:
            write(pd.DataFrame({"key": ["b", "a"]}))
            raise RuntimeError("stop")
    assert list(tmp_path.iterdir()) == []
