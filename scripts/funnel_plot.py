"""Rule funnel_plot: one outcome's funnel plot with Egger's test."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # this workflow's own sysrev first

from sysrev.workflow.analysis import funnel_plot
from sysrev.workflow.logs import rule_log

with rule_log(snakemake.log[0]):
    funnel_plot(pooled=snakemake.input.pooled, png=snakemake.output.png,
                svg=snakemake.output.svg, contours=snakemake.params.contours)
