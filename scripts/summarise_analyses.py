"""Rule summarise_analyses: summary.tsv across outcomes, and the analysis audit."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # this workflow's own sysrev first

from sysrev.workflow.analysis import summarise_analyses
from sysrev.workflow.logs import rule_log

with rule_log(snakemake.log[0]):
    summarise_analyses(pooled=list(snakemake.input.pooled),
                       summary_out=snakemake.output.summary, audit=snakemake.output.audit,
                       parameters=dict(snakemake.params.items()))
