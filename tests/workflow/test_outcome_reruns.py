"""A change to one outcome reruns only what it affects (issue 20).

The per-outcome jobs (meta-analysis, which also writes the outcome's study-effects page,
forest plot, sensitivity table ...) stay one job per outcome; only the versions plots, which
all read the one ``update/versions.tsv``, are one job (``versions_plots``). After a change to the settings of one outcome, the extraction
checkpoint (which validates every outcome) reruns and rewrites its tables unchanged, and
Snakemake then plans that outcome's jobs and the summaries across outcomes only."""

from __future__ import annotations

import re

import yaml

from tests.workflow.conftest import OFFLINE, run_snakemake

PER_OUTCOME_RULES = {"meta_analysis", "forest_plot", "funnel_plot", "sensitivity_table",
                     "meta_regression", "multilevel_model"}
UPSTREAM_RULES = {"import_export", "collect_records", "deduplicate_records", "screen_records",
                  "pubmed_records", "pubmed_update", "source_update", "retrieve_pubmed"}


def _planned_jobs(workdir) -> list[tuple[str, str | None]]:
    """(rule, outcome wildcard or None) of every job a dry run plans."""
    result = run_snakemake(workdir, "--dry-run", env=OFFLINE)
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = []
    for block in re.split(r"\n\s*(?=(?:local)?(?:rule|checkpoint) \w+:)", result.stdout):
        head = re.match(r"\s*(?:local)?(?:rule|checkpoint) (\w+):", block)
        if head:
            outcome = re.search(r"wildcards: .*?outcome=(\w+)", block)
            jobs.append((head.group(1), outcome.group(1) if outcome else None))
    return jobs


def test_one_outcome_changed_reruns_that_outcome_only(bundled_copy):
    work = bundled_copy
    config_path = work / "config" / "config.yaml"
    config = yaml.safe_load(config_path.read_text("utf-8"))
    changed = next(o for o in config["analysis"]["outcomes"] if o["id"] == "erosion")
    changed["favours_left"] = "Favours denosumab (relabelled)"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")

    # The extraction checkpoint validates every outcome: it reruns first ...
    assert {rule for rule, _ in _planned_jobs(work)} == {"validate_extraction", "all"}
    result = run_snakemake(work, "--until", "validate_extraction", env=OFFLINE)
    assert result.returncode == 0, result.stderr[-3000:]
    # ... and then only the changed outcome's jobs (and what summarises all outcomes).
    jobs = _planned_jobs(work)
    per_outcome = {(rule, outcome) for rule, outcome in jobs if rule in PER_OUTCOME_RULES}
    assert ("meta_analysis", "erosion") in per_outcome
    assert ("forest_plot", "erosion") in per_outcome
    assert {outcome for _, outcome in per_outcome} == {"erosion"}, sorted(per_outcome)
    assert not UPSTREAM_RULES & {rule for rule, _ in jobs}
    # The versions plots are one job (they share one input table).
    assert [rule for rule, _ in jobs].count("versions_plots") <= 1
