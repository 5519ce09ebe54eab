"""A change to one outcome reruns only what it affects (issue 20): the per-outcome jobs stay
one job per outcome (meta-analysis, forest plot, outcome table, versions plot ...), so after
a change to the settings of one outcome Snakemake plans that outcome's jobs and the
summaries across outcomes, and leaves every other outcome's results as they are.

Checked with ``snakemake --summary`` (which output files it would update) in a copy of the
finished bundled run: nothing is run."""

from __future__ import annotations

import csv
import io
import re

import yaml

from tests.workflow.conftest import OFFLINE, run_snakemake

REVIEW = "results/denosumab_ra"


def _planned(workdir) -> dict[str, str]:
    """Output file -> rule, for every output file Snakemake would (re)create."""
    result = run_snakemake(workdir, "--summary", env=OFFLINE)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = csv.DictReader(io.StringIO(result.stdout[result.stdout.index("output_file"):]),
                          delimiter="\t")
    return {row["output_file"]: row["rule"] for row in rows
            if row["plan"] != "no update"}


def _outcome_of(path: str) -> str | None:
    match = re.search(r"/(?:analysis|versions)/([a-z0-9_]+)/|_([a-z0-9_]+)\.(?:html|png|svg"
                      r"|pdf|tsv)$", path)
    return next((g for g in match.groups() if g), None) if match else None


def test_one_outcome_changed_reruns_that_outcome_only(bundled_copy):
    work = bundled_copy
    assert _planned(work) == {}, "the copy of the finished run should be up to date"
    config_path = work / "config" / "config.yaml"
    config = yaml.safe_load(config_path.read_text("utf-8"))
    outcomes = [o["id"] for o in config["analysis"]["outcomes"]]
    changed = next(o for o in config["analysis"]["outcomes"] if o["id"] == "erosion")
    changed["favours_left"] = "Favours denosumab (relabelled)"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")

    planned = _planned(work)
    assert planned, "a changed outcome label must rerun its jobs"
    per_outcome = {path: rule for path, rule in planned.items()
                   if f"{REVIEW}/analysis/" in path and _outcome_of(path) in outcomes}
    # The changed outcome's own results are planned ...
    assert f"{REVIEW}/analysis/erosion/forest.png" in planned
    # ... and no other outcome's.
    others = {path for path in per_outcome if _outcome_of(path) != "erosion"}
    assert others == set(), sorted(others)[:10]
    # Nothing upstream of the analysis (search, dedup, screening, extraction) is rerun.
    upstream = {path for path in planned
                if re.search(r"/(search|dedup|screening|extraction|prisma)/", path)}
    assert upstream == set(), sorted(upstream)
