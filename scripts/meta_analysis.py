"""Rule meta_analysis: effect sizes and pooled estimates of one outcome."""
from sysrev.workflow.analysis import meta_analysis
from sysrev.workflow.logs import rule_log

with rule_log(snakemake.log[0]):
    meta_analysis(contrasts=snakemake.input.contrasts, studies=snakemake.input.studies,
                  effects_out=snakemake.output.effects, pooled_out=snakemake.output.pooled,
                  metafor_out=snakemake.output.metafor, outcome=snakemake.params.outcome,
                  random_method=snakemake.params.random_method, test=snakemake.params.test,
                  level=snakemake.params.level)
