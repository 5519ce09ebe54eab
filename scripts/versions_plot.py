"""Rule versions_plot: one outcome's pooled result by review version."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # this workflow's own sysrev first

from sysrev.workflow.logs import rule_log
from sysrev.workflow.update import versions_plot

with rule_log(snakemake.log[0]):
    versions_plot(versions=snakemake.input.versions, outcome=snakemake.params.outcome,
                  level=snakemake.params.level, png=snakemake.output.png,
                  svg=snakemake.output.svg)
