"""Rule validate_extraction: check the extraction sheets and build study contrasts."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # this workflow's own sysrev first

from sysrev.workflow.extraction import validate_extraction
from sysrev.workflow.logs import rule_log

with rule_log(snakemake.log[0]):
    validate_extraction(studies=snakemake.input.studies, arms=snakemake.input.arms,
                        contrast_sheet=list(snakemake.input.contrast_sheet),
                        included=snakemake.input.included, arms_out=snakemake.output.arms,
                        contrasts_out=snakemake.output.contrasts,
                        studies_out=snakemake.output.studies, audit=snakemake.output.audit,
                        outcomes=snakemake.params.outcomes,
                        ci_distribution=snakemake.params.ci_distribution,
                        multi_arm=snakemake.params.multi_arm,
                        impute_sd=snakemake.params.impute_sd,
                        median_sd=snakemake.params.median_sd,
                        subgroup=snakemake.params.subgroup,
                        allow_lost_outcomes=snakemake.params.allow_lost_outcomes,
                        moderator_columns=snakemake.params.moderator_columns,
                        multilevel_outcomes=snakemake.params.multilevel_outcomes)
