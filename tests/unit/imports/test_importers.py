"""RIS and Web of Science importers on real exports (../shared/testdata/exports)."""

import re

import pytest

from sysrev.errors import InputError
from sysrev.imports import read_ris, read_wos
from sysrev.imports.records import normalise_doi

RIS_FILES = {
    "embase/asreview__embase.ris": 6,
    "cochrane/cff___baseline_cochrane_endnote.ris": 3,
    "scopus/asreview__scopus.ris": None,
    "ris_generic/rispy__example_bom.ris": None,
    "ris_generic/rispy__example_multiline.ris": None,
    "ris_generic/rispy__example_utf_chars.ris": None,
    "ris_generic/rispy__example_empty_tag.ris": None,
    "ris_generic/rispy__example_extraneous_data.ris": None,
}


@pytest.mark.parametrize("name", sorted(RIS_FILES))
def test_ris_reads_every_record(testdata, name):
    path = testdata / "exports" / name
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    expected = RIS_FILES[name] or len(re.findall(r"^TY  -", text, re.M))
    table = read_ris(path, source="test")
    assert len(table) == expected
    assert table["record_id"].is_unique
    assert table["record_id"].str.startswith("test:").all()


def test_corrupted_ris_is_an_error_naming_the_line(testdata):
    path = testdata / "exports/ris_generic/jabref__RisImporterCorrupted.ris"
    with pytest.raises(InputError) as err:
        read_ris(path, source="test")
    assert "RisImporterCorrupted.ris" in str(err.value)
    assert "line" in str(err.value)


def test_cochrane_wrapper_lines_and_pmid(testdata):
    table = read_ris(testdata / "exports/cochrane/cff___baseline_cochrane_endnote.ris",
                     source="central")
    first = table.iloc[0]
    assert first["source_id"] == "CN-00778158"
    assert first["pmid"] == "21314913"
    assert first["title"].startswith("The Incredible Years Therapeutic Dinosaur Programme")


def test_embase_accession_and_bom(testdata):
    table = read_ris(testdata / "exports/embase/asreview__embase.ris", source="embase")
    assert table.iloc[0]["source_id"] == "L373791783"
    assert table.iloc[0]["doi"] == "10.4103/2303-9027.138783"


@pytest.mark.parametrize("name,count", [("wos_tagged/bibliometrix__wos_sample.txt", 8),
                                        ("wos_tagged/metaknowledge__testFile.isi", 34)])
def test_wos_reads_every_record(testdata, name, count):
    path = testdata / "exports" / name
    table = read_wos(path, source="wos")
    assert len(table) == count
    # Records with a UT keep it as their id; the others get a content hash.
    with_ut = len(re.findall(r"^UT WOS:", path.read_text(encoding="utf-8-sig"), re.M))
    assert table["source_id"].str.startswith("WOS:").sum() == with_ut
    assert table["record_id"].is_unique


def test_wos_continuation_lines_join(testdata):
    table = read_wos(testdata / "exports/wos_tagged/bibliometrix__wos_sample.txt",
                     source="wos")
    assert table.iloc[0]["title"] == ("Mapping the application of Geographic Information "
                                      "System (GIS) in real estate: a bibliometric analysis "
                                      "using bibliometrix and QGIS")


def test_truncated_wos_is_an_error(tmp_path):
    path = tmp_path / "cut.txt"
    path.write_text("FN Clarivate Analytics Web of Science\nVR 1.0\nPT J\nAU Smith, J\n"
                    "TI A title\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"cut.txt, line 3: the last record has no ER"):
        read_wos(path, source="wos")


def test_ris_without_er_before_next_record(tmp_path):
    path = tmp_path / "bad.ris"
    path.write_text("TY  - JOUR\nTI  - One\nTY  - JOUR\nTI  - Two\nER  - \n",
                    encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.ris, line 3: record starting at line 1"):
        read_ris(path, source="x")


def test_cp1252_file_is_read(tmp_path):
    path = tmp_path / "latin.ris"
    path.write_bytes("TY  - JOUR\r\nTI  - Caf\u00e9 study\r\nER  - \r\n".encode("cp1252"))
    table = read_ris(path, source="x")
    assert table.iloc[0]["title"] == "Caf\u00e9 study"


def test_record_ids_are_stable_without_accessions(tmp_path):
    a = tmp_path / "a.ris"
    a.write_text("TY  - JOUR\nTI  - First\nPY  - 2020\nER  - \n\nTY  - JOUR\nTI  - Second\n"
                 "ER  - \n", encoding="utf-8")
    b = tmp_path / "b.ris"
    b.write_text("TY  - JOUR\nTI  - Second\nER  - \n\nTY  - JOUR\nTI  - First\nPY  - 2020\n"
                 "ER  - \n", encoding="utf-8")
    ids_a = dict(zip(read_ris(a, source="x")["title"], read_ris(a, source="x")["record_id"]))
    ids_b = dict(zip(read_ris(b, source="x")["title"], read_ris(b, source="x")["record_id"]))
    assert ids_a == ids_b


@pytest.mark.parametrize("raw,expected", [
    ("https://doi.org/10.1002/ART.23417", "10.1002/art.23417"),
    ("doi: 10.1136/ard.2009.121764.", "10.1136/ard.2009.121764"),
    ("not a doi", None),
])
def test_normalise_doi(raw, expected):
    assert normalise_doi(raw) == expected
