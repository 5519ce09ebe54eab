"""CSV exports of Zotero, Rayyan, Lens.org, PubMed, Cochrane CENTRAL, CINAHL, the older
Embase.com layout and abstrackr read as the generic ``csv`` format.

Each minimal file is written with the header row its tool writes (column names and order as
in the tool's export; the records are synthetic: titles "Synthetic …", DOIs under the
``10.5555`` example prefix).
"""

import pytest

from sysrev.errors import InputError
from sysrev.imports import read_csv_export
from sysrev.imports.csv_export import split_authors

ZOTERO = (
    '"Key","Item Type","Publication Year","Author","Title","Publication Title","ISBN","ISSN",'
    '"DOI","Url","Abstract Note","Date","Date Added","Date Modified","Access Date","Pages",'
    '"Num Pages","Issue","Volume","Number Of Volumes","Journal Abbreviation","Short Title",'
    '"Series","Series Number","Series Text","Series Title","Publisher","Place","Language",'
    '"Rights","Type","Archive","Archive Location","Library Catalog","Call Number","Extra",'
    '"Notes"\n'
    '"ABCD1234","journalArticle","2021","Okafor, Chidi; Müller, Anna","Synthetic record 1",'
    '"Journal of Synthetic Studies","","1234-5678","10.5555/syn.1","","An abstract.",'
    '"2021-03","","","","101-109","","2","14","","J Synth Stud","","","","","","","","en",'
    '"","","","","PubMed","","PMID: 33000001","",""\n')

LENS = (
    "Lens ID,Title,Date Published,Publication Year,Publication Type,Source Title,ISSNs,"
    "Publisher,Source Country,Author/s,Abstract,Volume,Issue Number,Start Page,End Page,"
    "Fields of Study,Keywords,MeSH Terms,Chemicals,Funding,Source URLs,External URL,PMID,DOI,"
    "Microsoft Academic ID,PMCID,Citing Patents Count,References,Citing Works Count,"
    "Is Open Access,Open Access License,Open Access Colour\n"
    "000-111-222-333-444,Synthetic record 2,2020-05-01,2020,journal article,"
    "Synthetic Medicine,,,,Chidi Okafor; Anna Müller,Abstract two.,7,3,45,52,,,,,,,,"
    "33000002,10.5555/syn.2,,,0,,0,false,,\n")

PUBMED = (
    "PMID,Title,Authors,Citation,First Author,Journal/Book,Publication Year,Create Date,"
    "PMCID,NIHMS ID,DOI\n"
    '33000003,Synthetic record 3.,"Okafor C, Müller A, dos Santos JP",'
    '"Synth Med. 2019 Jan;12(4):301-310. doi: 10.5555/syn.3.",Okafor C,Synth Med,2019,'
    "2019/01/05,,,10.5555/syn.3\n")

CENTRAL = (
    '"Record Number","ID","Title","Author(s)","Source","Year","Volume","Issue","Pages",'
    '"DOI","Accession Number","Publication Type","Abstract"\n'
    '"1","CN-02000001","Synthetic record 4","Okafor C; Müller A","Synthetic Trials",'
    '"2018","5","1","1-9","10.5555/syn.4","PUBMED 33000004","Journal article","A trial."\n')

CINAHL = (
    '"Article Title","Author","Journal Title","ISSN","ISBN","Publication Date","Volume",'
    '"Issue","First Page","Page Count","Accession Number","DOI","Publisher","Doctype",'
    '"Subjects","Keywords","Abstract","PLink"\n'
    '"Synthetic record 5","Okafor, Chidi; Müller, Anna","Synthetic Nursing","","",'
    '"20170301","9","2","77","8","150000005","10.5555/syn.5","","Article","","",'
    '"Abstract five.",""\n')

EMBASE_OLD = (
    '"Title","Author Names","Source","Full Text Link","Embase Accession ID","Medline PMID",'
    '"Abstract"\n'
    '"Synthetic record 6","Okafor C., Muller A.","Synthetic Endoscopy 2014 3:3 (152-160)",'
    '"http://dx.doi.org/10.5555/syn.6","L600000006","33000006","Abstract six."\n')

ABSTRACKR = (
    '(internal) id,(source) id,pubmed id,keywords,abstract,title,journal,authors,tags,notes\n'
    '1,7,33000007,,Abstract seven.,Synthetic record 7,Synthetic Journal,'
    '"Okafor, C.; Müller, A.",,\n')


@pytest.mark.parametrize("name,text,layout,expected", [
    ("zotero", ZOTERO, "csv", dict(
        source_id="ABCD1234", title="Synthetic record 1", authors="Okafor, Chidi; Müller, Anna",
        year="2021", journal="Journal of Synthetic Studies", abstract="An abstract.",
        doi="10.5555/syn.1", pmid="33000001", pages="101-109", volume="14", issue="2")),
    ("lens", LENS, "csv", dict(
        source_id="000-111-222-333-444", authors="Chidi Okafor; Anna Müller", year="2020",
        journal="Synthetic Medicine", pages="45-52", issue="3", pmid="33000002",
        doi="10.5555/syn.2", abstract="Abstract two.")),
    ("pubmed", PUBMED, "csv", dict(
        source_id=None, pmid="33000003", authors="Okafor C; Müller A; dos Santos JP",
        journal="Synth Med", year="2019", volume="12", issue="4", pages="301-310",
        doi="10.5555/syn.3")),
    ("central", CENTRAL, "csv", dict(
        authors="Okafor C; Müller A", journal="Synthetic Trials", year="2018",
        doi="10.5555/syn.4", pages="1-9")),
    ("cinahl", CINAHL, "csv", dict(
        source_id="150000005", title="Synthetic record 5", journal="Synthetic Nursing",
        year="2017", pages="77", doi="10.5555/syn.5", abstract="Abstract five.")),
    ("embase_old", EMBASE_OLD, "embase_csv", dict(
        source_id="L600000006", journal="Synthetic Endoscopy", year="2014", volume="3",
        issue="3", pages="152-160", doi="10.5555/syn.6", pmid="33000006",
        authors="Okafor C.; Muller A.")),
    ("abstrackr", ABSTRACKR, "csv", dict(
        source_id="7", pmid="33000007", title="Synthetic record 7", journal="Synthetic Journal",
        authors="Okafor, C.; Müller, A.", abstract="Abstract seven.")),
])
def test_tool_csv_layouts(tmp_path, name, text, layout, expected):
    path = tmp_path / f"{name}.csv"
    path.write_text(text, encoding="utf-8")
    row = read_csv_export(path, source="x", layout=layout).iloc[0]
    for key, value in expected.items():
        if key == "source_id" and value is None:
            assert row["source_id"].startswith("h")  # no id column: content hash
            continue
        assert row[key] == value, key


def test_a_csv_with_no_title_column_lists_headers_found_and_expected(tmp_path):
    path = tmp_path / "wos.csv"
    path.write_text("PT,AU,TI2,SO\nJ,\"Smith, J\",A title,Nature\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_csv_export(path, source="x")
    message = str(err.value)
    assert "wos.csv, line 1" in message
    assert "headers found: 'PT', 'AU', 'TI2', 'SO'" in message
    assert "'Article Title'" in message and "'title'" in message


@pytest.mark.parametrize("cell,names", [
    ("['Smith, John', 'Li, Xiu']", ["Smith, John", "Li, Xiu"]),
    ('["Smith, John"]', ["Smith, John"]),
    ("Smith, J. and van der Berg, A. and Li, X.", ["Smith, J.", "van der Berg, A.", "Li, X."]),
    ("Smith J, Li XY, dos Santos JP", ["Smith J", "Li XY", "dos Santos JP"]),
    ("Smith J., Li X.", ["Smith J.", "Li X."]),
    ("Smith, John; Li, Xiu", ["Smith, John", "Li, Xiu"]),
    ("Smith, John", ["Smith, John"]),
    ("World Health Organization", ["World Health Organization"]),
])
def test_split_authors(cell, names):
    assert split_authors(cell) == names


def test_rayyan_authors_joined_with_and(testdata):
    table = read_csv_export(testdata / "screening/cff___baseline_rayyan.csv", source="r")
    assert table.loc[0, "authors"] == "Yang, Z.; Jiang, B.; Xu, J.; McNamara, M.E."
    assert table.loc[0, "source_id"] == "rayyan-42924189"


def test_wos_tab_delimited_utf16(tmp_path):
    # Web of Science "Tab delimited file": UTF-16LE with BOM, two-letter column names.
    header = ("PT\tAU\tBA\tBE\tGP\tAF\tBF\tCA\tTI\tSO\tSE\tBS\tLA\tDT\tCT\tCY\tCL\tSP\tHO\t"
              "DE\tID\tAB\tC1\tRP\tEM\tRI\tOI\tFU\tFX\tCR\tNR\tTC\tZ9\tU1\tU2\tPU\tPI\tPA\t"
              "SN\tEI\tBN\tJ9\tJI\tPD\tPY\tVL\tIS\tPN\tSU\tSI\tMA\tBP\tEP\tAR\tDI\tD2\tEA\t"
              "PG\tWC\tSC\tGA\tUT\tPM\tOA\tHC\tHP\tDA")
    cells = dict.fromkeys(header.split("\t"), "")
    cells.update({"PT": "J", "AU": "Okafor, C; Muller, A", "TI": "Synthetic record 8",
                  "SO": "SYNTHETIC JOURNAL", "LA": "English", "DT": "Article", "PY": "2016",
                  "VL": "75", "IS": "6", "BP": "983", "EP": "991", "DI": "10.5555/syn.8",
                  "UT": "WOS:000300000000008", "PM": "33000008",
                  "ID": "BONE EROSION; DENOSUMAB"})  # Keywords Plus, not an id
    path = tmp_path / "savedrecs.txt"
    path.write_bytes((header + "\r\n" + "\t".join(cells.values()) + "\r\n").encode("utf-16"))
    from sysrev.imports.sources import import_export_file
    table, report = import_export_file(path, source="wos")
    assert report.detected_format == "csv" and report.encoding == "utf-16"
    row = table.iloc[0]
    assert (row["source_id"], row["pmid"], row["doi"], row["title"], row["authors"],
            row["journal"], row["year"], row["volume"], row["issue"], row["pages"]) == (
        "WOS:000300000000008", "33000008", "10.5555/syn.8", "Synthetic record 8",
        "Okafor, C; Muller, A", "SYNTHETIC JOURNAL", "2016", "75", "6", "983-991")


#: The header row of ASReview's Embase test files (github.com/asreview/asreview,
#: tests/demo_data/embase.csv and embase_newpage.csv, Apache-2.0), checked against them on
#: 2026-12-07: sysrev's older-layout reader was written from this header.
EMBASE_OLDER_HEADER = (
    "Title,Original Title,Author Names,Correspondence Address,Editors,Source,Abstract,"
    "Original Abstract,Emtree Drug Index Terms (Major Focus),Emtree Drug Index Terms,"
    "Emtree Medical Index Terms (Major Focus),Emtree Medical Index Terms,keywords,"
    "Drug Tradenames,Drug Manufacturer,Device Tradenames,Device Manufacturer,"
    "Clinical Trial Numbers,Open URL Link,Copyright")

#: Every record's Source cell and the DOI in its Open URL Link, as those files write them
#: (citations only; their abstracts and index terms are not copied here). The third has a
#: volume and no issue; the fifth a day-month-year date after the citation.
EMBASE_OLDER_CITATIONS = [
    ("Endoscopic Ultrasound (2014) 3:3 (152-160). Date of Publication: 2014",
     "22267190", "10.4103%2F2303-9027.138783",
     ("Endoscopic Ultrasound", "2014", "3", "3", "152-160", "10.4103/2303-9027.138783")),
    ("Cancer (2004) 102:4 (253-258). Date of Publication: 25 Aug 2004",
     "0008543X", "10.1002%2Fcncr.20369",
     ("Cancer", "2004", "102", "4", "253-258", "10.1002/cncr.20369")),
    ("International Journal of Surgery Case Reports (2019) 54 (83-86). Date of Publication: "
     "1 Jan 2019", "22102612", "10.1016%2Fj.ijscr.2018.11.060",
     ("International Journal of Surgery Case Reports", "2019", "54", None, "83-86",
      "10.1016/j.ijscr.2018.11.060")),
    ("Clinics in Perinatology (2018) 45:4 (769-785). Date of Publication: 1 Dec 2018",
     "15579840", "10.1016%2Fj.clp.2018.07.012",
     ("Clinics in Perinatology", "2018", "45", "4", "769-785", "10.1016/j.clp.2018.07.012")),
    ("World Journal of Gastroenterology (2011) 17:1 (130-134). Date of Publication: "
     "January 7, 2011", "10079327", "10.3748%2Fwjg.v17.i1.130",
     ("World Journal of Gastroenterology", "2011", "17", "1", "130-134",
      "10.3748/wjg.v17.i1.130")),
    ("Journal of Endourology Case Reports (2017) 3:1 (31-33). Date of Publication: "
     "1 Mar 2017", "23799889", "10.1089%2Fcren.2017.0016",
     ("Journal of Endourology Case Reports", "2017", "3", "1", "31-33",
      "10.1089/cren.2017.0016")),
]


def test_older_embase_layout_reads_every_citation_of_asreviews_test_files(tmp_path):
    """Issue 17: the older Embase.com CSV, with the real header and each record's Source
    and Open URL Link as ASReview's embase.csv writes them (its embase_newpage.csv differs
    only in abstracts holding blank lines, kept here too)."""
    import csv
    import io

    from sysrev.imports.detect import detect_text_format

    header = EMBASE_OLDER_HEADER.split(",")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for i, (source, issn, doi, _) in enumerate(EMBASE_OLDER_CITATIONS):
        row = dict.fromkeys(header, "")
        row.update({"Title": f"Synthetic record {i}", "Author Names": "Liu R., Adler D.G.",
                    "Source": source, "Abstract": "TEST\n\nAn abstract.",
                    "Open URL Link": f"http://sfx.library.uu.nl/utrecht?sid=EMBASE&issn={issn}"
                                     f"&id=doi:{doi}&atitle=Synthetic&volume=3&issue=3",
                    "Copyright": "Copyright 2014 Elsevier B.V., All rights reserved."})
        writer.writerow(row.values())
    path = tmp_path / "embase.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    assert detect_text_format(out.getvalue()) == "embase_csv"
    table = read_csv_export(path, source="embase", layout="embase_csv")
    got = [tuple(None if v is None or v != v else v for v in row) for row in
           table[["journal", "year", "volume", "issue", "pages", "doi"]].itertuples(
               index=False, name=None)]
    assert got == [expected for *_, expected in EMBASE_OLDER_CITATIONS]
    assert table["authors"].tolist() == ["Liu R.; Adler D.G."] * 6
    assert table["abstract"].str.contains("An abstract.").all()


@pytest.mark.parametrize("name", ["asreview__embase.csv", "asreview__embase_newpage.csv"])
def test_older_embase_layout_real_files_when_present(testdata, name):
    """The same with ASReview's files themselves, when ../shared/testdata holds them
    (exports/embase/; skipped otherwise)."""
    path = testdata / "exports" / "embase" / name
    if not path.is_file():
        pytest.skip(f"{path} is not present")
    table = read_csv_export(path, source="embase", layout="embase_csv")
    assert len(table) == len(EMBASE_OLDER_CITATIONS)
    assert set(table["doi"]) == {expected[-1] for *_, expected in EMBASE_OLDER_CITATIONS}
    assert table["journal"].tolist()[0] == "Endoscopic Ultrasound"
