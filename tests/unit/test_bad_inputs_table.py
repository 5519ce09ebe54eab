"""Bad inputs that need no workflow run (issue 11): config dates, PubMed snapshots, decision
and extraction sheets, encodings, spreadsheet safety, file modes. One case per row; each
asserts the error names the file and field (or that the result is correct) and that nothing
partial is written. The cases that need Snakemake are in tests/workflow/test_bad_inputs_table.py.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import stat
from pathlib import Path

import pandas as pd
import pytest

from sysrev.config import ConfigError, check_config_file, check_search_dates
from sysrev.errors import InputError, InputErrors
from sysrev.screening import RecordMatcher, check_decisions, load_generic
from sysrev.screening.formats import read_rayyan
from sysrev.search.snapshot import read_snapshot
from sysrev.tables import atomic_path, write_spreadsheet_csv
from sysrev.workflow.extraction import validate_extraction
from sysrev.workflow.search import load_searches

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "data" / "denosumab_ra"
SNAPSHOT = DATA / "search" / "pubmed" / "2025-06-30"
QUERY = json.loads((SNAPSHOT / "provenance.json").read_text())["query"]
TODAY = dt.date(2026, 1, 15)


# --- Config dates: checked before anything is retrieved -------------------------------------

@pytest.mark.parametrize("pubmed,key,message", [
    ({"date": "2025-02-30"}, "search.pubmed.date", "'2025-02-30' is not a date"),
    ({"date": "2025-13-01"}, "search.pubmed.date", "is not a date"),
    ({"date": "2026-02-01"}, "search.pubmed.date", "2026-02-01 is in the future"),
    ({"date": "2025-06-30", "start_date": "2025-07-01"}, "search.pubmed.start_date",
     "2025-07-01 is after search.pubmed.date 2025-06-30"),
    ({"date": "2025-06-30", "start_date": "2024-02-30"}, "search.pubmed.start_date",
     "'2024-02-30' is not a date"),
], ids=["feb30", "month13", "future", "start_after_date", "start_feb30"])
def test_bad_search_dates_name_the_key(pubmed, key, message):
    with pytest.raises(ConfigError) as error:
        check_search_dates({"query": "x", "start_date": None, **pubmed}, today=TODAY)
    assert str(error.value).startswith(f"{key}: ")
    assert message in str(error.value)


def test_good_search_window_passes():
    check_search_dates({"query": "x", "date": "2025-06-30", "start_date": "2025-01-01"},
                       today=TODAY)
    check_search_dates({"query": "x", "date": "2026-01-15", "start_date": None}, today=TODAY)


@pytest.mark.parametrize("date,message", [
    ("2025-02-30", "'2025-02-30' is not a date"),
    ("2999-01-01", "2999-01-01 is in the future"),
], ids=["searches_feb30", "searches_future"])
def test_bad_export_search_date_names_line_and_field(tmp_path, date, message):
    searches = tmp_path / "searches.tsv"
    lines = (DATA / "search" / "searches.tsv").read_text(encoding="utf-8").split("\n")
    lines[3] = lines[3].replace("\t2025-06-30\t", f"\t{date}\t")
    searches.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(InputError) as error:
        load_searches(searches)
    assert f"searches.tsv, line 4, field 'search_date': {message}" in str(error.value)


@pytest.mark.parametrize("text,encoding,message", [
    ("review: x\nsearch:\n  exports: [a\n  other: 1\n", "utf-8",
     "config.yaml, line 4, column 8: invalid YAML: expected ',' or ']', but got ':' (while "
     "parsing a flow sequence that starts on line 3)"),
    ("review: x\nsearch:\n\texports: []\n", "utf-8",
     "config.yaml, line 3, column 1: invalid YAML: found character '\\t' that cannot start "
     "any token"),
    ("review: x\nreport:\n  title: Dénosumab\n", "latin-1",
     "config.yaml, line 3: not UTF-8 (byte 0xe9); save the file as UTF-8"),
    # Issue 17: a key given twice (the last won silently) and a "billion laughs" alias bomb.
    ("review: x\nanalysis:\n  level: 95\n  level: 90\n", "utf-8",
     "config.yaml, line 4, column 3: invalid YAML: key 'level' is given twice in one mapping "
     "(first on line 3)"),
    ("a: &a [lol, lol]\nb: &b [*a, *a]\nc: [*b, *b]\n", "utf-8",
     "config.yaml, line 2, column 8: invalid YAML: YAML aliases (*name) are not allowed"),
], ids=["yaml_unclosed_bracket", "yaml_tab_indent", "yaml_latin1", "yaml_duplicate_key",
        "yaml_alias_bomb"])
def test_broken_config_file_names_file_and_line(tmp_path, text, encoding, message):
    path = tmp_path / "config.yaml"
    path.write_bytes(text.encode(encoding))
    with pytest.raises(ConfigError) as error:
        check_config_file(path)
    assert message in str(error.value)


@pytest.mark.parametrize("config,message", [
    ({"search": {"pubmed": {"date": dt.date(2025, 6, 30)}}},
     "search.pubmed.date: 2025-06-30 must be quoted, '2025-06-30'"),
    ({"report": {"title": "<script>alert(1)</script>"}},
     "report.title: '<script>alert(1)</script>' contains HTML markup"),
    ({"analysis": {"outcomes": [{"label": "BMD <img src=x onerror=alert(1)>"}]}},
     "analysis.outcomes[0].label: 'BMD <img src=x onerror=alert(1)>' contains HTML markup"),
    ({"analysis": {"treatment_label": "A </b>"}}, "analysis.treatment_label"),
], ids=["unquoted_date", "markup_report_title", "markup_outcome_label", "markup_end_tag"])
def test_config_values_yaml_and_the_schema_let_pass(config, message):
    """Issue 17: checked on the loaded config (also a --configfile or a module's config)."""
    from sysrev.config import check_config_values

    with pytest.raises(ConfigError) as error:
        check_config_values(config)
    assert message in str(error.value)


def test_config_values_comparisons_and_the_bundled_config_pass():
    import yaml

    from sysrev.config import check_config_values

    check_config_values({"report": {"question": "p < 0.05 and <= 5 years, a<5"}})
    for path in ("config/config.yaml", ".test/config/config.yaml"):
        check_config_values(yaml.safe_load((REPO / path).read_text(encoding="utf-8")))
    shared = [1, 2]
    with pytest.raises(ConfigError, match=r"^b: the same YAML value appears twice"):
        check_config_values({"a": shared, "b": shared})


# --- PubMed snapshots: a changed window is a new search, like a changed query ----------------

def _snapshot(tmp_path, change=None) -> Path:
    folder = tmp_path / "2025-06-30"
    shutil.copytree(SNAPSHOT, folder)
    if change:
        provenance = json.loads((folder / "provenance.json").read_text())
        change(provenance)
        (folder / "provenance.json").write_text(json.dumps(provenance))
    return folder


@pytest.mark.parametrize("kwargs,field,message", [
    ({"start_date": "2020-01-01", "date_type": "publication"}, "start_date",
     "made with start_date None but search.pubmed.start_date is '2020-01-01'"),
    ({"start_date": None, "date_type": "entrez"}, "date_type",
     "made with date_type 'publication' but search.pubmed.date_type is 'entrez'"),
], ids=["snapshot_start_date_changed", "snapshot_date_type_changed"])
def test_changed_search_window_against_snapshot(tmp_path, kwargs, field, message):
    folder = _snapshot(tmp_path)
    with pytest.raises(InputError) as error:
        read_snapshot(folder, query=QUERY, check_dates=True, **kwargs)
    assert f"provenance.json, field '{field}': this search date already has a snapshot" \
        in str(error.value)
    assert message in str(error.value)


def test_snapshot_with_recorded_start_date_matches(tmp_path):
    def windowed(provenance):
        provenance["start_date"] = "2020-01-01"
    folder = _snapshot(tmp_path, windowed)
    table = read_snapshot(folder, query=QUERY, check_dates=True, start_date="2020-01-01",
                          date_type="publication")
    assert len(table) == 29
    with pytest.raises(InputError, match="field 'start_date'"):
        read_snapshot(folder, query=QUERY, check_dates=True, start_date=None,
                      date_type="publication")


def test_snapshot_xml_missing_a_record_is_caught(tmp_path):
    folder = _snapshot(tmp_path)
    xml = (folder / "records.xml").read_text(encoding="utf-8")
    start = xml.index("<PubmedArticle>")
    end = xml.index("</PubmedArticle>", start) + len("</PubmedArticle>")
    (folder / "records.xml").write_text(xml[:start] + xml[end:], encoding="utf-8")
    with pytest.raises(InputError) as error:
        read_snapshot(folder, query=QUERY)
    # the file's recorded SHA-256 catches it first (issue 17), naming the file
    assert "records.xml, field 'sha256': SHA-256" in str(error.value)
    provenance = json.loads((folder / "provenance.json").read_text())
    del provenance["files"], provenance["pmids"]  # an older snapshot: the count still holds
    (folder / "provenance.json").write_text(json.dumps(provenance))
    with pytest.raises(InputError) as error:
        read_snapshot(folder, query=QUERY)
    assert "provenance.json, field 'count': provenance says 29 records but the XML holds 28" \
        in str(error.value)


# --- Screening decisions: duplicates and encodings -----------------------------------------

RECORDS = pd.DataFrame({
    "record_id": ["pubmed:1", "embase:E1", "pubmed:2"],
    "source": ["pubmed", "embase", "pubmed"], "source_id": ["1", "E1", "2"],
    "pmid": ["1", None, "2"], "doi": ["10.1000/a", "10.1000/a", None],
    "title": ["Denosumab trial one", "Denosumab trial one", "Second"],
    "year": ["2019", "2019", "2020"],
})
CLUSTERS = pd.DataFrame({"record_id": ["pubmed:1", "embase:E1", "pubmed:2"],
                         "cluster_id": ["pubmed:1", "pubmed:1", "pubmed:2"],
                         "kept": [True, False, True]})
MATCHER = RecordMatcher(RECORDS, CLUSTERS)
HEADER = "record_id,reviewer,stage,decision,reason,note\n"


@pytest.mark.parametrize("rows,lines", [
    (["pubmed:1,R1,title_abstract,include,,", "pubmed:1,R1,title_abstract,include,,"],
     "line 2, "),
    (["pubmed:1,R1,title_abstract,exclude,Review,", "embase:E1,R1,title_abstract,exclude,"
      "Review,"], "line 2, "),
], ids=["duplicate_decision_row", "duplicate_decision_through_copy"])
def test_duplicate_decision_rows_are_an_error(tmp_path, rows, lines):
    path = tmp_path / "decisions.csv"
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(InputErrors) as error:
        check_decisions(load_generic(path, MATCHER))
    message = str(error.value)
    assert f"decisions.csv {lines}" in message
    assert "decisions.csv line 3: duplicate title_abstract decision rows of reviewer R1 on " \
        "record pubmed:1" in message


@pytest.mark.parametrize("encoding,expected", [
    ("cp1252", "Revue générale – éditorial"),
    ("latin-1", "Revue générale \x81 éditorial"),
    ("utf-16", "Revue générale – éditorial"),
], ids=["decisions_cp1252", "decisions_latin1", "decisions_utf16_bom"])
def test_decision_file_in_windows_encodings_is_read(tmp_path, caplog, encoding, expected):
    path = tmp_path / "decisions.csv"
    body = HEADER + f"pubmed:1,R1,title_abstract,exclude,Review,{expected}\n"
    path.write_bytes(body.encode(encoding) if encoding != "latin-1"
                     else body.replace("\x81", "\x81").encode("latin-1"))
    with caplog.at_level(logging.WARNING):
        table = load_generic(path, MATCHER)
    assert table["note"].tolist() == [expected]
    if encoding != "utf-16":
        assert f"{path} is not UTF-8" in caplog.text and encoding in caplog.text


def test_rayyan_export_in_latin1_with_undefined_cp1252_byte_is_read(tmp_path):
    path = tmp_path / "rayyan.csv"
    text = ('key,title,year,pubmed_id,doi,notes\n'
            '1,Second\x81,2020,2,,"RAYYAN-INCLUSION: {""R1""=>""Included""}"\n')
    path.write_bytes(text.encode("latin-1"))
    table = read_rayyan(path, MATCHER, stage="title_abstract")
    assert table[["unique_record_id", "decision"]].values.tolist() == [["pubmed:2", "include"]]


# --- Extraction: rows at a time point that matches no configured outcome -------------------

OUTCOMES = [{"id": o, "type": t, "timepoint": "12 months", "measure": m}
            for o, t, m in (("bmd_ls", "continuous", "MD"), ("erosion", "continuous", "MD"),
                            ("jsn", "continuous", "MD"), ("mtss", "continuous", "MD"),
                            ("das28", "continuous", "MD"), ("sae", "binary", "RR"),
                            ("hypocalcaemia", "binary", "RR"))]


def _extraction(tmp_path, edit=None, encoding="utf-8", **options):
    arms = tmp_path / "arms.csv"
    text = (DATA / "extraction" / "arms.csv").read_text(encoding="utf-8")
    arms.write_bytes((edit(text) if edit else text).encode(encoding, errors="replace"))
    studies = pd.read_csv(DATA / "extraction" / "studies.csv", dtype=str)
    included = tmp_path / "included.tsv"
    studies[["study_id"]].to_csv(included, sep="\t", index=False)
    out = tmp_path / "out"
    validate_extraction(studies=str(DATA / "extraction" / "studies.csv"), arms=str(arms),
                        included=str(included), arms_out=str(out / "arms.tsv"),
                        contrasts_out=str(out / "contrasts.tsv"),
                        studies_out=str(out / "studies.tsv"), audit=str(out / "audit.json"),
                        outcomes=OUTCOMES, ci_distribution="auto", **options)
    return out


def _retime(outcome, new, study=""):
    def edit(text):
        lines = text.split("\n")
        for i, line in enumerate(lines):
            if f",{outcome},12 months," in line and line.startswith(study):
                lines[i] = line.replace(f",{outcome},12 months,", f",{outcome},{new},", 1)
        return "\n".join(lines)
    return edit


@pytest.mark.parametrize("new", ["52 weeks", "24 months"],
                         ids=["outcome_lost_weeks", "outcome_lost_other"])
def test_outcome_losing_all_studies_to_timepoints_is_an_error(tmp_path, new):
    with pytest.raises(InputErrors) as error:
        _extraction(tmp_path, _retime("sae", new))
    message = str(error.value)
    assert "arms.csv" in message
    assert f"outcome sae: every row is at another time point ({new})" in message
    assert "field 'timepoint'" in message and "line " in message
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("cell", ["1e3", "2.18e2", "218.0"],
                         ids=["n_1e3", "n_exponent", "n_decimal_point"])
def test_a_count_written_otherwise_than_as_digits_is_an_error(tmp_path, cell):
    """Issue 17: n = 1e3 was read as 1000 without a word."""
    def edit(text):
        return text.replace("DESIRABLE2019,placebo,control,mtss,12 months,218,",
                            f"DESIRABLE2019,placebo,control,mtss,12 months,{cell},", 1)
    with pytest.raises(InputErrors) as error:
        _extraction(tmp_path, edit)
    message = str(error.value)
    assert "arms.csv" in message and "line 2" in message
    assert f"field 'n': '{cell}' is a count written otherwise than as digits" in message
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("new", ["12 Months", "12  months"],
                         ids=["timepoint_typo_case", "timepoint_typo_space"])
@pytest.mark.parametrize("study", ["", "DRIVE2016,"], ids=["every_study", "one_study"])
def test_timepoint_differing_only_in_case_or_spacing_is_an_error(tmp_path, new, study):
    """A typo, not another time point: leaving the row out would change a pooled estimate
    with exit code 0."""
    with pytest.raises(InputErrors) as error:
        _extraction(tmp_path, _retime("sae" if not study else "das28", new, study=study))
    message = str(error.value)
    assert "arms.csv" in message and "line " in message
    assert f"field 'timepoint': '{new}'" in message
    assert "only in case or spacing" in message
    assert not (tmp_path / "out").exists()


def test_study_at_another_timepoint_is_warned_and_audited(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        out = _extraction(tmp_path, _retime("das28", "24 weeks", study="DRIVE2016,"))
    audit = json.loads((out / "audit.json").read_text())
    unused = audit["counts"]["unused_rows"]
    assert len(unused) == 4  # DRIVE2016's four arms
    assert {u["outcome"] for u in unused} == {"das28"}
    assert all(not u["near_match"] and u["timepoint"] == "24 weeks" for u in unused)
    assert all(isinstance(u["line"], int) and u["line"] > 1 for u in unused)
    assert "field 'timepoint': '24 weeks' is not outcome das28's time point" in caplog.text
    assert "only in case or spacing" not in caplog.text
    contrasts = pd.read_csv(out / "contrasts.tsv", sep="\t", dtype=str)
    assert {u["study_id"] for u in unused} == {"DRIVE2016"}
    assert "DRIVE2016" not in set(contrasts.loc[contrasts["outcome"] == "das28", "study_id"])


def test_lost_outcome_allowed_by_config_is_audited(tmp_path):
    out = _extraction(tmp_path, _retime("hypocalcaemia", "24 months"),
                      allow_lost_outcomes=True)
    audit = json.loads((out / "audit.json").read_text())
    assert audit["counts"]["lost_outcomes"] == {"hypocalcaemia": ["24 months"]}
    assert audit["parameters"]["allow_lost_outcomes"] is True
    contrasts = pd.read_csv(out / "contrasts.tsv", sep="\t", dtype=str)
    assert "hypocalcaemia" not in set(contrasts["outcome"])


def test_extraction_sheet_in_cp1252_is_read(tmp_path):
    def accent(text):
        return text.replace("n = full analysis set", "n = ensemble d’analyse complète", 1)
    out = _extraction(tmp_path, accent, encoding="cp1252")
    arms = pd.read_csv(out / "arms.tsv", sep="\t", dtype=str)
    assert "n = ensemble d’analyse complète" in set(arms["note"])


def test_searches_table_in_cp1252_is_read(tmp_path):
    searches = tmp_path / "searches.tsv"
    text = (DATA / "search" / "searches.tsv").read_text(encoding="utf-8")
    searches.write_bytes(text.replace("Embase.com", "Embase.com – Elsevier").encode("cp1252"))
    assert "Embase.com – Elsevier" in set(load_searches(searches)["platform"])


# --- Spreadsheet safety and files ----------------------------------------------------------

@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://x\")", "+1+2", "-2+3", "@SUM(A1)",
                                  "\tstart", "\rstart"],
                         ids=["eq", "plus", "minus", "at", "tab", "cr"])
def test_formula_cells_are_neutralised_in_spreadsheet_csv(tmp_path, cell):
    path = tmp_path / "records.csv"
    frame = pd.DataFrame({"title": [cell], "effect": ["-0.35"]})
    write_spreadsheet_csv(frame, path, ["title", "effect"], bom=True)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    assert back["title"].tolist() == ["'" + cell]
    assert back["effect"].tolist() == ["-0.35"]  # a number stays a number


@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)],
                         ids=["umask022", "umask027", "umask002"])
def test_outputs_get_the_users_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        with atomic_path(tmp_path / "out.tsv") as handle:
            handle.write("x\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "out.tsv").stat().st_mode) == mode


def test_interrupted_write_leaves_no_file(tmp_path):
    target = tmp_path / "results.tsv"
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(target) as handle:
            handle.write("half a ta")
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_temporary_file_of_a_killed_write_is_removed_by_the_rerun(tmp_path):
    target = tmp_path / "results.tsv"
    (tmp_path / ".results.tsv.k1ll3d.tmp").write_text("half a ta")
    (tmp_path / ".other.tsv.k1ll3d.tmp").write_text("another output's")
    with atomic_path(target) as handle:
        handle.write("whole\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.tsv.k1ll3d.tmp",
                                                           "results.tsv"]


def test_config_check_command_names_file_and_line_of_a_configfile(tmp_path, capsys):
    """Snakemake reads a --configfile before the workflow can check it ('Config file is not
    valid JSON or YAML', no file, no line): `python -m sysrev.config FILE` names both."""
    from sysrev.config import main

    good = tmp_path / "good.yaml"
    good.write_text("review: mine\nscreening:\n  reviewers_required: 1\n", encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text("review: mine\nscreening:\n  reviewers_required: [1\n  studies: x\n",
                   encoding="utf-8")
    assert main([str(good)]) == 0
    assert main([str(good), str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}, line 4" in err and "invalid YAML" in err


def _two_effect_sizes(text):
    """An es_id column, and DESIRABLE2019's mtss rows repeated as a second effect size."""
    lines = [line for line in text.split("\n") if line]
    extra = [line + ",b" for line in lines[1:] if line.startswith("DESIRABLE2019,")
             and ",mtss,12 months," in line]
    return "\n".join([lines[0] + ",es_id"] + [line + ",a" if line.startswith(
        "DESIRABLE2019,") and ",mtss,12 months," in line else line + "," for line in lines[1:]]
        + extra) + "\n"


def test_several_effect_sizes_need_the_three_level_model(tmp_path):
    with pytest.raises(InputErrors) as error:
        _extraction(tmp_path, _two_effect_sizes)
    message = str(error.value)
    assert "arms.csv" in message
    assert "outcome mtss, study DESIRABLE2019: 2 effect sizes (es_id a, b)" in message
    assert "add mtss to analysis.multilevel.outcomes" in message
    assert not (tmp_path / "out").exists()
    out = _extraction(tmp_path, _two_effect_sizes, multilevel_outcomes=["mtss"])
    contrasts = pd.read_csv(out / "contrasts.tsv", sep="\t", dtype=str,
                            keep_default_na=False)
    assert list(contrasts.columns)[-1] == "es_id"
    mtss = contrasts[(contrasts["outcome"] == "mtss")
                     & (contrasts["study_id"] == "DESIRABLE2019")]
    assert list(mtss["es_id"]) == ["a", "b"]
    assert mtss["mean_treatment"].nunique() == 1  # the same rows, repeated
