"""Rule forest_plot: one outcome's forest plot as PNG, SVG and PDF."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # this workflow's own sysrev first

from sysrev.workflow.analysis import forest_plot
from sysrev.workflow.logs import rule_log

with rule_log(snakemake.log[0]):
    forest_plot(effects=snakemake.input.effects, pooled=snakemake.input.pooled,
                png=snakemake.output.png, svg=snakemake.output.svg,
                pdf=snakemake.output.pdf, studies=snakemake.input.studies,
                outcome=snakemake.params.outcome,
                treatment_label=snakemake.params.treatment_label,
                control_label=snakemake.params.control_label,
                study_order=snakemake.params.study_order, sheet=snakemake.input.sheet,
                rob=snakemake.input.rob or None, rob_tool=snakemake.params.rob_tool)
