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
