"""The one-pass RIS reader with its column-wise mapping (issue 20) gives the table the
rispy-based, row-by-row reader gave (``ris_rispy_reference``, the module as it was): on the
shared RIS exports, the bundled review's, the export layouts of ``export_layouts``, a file
generated with every parse case rispy treats in its own way (continuation lines of single
and list tags, blank lines inside a record, repeated and unknown tags, ``UR`` split on
``;``, lines between records, Ovid's link lines after ``ER``), and look-alike records as the
workflow benchmark writes them; in batches of 1, 7 and the default size. Where the reference
raised an error, so must the reader, with the same message."""

from __future__ import annotations

import sys

import pandas as pd
import pytest

from sysrev.errors import InputError
from sysrev.imports.ris import iter_ris_tables
from tests.conftest import REPO, SHARED_TESTDATA
from tests.unit.imports import export_layouts
from tests.unit.imports import ris_rispy_reference as reference

BUNDLED = sorted((REPO / "data/denosumab_ra/exports").glob("*.ris"))
SHARED = sorted(p for p in (SHARED_TESTDATA / "exports").rglob("*")
                if p.is_file() and b"TY  - " in p.read_bytes()) if SHARED_TESTDATA.is_dir() else []

EDGE_CASES = """\
Some header line before the first record
TY  - JOUR
AN  - A1
TI  - A title that goes on
  on the next line
AU  - Smith, J
continued author line
AU  - Doe, K
TI  - A second TI, ignored
UR  - http://example.org/a; https://doi.org/10.1000/XYZ.1 ;
ZZ  - an unknown tag
more unknown text
U2  - L123

KW  - one
DB  - Embase
C5  - 12345
PY  - 2019///
ER  - 
Link to the External Link Resolver: http://x.org/?id=pmid:999&y=1

TY  - CHAP
T1  - Primary title only
A1  - First, Author
Y1  - 2001/01/02
JF  - Journal Full
SP  - No
EP  - Specified
M3  - Article; Review
N1  - PMID: 4567
ER  - 
6. 
TY  - JOUR
AN  - A1
ST  - Short title
T2  - Secondary
SP  - 10
EP  - 10
L1  - https://onlinelibrary.wiley.com/doi/full/10.1002/abc.123/full
DO  - 
LA  - eng
N2  - Abstract in N2
ER  - 
TY  - JOUR
ID  - 77
TT  - Translated title\twith a tab
AU  - 
VL  - 12
IS  - 3
JA  - J Abbr
DA  - undated
UR  - https://www.scopus.com/inward/record.uri?eid=2-s2.0-85012345678&partnerID=40
AB  - An abstract
ER  - 
TY  - JOUR
AN  - 31415
DB  - Ovid MEDLINE(R)
TI  - Ovid record
ER  - 
"""


def _tables(read, path, batch_records):
    try:
        tables = list(read(path, source="s", batch_records=batch_records))
    except InputError as error:
        return str(error)
    if not tables:
        return None
    return pd.concat(tables, ignore_index=True)


def _same(path, batch_sizes=(1, 7, 5000)):
    for size in batch_sizes:
        ours = _tables(iter_ris_tables, path, size)
        try:
            theirs = _tables(reference.iter_ris_tables, path, size)
        except KeyError:
            # rispy fails on a line without a tag that continues a single-valued tag the
            # record does not have (the previous record's last tag); the reader says so.
            assert "a line without a tag continues" in ours, (path, size, ours)
            continue
        if isinstance(theirs, pd.DataFrame):
            assert isinstance(ours, pd.DataFrame), (path, size, ours)
            pd.testing.assert_frame_equal(ours, theirs)
        else:
            assert ours == theirs, (path, size)


@pytest.mark.parametrize("path", BUNDLED + SHARED, ids=lambda p: p.name)
def test_exports_read_as_before(path):
    _same(path)


@pytest.mark.parametrize("layout", [name for name in dir(export_layouts)
                                    if name.endswith("_ris")])
def test_export_layouts_read_as_before(tmp_path, layout):
    path = tmp_path / f"{layout}.ris"
    path.write_bytes(getattr(export_layouts, layout)())
    _same(path)


def test_parse_edge_cases_read_as_before(tmp_path):
    path = tmp_path / "edge.ris"
    path.write_text(EDGE_CASES, encoding="utf-8")
    table = _tables(iter_ris_tables, path, 5000)
    assert len(table) == 5
    assert table.loc[0, "title"] == "A title that goes on on the next line"
    _same(path, batch_sizes=(1, 2, 3, 5000))


@pytest.mark.parametrize("text", [
    "TY  - JOUR\nTI  - x\nTY  - JOUR\nER  - \n",           # no ER before the next TY
    "TY  - JOUR\nTI  - x\nER  -x\nTY  - JOUR\nER  - \n",   # an ER rispy reads, the check not
    "ER  - \n",                                            # ER without TY
    "TY  - JOUR\nTI  - x\n",                               # truncated
    "TI  - x\nER  -\n",
    "TY  - JOUR\nER  - \nTYPO\nTI  - x\nTY  - JOUR\nER  - \n",  # a line rispy takes as a TY
])
def test_broken_files_fail_as_before(tmp_path, text):
    path = tmp_path / "bad.ris"
    path.write_text(text, encoding="utf-8")
    _same(path, batch_sizes=(1, 5000))


def test_lookalike_records_read_as_before(tmp_path):
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from bench_workflow import ris_text
        from dedup_generator import generate
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    table, _ = generate(300, seed=3)
    table = table.astype(object).where(table.notna(), None)
    path = tmp_path / "lookalike.ris"
    path.write_text(ris_text(table), encoding="utf-8")
    _same(path, batch_sizes=(7, 5000))


# What the regular-expression parse of a batch's text could get wrong, each against the
# rispy-based reader: continuation lines (of a single tag, a list tag, UR, an unknown tag,
# right after TY so that they continue the previous record's last tag), blank lines inside a
# record, tags without a value, "ER  -" without its space, an "ER  -x" line rispy closes the
# record at but the check does not take, values with white space str.strip removes (tab,
# form feed, NBSP, U+2003) and characters "." matches but str.split("\n") keeps in a line
# (U+2028, U+0085, \x1c), a sixth character that is not a space, tags rispy reads that the
# pattern does not ("A   -", lower case), repeated single tags, U2/DB/N1/UR lists, PMIDs in
# C5, N1 and a link (any case, a dotless i), Cochrane "Record #n of m" lines.
PARSE_CASES = {
    "continuation": (
        "TY  - JOUR\nTI  - Title\ncontinued\nAU  - A, B\nmore author\nUR  - http://a; b\n"
        "c ; d\nZZ  - z\nzz more\nER  - \n"
        "TY  - JOUR\nline right after TY\nTI  - x\nER  - \n"),
    "single_continued_from_previous_record": (
        "TY  - JOUR\nTI  - One\nER  - \nTY  - JOUR\nafter TY\nAU  - x\nER  - \n"),
    "blank_lines_inside": (
        "TY  - JOUR\nTI  - T\n\nAU  - A\n\n\nAU  - B\nJO  - J\n\nER  - \n\n\n"
        "TY  - JOUR\nTI  - T2\n\nER  - \n"),
    "no_values": (
        "TY  - JOUR\nTI  -\nT1  - Real title\nAU  - \nAU  -\nAU  - C\nDO  -\nPY  - \n"
        "AN  -\nU2  - \nU2  - L555\nDB  -\nDB  - Embase\nC5  - 777\nER  -\n"
        "TY  -\nTI  - typeless\nER  -\n"),
    "er_variants": (
        "TY  - JOUR\nTI  - a\nER  -\nTY  - JOUR\nTI  - b\nER  -x\nTI  - ignored\nER  - \n"
        "TY  - JOUR\nTI  - c\nER  - trailing text\n"),
    "white_space_and_separators": (
        "TY  - JOUR\nTI  - \t lead and trail \x0c\nAU  - \xa0Nbsp, A\u2003\nAU  - Tab\tName\n"
        "JO  - J\u2028line sep\x85nel\x1cfs\nAB  -    \nN2  - \u3000abstract\u3000\n"
        "VL  -x12\nIS  -\t3\nER  - \n"),
    "odd_tags": (
        "TY  - JOUR\nTI  - t\nA   - weird tag\nti  - lower case line\nAB  - abs\n"
        "\u00c41  - non-ASCII tag\nT   - x\nER  - \n"
        "TY  - JOUR\nTI  - t2\n1A  - digit first\nER  - \n"),
    "repeats_and_lists": (
        "TY  - JOUR\nTI  - first\nTI  - second\nAN  - \nAN  - A2\nU2  - u1\nU2  - u2\n"
        "DB  - Medline\nDB  - Ovid\nN1  - nothing\nN1  - PMID: 31415\nUR  - ; ;x\n"
        "ID  - 9\nSP  - No\nEP  - Pagination Specified\nER  - \n"
        "TY  - JOUR\nAN  - 123456\nDB  - Ovid MEDLINE(R)\nTI  - ovid\nER  - \n"
        "TY  - JOUR\nAN  - 654321\nDP  - NLM\nTI  - endnote\nER  - \n"
        "TY  - JOUR\nU2  - L99\nC5  - 4242\nTI  - embase\nER  - \n"),
    "links": (
        "TY  - JOUR\nTI  - a\nER  - \nLink: http://x/?sid=1&ID=PMID%3A123&x=1\n"
        "TY  - JOUR\nTI  - b\nER  - \nhttp://x/?\u0131d=pmid:456\nhttp://y/?id=pmid:789\n"
        "TY  - JOUR\nTI  - c\nLK  - http://x/?id=pmid:321&b=2\nER  - \n"
        "TY  - JOUR\nTI  - d\nER  - \n=pmid:1 ?id=pmid:\nid=pmid:5\n"),
    "cochrane": (
        "Record #1 of 3\nTY  - JOUR\nID  - CN-1\nTI  - one\nER  - \n\n"
        "Record #2 of 3\nTY  - JOUR\nID  - CN-2\nTI  - two\nER  - \n\n"
        "Record #3 of 3\nTY  - JOUR\nID  - CN-3\nTI  - three\nER  - \n\n"),
    "cochrane_cut": (
        "Record #1 of 4\nTY  - JOUR\nID  - CN-1\nTI  - one\nER  - \n\n"
        "Record #2 of 4\nTY  - JOUR\nID  - CN-2\nTI  - two\nER  - \n\n"),
    "ty_like_line_between_records": (
        "TY  - JOUR\nTI  - a\nER  - \nTY  -x\nTI  - b\nTY  - JOUR\nTI  - c\nER  - \n"),
    "continuation_of_previous_list_tag": (
        "TY  - JOUR\nTI  - a\nER  - \nTY  - JOUR\nAU  - x\nER  - \n"
        "TY  - JOUR\nstray line\nER  - \n"),
}
ENCODINGS = {
    "crlf": lambda text: text.replace("\n", "\r\n").encode("utf-8"),
    "cr": lambda text: text.replace("\n", "\r").encode("utf-8"),
    "bom": lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"),
    "utf16": lambda text: text.encode("utf-16"),
    "cp1252": lambda text: text.encode("cp1252", errors="replace"),
    "mixed": lambda text: text.encode("utf-8") + "TY  - JOUR\nTI  - caf\u00e9\nER  - \n"
                                                  .encode("cp1252"),
}


@pytest.mark.parametrize("case", sorted(PARSE_CASES))
def test_parse_cases_read_as_before(tmp_path, case):
    path = tmp_path / f"{case}.ris"
    path.write_text(PARSE_CASES[case], encoding="utf-8")
    _same(path, batch_sizes=(1, 2, 5000))


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_encodings_and_line_ends_read_as_before(tmp_path, encoding):
    text = "".join(PARSE_CASES[case] for case in ("continuation", "white_space_and_separators",
                                                  "repeats_and_lists", "links"))
    path = tmp_path / f"{encoding}.ris"
    path.write_bytes(ENCODINGS[encoding](text))
    _same(path, batch_sizes=(1, 5000))


def test_small_blocks_read_as_before(tmp_path, monkeypatch):
    """Blocks of a few characters: TY lines, CRLF line ends and batches cut anywhere."""
    from sysrev.imports import ris
    text = "Header\r\n\r\n" + "".join(PARSE_CASES[case] for case in (
        "continuation", "blank_lines_inside", "repeats_and_lists", "links"))
    for name, content in (("small", text), ("cochrane", PARSE_CASES["cochrane"])):
        path = tmp_path / f"{name}.ris"
        path.write_bytes(content.replace("\n", "\r\n").encode("utf-8"))
        whole = _tables(iter_ris_tables, path, 3)
        assert isinstance(whole, pd.DataFrame), whole
        for block in (1, 2, 5, 7, 64):
            monkeypatch.setattr(ris, "BLOCK_CHARS", block)
            _same(path, batch_sizes=(3,))
            pd.testing.assert_frame_equal(_tables(iter_ris_tables, path, 3), whole)


def test_random_records_read_as_before(tmp_path):
    """Files put together at random from lines every case above uses, against rispy."""
    import random
    pieces = ["TY  - JOUR", "TY  - JOUR", "TY  -", "ER  - ", "ER  - ", "ER  -", "ER  -x",
              "TI  - title", "TI  -", "T1  - t1", "AU  - A, B", "AU  -  spaced  name ",
              "A1  - First", "DB  - Embase", "DB  - Ovid MEDLINE", "C5  - 12", "AN  - 42",
              "AN  - gen:1", "U2  - L7", "UR  - a; https://doi.org/10.1/X ;",
              "N1  - PMID: 9", "DO  - 10.2/Y.", "DO  - doi:10.3/z", "PY  - 2001",
              "PY  - 1999///", "SP  - 5", "EP  - 9", "SP  - No", "EP  - Specified",
              "JO  - J", "M3  - Article;  Review", "LA  - eng", "AB  - abs", "KW  - k",
              "ZZ  - unknown", "continuation", "", "  ", "\tx", "TYPO", "Record #1 of 2",
              "?id=pmid:77", "TI  - caf\u00e9 \u2003", "ST  - s\x0c", "VL  -x1", "IS  - 2"]
    rng = random.Random(20)
    for k in range(60):
        lines = []
        for _ in range(rng.randint(1, 6)):
            lines.append("TY  - JOUR")
            lines.extend(rng.choice(pieces[7:]) for _ in range(rng.randint(0, 8)))
            lines.append(rng.choice(["ER  - ", "ER  - ", "ER  -", rng.choice(pieces)]))
            lines.extend(rng.choice(["", "", "Link ?id=pmid:5", rng.choice(pieces)])
                         for _ in range(rng.randint(0, 2)))
        path = tmp_path / f"random{k}.ris"
        path.write_text("\n".join(lines) + rng.choice(["", "\n"]), encoding="utf-8")
        _same(path, batch_sizes=(1, 2, 5000))
