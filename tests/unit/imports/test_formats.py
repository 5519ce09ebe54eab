"""Every export in ../shared/testdata/exports reads with the right count; generated files in
the layouts of Scopus, Embase, EndNote, Mendeley, Zotero, Covidence and Ovid (see
export_layouts.py) round-trip; MEDLINE, EndNote XML and CSV layouts; encodings; corrupt files
name file and line."""

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sysrev.errors import InputError
from sysrev.imports import import_records, read_csv_export, read_endnote_xml, read_medline
from sysrev.imports.records import clean_text, decode_export
from sysrev.imports.sources import READERS

import export_layouts as layouts

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


def _assert_round_trip(table: pd.DataFrame, layout: str, source: str) -> None:
    """Every generated record is read, in order, with its key fields as the tool wrote them."""
    assert len(table) == len(layouts.RECORDS)
    assert table["record_id"].is_unique
    for record, (_, row) in zip(layouts.RECORDS, table.iterrows()):
        expected = layouts.expected_fields(layout, record)
        got = {key: (None if pd.isna(row[key]) else row[key]) for key in expected}
        if expected["source_id"] is None:  # the tool writes no accession: a content hash
            assert re.fullmatch(r"h[0-9a-f]{12}", got["source_id"]), (layout, record.number)
            expected["source_id"] = got["source_id"]
        assert got == expected, (layout, record.number)
        assert row["record_id"] == f"{source}:{expected['source_id']}"


@pytest.mark.parametrize("layout", layouts.RIS_LAYOUTS)
def test_reexported_and_ovid_ris(layout, tmp_path):
    path = layouts.write_export(layout, tmp_path)
    table = import_records(path, source="x", fmt="ris")
    assert len(table) == _count_in_file(path, "ris") == len(layouts.RECORDS)
    _assert_round_trip(table, layout, "x")


def test_generated_layouts_keep_each_tools_quirks():
    """The generator really writes what the readers must cope with."""
    data = {name: write(layouts.RECORDS) for name, write in layouts.WRITERS.items()}
    scopus = data["scopus_csv"]
    assert scopus.startswith(b"\xef\xbb\xbf\"Authors\",\"Author full names\"")
    assert b"\r" not in scopus
    assert '"Müller R.T.; Ó Súilleabháin S.; Dvořák T."'.encode() in scopus
    assert b'"Art. No.","Page start","Page end"' in scopus and scopus.count(b'""quoted""') == 1
    embase = data["embase_csv"].decode("utf-8").split("\n")
    assert embase[0].startswith('"SEARCH QUERY",') and set(embase[1]) == {"-"} and embase[2] == ""
    assert embase[3].startswith('"Title","Original Title","Author Names"')
    assert ',99000001,L990000001,10.5555/sysrev.synthetic.0001,' in embase[4]
    zotero = data["zotero_ris"]
    assert zotero.count(b"\r\n") == zotero.count(b"\n") and b"DA  - 2024///\r\n" in zotero
    endnote = data["endnote_ris"].decode("utf-8")
    assert "KW  - denosumab\nerosion\n" in endnote and "\nID  - 501\nER  - \n" in endnote
    mendeley = data["mendeley_ris"].decode("utf-8")
    assert "\nER  -\nTY  - JOUR\n" in mendeley and "AU  - Müller, R T\n" in mendeley
    covidence = data["covidence_endnote_ris"].decode("utf-8")
    assert "\nAN  - \n" in covidence and "\nPD  - \n" in covidence
    ovid = data["ovid_eric_ris"].decode("utf-8")
    assert ovid.startswith("6. \nTY  - JOUR\nDB  - ERIC")
    assert "ER  -  \n\n \n\n47. \nTY  - JOUR\n" in ovid and "\nDO  -" not in ovid


@pytest.mark.parametrize("layout", layouts.RIS_LAYOUTS)
def test_generated_ris_with_a_missing_er_names_file_and_line(layout, tmp_path):
    data = layouts.WRITERS[layout](layouts.RECORDS)
    text = data.decode("utf-8").replace("\r\n", "\n")
    starts = [n for n, line in enumerate(text.split("\n"), start=1) if line.startswith("TY  -")]
    assert len(starts) == len(layouts.RECORDS)
    truncated = tmp_path / f"truncated_{layout}.ris"
    truncated.write_bytes(layouts.without_line(data, r"ER  -"))
    with pytest.raises(InputError, match=rf"{truncated.name}, line {starts[-1]}: the last "
                                         "record has no ER line"):
        import_records(truncated, source="x", fmt="ris")
    # a missing ER in the middle: the lines after it shift up by one
    unclosed = tmp_path / f"unclosed_{layout}.ris"
    unclosed.write_bytes(layouts.without_line(data, r"ER  -", occurrence=4))
    with pytest.raises(InputError, match=rf"{unclosed.name}, line {starts[5] - 1}: record "
                                         rf"starting at line {starts[4]} has no ER line"):
        import_records(unclosed, source="x", fmt="ris")


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
    # (A record without a PMID is ERIC via EBSCO: see test_new_formats.py.)


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


def test_scopus_csv(tmp_path):
    path = layouts.write_export("scopus_csv", tmp_path)
    table = read_csv_export(path, source="scopus", layout="scopus_csv")
    expected = pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False, dtype=str)
    assert len(table) == len(expected) == len(layouts.RECORDS)
    assert list(expected.columns) == list(layouts.SCOPUS_COLUMNS)
    assert list(table["title"]) == [clean_text(t) for t in expected["Title"]]
    assert list(table["source_id"]) == list(expected["EID"])
    _assert_round_trip(table, "scopus_csv", "scopus")
    # "Page start"/"Page end" make a range; "Art. No." stands in when there are no pages
    assert list(table["pages"][:4]) == ["101-109", "e0412", "1202-1210", "77"]
    assert table.iloc[0]["authors"] == "Okafor C.; Lindqvist M.E.; Tanaka H."
    assert table.iloc[2]["title"] == ('Synthetic record 3: "quoted" words, commas, and a line '
                                      "break in one title")
    assert (pd.isna(table.iloc[3]["doi"]), pd.isna(table.iloc[3]["pmid"])) == (True, True)


def test_embase_csv_skips_the_query_preamble(tmp_path):
    path = layouts.write_export("embase_csv", tmp_path)
    table = read_csv_export(path, source="embase", layout="embase_csv")
    expected = pd.read_csv(path, skiprows=3, keep_default_na=False, dtype=str)
    assert len(table) == len(expected) == len(layouts.RECORDS)
    assert list(expected.columns) == list(layouts.EMBASE_COLUMNS)
    _assert_round_trip(table, "embase_csv", "embase")
    first = table.iloc[0]
    assert (first["source_id"], first["pmid"]) == ("L990000001", "99000001")
    assert table.iloc[2]["authors"] == "Müller R.T.; Ó Súilleabháin S.; Dvořák T."
    assert pd.isna(table.iloc[1]["pages"])  # Embase names article numbers only in "Source"


@pytest.mark.parametrize("layout", layouts.CSV_LAYOUTS)
def test_generated_csv_corruption_names_file_and_line(layout, tmp_path):
    data = layouts.WRITERS[layout](layouts.RECORDS)
    title5 = layouts.RECORDS[4].title
    # Record 3 spans three lines (line breaks in its title and abstract), so the row of
    # record 5 starts two lines further down than its position suggests.
    row5 = layouts.line_of(data, title5)
    assert row5 == layouts.line_of(data, layouts.RECORDS[3].title) + 1
    assert row5 == layouts.line_of(data, layouts.RECORDS[1].title) + 5
    width = len(layouts.SCOPUS_COLUMNS if layout == "scopus_csv" else layouts.EMBASE_COLUMNS)
    stray = tmp_path / f"stray_{layout}.csv"
    stray.write_bytes(data.replace(f'"{title5}"'.encode(), f'"{title5}","oops"'.encode()))
    with pytest.raises(InputError, match=rf"{stray.name}, line {row5}: {width + 1} cells but "
                                         rf"the header has {width}"):
        read_csv_export(stray, source="x", layout=layout)
    # cut inside the quoted title of the last record: the row is never closed
    cut = tmp_path / f"cut_{layout}.csv"
    last = layouts.RECORDS[-1].title
    cut.write_bytes(data[:data.index(last.encode()) + 12])
    with pytest.raises(InputError, match=rf"{cut.name}, line {layouts.line_of(data, last)}: "
                                         "malformed CSV"):
        read_csv_export(cut, source="x", layout=layout)


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
    with pytest.raises(InputError, match=r"headless.csv, line 1: no header row with a title "
                       r"column \('Title'\).*headers found: 'name', 'year'"):
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
    exports = yaml.safe_load(schema)["properties"]["search"]["properties"]["exports"]
    fmt = exports["items"]["properties"]["format"]
    assert set(fmt["enum"]) == set(READERS) | {"auto"}
    assert fmt["default"] == "auto"
    assert exports["items"]["properties"]["allow_empty"]["default"] is False
