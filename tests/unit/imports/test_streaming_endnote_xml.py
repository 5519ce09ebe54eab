"""EndNote XML exports stream (issue 20): read a batch of records at a time, they give the
table and TSV bytes of the whole-file reader, the same ``~2`` ids for accessions repeated
across batches, and the same errors in the same precedence (malformed XML, then the count of
``<record>`` tags, then a blank record), with nothing written."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sysrev.columns import RECORD_COLUMNS
from sysrev.errors import InputError
from sysrev.imports import endnote_xml
from sysrev.imports.endnote_xml import (BATCH_RECORDS, iter_endnote_xml_columns,
                                        read_endnote_xml)
from sysrev.imports.sources import import_export_file
from sysrev.tables import tsv_batches
from tests.unit.imports.batch_compare import assert_batches_equal_whole
from tests.unit.imports.test_formats import ENDNOTE_XML

SIZES = (1, 2, 7, BATCH_RECORDS)
HEAD = '<?xml version="1.0" encoding="UTF-8" ?>\n<xml><records>\n'
TAIL = "</records></xml>\n"


def _assert_batches_equal_whole(path: Path, tmp_path: Path) -> pd.DataFrame | None:
    return assert_batches_equal_whole(
        lambda: read_endnote_xml(path, source="s"),
        lambda size: iter_endnote_xml_columns(path, source="s", batch_records=size),
        SIZES, tmp_path, label=path,
        # a record inside a record comes in its outer record's batch: 2 for size 1
        largest=lambda size: max(size, 2))


def _record(n: int, accession: str | None = None) -> str:
    accession = accession or f"{26000000 + n}"
    return (f'<record><ref-type name="Journal Article">17</ref-type><contributors><authors>'
            f'<author><style face="normal">Smith, J{n}.</style></author></authors>'
            f'</contributors><titles><title>Title <style face="italic">{n}</style></title>'
            f'<secondary-title>J {n % 3}</secondary-title></titles><dates><year>20{n % 25:02d}'
            f'</year></dates><accession-num>{accession}</accession-num>'
            f'<urls><related-urls><url>https://doi.org/10.5555/x.{n}</url></related-urls>'
            f'</urls></record>\n')


def _generated(n: int = 30) -> str:
    return HEAD + "".join(_record(k, "A1" if k % 9 == 0 else None) for k in range(n)) + TAIL


@pytest.mark.parametrize("text", [
    ENDNOTE_XML,
    ENDNOTE_XML.replace("</record>\n", "</record>\n\n\n", 1)[:-40],  # cut: malformed
    "\n  \n" + ENDNOTE_XML,                  # white space (lines) before the declaration
    ENDNOTE_XML.split("?>", 1)[1],           # no declaration
    "",                                      # empty
    "<xml><records></records></xml>",        # no records
    HEAD + _record(1) + "</records>" + _record(2) + "</xml>",  # a record outside <records>
    "<records>" + _record(1) + "<x>" + _record(2) + "</x></records>",  # another root: all
    "<records><record><titles><title>Outer</title></titles>" + _record(3)
    + "</record>" + _record(4) + "</records>",  # a record inside a record (another root)
    HEAD + _record(1).replace("<record>", "<record>" + _record(9)) + TAIL,  # counted once
    HEAD + "<record>\n<titles><title>Line</title></titles></record>" + TAIL,  # <record\\n
    _generated(),
])
def test_files_in_batches_equal_the_whole_file(tmp_path, text):
    path = tmp_path / "library.xml"
    path.write_text(text, encoding="utf-8")
    _assert_batches_equal_whole(path, tmp_path)


def test_cp1252_file(tmp_path):
    path = tmp_path / "latin.xml"
    path.write_bytes(ENDNOTE_XML.replace('encoding="UTF-8"', 'encoding="windows-1252"')
                     .encode("cp1252"))
    assert _assert_batches_equal_whole(path, tmp_path).iloc[1]["title"] == "Caf\u00e9 au lait"


def test_generated_file_fed_in_small_chunks_with_repeats_across_batches(tmp_path,
                                                                         monkeypatch):
    """Chunks of 100 characters split tags (``<record>`` counted across chunk edges)."""
    monkeypatch.setattr(endnote_xml, "FEED_CHARS", 100)
    path = tmp_path / "library.xml"
    path.write_text(_generated(), encoding="utf-8")
    whole = _assert_batches_equal_whole(path, tmp_path)
    assert [i for i in whole["record_id"] if i.startswith("s:A1")] == [
        "s:A1", "s:A1~2", "s:A1~3", "s:A1~4"]


def test_testdata_xml_files_in_batches_equal_the_whole_file(testdata, tmp_path):
    """../shared/testdata holds no EndNote XML export; its other XML files (PubMed E-utilities
    answers) give the same outcome either way."""
    paths = sorted(testdata.rglob("*.xml"))
    assert paths
    for path in paths:
        _assert_batches_equal_whole(path, tmp_path)


@pytest.mark.parametrize("tail,message", [
    ("<record></record>" + TAIL, r"row 31: a record with no title"),  # blank, last batch
    ("<record></record><record>" + TAIL, r"line 33: malformed EndNote XML"),  # XML first
    ("<record></record>" + _record(99) + "</records><record></record></xml>",
     r"33 <record> tags in the file but 32 records read"),  # the count before the blank
])
def test_error_in_a_later_batch_is_the_whole_file_error(tmp_path, tail, message):
    path = tmp_path / "library.xml"
    path.write_text(_generated()[:-len(TAIL)] + tail, encoding="utf-8")
    _assert_batches_equal_whole(path, tmp_path)
    out = tmp_path / "records.tsv"
    with pytest.raises(InputError, match=message):
        with tsv_batches(out, RECORD_COLUMNS, sort_by=["source_position"]) as write:
            import_export_file(path, source="s", fmt="endnote_xml", sink=write)
    assert not out.exists()


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-8-sig"])
def test_utf16_and_bom_files(tmp_path, encoding):
    path = tmp_path / "library.xml"
    path.write_bytes(ENDNOTE_XML.replace('encoding="UTF-8"', f'encoding="{encoding}"')
                     .encode(encoding))
    assert _assert_batches_equal_whole(path, tmp_path).iloc[1]["title"] == "Caf\u00e9 au lait"
