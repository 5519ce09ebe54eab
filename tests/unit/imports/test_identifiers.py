"""DOI and PMID normalisation: Rayyan's corrupted DOIs, percent escapes, resolver prefixes,
and the PMID wherever Embase and Ovid put it."""

import logging

import pytest

from sysrev.imports import read_csv_export, read_ris
from sysrev.imports.records import doi_in_text, normalise_doi


@pytest.mark.parametrize("raw,doi", [
    ("10.1038/s41598-024-65283-y     LK  - https://utrechtuniversity.on.worldcat.org/x",
     "10.1038/s41598-024-65283-y"),
    ("https://doi.org/10.1002/%28SICI%291097-0258", "10.1002/(sici)1097-0258"),
    ("http://dx.doi.org/10.1002/cpp.2398", "10.1002/cpp.2398"),
    ("dx.doi.org/10.1002/cpp.2398", "10.1002/cpp.2398"),
    ("doi: 10.4103/2303-9027.138783.", "10.4103/2303-9027.138783"),
    ("DOI 10.1000/ABC", "10.1000/abc"),
    ("10.abc/x", None),
    ("10.1234/", None),
    ("see the journal website", None),
    ("", None),
    (None, None),
])
def test_normalise_doi(raw, doi):
    assert normalise_doi(raw) == doi


def test_doi_in_a_link_resolver_url_with_an_escaped_slash():
    link = ("https://x.worldcat.org/link?sid=EMBASE&id=doi:10.1038%2Fs41598-024-65283-y"
            "&atitle=Erratum")
    assert doi_in_text(link) == "10.1038/s41598-024-65283-y"


def test_every_rayyan_csv_doi_is_clean(testdata):
    # Rayyan writes "10.x/y     LK  - https://…" into every DOI cell of this real export.
    path = testdata / "screening/cff___baseline_rayyan.csv"
    raw = path.read_text(encoding="utf-8")
    assert raw.count("     LK  - ") >= 10
    table = read_csv_export(path, source="rayyan")
    assert len(table) == 10
    assert table["doi"].notna().all()
    assert table["doi"].str.fullmatch(r"10\.\d+/\S+").all()
    assert "10.1038/s41598-024-65283-y" in set(table["doi"])


def test_rayyan_ris_doi(tmp_path):
    path = tmp_path / "rayyan.ris"
    path.write_text("TY  - JOUR\nTI  - A title\nDO  - 10.1111/cla.12583     LK  - "
                    "https://x.org/link?id=doi:10.1111%2Fcla.12583\nER  - \n")
    assert read_ris(path, source="rayyan").loc[0, "doi"] == "10.1111/cla.12583"


def test_a_value_that_is_not_a_doi_is_left_out_with_a_warning(tmp_path, caplog):
    path = tmp_path / "bad.ris"
    path.write_text("TY  - JOUR\nTI  - A title\nDO  - unknown\nER  - \n")
    with caplog.at_level(logging.WARNING):
        table = read_ris(path, source="x")
    assert table.loc[0, "doi"] is None
    assert "'unknown' is not a DOI" in caplog.text
    assert "bad.ris" in caplog.text


def test_embase_pmid_from_c5_whatever_the_order_of_db_lines(testdata, tmp_path):
    path = testdata / "exports/embase/asreview__embase.ris"
    table = read_ris(path, source="embase")
    assert table["pmid"].dropna().tolist() == ["15368318", "30396417", "21218094"]
    # The same real records with "DB - Medline" before "DB - Embase", and with only an
    # empty DB line: the PMID is still read.
    text = path.read_text(encoding="utf-8-sig")
    swapped = text.replace("DB  - Embase\nDB  - Medline", "DB  - Medline\nDB  - Embase")
    assert swapped != text
    (tmp_path / "swapped.ris").write_text(swapped, encoding="utf-8")
    assert read_ris(tmp_path / "swapped.ris", source="embase")["pmid"].dropna().tolist() \
        == ["15368318", "30396417", "21218094"]
    no_db = text.replace("DB  - Embase\n", "DB  -\n").replace("DB  - Medline\n", "")
    (tmp_path / "no_db.ris").write_text(no_db, encoding="utf-8")
    assert read_ris(tmp_path / "no_db.ris", source="embase")["pmid"].dropna().tolist() \
        == ["15368318", "30396417", "21218094"]


def test_ovid_pmid_from_the_link_resolver_after_er_and_from_ovid_medline(tmp_path):
    path = tmp_path / "ovid.ris"
    path.write_text(
        "1.\nTY  - JOUR\nID  - 2019-65183-001\nT1  - First\nER  -\nNL  - Clin Psychol\n\n"
        "Link to the External Link Resolver: http://sfx.x.nl/utrecht?sid=OVID:psycdb&"
        "id=pmid:31234567&id=doi:10.1002%2Fcpp.2398&issn=1063-3995\n\n"
        "2.\nTY  - JOUR\nDB  - Ovid MEDLINE(R)\nAN  - 30000001\nT1  - Second\nER  -\n\n"
        "3.\nTY  - JOUR\nT1  - Third\nER  -\n\nLink to the External Link Resolver: "
        "http://sfx.x.nl/utrecht?sid=OVID:psycdb&id=pmid:&id=doi:10.1/x\n")
    table = read_ris(path, source="ovid")
    assert table["pmid"].tolist() == ["31234567", "30000001", None]


def test_ovid_psycinfo_has_no_pmid_when_the_resolver_link_has_none(testdata):
    table = read_ris(testdata / "exports/embase/asreview__ovid_psycinfo.ris", source="psyc")
    assert table["pmid"].isna().all()
    assert table["doi"].str.startswith("10.").all()
