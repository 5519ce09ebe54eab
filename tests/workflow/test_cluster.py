"""sysrev on a cluster: every rule declares its benchmark file, threads and resources; the
network rule and tiny rules stay local; an outcome's jobs are submitted as one group; the
NCBI API key is passed on only when set; and the whole bundled review, run through
snakemake-executor-plugin-cluster-generic with a "cluster" that runs each jobscript in the
background on this machine, gives byte-identical results to a local run."""

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.workflow.conftest import OFFLINE, REPO, copy_project
from tests.workflow.test_deployment import tables

pytestmark = pytest.mark.workflow

LOCAL_CLUSTER = Path(__file__).parent / "local_cluster"
#: Rules that run where snakemake runs: the network rule, and the tiny ones.
LOCAL_RULES = {"retrieve_pubmed", "summarise_analyses", "prisma_flow", "methods_text"}
#: An outcome's jobs: one submission per outcome.
OUTCOME_GROUP = {"meta_analysis", "forest_plot", "funnel_plot"}


def rule_blocks() -> dict[str, str]:
    """Each rule's text in rules/*.smk (rule or checkpoint name -> its block)."""
    blocks = {}
    for smk in sorted((REPO / "rules").glob("*.smk")):
        parts = re.split(r"^\s*(?:rule|checkpoint) (\w+):\n", smk.read_text(), flags=re.M)
        blocks.update(zip(parts[1::2], parts[2::2]))
    return blocks


def directive(block: str, name: str) -> str | None:
    """The body of one directive of a rule block (the lines indented below ``name:``)."""
    match = re.search(rf"^([ ]*){name}:(.*)\n((?:\1    .*\n)*)", block, flags=re.M)
    return None if match is None else (match.group(2) + "\n" + match.group(3)).strip()


def test_every_rule_declares_benchmark_and_resources():
    blocks = rule_blocks()
    assert len(blocks) >= 16
    for rule, block in blocks.items():
        benchmark = directive(block, "benchmark")
        assert benchmark is not None and benchmark.startswith(f'"<benchmarks>/{rule}/'), rule
        resources = directive(block, "resources")
        assert resources is not None, rule
        # a number, or memory_for_input(<at least>, <MB per MB of input>)
        values = dict(re.findall(r"(\w+)=(?:memory_for_input\()?(\d+)", resources))
        assert int(values["mem_mb"]) >= 500, rule
        assert int(values["runtime"]) >= 5, rule


def test_network_and_tiny_rules_are_local_and_outcome_jobs_grouped():
    blocks = rule_blocks()
    local = {rule for rule, block in blocks.items() if directive(block, "localrule") == "True"}
    assert LOCAL_RULES <= local
    groups = {rule: directive(block, "group") for rule, block in blocks.items()}
    assert OUTCOME_GROUP <= {rule for rule, group in groups.items() if group}
    assert {group for group in groups.values() if group} == {'"outcome"'}
    # dedup computes on several cores (rapidfuzz's workers); a grouped rule does not, so
    # that an outcome's group asks for one core
    threads = {rule for rule, block in blocks.items() if directive(block, "threads")}
    assert "deduplicate_records" in threads
    assert not threads & {rule for rule, group in groups.items() if group}


@pytest.mark.parametrize("api_key", [None, "0123456789abcdef"])
def test_ncbi_api_key_is_optional(tmp_path, api_key):
    """envvars: stops a run whose variable is unset, so NCBI_API_KEY is declared only when
    set: the review plans (and lints) with and without it."""
    work = copy_project(tmp_path / "review")
    env = {k: v for k, v in os.environ.items() if k != "NCBI_API_KEY"}
    if api_key:
        env["NCBI_API_KEY"] = api_key
    for args in (["-n"], ["--lint"]):
        result = subprocess.run(["snakemake", "--cores", "1", *args], cwd=work, env=env,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Lints for" not in result.stdout + result.stderr


def test_default_profile_is_picked_up(tmp_path):
    work = copy_project(tmp_path / "review")
    result = subprocess.run(["snakemake", "-n"], cwd=work, capture_output=True, text=True,
                            timeout=300, env={**os.environ, **OFFLINE})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "workflow specific profile profiles/default" in result.stderr


@pytest.fixture(scope="module")
def cluster_run(tmp_path_factory):
    """The bundled review run through cluster-generic: each job (or group) a jobscript that
    submit.sh runs in the background, polled with status.sh."""
    pytest.importorskip("snakemake_executor_plugin_cluster_generic")
    work = copy_project(tmp_path_factory.mktemp("cluster") / "review")
    jobs_dir = tmp_path_factory.mktemp("cluster_jobs")
    result = subprocess.run(
        ["snakemake", "--executor", "cluster-generic",
         "--cluster-generic-submit-cmd", str(LOCAL_CLUSTER / "submit.sh"),
         "--cluster-generic-status-cmd", str(LOCAL_CLUSTER / "status.sh"),
         "--jobs", "2", "--local-cores", "1", "--latency-wait", "5",
         "--max-status-checks-per-second", "5"],
        cwd=work, capture_output=True, text=True, timeout=1200,
        env={**os.environ, **OFFLINE, "LOCAL_CLUSTER_DIR": str(jobs_dir)})
    assert result.returncode == 0, result.stderr[-5000:]
    return work, jobs_dir, result


@pytest.mark.slow
def test_cluster_run_matches_the_local_run_byte_for_byte(bundled_run, cluster_run):
    work, _, _ = cluster_run
    # the review's folder, where tables() leaves out the report another test may have made
    local = tables(bundled_run / "results/denosumab_ra")
    remote = tables(work / "results/denosumab_ra")
    assert len(local) > 50
    assert remote == local


@pytest.mark.slow
def test_cluster_run_submits_outcome_groups_and_keeps_local_rules_local(cluster_run):
    work, jobs_dir, result = cluster_run
    submitted = [path.read_text() for path in sorted(jobs_dir.glob("*.out"))]
    assert all((jobs_dir / f"{p.stem}.exit").read_text().strip() == "0"
               for p in jobs_dir.glob("*.out"))
    ran = [set(re.findall(r"^(?:local)?(?:rule|checkpoint) (\w+):", out, flags=re.M))
           for out in submitted]
    assert not set().union(*ran) & LOCAL_RULES
    for rule in LOCAL_RULES - {"retrieve_pubmed"}:  # the bundled snapshot is frozen
        assert re.search(rf"^localrule {rule}:", result.stderr, flags=re.M), rule
    # one submission per outcome: its meta-analysis with its plots
    outcome_jobs = [rules for rules in ran if rules & OUTCOME_GROUP]
    assert all("meta_analysis" in rules for rules in outcome_jobs)
    analysis = work / "results/denosumab_ra/analysis"
    outcomes = {p.parent.name for p in analysis.glob("*/pooled.json")}
    assert len(outcome_jobs) == len(outcomes) == 7
    forest = sum("forest_plot" in rules for rules in outcome_jobs)
    assert forest == len(list(analysis.glob("*/forest.png"))) == 4
    # every job wrote its benchmark file
    benchmarks = work / "benchmarks/denosumab_ra"
    assert len(list(benchmarks.glob("meta_analysis/*.tsv"))) == 7
    assert (benchmarks / "deduplicate_records/deduplicate_records.tsv").is_file()
