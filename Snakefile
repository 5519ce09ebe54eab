# sysrev: a systematic review and meta-analysis as one re-runnable workflow.
from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


validate(config, "config/schema.yaml")


include: "rules/common.smk"
include: "rules/search.smk"
include: "rules/dedup.smk"
include: "rules/screening.smk"
include: "rules/extraction.smk"
include: "rules/analysis.smk"
include: "rules/prisma.smk"


rule all:
    input:
        records="results/search/records.tsv",
        unique="results/dedup/unique.tsv",
        duplicates="results/dedup/duplicates.tsv",
        included="results/screening/included.tsv",
        prisma="results/prisma/counts.json",
        summary="results/analysis/summary.tsv",
        forest=get_forest_plots,
        audits=get_stage_audits,
    default_target: True
