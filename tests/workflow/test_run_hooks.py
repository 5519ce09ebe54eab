"""Issue 17: the end of every run says the current state of the results, whatever the entry
point (the main Snakefile or sysrev used as a Snakemake module) and whether or not any job
ran ("Nothing to be done")."""

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.workflow.conftest import run_snakemake
from tests.workflow.test_deployment import module_review, snakemake_env

pytestmark = pytest.mark.workflow

LOGS = Path("logs/denosumab_ra")
MARKER = Path("results/denosumab_ra/RUN_FAILED.txt")


def test_a_no_op_rerun_repeats_the_current_warnings_and_not_stale_logs(tmp_path, bundled_run):
    work = tmp_path / "work"
    shutil.copytree(bundled_run, work, symlinks=True)
    # A warning of a job that makes the results, and an ERROR of a job that is not part of
    # them (an old failed retrieval of a snapshot that was then retrieved elsewhere).
    with (work / LOGS / "screen_records/screen_records.log").open("a") as log:
        log.write("WARNING sysrev.workflow.screening: 3 decisions pending\n")
    stale = work / LOGS / "retrieve_pubmed/retrieve_pubmed.log"
    stale.parent.mkdir(parents=True)
    stale.write_text("ERROR sysrev.search: HTTP 500 from E-utilities\n", encoding="utf-8")
    result = run_snakemake(work)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Nothing to be done" in result.stderr
    assert "screen_records.log: WARNING sysrev.workflow.screening: 3 decisions pending" \
        in result.stderr
    assert "HTTP 500" not in result.stderr
    dry = run_snakemake(work, "-n")
    assert "3 decisions pending" not in dry.stdout + dry.stderr
    # A copied config with the same review name would overwrite these results: stopped.
    shutil.copy2(work / "config/config.yaml", work / "config/copy.yaml")
    copied = run_snakemake(work, "-n", "--configfile", "config/copy.yaml")
    assert copied.returncode != 0
    assert "results/denosumab_ra holds the results of the config config/config.yaml" in \
        copied.stdout + copied.stderr


def test_as_a_module_a_failure_marks_the_results_and_a_success_lists_warnings(tmp_path):
    review = module_review(tmp_path)
    export = review / "data/denosumab_ra/exports/embase.ris"
    good = export.read_bytes()
    export.write_bytes(b"TY  - JOUR\nTI  - cut\n")
    target = "results/denosumab_ra/search/imported/embase.tsv"

    def run(*args):
        return subprocess.run(["snakemake", "--cores", "2", *args], cwd=review,
                              capture_output=True, text=True, timeout=600,
                              env=snakemake_env())

    failed = run(target)
    assert failed.returncode != 0
    assert (review / MARKER).is_file()
    export.write_bytes(good)
    done = run(target)
    assert done.returncode == 0, done.stderr[-3000:]
    assert not (review / MARKER).exists()
    with (review / LOGS / "import_export/embase.log").open("a") as log:
        log.write("WARNING sysrev.imports: a warning about embase.ris\n")
    again = run(target)
    assert "Nothing to be done" in again.stderr
    assert "import_export/embase.log: WARNING sysrev.imports: a warning about embase.ris" \
        in again.stderr
