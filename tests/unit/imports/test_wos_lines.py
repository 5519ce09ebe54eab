"""Malformed Web of Science tag lines and unreadable years are reported with their line,
not silently altered or blanked."""

import logging

import pytest

from sysrev.errors import InputError
from sysrev.imports import read_wos


def test_malformed_au_line_in_a_real_export_is_repaired_and_reported(testdata, caplog):
    # metaknowledge's test file has "AUGilles, H" (no space after the tag) at line 416.
    path = testdata / "exports/wos_tagged/metaknowledge__testFile.isi"
    assert path.read_text(encoding="utf-8").split("\n")[415] == "AUGilles, H"
    with caplog.at_level(logging.WARNING):
        table = read_wos(path, source="wos")
    assert len(table) == 34
    authors = table["authors"].dropna()
    assert authors.str.contains("Gilles, H").any()
    assert not authors.str.contains(r"(?:^|; )illes, H").any()
    assert "line 416: malformed tag line 'AUGilles, H'" in caplog.text


WOS = "FN Clarivate Analytics Web of Science\nVR 1.0\n{records}EF\n"
RECORD = "PT J\nAU Smith, J\nTI A synthetic title\nSO SYNTHETIC JOURNAL\nPY {year}\n" \
         "UT WOS:{ut}\nER\n\n"


def test_a_year_like_10_15_is_reported_with_the_line(tmp_path, caplog):
    path = tmp_path / "years.txt"
    path.write_text(WOS.format(records=RECORD.format(year="2015", ut="1")
                               + RECORD.format(year="10 15", ut="2")), encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        table = read_wos(path, source="wos")
    assert table["year"].tolist() == ["2015", None]
    assert "years.txt, line 11: year '10 15' holds no four-digit year" in caplog.text


def test_a_line_that_is_no_tag_is_an_error_naming_it(tmp_path):
    path = tmp_path / "junk.txt"
    path.write_text(WOS.format(records=RECORD.format(year="2015", ut="1").replace(
        "TI A synthetic", "ti: A synthetic")), encoding="utf-8")
    with pytest.raises(InputError, match=r"junk.txt, line 5: not a Web of Science tag"):
        read_wos(path, source="wos")
