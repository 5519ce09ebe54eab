"""Bad and borderline exports, one case per row: each either fails with an error that names
the file and the field or line, or gives the correct result. Empty and shrunken inputs must
never give a smaller PRISMA count with exit code 0 (issue 11); the format tried is named.

Real files: ../shared/testdata/exports and the bundled review's data/denosumab_ra/exports;
the others are minimal files written here.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from sysrev.errors import InputError
from sysrev.imports.sources import import_export_file
from sysrev.workflow.search import import_export
from tests.conftest import REPO

BUNDLED = REPO / "data/denosumab_ra/exports"

RIS_OK = "TY  - JOUR\nTI  - A synthetic title\nAU  - Smith, J\nPY  - 2020\nER  - \n\n"


@dataclass
class Case:
    """``make(tmp_path, testdata) -> path``; then either ``error`` (regexes that must all be
    in the message, the file name always is) or ``records`` (expected count)."""

    make: Callable[[Path, Path], Path]
    fmt: str = "auto"
    error: tuple[str, ...] = ()
    records: int | None = None
    allow_empty: bool = False
    check: Callable | None = None


def _write(name: str, data: str | bytes) -> Callable[[Path, Path], Path]:
    def make(tmp: Path, _testdata: Path) -> Path:
        path = tmp / name
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        return path
    return make


def _shared(name: str) -> Callable[[Path, Path], Path]:
    return lambda _tmp, testdata: testdata / "exports" / name


def _cut_central(tmp: Path, _testdata: Path) -> Path:
    # The bundled CENTRAL export cut cleanly after record 8 of 15 (at a record boundary).
    text = (BUNDLED / "central.ris").read_text(encoding="utf-8")
    path = tmp / "central.ris"
    path.write_text(text[:text.index("Record #9 of 15")], encoding="utf-8")
    return path


def _cut_wos(tmp: Path, _testdata: Path) -> Path:
    # The bundled WoS export cut after a whole record: every record closed by ER, no EF.
    text = (BUNDLED / "wos.txt").read_text(encoding="utf-8")
    cut = text[:text.index("\nER\n", len(text) // 2) + 4]
    path = tmp / "wos.txt"
    path.write_text(cut, encoding="utf-8")
    return path


def _cut_medline(tmp: Path, testdata: Path) -> Path:
    # A real PubMed .nbib export cut inside its last record (after its abstract).
    text = (testdata / "exports/pubmed_medline/revtools__restoration_pubmed.nbib").read_text(
        encoding="utf-8")
    last = text.rindex("PMID- ")
    path = tmp / "pubmed.nbib"
    path.write_text(text[:text.index("\nFAU - ", last) + 1], encoding="utf-8")
    return path


def _central_with_one_record_too_many(tmp: Path, _testdata: Path) -> Path:
    # The bundled CENTRAL export (15 records) announcing 14.
    text = (BUNDLED / "central.ris").read_text(encoding="utf-8")
    path = tmp / "central.ris"
    path.write_text(re.sub(r"Record #(\d+) of 15", r"Record #\1 of 14", text),
                    encoding="utf-8")
    return path


_OVID_RECORD = ("<{n}>\nUnique Identifier\n  {n}\nTitle\n  Title {n}.\nAuthors\n  Smith J\n"
                "Source\n  Journal of Z. 12(3):45-67, 2019 Mar.\n\n")


def _utf16le_no_bom(tmp: Path, testdata: Path) -> Path:
    text = (testdata / "exports/scopus/asreview__scopus.ris").read_text(encoding="utf-8-sig")
    path = tmp / "scopus_utf16.ris"
    path.write_bytes(text.replace("\n", "\r\n").encode("utf-16-le"))
    return path


# Fixed pseudo-random bytes (a linear congruential sequence), so the case never changes.
_GARBAGE = bytes((i * 1103515245 + 12345) >> 16 & 0xFF for i in range(4000))


def _no_control_characters(table, path):
    for column in ("title", "authors", "abstract"):
        values = table[column].dropna()
        assert not values.str.contains(r"[\x00-\x08\x0b-\x1f\x7f]").any(), column
    assert table.loc[0, "title"] == "A title with a NUL and a bell"


CASES = {
    "empty_file_declared_ris": Case(
        _write("empty.ris", b""), fmt="ris",
        error=(r"field 'format'", r"no records read as 'ris'", "the file is empty")),
    "empty_file_auto": Case(
        _write("empty.txt", b"\n\n  \n"),
        error=(r"cannot recognise the export format", "the file is empty")),
    "empty_file_allowed": Case(_write("empty.ris", b""), allow_empty=True, records=0),
    "empty_ris_declared_and_allowed": Case(_write("none.ris", b""), fmt="ris",
                                           allow_empty=True, records=0),
    "binary_garbage_auto": Case(
        _write("export.ris", _GARBAGE), error=("field 'format'", "not text")),
    "binary_garbage_declared_ris": Case(
        _write("export.ris", _GARBAGE), fmt="ris",
        error=("field 'format'", "'ris'", "not text")),
    "wos_declared_ris": Case(
        _shared("wos_tagged/bibliometrix__wos_sample.txt"), fmt="ris",
        error=("field 'format'", "'ris'", "looks like 'wos'")),
    "ris_declared_wos": Case(
        _shared("scopus/asreview__scopus.ris"), fmt="wos",
        error=("field 'format'", "'wos'", "looks like 'ris'")),
    "ris_declared_medline": Case(
        _shared("embase/asreview__embase.ris"), fmt="medline",
        error=("field 'format'", "'medline'", "looks like 'ris'")),
    "medline_declared_ris": Case(
        _shared("pubmed_medline/revtools__restoration_pubmed.nbib"), fmt="ris",
        error=("field 'format'", "'ris'", "looks like 'medline'")),
    "ris_without_ty_or_er": Case(
        _write("tags.ris", "TI  - A title\nAU  - Smith, J\nPY  - 2020\nJO  - Journal\n"),
        fmt="ris", error=(r"line 1: RIS tag lines but no record", "'ris'")),
    "ovid_text_declared_ris": Case(
        _write("ovid.ris", "<1>\nTitle\n  A synthetic title.\nAuthors\n  Smith J\n"),
        fmt="ris", error=("field 'format'", "'ris'", "looks like 'ovid'")),
    "utf16le_without_bom": Case(_utf16le_no_bom, records=6,
                                check=lambda t, p: t["title"].notna().all()),
    "central_cut_at_record_boundary": Case(
        _cut_central, fmt="ris",
        error=(r"line \d+", "announces 15 records", "'Record #8 of 15'", "cut")),
    "central_selection_of_a_longer_export": Case(
        _shared("cochrane/cff___baseline_cochrane_endnote.ris"), records=3),
    "wos_without_ef_line": Case(
        _cut_wos, error=(r"line \d+", "no 'EF' line", "cut")),
    "ris_missing_last_er": Case(
        _write("cut.ris", RIS_OK + "TY  - JOUR\nTI  - Second title\nAU  - Li, X\n"),
        error=(r"line 7", "no ER line", "truncated")),
    "record_with_nothing": Case(
        _write("blank.ris", RIS_OK + "TY  - JOUR\nPY  - 2021\nER  - \n"),
        error=(r"line 7", "no title, no authors")),
    "nul_and_control_characters": Case(
        _write("nul.ris", "TY  - JOUR\nTI  - A title with a NUL\x00 and a bell\x07\n"
                          "AU  - Smith,\x00 J\nAB  - Text\x1b[0m here\nER  - \n"),
        records=1, check=_no_control_characters),
    "csv_row_with_nothing": Case(
        _write("rows.csv", "title,authors,year,doi\nOne,\"Smith, J\",2020,\n,,2021,\n"),
        fmt="csv", error=("line 3", "no title, no authors")),
    "csv_doi_that_is_not_a_doi": Case(
        _write("dois.csv", "title,doi\nOne,n/a - see link\nTwo,https://doi.org/10.5555%2Fx\n"),
        records=2, check=lambda t, p: t["doi"].fillna("").tolist() == ["", "10.5555/x"]),
    "csv_with_no_title_column": Case(
        _write("refs.csv", "Name,Year,Where\nA,2020,B\n"), fmt="csv",
        error=("line 1", "headers found: 'Name', 'Year', 'Where'", "'Article Title'")),
    "unknown_format": Case(
        _shared("scopus/asreview__scopus.ris"), fmt="refworks",
        error=("field 'format'", "unknown export format 'refworks'")),
    "bibtex_cut_inside_an_entry": Case(
        _write("cut.bib", "@article{a,\n  title = {One},\n  year = 2020\n}\n\n"
                          "@article{b,\n  title = {Two\n"),
        error=("line 6", "malformed BibTeX entry")),
    "ovid_text_with_a_record_missing": Case(
        _write("ovid.txt", "<1>\nTitle\n  One.\n\n<3>\nTitle\n  Three.\n"),
        error=("line 5", "record <3> where <2> was expected")),
    # Issue 17: cut inside the last record, accepted with a partial record; a CENTRAL export
    # holding more records than it announces.
    "medline_cut_inside_last_record": Case(
        _cut_medline, error=(r"line \d+", "last record has no 'SO' field", "cut")),
    "ovid_cut_inside_last_record": Case(
        _write("ovid.txt", _OVID_RECORD.format(n=1) + _OVID_RECORD.format(n=2)
               + "<3>\nUnique Identifier\n  3\nTitle\n  Title 3.\n"),
        error=("line 21", "last record has no 'source' field", "cut")),
    "central_holding_more_than_announced": Case(
        _central_with_one_record_too_many, fmt="ris",
        error=(r"line \d+", "'Record #15 of 14'", "holds 15")),
    # Issue 17: records appended by two tools, UTF-8 and Windows-1252 in one file; read whole
    # as cp1252 every UTF-8 character was garbled ("Régulation" -> "RÃ©gulation").
    "mixed_utf8_and_cp1252": Case(
        _write("mixed.ris", ("TY  - JOUR\nTI  - Régulation osseuse\nAU  - Dupré, J\nPY  - 2020\n"
                             "ER  - \n\n").encode("utf-8")
               + ("TY  - JOUR\nTI  - Réponse – une étude\nAU  - Léon, M\nPY  - 2021\n"
                  "ER  - \n").encode("cp1252")),
        records=2, check=lambda t, p: t["title"].tolist() == [
            "Régulation osseuse", "Réponse – une étude"]),
    # Issue 17 (real export fields, JabRef's MEDLINE test files): a DOI as a URL in AID, a
    # PMC line before PMID and a note line between records (Bio.Medline reads them).
    "medline_pmc_first_doi_url_and_a_note_line": Case(
        _write("jabref.nbib",
               "PMC - PMC4513071\nPMID- 20481061\nTI  - From danger and motherhood.\n"
               "AU  - Long V\nAID - http://dx.doi.org/10.1000/xyz123 [doi]\n"
               "SO  - 20 Century Br Hist. 2009;20(4):454-81.\n\n"
               "This line should be omitted by the importer.\n\n"
               "PMID- 22664220\nTI  - A technical report.\nAU  - Li X\n"
               "AID - doi:10.1016/j.cpr.2005.02.002\nSO  - Test. 2012;1:1.\n"),
        fmt="medline", records=2,
        check=lambda t, p: t["doi"].tolist() == ["10.1000/xyz123",
                                                  "10.1016/j.cpr.2005.02.002"]
        and t["pmid"].tolist() == ["20481061", "22664220"]),
    # Issue 17: an entry without a citation key keeps its authors apart.
    "bibtex_entry_without_a_key": Case(
        _write("nokey.bib", "@article{,\n  author = {Smith, John and Li, Xiu and Okafor, "
                            "Chidi},\n  title = {Empty key},\n  year = {2020}\n}\n\n"
                            "@article{\n  author = {Smith, John and Li, Xiu},\n"
                            "  title = {No key at all},\n  year = {2021}\n}\n"),
        fmt="bibtex", records=2,
        check=lambda t, p: t["authors"].tolist() == ["Smith, John; Li, Xiu; Okafor, Chidi",
                                                      "Smith, John; Li, Xiu"]),
    # Issue 17: the older Embase.com CSV layout (ASReview's embase.csv test file: no
    # accession column, the whole citation in Source, the DOI only in Open URL Link).
    "embase_csv_older_layout": Case(
        _write("embase.csv",
               "Title,Original Title,Author Names,Correspondence Address,Editors,Source,"
               "Abstract,Original Abstract,Emtree Drug Index Terms (Major Focus),"
               "Emtree Drug Index Terms,Emtree Medical Index Terms (Major Focus),"
               "Emtree Medical Index Terms,keywords,Drug Tradenames,Drug Manufacturer,"
               "Device Tradenames,Device Manufacturer,Clinical Trial Numbers,Open URL Link,"
               "Copyright\n"
               "\"Duplication cysts: Diagnosis, management, and the role of endoscopic "
               "ultrasound\",,\"Liu R., Adler D.G.\",,,Endoscopic Ultrasound (2014) 3:3 "
               "(152-160). Date of Publication: 2014,An abstract.,,,,,,,,,,,,"
               "http://sfx.library.uu.nl/utrecht?sid=EMBASE&issn=22267190&id=doi:10.4103%2F"
               "2303-9027.138783&atitle=Duplication+cysts&volume=3,\"Copyright 2014\"\n"),
        records=1,
        check=lambda t, p: t.iloc[0][["journal", "year", "volume", "issue", "pages",
                                      "doi"]].tolist() == [
            "Endoscopic Ultrasound", "2014", "3", "3", "152-160",
            "10.4103/2303-9027.138783"]),
    "wos_malformed_tag_real_file": Case(
        _shared("wos_tagged/metaknowledge__testFile.isi"), records=34,
        check=lambda t, p: t["authors"].dropna().str.contains("Gilles, H").any()),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_export(name, tmp_path, testdata):
    case = CASES[name]
    path = case.make(tmp_path, testdata)
    if case.error:
        with pytest.raises(InputError) as err:
            import_export_file(path, source="src", fmt=case.fmt,
                               allow_empty=case.allow_empty)
        message = str(err.value)
        assert path.name in message
        for pattern in case.error:
            assert re.search(pattern, message), (pattern, message)
        return
    output, report = tmp_path / "out" / "src.tsv", tmp_path / "out" / "src.json"
    import_export(export=str(path), source="src", fmt=case.fmt, allow_empty=case.allow_empty,
                  output=str(output), report=str(report))
    from sysrev.tables import read_tsv
    table = read_tsv(output)
    assert len(table) == case.records
    raw = output.read_bytes()
    assert b"\x00" not in raw and not any(b in raw for b in (b"\x07", b"\x1b"))
    if case.check is not None:
        assert case.check(table, path) is not False


def test_no_partial_output_after_an_error(tmp_path, testdata):
    output = tmp_path / "out" / "wos.tsv"
    with pytest.raises(InputError):
        import_export(export=str(testdata / "exports/wos_tagged/bibliometrix__wos_sample.txt"),
                      source="wos", fmt="ris", output=str(output),
                      report=str(tmp_path / "out" / "wos.json"))
    assert not output.exists() and not (tmp_path / "out" / "wos.json").exists()


def test_a_non_utf8_warning_names_the_file(tmp_path, caplog):
    path = tmp_path / "latin.ris"
    path.write_bytes("TY  - JOUR\nTI  - Caf\u00e9\nER  - \n".encode("cp1252"))
    with caplog.at_level(logging.WARNING):
        table, report = import_export_file(path, source="x")
    assert table.loc[0, "title"] == "Caf\u00e9" and report.encoding == "cp1252"
    assert "latin.ris is not UTF-8" in caplog.text


@pytest.mark.parametrize("year,kept,warning", [
    ("2099", "2099", "year 2099 is after next year"),
    ("20201", None, "year '20201' holds no four-digit year"),
    ("20200315", "2020", None),
    ("2020 Mar 5", "2020", None),
], ids=["year_2099", "year_20201", "yyyymmdd", "year_with_month"])
def test_implausible_years_are_warned(year, kept, warning, tmp_path, caplog):
    """Issue 17: 2099 and 20201 (read as 2020) passed without a warning."""
    from sysrev.tables import read_tsv

    path = tmp_path / "years.ris"
    path.write_text(f"TY  - JOUR\nTI  - A title\nAU  - Smith, J\nPY  - {year}\nER  - \n",
                    encoding="utf-8")
    output = tmp_path / "out" / "src.tsv"
    with caplog.at_level(logging.WARNING):
        import_export(export=str(path), source="src", fmt="ris", allow_empty=False,
                      output=str(output), report=str(tmp_path / "out" / "src.json"))
    table = read_tsv(output)
    value = table.loc[0, "year"]
    assert (value if isinstance(value, str) and value else None) == kept
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    if warning is None:
        assert not warnings
    else:
        assert any(warning in w and "years.ris" in w for w in warnings), warnings


def test_a_nul_inside_an_accession_keeps_the_record_id(tmp_path):
    """Issue 17: 'AN  - SYSREV<NUL>-EMB-1' gave the id 'src:SYSREV -EMB-1'."""
    path = tmp_path / "nul.ris"
    path.write_bytes(b"TY  - JOUR\nTI  - A title\nAN  - SYSREV\x00-EMB-0001\nER  - \n")
    table = import_export_file(path, source="src", fmt="ris", allow_empty=False)[0]
    assert table.loc[0, "record_id"] == "src:SYSREV-EMB-0001"
