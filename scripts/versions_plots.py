"""Rule versions_plots: every outcome's pooled result by review version."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # this workflow's own sysrev first

from sysrev.workflow.logs import rule_log
from sysrev.workflow.update import versions_plots

with rule_log(snakemake.log[0]):
    versions_plots(versions=snakemake.input.versions, outcomes=snakemake.params.outcomes,
                   level=snakemake.params.level, outputs=dict(snakemake.output.items()))
