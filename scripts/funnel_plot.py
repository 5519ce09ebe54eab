"""Rule funnel_plot: one outcome's funnel plot with Egger's test."""
from sysrev.workflow.analysis import funnel_plot
from sysrev.workflow.logs import rule_log

with rule_log(snakemake.log[0]):
    funnel_plot(pooled=snakemake.input.pooled, png=snakemake.output.png,
                svg=snakemake.output.svg, contours=snakemake.params.contours)
