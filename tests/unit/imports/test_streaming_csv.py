"""CSV exports stream (issue 20): read a batch of records at a time, they give the table and
the TSV bytes of the whole-file reader, the same ``~2`` ids for accessions repeated across
batches, and the same errors (file, line) with nothing written."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sysrev.columns import RECORD_COLUMNS
from sysrev.errors import InputError
from sysrev.imports.csv_export import BATCH_RECORDS, iter_csv_columns, read_csv_export
from sysrev.imports.records import record_frame
from sysrev.imports.sources import import_export_file
from sysrev.tables import tsv_batches
from tests.unit.imports.batch_compare import assert_batches_equal_whole
from tests.unit.imports import test_csv_layouts as samples
from tests.unit.imports.export_layouts import CSV_LAYOUTS, write_export

SIZES = (1, 2, 7, BATCH_RECORDS)


def _assert_batches_equal_whole(path: Path, layout: str, tmp_path: Path,
                                sizes: tuple[int, ...] = SIZES) -> pd.DataFrame | None:
    return assert_batches_equal_whole(
        lambda: read_csv_export(path, source="s", layout=layout),
        lambda size: iter_csv_columns(path, source="s", layout=layout, batch_records=size),
        sizes, tmp_path, label=path)


@pytest.mark.parametrize("layout", CSV_LAYOUTS)
def test_generated_layouts_in_batches_equal_the_whole_file(tmp_path, layout):
    _assert_batches_equal_whole(write_export(layout, tmp_path), layout, tmp_path)


@pytest.mark.parametrize("name,layout", [
    ("ZOTERO", "csv"), ("LENS", "csv"), ("PUBMED", "csv"), ("CENTRAL", "csv"),
    ("CINAHL", "csv"), ("EMBASE_OLD", "embase_csv"), ("ABSTRACKR", "csv")])
def test_tool_layouts_in_batches_equal_the_whole_file(tmp_path, name, layout):
    path = tmp_path / f"{name}.csv"
    path.write_text(getattr(samples, name), encoding="utf-8")
    _assert_batches_equal_whole(path, layout, tmp_path)


#: testdata CSVs above this size are compared in the slow test only
SMALL = 100_000


def _testdata_csvs(testdata: Path, small: bool) -> list[Path]:
    paths = sorted(p for p in testdata.rglob("*.csv") if (p.stat().st_size <= SMALL) == small)
    assert paths
    return paths


def test_testdata_csv_files_in_batches_equal_the_whole_file(testdata, tmp_path):
    """Every small CSV of ../shared/testdata read as the generic layout: same table, or the
    same error (files that are not exports have no title column)."""
    for path in _testdata_csvs(testdata, small=True):
        _assert_batches_equal_whole(path, "csv", tmp_path)


@pytest.mark.slow
def test_large_testdata_csv_files_in_batches_equal_the_whole_file(testdata, tmp_path):
    """The same for the large ones (thousands of records), in batches of 7 and the
    default."""
    for path in _testdata_csvs(testdata, small=False):
        _assert_batches_equal_whole(path, "csv", tmp_path, sizes=(7, BATCH_RECORDS))


def _generated(tmp_path: Path) -> Path:
    """Preamble lines, a quoted cell with CRLF line breaks, blank rows, and the accession
    A1 repeated so that its copies fall in different batches."""
    rows = ['"Embase Session Results"', '"-----"', "",
            '"Title","Author Names","Embase Accession ID","Publication Year","DOI"']
    for n in range(40):
        accession = "A1" if n % 9 == 0 else f"L{n}"
        title = f'"Title {n}\r\nsecond line"' if n % 5 == 0 else f"Title {n}"
        rows.append(f'{title},"Smith J., Li X.",{accession},20{n % 25:02d},10.5555/x.{n}')
        if n % 11 == 0:
            rows.append(",,,,")
    path = tmp_path / "generated.csv"
    path.write_bytes("\r\n".join(rows).encode("utf-8") + b"\r\n")
    return path


def test_generated_file_with_repeats_across_batches(tmp_path):
    path = _generated(tmp_path)
    _assert_batches_equal_whole(path, "embase_csv", tmp_path)
    ids = pd.concat(record_frame(b) for b in iter_csv_columns(
        path, source="s", layout="embase_csv", batch_records=2))["record_id"].tolist()
    assert [i for i in ids if i.startswith("s:A1")] == ["s:A1", "s:A1~2", "s:A1~3",
                                                        "s:A1~4", "s:A1~5"]


@pytest.mark.parametrize("tail,line", [
    ('Late,"Smith J.",L90,2020,10.5555/y,extra\r\n', 57),   # a cell too many
    ('"Never closed,"Smith J.",L91,2020,10.5555/y\r\n', 57),  # quote never closed
    (',,,,\r\n,"",  ,,\r\n,,L92,2020,\r\n', None),  # fine: an accession alone is a record
])
def test_broken_row_in_a_later_batch_gives_the_whole_file_error(tmp_path, tail, line):
    path = _generated(tmp_path)
    path.write_bytes(path.read_bytes() + tail.encode())
    _assert_batches_equal_whole(path, "embase_csv", tmp_path)
    out = tmp_path / "records.tsv"
    if line is None:
        return
    with pytest.raises(InputError, match=rf"line {line}\b"):
        with tsv_batches(out, RECORD_COLUMNS, sort_by=["source_position"]) as write:
            import_export_file(path, source="s", fmt="embase_csv", sink=write)
    assert not out.exists()


def test_no_header_error_is_the_whole_file_error(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    _assert_batches_equal_whole(path, "scopus_csv", tmp_path)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "cp1252", "utf-8-sig"])
def test_encodings_in_batches_equal_the_whole_file(tmp_path, encoding):
    """Decoded line by line as the whole-file reader decodes the file (a byte-order mark,
    UTF-16 without one, Windows-1252)."""
    path = tmp_path / "wos.txt"
    path.write_bytes("PT\tAU\tTI\tUT\nJ\tM\u00fcller, A\tCaf\u00e9 trial\tWOS:1\n"
                     "J\tLi, X\tSecond\tWOS:2\n".encode(encoding))
    whole = _assert_batches_equal_whole(path, "csv", tmp_path)
    assert whole["title"].tolist() == ["Caf\u00e9 trial", "Second"]
