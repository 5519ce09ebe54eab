"""Rule meta_regression: one outcome's meta-regression on its moderators, and the bubble plot."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # this workflow's own sysrev first

from sysrev.workflow.analysis import meta_regression
from sysrev.workflow.logs import rule_log

with rule_log(snakemake.log[0]):
    meta_regression(effects=snakemake.input.effects, sheet=snakemake.input.sheet,
                    table_out=snakemake.output.table, summary_out=snakemake.output.summary,
                    png=snakemake.output.png, svg=snakemake.output.svg,
                    outcome=snakemake.params.outcome, moderators=snakemake.params.moderators,
                    method=snakemake.params.method, test=snakemake.params.test,
                    level=snakemake.params.level, permutations=snakemake.params.permutations,
                    seed=snakemake.params.seed)
