"""BibTeX (Zotero, JabRef), MEDLINE-tagged records without a PMID (ERIC via EBSCO) and Ovid
field-label text. The minimal files follow each tool's layout; records are synthetic."""

import pytest

from sysrev.errors import InputError
from sysrev.imports import import_records, read_bibtex, read_medline, read_ovid

ZOTERO_BIB = r"""
@article{okafor_synthetic_2021,
	title = {Synthetic record 1: {A} trial of {\"u}ber-care},
	volume = {14},
	issn = {1234-5678},
	url = {https://doi.org/10.5555/syn.1},
	doi = {10.5555/syn.1},
	abstract = {An abstract with 10\% of \{braced\} \& escaped things.},
	language = {en},
	number = {2},
	journal = {Journal of Synthetic Studies},
	author = {Okafor, Chidi and Ludwig van Beethoven and {World Health Organization} and M{\"u}ller, Anna},
	year = {2021},
	pmid = {33000001},
	pages = {101--109},
}

@inproceedings{li_conference_2019,
	address = {Lyon},
	title = {Synthetic record 2},
	booktitle = {Proceedings of the {Synthetic} {Conference}},
	author = {Li, Xiu},
	year = {2019},
	pages = {5--6},
}
"""

JABREF_BIB = """% Encoding: UTF-8

@Article{Smith2020,
  author    = {John Smith and Jean-Pierre dos Santos},
  title     = {Synthetic record 3},
  journal   = {Synthetic Medicine},
  year      = {2020},
  volume    = {7},
  number    = {3},
  pages     = {45--52},
  doi       = {https://doi.org/10.5555/syn.3},
}

@Comment{jabref-meta: databaseType:bibtex;}
"""


def test_zotero_bibtex(tmp_path):
    path = tmp_path / "zotero.bib"
    path.write_text(ZOTERO_BIB, encoding="utf-8")
    table = read_bibtex(path, source="zotero")
    assert len(table) == 2
    first = table.iloc[0]
    assert first["record_id"] == "zotero:okafor_synthetic_2021"
    assert first["title"] == "Synthetic record 1: A trial of über-care"
    assert first["authors"] == ("Okafor, Chidi; van Beethoven, Ludwig; "
                                "World Health Organization; Müller, Anna")
    assert (first["year"], first["journal"], first["volume"], first["issue"],
            first["pages"], first["doi"], first["pmid"]) == (
        "2021", "Journal of Synthetic Studies", "14", "2", "101-109", "10.5555/syn.1",
        "33000001")
    assert first["abstract"] == "An abstract with 10% of {braced} & escaped things."
    second = table.iloc[1]
    assert (second["journal"], second["publication_types"], second["authors"]) == (
        "Proceedings of the Synthetic Conference", "inproceedings", "Li, Xiu")


def test_jabref_bibtex_through_import_records(tmp_path):
    path = tmp_path / "jabref.bib"
    path.write_text(JABREF_BIB, encoding="utf-8")
    table = import_records(path, source="jabref", fmt="bibtex")
    assert len(table) == 1
    row = table.iloc[0]
    assert row["authors"] == "Smith, John; dos Santos, Jean-Pierre"
    assert row["doi"] == "10.5555/syn.3"


def test_malformed_bibtex_names_the_line(tmp_path):
    path = tmp_path / "cut.bib"
    path.write_text(JABREF_BIB.split("@Comment")[0]
                    + "@article{b,\n  title = {Unclosed\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"cut.bib, line 14: malformed BibTeX entry"):
        read_bibtex(path, source="x")


ERIC_NBIB = """TI  - Synthetic record 4: Reading in Schools.
AU  - Okafor, Chidi
AU  - Li, Xiu
SO  - Journal of Synthetic Education. 2018 33(2):150-162.
DP  - 2018
JT  - Journal of Synthetic Education
VI  - 33
IP  - 2
PG  - 150-162
AB  - An ERIC abstract.
AN  - EJ1170001
LA  - English
PT  - Journal Articles

TI  - Synthetic record 5: A Report.
AU  - Dvorak, Jan
DP  - 2017
AN  - ED580001
AID - 10.5555/syn.5 [doi]
"""


def test_medline_tagged_records_without_pmid(tmp_path):
    path = tmp_path / "eric.nbib"
    path.write_text(ERIC_NBIB, encoding="utf-8")
    table = read_medline(path, source="eric")
    assert table["record_id"].tolist() == ["eric:EJ1170001", "eric:ED580001"]
    assert table["pmid"].isna().all()
    assert table.iloc[0]["authors"] == "Okafor, Chidi; Li, Xiu"
    assert table.iloc[0]["journal"] == "Journal of Synthetic Education"
    assert table.iloc[1]["doi"] == "10.5555/syn.5"


OVID_TEXT = """Database: Ovid MEDLINE(R) ALL <1946 to December 04, 2026>
Search Strategy:
--------------------------------------------------------------------------------
1     exp Synthetic/ (12)

***************************

<1>
Unique Identifier
  33000006
Title
  Synthetic record 6: a cohort.
Source
  Journal of Synthetic Cohorts. 12(3):45-67, 2019 Mar.
Authors
  Okafor C
  Muller A
Digital Object Identifier
  https://dx.doi.org/10.5555/syn.6
Database
  Ovid MEDLINE(R) ALL
Abstract
  First line of the abstract
  and its second line.

<2>
Accession Number
  2019-00007-001
Title
  Synthetic record 7.
Authors
  Li, Xiu; Dvorak, Jan
Source
  Synthetic Psychology. Vol.8(1), pp. 10-19. Jan 2018.
Database
  APA PsycInfo
Link to the External Link Resolver
  http://sfx.example.org/x?sid=OVID:psycdb&id=pmid:33000007&id=doi:10.5555%2Fsyn.7
"""


def test_ovid_field_label_text(tmp_path):
    path = tmp_path / "ovid.txt"
    path.write_text(OVID_TEXT, encoding="utf-8")
    table = read_ovid(path, source="ovid")
    assert len(table) == 2
    first, second = table.iloc[0], table.iloc[1]
    assert (first["pmid"], first["title"], first["authors"], first["journal"], first["year"],
            first["volume"], first["issue"], first["pages"], first["doi"]) == (
        "33000006", "Synthetic record 6: a cohort.", "Okafor C; Muller A",
        "Journal of Synthetic Cohorts", "2019", "12", "3", "45-67", "10.5555/syn.6")
    assert first["abstract"] == "First line of the abstract and its second line."
    assert (second["source_id"], second["pmid"], second["doi"], second["authors"],
            second["journal"], second["year"], second["volume"], second["issue"],
            second["pages"]) == (
        "2019-00007-001", "33000007", "10.5555/syn.7", "Li, Xiu; Dvorak, Jan",
        "Synthetic Psychology", "2018", "8", "1", "10-19")


def test_ovid_text_with_a_record_missing(tmp_path):
    path = tmp_path / "ovid.txt"
    path.write_text(OVID_TEXT.replace("<2>", "<3>"), encoding="utf-8")
    with pytest.raises(InputError, match=r"ovid.txt, line \d+: record <3> where <2> was"):
        read_ovid(path, source="ovid")
