"""Rule meta_analysis: effect sizes, pooled estimates and sensitivity analyses of one outcome,
and its study-effects page for the report."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # this workflow's own sysrev first

from sysrev.workflow.analysis import meta_analysis
from sysrev.workflow.logs import rule_log

with rule_log(snakemake.log[0]):
    meta_analysis(contrasts=snakemake.input.contrasts, studies=snakemake.input.studies,
                  effects_out=snakemake.output.effects, pooled_out=snakemake.output.pooled,
                  metafor_out=snakemake.output.metafor,
                  leave1out_out=snakemake.output.leave1out,
                  cumulative_out=snakemake.output.cumulative, outcome=snakemake.params.outcome,
                  preset=snakemake.params.preset, random_method=snakemake.params.random_method,
                  test=snakemake.params.test,
                  prediction_interval=snakemake.params.prediction_interval,
                  level=snakemake.params.level, subgroup=snakemake.params.subgroup,
                  subgroup_tau2=snakemake.params.subgroup_tau2,
                  small_study_min_studies=snakemake.params.small_study_min_studies,
                  trim_and_fill=snakemake.params.trim_and_fill,
                  effects_html=snakemake.output.effects_html)
