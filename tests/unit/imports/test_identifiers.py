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


@pytest.mark.parametrize("raw,doi", [
    ("urn:doi:10.1000/ABC.1", "10.1000/abc.1"),
    ("info:doi/10.1000/abc.1", "10.1000/abc.1"),
    ("ARTN 106\n10.1016/j.envint.2019.106", "10.1016/j.envint.2019.106"),
    ("10.1002/(SICI)1097-4636(199603)30:3<329::AID-JBM7>3.0.CO;2-M",
     "10.1002/(sici)1097-4636(199603)30:3<329::aid-jbm7>3.0.co;2-m"),
    ("10.1002/(sici)1097-4636(199603)30:3_329::aid-jbm7_3.0.co;2-m",
     "10.1002/(sici)1097-4636(199603)30:3<329::aid-jbm7>3.0.co;2-m"),
    ("10.1000/a_b_c", "10.1000/a_b_c"),  # underscores elsewhere are the DOI's own
], ids=["urn_doi", "info_doi", "artn_line_before", "sici_brackets", "sici_underscores",
        "plain_underscores"])
def test_dois_recovered_in_one_form(raw, doi):
    """Issue 17: DOIs that were not recovered, and the two written forms of a SICI DOI."""
    assert normalise_doi(raw) == doi


@pytest.mark.parametrize("link,doi", [
    ("https://onlinelibrary.wiley.com/doi/full/10.1002/jbm.820300307", "10.1002/jbm.820300307"),
    ("https://onlinelibrary.wiley.com/doi/10.1002/jbm.820300307/abstract",
     "10.1002/jbm.820300307"),
    ("https://journals.sagepub.com/doi/pdf/10.1177/0956797620904990",
     "10.1177/0956797620904990"),
])
def test_doi_only_in_a_publisher_link(link, doi):
    assert doi_in_text(link) == doi


def test_endnote_ris_pmid_from_an_and_dp_nlm_and_scopus_eid_from_its_link(tmp_path):
    """Issue 17: EndNote's RIS of PubMed records gives the PMID as AN with DP NLM (the PMID
    was not taken); Scopus RIS gives the EID only in UR (the record got a content hash)."""
    path = tmp_path / "endnote.ris"
    path.write_text(
        "TY  - JOUR\nTI  - One\nAU  - Smith, J\nPY  - 2018\nAN  - 29657938\nDP  - NLM\n"
        "ER  - \n\n"
        "TY  - JOUR\nTI  - Two\nAU  - Li, X\nPY  - 2019\nDB  - Scopus\n"
        "UR  - https://www.scopus.com/inward/record.uri?eid=2-s2.0-85074596690&doi=10.1016"
        "%2fj.psyneuen.2019.104501&partnerID=40\nER  - \n", encoding="utf-8")
    table = read_ris(path, source="src")
    assert table["pmid"].tolist()[0] == "29657938"
    assert table["record_id"].tolist() == ["src:29657938", "src:2-s2.0-85074596690"]


@pytest.mark.parametrize("raw,shown", [
    ("Effect of <i>Staphylococcus aureus</i> on CD4<sup>+</sup> cells",
     "Effect of Staphylococcus aureus on CD4+ cells"),
    ("Patients&#39; views &amp; outcomes", "Patients' views & outcomes"),
    ("Mortality at p<0.05 and a<b", "Mortality at p<0.05 and a<b"),
    ("<span class=\"x\">Span</span>  title", "Span title"),
], ids=["italic_and_sup", "entities", "comparisons_kept", "span"])
def test_titles_are_shown_without_markup_and_entities(raw, shown):
    """Issue 17: titles kept markup and entities (<i>...</i>, &#39;) wherever they were
    shown; the record table keeps the source's text."""
    from sysrev.imports.records import display_title

    assert display_title(raw) == shown


def test_reference_exports_show_the_display_title():
    import pandas as pd

    from sysrev.exports import REFERENCE_COLUMNS, bibtex_text, ris_text

    refs = pd.DataFrame([{"record_id": "src:1", "title": "A <i>Bacillus</i> &#39;study&#39;",
                          "authors": "Smith, J", "year": "2020", "journal": "J"}],
                        columns=REFERENCE_COLUMNS).fillna("")
    assert "TI  - A Bacillus 'study'" in ris_text(refs)
    assert "<i>" not in bibtex_text(refs) and "&#39;" not in bibtex_text(refs)
