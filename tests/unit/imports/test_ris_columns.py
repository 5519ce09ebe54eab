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
        theirs = _tables(reference.iter_ris_tables, path, size)
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
