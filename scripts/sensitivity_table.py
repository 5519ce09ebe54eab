"""Rule sensitivity_table: one outcome's leave-one-out and cumulative analyses as an HTML
page for the report."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # this workflow's own sysrev first

from sysrev.workflow.logs import rule_log
from sysrev.workflow.report import sensitivity_table

with rule_log(snakemake.log[0]):
    sensitivity_table(leave1out=snakemake.input.leave1out,
                      cumulative=snakemake.input.cumulative, pooled=snakemake.input.pooled,
                      level=snakemake.params.level, output=snakemake.output.html,
                      rob_sensitivity=(snakemake.input.rob_sensitivity[0]
                                       if snakemake.input.rob_sensitivity else None))
