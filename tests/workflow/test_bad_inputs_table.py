"""Bad inputs, edited inputs and interruptions after a finished run (issue 11).

Each case copies one finished run of the bundled review (the session's ``bundled_run``), so it
starts from "Nothing to be done", changes one input, runs Snakemake again and checks that the
rerun reflects the change or fails naming the file and field, and that no stale or partial
output is accepted afterwards (a dry run still lists the failed job). Cases that need no
Snakemake run are in tests/unit/test_bad_inputs_table.py.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.workflow.conftest import copy_run, run_snakemake

pytestmark = pytest.mark.workflow

R = "results/denosumab_ra"
D = "data/denosumab_ra"
OLD_MTIME = 946684800  # 2000-01-01: an edit that keeps an old modification time


def edit(path: Path, old: str, new: str, *, count: int = 1, keep_mtime: bool = False,
         encoding: str = "utf-8") -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.chmod(0o644)
    path.write_bytes(text.replace(old, new, count).encode(encoding))
    if keep_mtime:
        os.utime(path, (OLD_MTIME, OLD_MTIME))


def output_of(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


def pending_jobs(work: Path) -> str:
    """What a dry run would still do (the rules listed), as text."""
    result = run_snakemake(work, "-n")
    return output_of(result)


def no_temporary_files(work: Path) -> None:
    leftovers = [p for p in (work / "results").rglob(".*.tmp")]
    assert not leftovers, leftovers


# Session scope (not module): tests using a module-scoped fixture share one pytest-xdist
# worker, and these cases are better spread over the workers. Each worker checks it once.
@pytest.fixture(scope="session")
def copies_start_clean(bundled_run, tmp_path_factory) -> None:
    """A copy of the finished run has nothing to do (checked on one copy: every copy is made
    the same way, modification times kept)."""
    assert "Nothing to be done" in pending_jobs(
        copy_run(bundled_run, tmp_path_factory.mktemp("clean") / "w"))


@pytest.fixture
def work(copies_start_clean, bundled_copy) -> Path:
    return bundled_copy


# --- Stale inputs: every kind of raw input, edited after a successful run -------------------

@pytest.mark.parametrize("keep_mtime", [False, True], ids=["new_mtime", "old_mtime"])
def test_central_export_cut_mid_record(work, keep_mtime):
    export = work / D / "exports/central.ris"
    lines = export.read_text(encoding="utf-8").split("\n")
    starts = [i for i, line in enumerate(lines) if line.startswith("TY  -")]
    cut = starts[7] + 3  # three lines into the eighth record
    export.write_text("\n".join(lines[:cut]) + "\n", encoding="utf-8")
    if keep_mtime:
        os.utime(export, (OLD_MTIME, OLD_MTIME))
    first = run_snakemake(work)
    assert first.returncode != 0
    # The first run fails (the cut file, or the decisions of records it lost); the second
    # must not accept the outputs of the old export.
    second = run_snakemake(work)
    assert second.returncode != 0, output_of(second)[-3000:]
    assert "Nothing to be done" not in output_of(second)
    assert "central.ris" in output_of(second)
    # records.tsv of the old export may still be on disk, but it is not accepted: the dry
    # run rebuilds it (and everything after it) from the export as it is now.
    pending = pending_jobs(work)
    assert "rule import_export:" in pending and "rule collect_records:" in pending
    assert "rule screen_records:" in pending
    no_temporary_files(work)


@pytest.mark.parametrize("keep_mtime", [False, True], ids=["new_mtime", "old_mtime"])
def test_decision_sheet_edit_is_reflected(work, keep_mtime):
    decisions = work / D / "screening/decisions.csv"
    edit(decisions, "embase:SYSREV-EMB-0001,R1,title_abstract,exclude,\"Review, editorial "
         "or guideline\",", "embase:SYSREV-EMB-0001,R1,title_abstract,include,,",
         keep_mtime=keep_mtime)
    result = run_snakemake(work)
    assert result.returncode == 0, output_of(result)[-3000:]
    final = pd.read_csv(work / R / "screening/final_decisions.tsv", sep="\t", dtype=str)
    row = final[(final["record_id"] == "embase:SYSREV-EMB-0001")
                & (final["stage"] == "title_abstract")].iloc[0]
    assert "R1=include" in row["decisions"]
    audit = json.loads((work / R / "audit/screening.json").read_text())
    import hashlib
    assert audit["inputs"]["decisions"][0]["sha256"] == hashlib.sha256(
        decisions.read_bytes()).hexdigest()


@pytest.mark.parametrize("keep_mtime", [False, True], ids=["new_mtime", "old_mtime"])
def test_extraction_sheet_edit_is_reflected(work, keep_mtime):
    before = json.loads((work / R / "analysis/sae/pooled.json").read_text())
    edit(work / D / "extraction/arms.csv", "DESIRABLE2019,placebo,control,sae,12 months,,,,,,,,"
         "13,224,", "DESIRABLE2019,placebo,control,sae,12 months,,,,,,,,23,224,",
         keep_mtime=keep_mtime)
    result = run_snakemake(work)
    assert result.returncode == 0, output_of(result)[-3000:]
    after = json.loads((work / R / "analysis/sae/pooled.json").read_text())
    assert after["random"] != before["random"]
    assert "Nothing to be done" in pending_jobs(work)


@pytest.mark.parametrize("keep_mtime", [False, True], ids=["new_mtime", "old_mtime"])
def test_risk_of_bias_sheet_edit_is_reflected(work, keep_mtime):
    before = (work / R / "risk_of_bias/summary.tsv").read_text()
    edit(work / D / "risk_of_bias/rob2.csv", "COHEN2008,D2,Low,",
         "COHEN2008,D2,Some concerns,", keep_mtime=keep_mtime)
    result = run_snakemake(work)
    assert result.returncode == 0, output_of(result)[-3000:]
    assert (work / R / "risk_of_bias/summary.tsv").read_text() != before
    shares = pd.read_csv(work / R / "risk_of_bias/summary.tsv", sep="\t", dtype=str)
    concerns = shares[(shares["domain"] == "D2") & (shares["judgement"] == "Some concerns")]
    assert float(concerns["percent"].iloc[0]) > 0


@pytest.mark.parametrize("keep_mtime", [False, True], ids=["new_mtime", "old_mtime"])
def test_pubmed_snapshot_xml_losing_a_record_fails(work, keep_mtime):
    xml = work / D / "search/pubmed/2025-06-30/records.xml"
    text = xml.read_text(encoding="utf-8")
    start = text.index("<PubmedArticle>")
    end = text.index("</PubmedArticle>", start) + len("</PubmedArticle>")
    xml.chmod(0o644)
    xml.write_text(text[:start] + text[end:], encoding="utf-8")
    if keep_mtime:
        os.utime(xml, (OLD_MTIME, OLD_MTIME))
    result = run_snakemake(work)
    assert result.returncode != 0
    log = (work / "logs/denosumab_ra/pubmed_records/pubmed_records.log").read_text()
    # the file's recorded SHA-256 names it (issue 17; the count check is the unit table's)
    assert "records.xml, field 'sha256': SHA-256" in log and "changed after" in log
    assert not (work / R / "search/pubmed.tsv").exists()
    assert "pubmed_records" in pending_jobs(work)


def test_prisma_counts_waits_for_records_after_searches_change(work):
    searches = work / D / "search/searches.tsv"
    edit(searches, "Embase.com", "Embase.com (Elsevier)")
    result = run_snakemake(work)
    assert result.returncode == 0, output_of(result)[-3000:]
    text = output_of(result)
    assert text.index("Finished jobid") < text.index("rule prisma_counts:")
    finished = text.index("(Rule: collect_records)")
    assert finished < text.index("rule prisma_counts:")
    counts = json.loads((work / R / "prisma/counts.json").read_text())
    assert counts["identification"]["records_identified"]


# --- Screening and extraction: nothing dropped silently ------------------------------------

def test_outcome_lost_to_timepoint_spelling_fails(work):
    edit(work / D / "extraction/arms.csv", ",sae,12 months,", ",sae,12 Months,", count=-1)
    result = run_snakemake(work)
    text = output_of(result)
    assert result.returncode != 0
    assert "arms.csv" in text and "only in case or spacing" in text
    assert "field 'timepoint': '12 Months' is not outcome sae's time point" in text
    for name in ("arms.tsv", "contrasts.tsv", "studies.tsv"):
        assert not (work / R / "extraction" / name).exists(), name
    assert "validate_extraction" in pending_jobs(work)


def test_study_lost_to_timepoint_spelling_is_warned_and_audited(work):
    arms = work / D / "extraction/arms.csv"
    text = arms.read_text(encoding="utf-8")
    arms.write_text("\n".join(line.replace(",das28,12 months,", ",das28,24 weeks,")
                              if line.startswith("DRIVE2016,") else line
                              for line in text.split("\n")), encoding="utf-8")
    result = run_snakemake(work)
    assert result.returncode == 0, output_of(result)[-3000:]
    log = (work / "logs/denosumab_ra/validate_extraction/validate_extraction.log").read_text()
    assert "WARNING" in log and "(study DRIVE2016), field 'timepoint': '24 weeks'" in log
    audit = json.loads((work / R / "audit/extraction.json").read_text())
    unused = audit["counts"]["unused_rows"]
    assert {(u["study_id"], u["outcome"]) for u in unused} == {("DRIVE2016", "das28")}
    assert all(u["file"].endswith("arms.csv") and u["line"] > 1 for u in unused)


def test_duplicate_decision_row_fails_naming_both_lines(work):
    decisions = work / D / "screening/decisions.csv"
    lines = decisions.read_text(encoding="utf-8").rstrip("\n").split("\n")
    lines.append(lines[1])
    decisions.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_snakemake(work)
    text = output_of(result)
    assert result.returncode != 0
    assert "decisions.csv line 2, " in text and f"decisions.csv line {len(lines)}: duplicate" \
        in text
    assert not (work / R / "screening/final_decisions.tsv").exists()
    # The tables downstream are still the last successful run's: the folder says so ...
    assert "failed" in (work / R / "RUN_FAILED.txt").read_text(encoding="utf-8")
    # ... until a run succeeds again.
    decisions.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    result = run_snakemake(work)
    assert result.returncode == 0, output_of(result)[-3000:]
    assert not (work / R / "RUN_FAILED.txt").exists()


def test_decision_sheet_in_windows_1252_is_read(work):
    decisions = work / D / "screening/decisions.csv"
    text = decisions.read_text(encoding="utf-8")
    decisions.write_bytes(text.replace("Review, editorial or guideline",
                                       "Review, éditorial – or guideline", 1).encode("cp1252"))
    result = run_snakemake(work)
    assert result.returncode == 0, output_of(result)[-3000:]
    log = (work / "logs/denosumab_ra/screen_records/screen_records.log").read_text()
    assert "decisions.csv is not UTF-8" in log and "cp1252" in log
    final = (work / R / "screening/final_decisions.tsv").read_text(encoding="utf-8")
    assert "Review, éditorial – or guideline" in final


# --- Config --------------------------------------------------------------------------------

CONFIG = "config/config.yaml"


@pytest.mark.parametrize("old,new,message", [
    ('date: "2025-06-30"', 'date: "2025-02-30"',
     "search.pubmed.date: '2025-02-30' is not a date"),
    ('date: "2025-06-30"', 'date: "2999-06-30"', "search.pubmed.date: 2999-06-30 is in the future"),
    ("start_date: null", 'start_date: "2025-07-01"',
     "search.pubmed.start_date: 2025-07-01 is after search.pubmed.date 2025-06-30"),
    ("  reviewers_required: 2\n", "  reviewers_required: [2\n",
     "config/config.yaml, line {line}, column 21: invalid YAML"),
    ("title: Denosumab versus", "title: Dénosumab versus",
     "config/config.yaml, line {first_non_ascii}: not UTF-8"),
    # Issue 17: the last of two keys won silently; an alias bomb hung; an unquoted date gave
    # a schema dump; markup reached snakemake --report's page live.
    ("  level: 95\n", "  level: 95\n  level: 90\n",
     "config/config.yaml, line {line}, column 3: invalid YAML: key 'level' is given twice"),
    ('date: "2025-06-30"', "date: 2025-06-30",
     "search.pubmed.date: 2025-06-30 must be quoted, '2025-06-30'"),
    ("treatment_label: Denosumab", "treatment_label: <script>alert(1)</script>",
     "analysis.treatment_label: '<script>alert(1)</script>' contains HTML markup"),
    ("label: Serious adverse events", "label: <img src=x onerror=alert(1)>",
     "analysis.outcomes[5].label: '<img src=x onerror=alert(1)>' contains HTML markup"),
], ids=["date_feb30", "date_future", "start_after_date", "yaml_syntax", "config_latin1",
        "yaml_duplicate_key", "unquoted_date", "markup_treatment_label", "markup_outcome_label"])
def test_bad_config_stops_before_any_job(work, old, new, message):
    text = (work / CONFIG).read_text(encoding="utf-8")
    # the line of the edit (YAML reports an unclosed flow sequence on the line after it)
    line = text[:text.index(old)].count("\n") + 1 + ("[" in new) + (new.count("level") > 1)
    # saved as Latin-1, the file's first non-ASCII character is its first byte that is not UTF-8
    edited = text.replace(old, new, 1)
    first_non_ascii = next(number for number, content in enumerate(edited.splitlines(), 1)
                           if not content.isascii())
    message = message.format(line=line, first_non_ascii=first_non_ascii)
    edit(work / CONFIG, old, new, encoding="latin-1" if "é" in new else "utf-8")
    before = {p: p.stat().st_mtime for p in (work / "results").rglob("*") if p.is_file()}
    result = run_snakemake(work)
    assert result.returncode != 0
    assert message in output_of(result)
    assert sorted(os.listdir(work / D / "search/pubmed")) == ["2024-12-31", "2025-06-30"]
    after = {p: p.stat().st_mtime for p in (work / "results").rglob("*") if p.is_file()}
    assert after == before


@pytest.mark.parametrize("old,new,field", [
    ("start_date: null", 'start_date: "2020-01-01"', "start_date"),
    ("date_type: publication", "date_type: entrez", "date_type"),
], ids=["snapshot_start_date", "snapshot_date_type"])
def test_changed_window_against_existing_snapshot_fails(work, old, new, field):
    edit(work / CONFIG, old, new)
    result = run_snakemake(work)
    assert result.returncode != 0
    log = (work / "logs/denosumab_ra/pubmed_records/pubmed_records.log").read_text()
    assert f"2025-06-30/provenance.json, field '{field}': this search date already has a " \
        "snapshot" in log
    assert not (work / R / "search/pubmed.tsv").exists()
    assert "pubmed_records" in pending_jobs(work)


def test_outputs_get_the_users_umask(work):
    for name in ("records.csv", "unique.csv"):
        (work / R / "spreadsheets" / name).unlink()
    result = subprocess.run(["snakemake", "--cores", "2"], cwd=work, capture_output=True,
                            text=True, timeout=600, preexec_fn=lambda: os.umask(0o027))
    assert result.returncode == 0, output_of(result)[-3000:]
    for name in ("records.csv", "unique.csv"):
        assert stat.S_IMODE((work / R / "spreadsheets" / name).stat().st_mode) == 0o640
    # The bundled run (umask 022) wrote 0644, not mkstemp's 0600.
    assert stat.S_IMODE((work / R / "search/records.tsv").stat().st_mode) == 0o644 & ~(
        0o777 & os.umask(os.umask(0)))


def test_spreadsheet_csvs_neutralise_formula_cells(work):
    records = pd.read_csv(work / R / "spreadsheets/records.csv", dtype=str,
                          encoding="utf-8-sig", keep_default_na=False)
    tsv = pd.read_csv(work / R / "search/records.tsv", sep="\t", dtype=str,
                      keep_default_na=False)
    assert len(records) == len(tsv) and list(records.columns) == list(tsv.columns)
    for column in records.columns:
        for value in records[column]:
            if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
                try:
                    float(value)
                except ValueError:
                    pytest.fail(f"{column}: {value!r} not neutralised")


# --- Interruption --------------------------------------------------------------------------

@pytest.mark.slow
def test_killed_run_recovers_with_unlock_and_rerun_incomplete(work):
    edit(work / D / "extraction/arms.csv", "DESIRABLE2019,placebo,control,sae,12 months,,,,,,,,"
         "13,224,", "DESIRABLE2019,placebo,control,sae,12 months,,,,,,,,23,224,")
    process = subprocess.Popen(["snakemake", "--cores", "1"], cwd=work,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    # Kill the whole process group (Snakemake and its job) once a job is under way.
    incomplete = work / ".snakemake/incomplete"
    deadline = time.time() + 300
    while time.time() < deadline:
        if incomplete.is_dir() and any(incomplete.iterdir()):
            break
        time.sleep(0.05)
    else:
        pytest.fail("no job started")
    time.sleep(0.5)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL

    locked = run_snakemake(work)
    assert locked.returncode != 0
    assert "--unlock" in output_of(locked)
    assert run_snakemake(work, "--unlock").returncode == 0
    resumed = run_snakemake(work, "--rerun-incomplete")
    assert resumed.returncode == 0, output_of(resumed)[-3000:]
    assert "Nothing to be done" in pending_jobs(work)
    no_temporary_files(work)
    pooled = json.loads((work / R / "analysis/sae/pooled.json").read_text())
    effects = pd.read_csv(work / R / "analysis/sae/effects.tsv", sep="\t", dtype=str)
    assert pooled["k"] == len(effects)
    arms = pd.read_csv(work / R / "extraction/arms.tsv", sep="\t", dtype=str)
    assert "23" in set(arms.loc[(arms["study_id"] == "DESIRABLE2019")
                                & (arms["outcome"] == "sae"), "events"])
