"""Rule rob_sensitivity: every outcome re-pooled with the studies at low risk of bias only."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # this workflow's own sysrev first

from sysrev.workflow.analysis import rob_sensitivity
from sysrev.workflow.logs import rule_log

with rule_log(snakemake.log[0]):
    rob_sensitivity(effects=list(snakemake.input.effects), pooled=list(snakemake.input.pooled),
                    rob=snakemake.input.rob, studies=snakemake.input.studies,
                    tool=snakemake.params.tool, restriction=snakemake.params.restriction,
                    table_out=snakemake.output.table)
