"""Rule risk_of_bias_figures: traffic-light and weighted summary plots."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # this workflow's own sysrev first

from sysrev.workflow.logs import rule_log
from sysrev.workflow.report import risk_of_bias_figures

with rule_log(snakemake.log[0]):
    out = snakemake.output
    risk_of_bias_figures(rob=snakemake.input.rob, studies=snakemake.input.studies,
                         arms=snakemake.input.arms, tool=snakemake.params.tool,
                         traffic_png=out.traffic_png, traffic_svg=out.traffic_svg,
                         summary_png=out.summary_png, summary_svg=out.summary_svg,
                         table_out=out.table, audit=out.audit,
                         study_order=snakemake.params.study_order,
                         sheet=snakemake.input.sheet)
