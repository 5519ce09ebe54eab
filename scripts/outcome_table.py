"""Rule outcome_table: one outcome's study effects as an HTML page for the report."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # this workflow's own sysrev first

from sysrev.workflow.logs import rule_log
from sysrev.workflow.report import outcome_table

with rule_log(snakemake.log[0]):
    outcome_table(effects=snakemake.input.effects, pooled=snakemake.input.pooled,
                  level=snakemake.params.level, output=snakemake.output.html)
