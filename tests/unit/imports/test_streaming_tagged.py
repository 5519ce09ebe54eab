"""Imports that stream (issue 20), the line-based tagged formats: a MEDLINE, Web of Science
or Ovid export read a batch of records at a time gives the table, the TSV and the errors the whole file gives, also
when records, repeated accessions and stray lines straddle batches."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from sysrev.columns import RECORD_COLUMNS
from sysrev.errors import InputError
from sysrev.imports.detect import detect_format
from sysrev.imports.medline import read_medline
from sysrev.imports.sources import BATCH_READERS, READERS
from sysrev.tables import write_tsv
from sysrev.workflow.search import import_export
from tests.conftest import REPO
from tests.unit.imports.batch_compare import assert_batches_equal_whole
from tests.unit.imports.test_bad_exports import CASES as BAD_EXPORTS

BUNDLED = REPO / "data/denosumab_ra/exports"
SIZES = (1, 2, 7, None)  # None: the reader's default batch
FORMATS = ("medline", "wos", "ovid")


def _assert_same(fmt: str, path: Path, tmp: Path | None = None) -> int:
    """The batch reader gives the whole-file reader's table and TSV bytes (or its error) at
    every size (:func:`assert_batches_equal_whole`, its files in ``tmp``, by default the
    folder of ``path``); returns the records read."""
    whole = assert_batches_equal_whole(
        lambda: READERS[fmt](path, source="s"),
        lambda size: BATCH_READERS[fmt](path, source="s",
                                        **({} if size is None else {"batch_records": size})),
        SIZES, tmp or path.parent, label=path, largest=lambda size: size or 5000)
    return 0 if whole is None else len(whole)


def _assert_broken(fmt: str, path: Path, change, message: str) -> None:
    """``path`` changed by ``change`` fails with ``message`` whole and in batches."""
    path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(InputError, match=message):
        READERS[fmt](path, source="s")
    _assert_same(fmt, path)


def _files(fmt: str, testdata: Path) -> list[Path]:
    paths = sorted(BUNDLED.iterdir()) + sorted(p for p in testdata.rglob("*") if p.is_file())
    return [p for p in paths if p.stat().st_size < 5_000_000 and detect_format(p)[0] == fmt]


@pytest.mark.parametrize("fmt", ["medline", "wos"])  # no real Ovid text export in testdata
def test_every_real_export_in_batches_equals_the_whole_file(fmt, testdata, tmp_path):
    files = _files(fmt, testdata)
    assert files
    for path in files:
        assert _assert_same(fmt, path, tmp_path) > 0, path


@pytest.mark.parametrize("fmt", FORMATS)
def test_bad_exports_in_batches_fail_as_the_whole_file(fmt, tmp_path, testdata):
    """Every case of test_bad_exports that is read as ``fmt``: the same table or the same
    error message (file, line, field)."""
    seen = 0
    for name, case in BAD_EXPORTS.items():
        folder = tmp_path / name
        folder.mkdir()
        path = case.make(folder, testdata)
        if not path.is_file() or (case.fmt if case.fmt != "auto"
                                  else detect_format(path)[0]) != fmt:
            continue
        _assert_same(fmt, path, folder)
        seen += 1
    assert seen


MEDLINE_RECORD = ("PMID- {pmid}\nOWN - NLM\nTI  - Title {n} of a study\n      continued here.\n"
                  "AB  - Abstract {n}.\nAU  - Smith J\nAU  - Doe {n}\n"
                  "MH  - Arthritis, Rheumatoid/*drug\n      therapy\n"
                  "AID - 10.1000/x{n} [doi]\nDP  - 20{y:02d} Mar\n"
                  "SO  - J Test. 20{y:02d};{n}:1-9.\n")


def _generated_medline(path: Path, n: int = 40) -> Path:
    """Records with repeated PMIDs (up to four times, in different batches), a stray note
    line between two, several blank lines between others, no final newline."""
    parts = []
    for i in range(n):
        parts.append(MEDLINE_RECORD.format(pmid=1000 + i % 9, n=i, y=i % 25))
        parts.append("\n" * (1 + (i % 3 == 0)))
        if i == 11:
            parts.append("A note someone added.\n\n")
    path.write_text("".join(parts).rstrip("\n"), encoding="utf-8")
    return path


def test_generated_medline_in_batches(tmp_path, caplog):
    path = _generated_medline(tmp_path / "gen.nbib")
    with caplog.at_level(logging.WARNING):
        assert _assert_same("medline", path) == 40
    table = read_medline(path, source="s")
    assert table["record_id"].tolist()[9:11] == ["s:1000~2", "s:1001~2"]
    assert caplog.text.count("line 161 is not MEDLINE") == 2 + len(SIZES)  # each read


@pytest.mark.parametrize("tail,message", [
    ("PMID- 9\nTI  - Cut\n", "line 403: the last record has no 'SO' field"),
    ("PMID- 9\nTI  - x\nbroken line\n", "line 405: not a MEDLINE field line"),
    ("\n      continuation\n", "line 404: continuation line outside a record"),
    # A line of spaces between two records: Biopython reads them as one.
    ("PMID- 9\nTI  - x\nSO  - y\n  \nPMID- 10\nTI  - z\nSO  - w\n",
     "32 records in the file but 31 parsed"),
])
def test_broken_medline_in_a_later_batch(tmp_path, tail, message):
    path = _generated_medline(tmp_path / "gen.nbib", n=30)
    path.write_text(path.read_text(encoding="utf-8") + "\n\n" + tail, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        read_medline(path, source="s")
    _assert_same("medline", path)


def test_medline_tsv_written_in_batches_equals_the_whole_table(tmp_path):
    path = _generated_medline(tmp_path / "gen.nbib")
    write_tsv(read_medline(path, source="pubmed"), tmp_path / "whole.tsv", RECORD_COLUMNS,
              sort_by=["source_position"])
    out = tmp_path / "out" / "batches.tsv"
    import_export(export=str(path), source="pubmed", fmt="medline", output=str(out))
    assert out.read_bytes() == (tmp_path / "whole.tsv").read_bytes()


def test_no_tsv_after_a_later_batch_fails(tmp_path):
    path = _generated_medline(tmp_path / "gen.nbib", n=30)
    path.write_text(path.read_text(encoding="utf-8") + "\n\nPMID- 9\nTI  - Cut\n",
                    encoding="utf-8")
    out = tmp_path / "out" / "x.tsv"
    with pytest.raises(InputError):
        import_export(export=str(path), source="pubmed", fmt="medline", output=str(out))
    assert not out.exists()


WOS_RECORD = ("PT J\nAU Smith, J\n   Doe, {n}\nTI Title {n} of a\n   study\nSO J TEST\n"
              "PY 20{y:02d}\nBP {n}\nEP {e}\nDI 10.1000/w{n}\nAB Abstract {n}.\n"
              "UT WOS:{ut:06d}\nER\n\n")


def _generated_wos(path: Path, n: int = 40, end: str = "EF\n") -> Path:
    """An FN/VR header, records with repeated UT accessions (in different batches), a tag
    line without its space, a continuation line right after a PT line (rispy continues
    the previous record's last tag, AU, with it: an author), and the EF end."""
    parts = ["FN Clarivate Analytics Web of Science\nVR 1.0\n"]
    for i in range(n):
        record = WOS_RECORD.format(n=i, y=i % 25, e=i + 5, ut=i % 9)
        if i == 13:
            record = record.replace("PY ", "PY", 1)
        if i == 21:
            record = record.replace("ER\n", "AU Extra, A\nER\n")
        if i == 22:
            record = record.replace("PT J\n", "PT J\n   stray continuation\nDT Article\n")
        parts.append(record)
    path.write_text("".join(parts) + end, encoding="utf-8")
    return path


def test_generated_wos_in_batches(tmp_path, caplog):
    path = _generated_wos(tmp_path / "gen.txt")
    with caplog.at_level(logging.WARNING):
        assert _assert_same("wos", path) == 40
    assert "no space after the tag PY" in caplog.text
    table = READERS["wos"](path, source="s")
    assert table["authors"][22].startswith("stray continuation; Smith, J")
    ids = table["record_id"].tolist()
    assert ids[9:11] == ["s:WOS:000000~2", "s:WOS:000001~2"]


@pytest.mark.parametrize("change,message", [
    (lambda t: t[:-3], "line 564: no 'EF' line at the end"),
    (lambda t: t.replace("UT WOS:000002\nER\n\nPT J\nAU Smith, J\n   Doe, 39",
                         "UT WOS:000002\n\nPT J\nAU Smith, J\n   Doe, 39"),
     "line 551: record starting at line 538 has no ER"),
    (lambda t: t.replace("AB Abstract 38.", "Abstract 38."), "line 548: not a Web of Science"),
    (lambda t: t.replace("EF\n", "ER\nEF\n"), "line 566: ER line without a PT line"),
])
def test_broken_wos_in_a_later_batch(tmp_path, change, message):
    _assert_broken("wos", _generated_wos(tmp_path / "gen.txt"), change, message)


def test_wos_tsv_written_in_batches_equals_the_whole_table(tmp_path):
    path = _generated_wos(tmp_path / "gen.txt")
    write_tsv(READERS["wos"](path, source="wos"), tmp_path / "whole.tsv", RECORD_COLUMNS,
              sort_by=["source_position"])
    out = tmp_path / "out" / "batches.tsv"
    import_export(export=str(path), source="wos", fmt="wos", output=str(out))
    assert out.read_bytes() == (tmp_path / "whole.tsv").read_bytes()


OVID_RECORD = ("<{n}>\nAccession Number\n  {acc}\nTitle\n  Title {n}: a\n  cohort.\n"
               "Authors\n  Smith J\n  Doe {n}\nSource\n  Journal of Z. 12(3):45-67, 20{y:02d} Mar.\n"
               "Digital Object Identifier\n  https://dx.doi.org/10.5555/syn.{n}\n\n")


def _generated_ovid(path: Path, n: int = 40) -> Path:
    """A search-history header, records with repeated accessions (in different batches)."""
    text = "Database: Embase\nSearch Strategy:\n--------\n1 denosumab.mp.\n\n" + "".join(
        OVID_RECORD.format(n=i, acc=f"2019-{i % 9:05d}", y=i % 25) for i in range(1, n + 1))
    path.write_text(text, encoding="utf-8")
    return path


def test_generated_ovid_in_batches(tmp_path):
    path = _generated_ovid(tmp_path / "ovid.txt")
    assert _assert_same("ovid", path) == 40
    ids = READERS["ovid"](path, source="s")["record_id"].tolist()
    assert ids[9:11] == ["s:2019-00001~2", "s:2019-00002~2"]


@pytest.mark.parametrize("change,message", [
    (lambda t: t.rsplit("Source\n", 1)[0], "line 552: the last record has no 'source'"),
    (lambda t: t.replace("<33>", "<34>"), "line 454: record <34> where <33> was expected"),
    (lambda t: t.replace("<38>\nAccession Number\n", "<38>\n"),
     "line 525: a value line with no field label"),
])
def test_broken_ovid_in_a_later_batch(tmp_path, change, message):
    _assert_broken("ovid", _generated_ovid(tmp_path / "ovid.txt"), change, message)


@pytest.mark.parametrize("encoding", ["cp1252", "utf-16", "utf-8-sig", "crlf", "mixed"])
def test_encodings_in_batches(tmp_path, encoding):
    """The encodings format detection finds (Windows-1252, UTF-16, a BOM, CRLF line ends,
    UTF-8 and Windows-1252 lines in one file) read alike in batches and whole."""
    for fmt, make in (("medline", _generated_medline), ("wos", _generated_wos),
                      ("ovid", _generated_ovid)):
        path = make(tmp_path / f"{fmt}.txt")
        text = path.read_text(encoding="utf-8").replace("Title 3", "Titl\u00e9 3")
        if encoding == "crlf":
            raw = text.replace("\n", "\r\n").encode("utf-8")
        elif encoding == "mixed":
            half = len(text) // 2
            half = text.index("\n", half) + 1
            raw = text[:half].encode("utf-8") + text[half:].encode("cp1252")
        else:
            raw = text.encode(encoding)
        path.write_bytes(raw)
        assert _assert_same(fmt, path) == 40
        assert READERS[fmt](path, source="s")["title"].str.contains("Titl\u00e9 3").any()
