"""format: auto recognises every format from the content; a declared format that the file
does not match is an error naming the format it looks like."""

import json
from pathlib import Path

import pandas as pd
import pytest

from sysrev.errors import InputError
from sysrev.imports.detect import detect_format
from sysrev.imports.sources import import_export_file, import_records
from sysrev.workflow.search import import_export

import export_layouts as layouts
from test_csv_layouts import CINAHL, LENS, ZOTERO
from test_formats import ENDNOTE_XML
from test_new_formats import ERIC_NBIB, JABREF_BIB, OVID_TEXT, ZOTERO_BIB

SHARED = {
    "embase/asreview__embase.ris": "ris",
    "embase/asreview__ovid_psycinfo.ris": "ris",
    "cochrane/cff___baseline_cochrane_endnote.ris": "ris",
    "scopus/asreview__scopus.ris": "ris",
    "ris_generic/rispy__example_bom.ris": "ris",
    "ris_generic/rispy__example_multiline.ris": "ris",
    "ris_generic/rispy__example_utf_chars.ris": "ris",
    "ris_generic/rispy__example_empty_tag.ris": "ris",
    "ris_generic/rispy__example_extraneous_data.ris": "ris",
    "pubmed_medline/revtools__restoration_pubmed.nbib": "medline",
    "wos_tagged/bibliometrix__wos_sample.txt": "wos",
    "wos_tagged/metaknowledge__testFile.isi": "wos",
}


@pytest.mark.parametrize("name", sorted(SHARED))
def test_shared_exports_are_detected_and_read_with_auto(testdata, name):
    path = testdata / "exports" / name
    assert detect_format(path)[0] == SHARED[name]
    table, report = import_export_file(path, source="x")
    assert report.detected_format == report.format_read == SHARED[name]
    assert report.declared_format == "auto"
    assert report.records == len(table) > 0


def test_biopython_medline_and_screening_csvs_are_detected(testdata):
    for path in sorted((testdata / "eutils/biopython_Medline").glob("*.txt")):
        assert detect_format(path)[0] == "medline", path.name
    assert detect_format(testdata / "screening/cff___baseline_rayyan.csv")[0] == "csv"
    assert detect_format(testdata / "screening/cff___baseline_covidence.csv")[0] == \
        "covidence_csv"
    assert detect_format(testdata / "dedup/asysd_diabetes/labelled_test_set.csv")[0] == "csv"


WRITTEN = {
    "endnote.xml": (ENDNOTE_XML, "endnote_xml"),
    "zotero.bib": (ZOTERO_BIB, "bibtex"),
    "jabref.bib": (JABREF_BIB, "bibtex"),
    "eric.nbib": (ERIC_NBIB, "medline"),
    "ovid.txt": (OVID_TEXT, "ovid"),
    "zotero.csv": (ZOTERO, "csv"),
    "lens.csv": (LENS, "csv"),
    "cinahl.csv": (CINAHL, "csv"),
}


@pytest.mark.parametrize("name", sorted(WRITTEN))
def test_written_formats_are_detected(tmp_path, name):
    text, fmt = WRITTEN[name]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    table, report = import_export_file(path, source="x")
    assert report.detected_format == fmt and len(table) > 0


@pytest.mark.parametrize("layout", sorted(layouts.WRITERS))
def test_generated_tool_layouts_are_detected(tmp_path, layout):
    path = layouts.write_export(layout, tmp_path)
    expected = layouts.IMPORT_FORMAT[layout]
    assert detect_format(path)[0] == expected
    assert len(import_records(path, source="x")) == len(layouts.RECORDS)


@pytest.mark.parametrize("name,source,declared,looks_like", [
    ("exports/wos_tagged/bibliometrix__wos_sample.txt", "wos", "ris", "wos"),
    # Read as Scopus, the Covidence export parsed but lost its "Covidence #" accessions and
    # its "Published Year" years, with no warning.
    ("screening/cff___baseline_covidence.csv", "covidence", "scopus_csv", "covidence_csv"),
], ids=["wos_declared_ris", "covidence_csv_declared_scopus_csv"])
def test_a_file_declared_another_format_names_the_format_it_looks_like(
        testdata, name, source, declared, looks_like):
    path = testdata / name
    with pytest.raises(InputError) as err:
        import_records(path, source=source, fmt=declared)
    message = str(err.value)
    assert path.name in message and "'format'" in message
    assert f"'{declared}'" in message and f"looks like '{looks_like}'" in message


def test_a_ris_file_declared_medline_names_the_format_it_looks_like(testdata):
    path = testdata / "exports/scopus/asreview__scopus.ris"
    with pytest.raises(InputError, match=r"asreview__scopus.ris.*'medline'.*looks like 'ris'"):
        import_records(path, source="scopus", fmt="medline")


def test_the_import_report_names_the_detected_format(testdata, tmp_path):
    path = testdata / "exports/embase/asreview__embase.ris"
    import_export(export=str(path), source="embase", fmt="auto",
                  output=str(tmp_path / "embase.tsv"), report=str(tmp_path / "embase.json"))
    report = json.loads((tmp_path / "embase.json").read_text())
    assert (report["declared_format"], report["detected_format"], report["format_read"],
            report["records"], report["encoding"]) == ("auto", "ris", "ris", 6, "utf-8")


def test_the_search_audit_says_which_format_was_detected(testdata, tmp_path):
    from sysrev.workflow.search import collect_records

    imported = tmp_path / "results/search/imported"
    import_export(export=str(testdata / "exports/wos_tagged/bibliometrix__wos_sample.txt"),
                  source="wos", fmt="auto", output=str(imported / "wos.tsv"),
                  report=str(imported / "wos.json"))
    searches = tmp_path / "searches.tsv"
    searches.write_text("source\tdatabase\tplatform\tfile\tquery\tsearch_date\tnotes\n"
                        "wos\tWeb of Science\tClarivate\texports/wos.txt\tTS=(x)\t2025-06-30"
                        "\t\n", encoding="utf-8")
    audit = tmp_path / "audit.json"
    collect_records(tables=[str(imported / "wos.tsv")], searches=str(searches),
                    provenance=None, output=str(tmp_path / "records.tsv"), audit=str(audit),
                    parameters={})
    source = json.loads(audit.read_text())["parameters"]["sources"][0]
    assert source["records"] == 8
    assert source["import"]["detected_format"] == "wos"
    assert source["import"]["format_read"] == "wos"
    assert source["import"]["declared_format"] == "auto"


def test_a_covidence_csv_declared_generic_csv_or_covidence_csv_is_read(testdata):
    path = testdata / "screening/cff___baseline_covidence.csv"
    for fmt in ("csv", "covidence_csv", "auto"):
        table = import_records(path, source="covidence", fmt=fmt)
        assert len(table) == 10
        assert set(table["year"].astype(str)) <= {"2023", "2024"}


def test_a_searches_row_without_a_configured_export_is_an_error(testdata, tmp_path):
    # A Web of Science row in searches.tsv whose source is missing from search.exports used
    # to be dropped without a word: 8 records fewer identified, exit code 0.
    from sysrev.workflow.search import collect_records

    imported = tmp_path / "results/search/imported"
    import_export(export=str(testdata / "exports/embase/asreview__embase.ris"),
                  source="embase", fmt="ris", output=str(imported / "embase.tsv"),
                  report=str(imported / "embase.json"))
    searches = tmp_path / "searches.tsv"
    searches.write_text("source\tdatabase\tplatform\tfile\tquery\tsearch_date\tnotes\n"
                        "embase\tEmbase\tEmbase.com\texports/embase.ris\tx\t2025-06-30\t\n"
                        "wos\tWeb of Science\tClarivate\texports/wos.txt\tTS=(x)\t2025-06-30"
                        "\t\n", encoding="utf-8")
    kwargs = dict(tables=[str(imported / "embase.tsv")], searches=str(searches),
                  provenance=None, output=str(tmp_path / "records.tsv"),
                  audit=str(tmp_path / "audit.json"), parameters={})
    with pytest.raises(InputError) as err:
        collect_records(**kwargs, export_sources=["embase"])
    message = str(err.value)
    assert "searches.tsv" in message and "line 3" in message and "'source'" in message
    assert "'wos'" in message and "search.exports" in message
    assert not (tmp_path / "records.tsv").exists()
    collect_records(**kwargs, export_sources=["embase", "wos"])
    assert len(pd.read_csv(tmp_path / "records.tsv", sep="\t")) == 6


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_in_cyrillic_is_read(testdata, tmp_path, encoding):
    # A third of this record's characters are Cyrillic: the file has fewer NUL bytes than
    # Latin-script UTF-16, and without a BOM it used to be rejected as "not text".
    source = testdata / "exports/ris_generic/rispy__example_utf_chars.ris"
    text = source.read_text(encoding="utf-8-sig")
    path = tmp_path / "cyrillic.ris"
    path.write_bytes(text.replace("\n", "\r\n").encode(encoding))
    assert detect_format(path) == ("ris", encoding)
    table = import_records(path, source="x", fmt="auto")
    expected = import_records(source, source="x", fmt="ris")
    assert table["title"].tolist() == expected["title"].tolist()
    assert table["title"].str.startswith("Состояние").all()


def test_an_export_file_missing_from_data_dir_is_an_error_naming_the_row(tmp_path):
    # A typo in searches.tsv's file column used to make Snakemake skip the import (its old
    # output present, its input missing): the review went on with the previous export.
    from sysrev.workflow.search import export_file

    (tmp_path / "exports").mkdir()
    (tmp_path / "exports/wos.txt").write_text("FN Clarivate\n", encoding="utf-8")
    searches = tmp_path / "searches.tsv"
    searches.write_text("source\tdatabase\tplatform\tfile\tquery\tsearch_date\tnotes\n"
                        "embase\tEmbase\tEmbase.com\texports/embase.ris\tx\t2025-06-30\t\n"
                        "wos\tWeb of Science\tClarivate\texports/wos.txt\tTS=(x)\t2025-06-30"
                        "\t\n", encoding="utf-8")
    assert export_file(searches, tmp_path, "wos") == str(tmp_path / "exports/wos.txt")
    with pytest.raises(InputError) as err:
        export_file(searches, tmp_path, "embase")
    message = str(err.value)
    assert "searches.tsv" in message and "line 2" in message and "'file'" in message
    assert "exports/embase.ris" in message and "does not exist" in message
