"""Every export in ../shared/testdata/exports and tests/data/imports reads with the right
count; MEDLINE, EndNote XML and CSV layouts; encodings; corrupt files name file and line."""

import re
from pathlib import Path

import pandas as pd
import pytest

from sysrev.errors import InputError
from sysrev.imports import import_records, read_csv_export, read_endnote_xml, read_medline
from sysrev.imports.records import decode_export
from sysrev.imports.sources import READERS

FIXTURES = Path(__file__).resolve().parents[2] / "data" / "imports"
CORRUPT = {"ris_generic/jabref__RisImporterCorrupted.ris"}


def _format_of(path: Path) -> str:
    if path.suffix == ".ris":
        return "ris"
    if path.suffix == ".nbib" or path.parent.name == "pubmed_medline":
        return "medline"
    if path.parent.name == "wos_tagged":
        return "wos"
    raise AssertionError(f"no format known for {path}")


def _count_in_file(path: Path, fmt: str) -> int:
    """The number of records, counted from the raw text independently of the readers."""
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    pattern = {"ris": r"^TY  -", "wos": r"^PT ", "medline": r"^PMID-"}[fmt]
    return len(re.findall(pattern, text, re.M))


def _export_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_every_shared_export_reads_with_the_right_count_or_fails_clearly(testdata):
    root = testdata / "exports"
    names = _export_files(root)
    assert len(names) >= 13
    for name in names:
        path = root / name
        fmt = _format_of(path)
        if name in CORRUPT:
            with pytest.raises(InputError, match=rf"{re.escape(path.name)}, line \d+"):
                import_records(path, source="x", fmt=fmt)
            continue
        table = import_records(path, source="x", fmt=fmt)
        assert len(table) == _count_in_file(path, fmt), name
        assert table["record_id"].is_unique, name


@pytest.mark.parametrize("name", ["cff_baseline_endnote.ris", "cff_baseline_mendeley.ris",
                                  "cff_baseline_zotero.ris",
                                  "cff_baseline_covidence_endnote.ris",
                                  "cff_baseline_eric_ovid.ris"])
def test_reexported_and_ovid_ris(name):
    table = import_records(FIXTURES / name, source="x", fmt="ris")
    assert len(table) == _count_in_file(FIXTURES / name, "ris") == 10
    assert table["title"].notna().all()
    assert table["year"].notna().all()


def test_ovid_numbering_lines_and_no_pagination(testdata):
    table = import_records(testdata / "exports/embase/asreview__ovid_psycinfo.ris",
                           source="ovid", fmt="ris")
    assert list(table["source_id"][:2]) == ["2019-65183-001", "2019-29490-001"]
    assert table.iloc[0]["doi"] == "10.1002/cpp.2398"
    assert pd.isna(table.iloc[0]["pages"])  # "No Pagination Specified"
    assert table.iloc[1]["pages"] == "847-856"


def test_medline_fields(testdata):
    table = read_medline(testdata / "exports/pubmed_medline/revtools__restoration_pubmed.nbib",
                         source="pubmed")
    first = table.iloc[0]
    assert first["record_id"] == "pubmed:30689646"
    assert first["pmid"] == "30689646"
    assert first["doi"] == "10.1371/journal.pone.0209483"
    assert first["title"].startswith("Ecosystem services changes between 2000 and 2015")
    assert first["title"].endswith("A response to ecological restoration.")
    assert first["authors"].startswith("Wu D; Zou C")
    assert (first["year"], first["journal"], first["volume"]) == ("2019", "PLoS One", "14")


def test_biopython_medline_files(testdata):
    for path in sorted((testdata / "eutils/biopython_Medline").glob("*.txt")):
        table = read_medline(path, source="pubmed")
        assert len(table) == _count_in_file(path, "medline")


def test_corrupt_medline_names_the_line(tmp_path):
    path = tmp_path / "cut.nbib"
    path.write_text("PMID- 1\nTI  - A title\n\nPMID- 2\nTI  - Another\nthis is not medline\n",
                    encoding="utf-8")
    with pytest.raises(InputError, match=r"cut.nbib, line 6: not a MEDLINE field line"):
        read_medline(path, source="pubmed")
    path.write_text("TI  - No PMID first\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"line 1: a record must start with a PMID"):
        read_medline(path, source="pubmed")


ENDNOTE_XML = (
    '<?xml version="1.0" encoding="UTF-8" ?><xml><records>'
    '<record><database name="My.enl" path="C:\\My.enl">My.enl</database>'
    '<source-app name="EndNote" version="20.0">EndNote</source-app><rec-number>12</rec-number>'
    '<ref-type name="Journal Article">17</ref-type><contributors><authors>'
    '<author><style face="normal" font="default" size="100%">Takeuchi, T.</style></author>'
    '<author><style face="normal" font="default" size="100%">Tanaka, Y.</style></author>'
    '</authors></contributors><titles><title><style face="normal" font="default" size="100%">'
    'Effect of denosumab on </style><style face="italic" font="default" size="100%">Japanese'
    '</style><style face="normal" font="default" size="100%"> patients</style></title>'
    '<secondary-title><style face="normal" font="default" size="100%">Ann Rheum Dis</style>'
    '</secondary-title></titles><pages><style face="normal" font="default" size="100%">'
    '983-91</style></pages><volume><style face="normal" font="default" size="100%">75'
    '</style></volume><number>6</number><dates><year><style face="normal" font="default" '
    'size="100%">2016</style></year></dates><accession-num><style face="normal" '
    'font="default" size="100%">26585988</style></accession-num><electronic-resource-num>'
    '<style face="normal" font="default" size="100%">10.1136/annrheumdis-2015-208052</style>'
    '</electronic-resource-num><language>eng</language></record>\n'
    '<record><rec-number>13</rec-number><ref-type name="Conference Proceedings">10</ref-type>'
    '<titles><title>Caf\u00e9 au lait</title></titles><dates><year>2019</year></dates>'
    '</record></records></xml>\n')


def test_endnote_xml(tmp_path):
    path = tmp_path / "library.xml"
    path.write_text(ENDNOTE_XML, encoding="utf-8")
    table = read_endnote_xml(path, source="endnote")
    assert len(table) == 2
    first = table.iloc[0]
    assert first["title"] == "Effect of denosumab on Japanese patients"
    assert first["authors"] == "Takeuchi, T.; Tanaka, Y."
    assert (first["pmid"], first["doi"], first["pages"], first["issue"]) == (
        "26585988", "10.1136/annrheumdis-2015-208052", "983-91", "6")
    assert first["record_id"] == "endnote:26585988"
    assert table.iloc[1]["title"] == "Caf\u00e9 au lait"
    assert table.iloc[1]["publication_types"] == "Conference Proceedings"


def test_endnote_xml_cp1252_and_corrupt(tmp_path):
    latin = tmp_path / "latin.xml"
    latin.write_bytes(ENDNOTE_XML.replace('encoding="UTF-8"', 'encoding="windows-1252"')
                      .encode("cp1252"))
    assert read_endnote_xml(latin, source="e").iloc[1]["title"] == "Caf\u00e9 au lait"
    cut = tmp_path / "cut.xml"
    cut.write_text(ENDNOTE_XML.replace("</record>\n", "</record>\n\n\n", 1)[:-40],
                   encoding="utf-8")
    with pytest.raises(InputError, match=r"cut.xml, line \d+: malformed EndNote XML"):
        read_endnote_xml(cut, source="e")


def test_scopus_csv():
    table = read_csv_export(FIXTURES / "cff_baseline_scopus.csv", source="scopus",
                            layout="scopus_csv")
    expected = pd.read_csv(FIXTURES / "cff_baseline_scopus.csv", encoding="utf-8-sig")
    assert len(table) == len(expected) == 10
    first = table.iloc[0]
    assert first["source_id"] == "2-s2.0-85189760133"
    assert first["pmid"] == "38580657"
    assert first["authors"].startswith("Wilson L.N.; Gardner J.D.")
    assert list(table["title"]) == list(expected["Title"])


def test_embase_csv_skips_the_query_preamble():
    table = read_csv_export(FIXTURES / "cff_baseline_embase.csv", source="embase",
                            layout="embase_csv")
    assert len(table) == 10
    assert table.iloc[0]["source_id"] == "L2029880245"
    assert table.iloc[0]["authors"] == "Yang Z.; Jiang B.; Xu J.; McNamara M.E."
    assert table.iloc[0]["pmid"] == "38773066"


def test_covidence_csv(testdata):
    path = testdata / "screening/cff___baseline_covidence.csv"
    table = import_records(path, source="covidence", fmt="covidence_csv")
    assert len(table) == len(pd.read_csv(path)) == 10
    assert table.iloc[0]["record_id"] == "covidence:#1"
    assert table.iloc[0]["doi"] == "10.1038/s41467-024-48400-3"


def test_generic_csv_latin1_with_crlf_inside_fields(testdata):
    path = testdata / "dedup/asysd_diabetes/labelled_test_set.csv"
    table = import_records(path, source="asysd", fmt="csv")
    expected = pd.read_csv(path, encoding="latin-1")
    assert len(table) == len(expected) == 1845
    assert list(table["source_id"].astype(int)) == list(expected["record_id"])
    assert table["title"].notna().all()


def test_generic_csv_layout_and_errors(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_bytes("id;Title;Authors;Year;DOI\r\n7;\"Ca\u00f1a, a\r\nstudy\";"
                     "\"Smith, J; Li, X\";2020;https://doi.org/10.1/X\r\n".encode("cp1252"))
    table = import_records(path, source="mine", fmt="csv")
    row = table.iloc[0]
    assert (row["record_id"], row["title"], row["authors"], row["doi"]) == (
        "mine:7", "Ca\u00f1a, a study", "Smith, J; Li, X", "10.1/x")
    bad = tmp_path / "bad.csv"
    bad.write_text('title,year\n"One",2020\n"Two",2021,extra\n"Three",2022\n',
                   encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.csv, line 3: 3 cells but the header has 2"):
        read_csv_export(bad, source="x")
    unclosed = tmp_path / "unclosed.csv"
    unclosed.write_text('title,year\n"One",2020\n"Two,2021\n"Three",2022\n',
                        encoding="utf-8")
    with pytest.raises(InputError, match=r"unclosed.csv, line \d+"):
        read_csv_export(unclosed, source="x")
    headless = tmp_path / "headless.csv"
    headless.write_text("name,year\nOne,2020\n", encoding="utf-8")
    with pytest.raises(InputError, match="headless.csv, line 1: no header row with a 'Title'"):
        read_csv_export(headless, source="x", layout="covidence_csv")


@pytest.mark.parametrize("raw,encoding", [
    ("\ufeffT\u00e9\r\nx".encode("utf-8"), "utf-8"),
    ("T\u00e9\r\nx".encode("utf-8"), "utf-8"),
    ("T\u00e9 \u2013\r\nx".encode("cp1252"), "cp1252"),
    (b"T\xe9 \x81\r\nx", "latin-1"),  # 0x81 is undefined in Windows-1252
    ("T\u00e9\r\nx".encode("utf-16"), "utf-16"),
])
def test_encodings_are_detected(raw, encoding):
    text, used = decode_export(raw)
    assert used == encoding
    assert text.startswith("T\u00e9") and text.endswith("\nx") and "\r" not in text


def test_every_format_is_in_the_config_schema():
    schema = (Path(__file__).resolve().parents[3] / "config" / "schema.yaml").read_text()
    enum = re.search(r"format: \{enum: \[([^\]]*)\]\}", schema).group(1)
    assert set(READERS) == {f.strip() for f in enum.split(",")}
