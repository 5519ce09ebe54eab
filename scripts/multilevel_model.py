"""Rule multilevel_model: one outcome's three-level model and its CR2 test."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # this workflow's own sysrev first

from sysrev.workflow.analysis import multilevel_model
from sysrev.workflow.logs import rule_log

with rule_log(snakemake.log[0]):
    multilevel_model(effects=snakemake.input.effects, table_out=snakemake.output.table,
                     summary_out=snakemake.output.summary, outcome=snakemake.params.outcome,
                     method=snakemake.params.method, robust=snakemake.params.robust,
                     level=snakemake.params.level, sheet=snakemake.input.sheet,
                     moderators=snakemake.params.moderators)
