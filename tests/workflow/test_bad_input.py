"""Bad input stops the run with a message naming the file, key or row, and no partial output.

A bad config or a missing export stops a fresh copy of the project before any job. A bad
screening or extraction sheet stops the run at the job that reads it: those cases start from
one run of the search and dedup stages (made once for this module, then copied), so that
nothing downstream of the failing job exists yet and none may be written.
"""

from pathlib import Path

import pytest

from tests.workflow.conftest import copy_project, copy_run, run_snakemake

pytestmark = pytest.mark.workflow

#: What the shared partial run makes: the search and dedup stages, nothing after them.
DEDUP_DONE = ["results/denosumab_ra/dedup/unique.tsv", "results/denosumab_ra/dedup/clusters.tsv"]


@pytest.fixture(scope="module")
def deduplicated(tmp_path_factory) -> Path:
    """A fresh project run up to the dedup stage, once for this module; read-only."""
    work = copy_project(tmp_path_factory.mktemp("deduplicated") / "w")
    result = run_snakemake(work, *DEDUP_DONE)
    assert result.returncode == 0, result.stderr[-5000:]
    assert not (work / "results/denosumab_ra/screening").exists()
    return work


@pytest.fixture
def after_dedup(deduplicated, tmp_path) -> Path:
    """This test's own copy of the run up to the dedup stage."""
    return copy_run(deduplicated, tmp_path / "w")


def test_config_typo_names_the_key(tmp_path):
    work = copy_project(tmp_path / "w")
    config = (work / "config/config.yaml").read_text()
    (work / "config/config.yaml").write_text(
        config.replace("  require_complete: false", "  reqire_complete: false"))
    result = run_snakemake(work)
    assert result.returncode != 0
    assert "reqire_complete" in result.stderr + result.stdout
    assert not (work / "results").exists()


def test_inconsistent_config_names_the_key(tmp_path):
    work = copy_project(tmp_path / "w")
    config = (work / "config/config.yaml").read_text()
    (work / "config/config.yaml").write_text(
        config.replace("      type: binary\n      measure: RR\n      timepoint: 12 months\n"
                       "      favours_left: Favours denosumab\n      favours_right: Favours "
                       "control\n    - id: hypocalcaemia",
                       "      type: binary\n      measure: MD\n      timepoint: 12 months\n"
                       "      favours_left: Favours denosumab\n      favours_right: Favours "
                       "control\n    - id: hypocalcaemia", 1))
    result = run_snakemake(work)
    assert result.returncode != 0
    assert "analysis.outcomes[5].measure" in result.stderr + result.stdout
    assert not (work / "results").exists()


def test_missing_export_names_the_file(tmp_path):
    work = copy_project(tmp_path / "w")
    (work / "data/denosumab_ra/exports/wos.txt").unlink()
    result = run_snakemake(work)
    assert result.returncode != 0
    assert "data/denosumab_ra/exports/wos.txt" in result.stderr + result.stdout
    assert not (work / "results/denosumab_ra/search/records.tsv").exists()


def test_malformed_extraction_row_names_line_and_field(after_dedup):
    work = after_dedup
    arms = work / "data/denosumab_ra/extraction/arms.csv"
    lines = arms.read_text(encoding="utf-8").split("\n")
    # Line 2 is DESIRABLE's placebo mTSS row: make its SD negative.
    assert lines[1].startswith("DESIRABLE2019,placebo,control,mtss,12 months,218,1.49,3.76,")
    lines[1] = lines[1].replace(",1.49,3.76,", ",1.49,-3.76,", 1)
    arms.write_text("\n".join(lines), encoding="utf-8")
    result = run_snakemake(work)
    output = result.stderr + result.stdout
    assert result.returncode != 0
    assert "arms.csv" in output
    assert "line 2 (study DESIRABLE2019, arm placebo), field 'sd': -3.76 must be positive" \
        in output
    for path in ["results/denosumab_ra/extraction/arms.tsv", "results/denosumab_ra/extraction/contrasts.tsv",
                 "results/denosumab_ra/audit/extraction.json", "results/denosumab_ra/analysis/summary.tsv"]:
        assert not (work / path).exists(), path


def test_decision_for_unknown_record_is_rejected(after_dedup):
    work = after_dedup
    decisions = work / "data/denosumab_ra/screening/decisions.csv"
    with open(decisions, "a", encoding="utf-8") as handle:
        handle.write("pubmed:99999999,R1,title_abstract,exclude,,\n")
    result = run_snakemake(work)
    output = result.stderr + result.stdout
    assert result.returncode != 0
    assert "record pubmed:99999999), field 'record_id': no such record" in output
    assert not (work / "results/denosumab_ra/screening/final_decisions.tsv").exists()


@pytest.mark.parametrize("row,message", [
    ("pubmed:18438830,R1,title_abstract,exclude,Review,",
     "reviewer R1 made different title_abstract decisions (include, exclude) on record "
     "pubmed:18438830"),
    ("pubmed:18438830,R3,full_text,exclude,,",
     "(record pubmed:18438830), field 'reason': a full-text exclusion needs a reason"),
    ("pubmed:18438830,R3,abstract,include,,",
     "(record pubmed:18438830), field 'stage': 'abstract' is not one of"),
    ("pubmed:18438830,R3,title_abstract,yes,,",
     "(record pubmed:18438830), field 'decision': 'yes' is not one of"),
])
def test_bad_decision_rows_are_listed_and_nothing_is_written(after_dedup, row, message):
    work = after_dedup
    decisions = work / "data/denosumab_ra/screening/decisions.csv"
    lines = decisions.read_text(encoding="utf-8").rstrip("\n").split("\n")
    lines.append(row)
    decisions.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_snakemake(work)
    output = result.stderr + result.stdout
    assert result.returncode != 0
    assert message in output
    assert f"line {len(lines)}" in output
    for path in ["final_decisions.tsv", "included.tsv", "to_screen.csv", "agreement.tsv"]:
        assert not (work / "results/denosumab_ra/screening" / path).exists(), path
