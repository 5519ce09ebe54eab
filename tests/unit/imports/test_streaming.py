"""Imports that stream (issue 20): a RIS export read a batch of records at a time gives the
table the whole file gives; lines read one at a time are the lines of the decoded file; a
TSV written batch by batch is the TSV written whole; BibTeX fields without LaTeX markup skip
the decoder and come out as the decoder would give them."""

from __future__ import annotations

import string

import pandas as pd
import pytest

from sysrev.columns import RECORD_COLUMNS
from sysrev.imports import bibtex
from sysrev.imports.records import decode_export, iter_lines, read_text, stream_encoding
from sysrev.imports.ris import iter_ris_tables, read_ris
from sysrev.tables import tsv_batches, write_tsv
from tests.conftest import REPO

BUNDLED = REPO / "data/denosumab_ra/exports"


def _batched(path, batch_records):
    return pd.concat(list(iter_ris_tables(path, source="s", batch_records=batch_records)),
                     ignore_index=True)


@pytest.mark.parametrize("name", ["embase.ris", "central.ris"])
def test_ris_in_small_batches_equals_the_whole_file(name):
    """Batches of 1 and 7 records (Wiley wrapper lines and Embase DB/C5 lines fall at every
    batch edge) give the one-batch table."""
    whole = read_ris(BUNDLED / name, source="s")
    assert len(whole) > 7
    for size in (1, 7):
        pd.testing.assert_frame_equal(_batched(BUNDLED / name, size), whole)


def test_repeated_accession_across_batches_keeps_its_number(tmp_path):
    record = "TY  - JOUR\nAN  - A1\nTI  - Title {n}\nER  - \n"
    path = tmp_path / "x.ris"
    path.write_text("".join(record.format(n=n) for n in range(3)), encoding="utf-8")
    ids = _batched(path, 1)["record_id"].tolist()
    assert ids == ["s:A1", "s:A1~2", "s:A1~3"]
    assert ids == read_ris(path, source="s")["record_id"].tolist()


def test_structure_error_in_a_later_batch_names_its_line(tmp_path):
    from sysrev.errors import InputError
    path = tmp_path / "x.ris"
    path.write_text("TY  - JOUR\nTI  - One\nER  - \nTY  - JOUR\nTI  - Two\nER  - \n"
                    "TY  - JOUR\nTI  - Three\nTY  - JOUR\nTI  - Four\nER  - \n",
                    encoding="utf-8")
    with pytest.raises(InputError, match=r"line 9: record starting at line 7 has no ER line"):
        list(iter_ris_tables(path, source="s", batch_records=1))


@pytest.mark.parametrize("raw", [
    b"a\r\nb\rc\n", b"a\nb", b"", b"\n", b"\xef\xbb\xbfTY  - x\nER  - \n",
    "caf\u00e9\n".encode("cp1252"), "\ufeffa\r\nb\n".encode("utf-16"),
    "a\nb\u00e9\n".encode("utf-16-le"), b"x" * 70000 + b"\r\n" + b"y\r",
    # UTF-8 and Windows-1252 lines in one file (decoded line by line), CR line ends too
    "\ufeffR\u00e9gulation\r\n".encode("utf-8") + "R\u00e9ponse\r\nx\ry\r".encode("cp1252"),
    "caf\u00e9\n".encode("cp1252") + "na\u00efve\n".encode("utf-8") + b"\x81\n",
])
def test_lines_one_at_a_time_are_the_decoded_file_split(tmp_path, raw):
    path = tmp_path / "export.txt"
    path.write_bytes(raw)
    assert list(iter_lines(path)) == read_text(path).split("\n")
    assert stream_encoding(path) == decode_export(raw, path)[1]


def test_tsv_written_in_batches_equals_tsv_written_whole(tmp_path):
    table = read_ris(BUNDLED / "embase.ris", source="embase")
    write_tsv(table, tmp_path / "whole.tsv", RECORD_COLUMNS, sort_by=["source_position"])
    with tsv_batches(tmp_path / "batches.tsv", RECORD_COLUMNS,
                     sort_by=["source_position"]) as write:
        for start in range(0, len(table), 5):
            write(table.iloc[start:start + 5])
    assert (tmp_path / "batches.tsv").read_bytes() == (tmp_path / "whole.tsv").read_bytes()
    with tsv_batches(tmp_path / "empty.tsv", RECORD_COLUMNS):
        pass
    write_tsv(table.iloc[:0], tmp_path / "empty_whole.tsv", RECORD_COLUMNS)
    assert (tmp_path / "empty.tsv").read_bytes() == (tmp_path / "empty_whole.tsv").read_bytes()


_SAMPLES = [f"{a}{c}{b}" for c in string.printable + "\u00a0\u2013\u2019\u00e9"
            for a, b in (("a", "b"), ("", "x"), ("x ", ""), ("a", "b" + c))]


@pytest.mark.parametrize("value", _SAMPLES + ["Ludwig van Beethoven", "A---B", "x''y",
                                              "``q''", "50% of & {B}", "Caf\\'e"])
def test_bibtex_fast_path_is_what_pylatexenc_gives(value):
    """Every printable character, alone and doubled: a field the fast path keeps as it is
    is one that pylatexenc would also give back unchanged (up to white space)."""
    text = value.replace("--", "-")
    try:
        decoded = bibtex._LATEX.latex_to_text(text)
    except Exception:
        decoded = text.replace("{", "").replace("}", "")
    assert bibtex._text(value) == (" ".join(decoded.split()) or None)


@pytest.mark.parametrize("name", ["embase.ris", "central.ris"])
def test_tsv_written_from_columns_equals_tsv_written_from_frames(tmp_path, name):
    """The RIS import hands tsv_batches each batch's columns (lists), which it writes
    without a DataFrame: the bytes of write_tsv."""
    from sysrev.imports.ris import iter_ris_columns
    with tsv_batches(tmp_path / "columns.tsv", RECORD_COLUMNS,
                     sort_by=["source_position"]) as write:
        for columns in iter_ris_columns(BUNDLED / name, source="s", batch_records=4):
            write(columns)
    write_tsv(read_ris(BUNDLED / name, source="s"), tmp_path / "whole.tsv", RECORD_COLUMNS,
              sort_by=["source_position"])
    assert (tmp_path / "columns.tsv").read_bytes() == (tmp_path / "whole.tsv").read_bytes()


@pytest.mark.parametrize("cells", [
    ["plain", None, "", "a\tb", 'say "x"', "line\nend", "cr\rend", "crlf\r\n", " sp ", "\u00e9"],
    ["x", "y", "z", "w", "v", "u", "t", "s", "r", "q"],             # no cell quoted
    [1.5, "x", None, "y", None, "z", None, "w", None, "v"],          # a float: a DataFrame
    [True, "x", None, "y", None, "z", None, "w", None, "v"],         # a bool: a DataFrame
])
def test_tsv_columns_written_as_pandas_writes_them(tmp_path, cells):
    """Cells the csv module quotes (tab, line end, quote), empty and missing cells, other
    types, integers with and without a missing one, rows out of order: the bytes pandas
    writes."""
    columns = ["a", "b", "n", "m"]
    variants = [
        {"a": cells, "b": cells[::-1], "n": list(range(10)), "m": list(range(10, 20))},
        {"a": cells, "b": cells, "n": list(range(10)), "m": [1, None] * 5},
        {"a": cells, "b": cells, "n": list(range(10))[::-1], "m": list(range(10))},
        {"a": cells[:1], "b": cells[1:2], "n": [3], "m": [2**70]},
    ]
    for k, data in enumerate(variants):
        with tsv_batches(tmp_path / f"c{k}.tsv", columns, sort_by=["n"]) as write:
            write(data)
            write({key: values[:1] for key, values in data.items()})
        frame = pd.DataFrame(data, columns=columns)
        whole = pd.concat([frame.sort_values("n", kind="mergesort"), frame.iloc[:1]])
        with tsv_batches(tmp_path / f"f{k}.tsv", columns) as write:
            write(frame.sort_values("n", kind="mergesort"))
            write(frame.iloc[:1])
        assert (tmp_path / f"c{k}.tsv").read_bytes() == (tmp_path / f"f{k}.tsv").read_bytes()
        assert len(whole) == len(data["a"]) + 1
