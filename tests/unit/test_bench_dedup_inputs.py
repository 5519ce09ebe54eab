"""The dedup benchmark gives each tool the input it is designed for (issue 17): bib-dedupe
reads its own ``records_pre_merged.csv`` unchanged, as its evaluation reads it, and only a
set not in its layout reaches it as a converted table."""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path

import pandas as pd
import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"

# bib-dedupe's layout, with what its own CSV holds: numbers in year and volume, empty cells.
NATIVE_CSV = ('"ID","ENTRYTYPE","journal","title","year","volume","number","pages","author",'
              '"doi"\n'
              '"id_1","article","Ann Rheum Dis","Denosumab in rheumatoid arthritis",2019,78,,'
              '"899--907","Takeuchi, T and Tanaka, Y","10.1/a"\n'
              '"id_2","article","Ann Rheum Dis","Denosumab in rheumatoid arthritis",2019,78,,'
              '"899--907","Takeuchi, T and Tanaka, Y",\n')


@pytest.fixture
def bench(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    return importlib.import_module("bench_dedup")


def _bib_set(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "records_pre_merged.csv").write_text(NATIVE_CSV, encoding="utf-8")
    (folder / "merged_record_ids.csv").write_text('merged_ids\n"id_1;id_2"\n',
                                                  encoding="utf-8")
    return folder / "records_pre_merged.csv"


def test_bibdedupe_is_given_its_own_file_unchanged(bench, monkeypatch, tmp_path):
    native = _bib_set(tmp_path / "sets" / "tiny")
    calls = []

    def fake(records, python, native_path=None):
        calls.append(native_path)
        return [["id_1", "id_2"]], 0.1, "0.11.0"

    monkeypatch.setattr(bench, "bibdedupe_clusters", fake)
    monkeypatch.setattr(bench, "load_sets", dict)
    monkeypatch.setattr(bench, "unlabelled_sets", dict)
    rows = bench.run_accuracy("python-of-the-venv", threads=1, extra=str(tmp_path / "sets"))
    assert calls == [native]
    assert rows[0]["bibdedupe_input"] == "native"
    assert rows[0]["bibdedupe_f1"] == 1.0 == rows[0]["sysrev_f1"]
    assert "| native |" in bench.markdown(rows)


def test_runner_reads_a_native_file_as_bibdedupes_evaluation_does(monkeypatch, tmp_path):
    native = _bib_set(tmp_path / "tiny")
    seen = {}
    fake = types.ModuleType("bib_dedupe.bib_dedupe")
    fake.prep = lambda records, verbosity_level=0: seen.setdefault("records", records)
    fake.block = lambda records, verbosity_level=0: records
    fake.match = lambda pairs, verbosity_level=0: pairs
    fake.cluster = lambda matched, verbosity_level=0: [["id_1", "id_2"]]
    monkeypatch.setitem(sys.modules, "bib_dedupe", types.ModuleType("bib_dedupe"))
    monkeypatch.setitem(sys.modules, "bib_dedupe.bib_dedupe", fake)
    monkeypatch.setattr("importlib.metadata.version", lambda name: "0.11.0")
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    runner = importlib.import_module("bibdedupe_runner")
    runner.main(str(native), native=True)
    pd.testing.assert_frame_equal(seen["records"], pd.read_csv(native))
    assert seen["records"]["year"].dtype.kind == "i"  # not the text a converted table holds
    seen.clear()
    runner.main(str(native))
    assert seen["records"]["year"].tolist() == ["2019", "2019"]
