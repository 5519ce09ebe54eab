"""sysrev as a workflow for any review: several reviews in one checkout, a review without
PubMed, a review folder apart from the workflow (--directory, module), jobs that share no
file system (--shared-fs-usage none with a storage provider)."""

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from tests.workflow.conftest import OFFLINE, REPO, copy_project, run_snakemake

pytestmark = pytest.mark.workflow

SECOND = "results/cff_dinosaur"


def tree_digest(root: Path) -> dict[str, str]:
    """SHA-256 of every file below ``root`` (relative path -> digest)."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


#: The incremental dedup's note of how this run went (its mode and step times): a log
#: beside the index, not an output, so it differs between runs of the same inputs.
RUN_LOG = "dedup/index/last_run.json"


def tables(root: Path) -> dict[str, str]:
    """Digests of the tables and vector figures below ``root`` (what must be byte-identical
    however the jobs ran)."""
    return {name: digest for name, digest in tree_digest(root).items()
            if name.endswith((".tsv", ".json", ".csv", ".svg", ".html"))
            and name != "report.html"  # made by `snakemake --report` in another test
            and not name.endswith(RUN_LOG)}


#: Written beside the outputs on the machine that runs Snakemake, not declared as job outputs,
#: so a storage provider never receives them: the results folder's config fingerprint (written
#: by the run's success hook) and the incremental-dedup index (a cache; without a shared file
#: system each update deduplicates from scratch, with the same tables).
NOT_IN_STORAGE = {"config_identity.json", "dedup/index/manifest.json",
                  "dedup/index/last_run.json"}


def snakemake_env(**extra: str) -> dict[str, str]:
    return {**os.environ, **OFFLINE, **extra}


def review_folder(target: Path) -> Path:
    """A review team's own folder: its config/config.yaml and data, no workflow code."""
    (target / "config").mkdir(parents=True)
    shutil.copy2(REPO / "config/config.yaml", target / "config/config.yaml")
    shutil.copytree(REPO / "data/denosumab_ra", target / "data/denosumab_ra")
    return target


@pytest.fixture(scope="module")
def second_review(bundled_run, second_review_run, second_review_process):
    """The second review (no PubMed) run in the same checkout as the bundled one: the
    session's second_review_run, a copy of bundled_run where it ran once."""
    return second_review_run, tree_digest(bundled_run / "results/denosumab_ra"), \
        second_review_process


def test_second_review_runs_without_pubmed_next_to_the_bundled_one(second_review):
    work, before, result = second_review
    # The bundled review's results are untouched by the second review's run.
    assert tree_digest(work / "results/denosumab_ra") == before
    assert (work / "logs/cff_dinosaur/collect_records/collect_records.log").is_file()
    # No PubMed: no snapshot rule ran, nothing was requested.
    assert "pubmed_records" not in result.stderr and "retrieve_pubmed" not in result.stderr
    assert not (work / SECOND / "search/pubmed.tsv").exists()
    assert not (work / SECOND / "search/update.tsv").exists()
    records = pd.read_csv(work / SECOND / "search/records.tsv", sep="\t", dtype=str)
    assert records["source"].value_counts().to_dict() == {"embase": 10, "central": 3}
    search = json.loads((work / SECOND / "audit/search.json").read_text())
    assert search["parameters"]["pubmed_snapshot"] is None
    assert search["parameters"]["pubmed_query"] is None
    assert "pubmed_provenance" not in search["inputs"]


def test_second_review_counts_come_from_its_own_decisions(second_review):
    work, _, _ = second_review
    counts = json.loads((work / SECOND / "prisma/counts.json").read_text())
    ident, screening = counts["identification"], counts["screening"]
    assert ident["databases"] == {"central": 3, "embase": 10}
    assert ident["records_identified"] == 13
    assert all(check["holds"] for check in counts["checks"])
    # The Rayyan export: 2 included, 2 maybe (go forward), 2 excluded, 4 without a label;
    # the 3 CENTRAL records have no decision either.
    final = pd.read_csv(work / SECOND / "screening/final_decisions.tsv", sep="\t", dtype=str)
    title_abstract = final[final["stage"] == "title_abstract"]["final_decision"].value_counts()
    assert title_abstract.get("include", 0) == 4 and title_abstract.get("exclude", 0) == 2
    assert screening["records_excluded"] == 2
    assert counts["retrieval"]["reports_sought"] == 4
    assert counts["included"]["studies"] == 0
    methods = (work / SECOND / "report/methods.html").read_text(encoding="utf-8")
    assert "denosumab" not in methods.lower()
    # Nothing of the bundled review's wording or disclosure reaches another review.
    for text in ("public source", "Note on this review", "reviewer roles"):
        assert text not in methods, text
    # Its only PRISMA note is its own stopping statement (7 of 13 records undecided, no
    # random sample), never the bundled review's disclosure.
    assert counts["notes"] == [
        "Screening stopped without a statistical criterion: 7 of 13 records were not screened "
        "at title and abstract, and no random sample of them was screened."]
    agreement = (work / SECOND / "report/tables/agreement.html").read_text(encoding="utf-8")
    assert "Note on this review" not in agreement


def test_a_configfile_replaces_the_bundled_config_instead_of_inheriting_it(tmp_path):
    work = copy_project(tmp_path / "project")
    partial = work / "partial.yaml"
    partial.write_text("review: partial\ndata_dir: data/denosumab_ra\n"
                       "search:\n  exports: []\n", encoding="utf-8")
    result = run_snakemake(work, "-n", "--configfile", str(partial))
    assert result.returncode != 0
    # The bundled review's screening section was not inherited: the schema asks for it.
    # (a dry run prints its errors to stdout)
    assert "'screening' is a required property" in result.stdout + result.stderr
    typo = work / "typo.yaml"
    typo.write_text((REPO / ".test/config/config.yaml").read_text(encoding="utf-8")
                    + "dedupe:\n  source_priority: [embase]\n", encoding="utf-8")
    result = run_snakemake(work, "-n", "--configfile", str(typo))
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "dedupe" in output and "Additional properties" in output


def test_the_workflow_runs_on_a_review_folder_elsewhere(tmp_path):
    """snakemake -s <workflow>/Snakefile --directory <review>: code inputs, scripts, the
    schema and report captions resolve in the workflow, data and results in the review."""
    workflow = copy_project(tmp_path / "workflow")
    review = review_folder(tmp_path / "review")
    target = "results/denosumab_ra/dedup/unique.tsv"
    result = subprocess.run(["snakemake", "--cores", "2", "-s", str(workflow / "Snakefile"),
                             "--directory", str(review), target], cwd=tmp_path,
                            capture_output=True, text=True, timeout=600, env=snakemake_env())
    assert result.returncode == 0, result.stderr[-5000:]
    assert (review / target).is_file()
    assert not (workflow / "results").exists()
    dry = subprocess.run(["snakemake", "-n", "--cores", "2", "-s", str(workflow / "Snakefile"),
                          "--directory", str(review)], cwd=tmp_path, capture_output=True,
                         text=True, timeout=600, env=snakemake_env())
    assert dry.returncode == 0, dry.stderr[-5000:]


def module_review(tmp_path: Path) -> Path:
    """A review folder whose own Snakefile uses sysrev as a module (`use rule * from
    sysrev`), with the workflow copied beside it."""
    workflow = copy_project(tmp_path / "workflow")
    review = review_folder(tmp_path / "review")
    (review / "Snakefile").write_text(
        'configfile: "config/config.yaml"\n\n\n'
        f'module sysrev:\n    snakefile:\n        "{workflow / "Snakefile"}"\n'
        "    config:\n        config\n\n\nuse rule * from sysrev\n", encoding="utf-8")
    return review


def test_the_workflow_runs_as_a_snakemake_module(tmp_path):
    review = module_review(tmp_path)
    target = "results/denosumab_ra/screening/included.tsv"
    result = subprocess.run(["snakemake", "--cores", "2", target], cwd=review,
                            capture_output=True, text=True, timeout=600, env=snakemake_env())
    assert result.returncode == 0, result.stderr[-5000:]
    included = pd.read_csv(review / target, sep="\t", dtype=str)
    assert included["study_id"].nunique() == 5


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("rsync") is None,
                    reason="snakemake-storage-plugin-fs needs rsync (.ci/run installs it)")
def test_jobs_without_a_shared_file_system_give_the_same_tables(tmp_path, bundled_run):
    """--shared-fs-usage none with the fs storage provider: every job reads only what it
    declares (staged from storage) and writes only what it declares; the tables, figures
    and audits are byte-identical to the local run, audits naming paths in the review."""
    work = copy_project(tmp_path / "project")
    storage = tmp_path / "storage"
    shutil.copytree(work / "data", storage / "data")
    result = run_snakemake(work, "--default-storage-provider", "fs",
                           "--default-storage-prefix", str(storage),
                           "--shared-fs-usage", "none")
    assert result.returncode == 0, result.stderr[-5000:]
    staged = tables(storage / "results/denosumab_ra")
    local = {name: digest for name, digest in tables(bundled_run / "results/denosumab_ra").items()
             if name not in NOT_IN_STORAGE}
    assert staged == local
    search = json.loads((storage / "results/denosumab_ra/audit/search.json").read_text())
    paths = [entry["path"] for entry in search["inputs"]["tables"]]
    assert paths[0] == "results/denosumab_ra/search/pubmed.tsv"


def test_the_second_review_needs_nothing_outside_the_repository():
    """Issue 17: .test/config/config.yaml read ../shared/testdata, which a clone lacks."""
    import yaml

    config = yaml.safe_load((REPO / ".test/config/config.yaml").read_text(encoding="utf-8"))
    data_dir = REPO / config["data_dir"]
    searches = pd.read_csv(data_dir / "search/searches.tsv", sep="\t", dtype=str)
    files = [data_dir / f for f in searches["file"]]
    files += [REPO / d["file"] for d in config["screening"]["decisions"]]
    files += [REPO / config["screening"]["studies"], REPO / config["report"]["risk_of_bias"]]
    files += [REPO / config["extraction"][key] for key in ("studies", "arms")]
    for path in files:
        resolved = path.resolve()
        assert resolved.is_relative_to(REPO), path
        assert resolved.is_file(), path


def test_search_and_dedup_run_before_the_screening_sheets_exist(tmp_path):
    """Issue 17: a team needs the deduplicated list before it screens; sheets that the
    requested targets do not need must not block them, and a target that needs one names
    its config key."""
    work = copy_project(tmp_path / "project")
    for sheet in ("screening/decisions.csv", "screening/studies.csv", "extraction/arms.csv",
                  "extraction/studies.csv", "risk_of_bias/rob2.csv"):
        (work / "data/denosumab_ra" / sheet).unlink()
    dedup = run_snakemake(work, "-n", "results/denosumab_ra/dedup/unique.tsv")
    assert dedup.returncode == 0, dedup.stdout[-3000:] + dedup.stderr[-3000:]
    everything = run_snakemake(work, "-n")
    assert everything.returncode != 0
    output = everything.stdout + everything.stderr
    assert "extraction.studies: file 'data/denosumab_ra/extraction/studies.csv' does not " \
           "exist" in output or "screening.decisions[0].file: file " \
           "'data/denosumab_ra/screening/decisions.csv' does not exist" in output, output
