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
include: "rules/report.smk"


rule all:
    input:
        records="results/search/records.tsv",
        pubmed_update="results/search/update.tsv",
        unique="results/dedup/unique.tsv",
        duplicates="results/dedup/duplicates.tsv",
        included="results/screening/included.tsv",
        prisma="results/prisma/counts.json",
        prisma_csv="results/prisma/prisma2020.csv",
        prisma_flow="results/prisma/flow.png",
        to_screen="results/screening/to_screen.csv",
        summary="results/analysis/summary.tsv",
        forest=get_forest_plots,
        funnel=get_funnel_plots,
        rob="results/risk_of_bias/traffic_light.png",
        rob_summary="results/risk_of_bias/summary.png",
        sof="results/sof/summary_of_findings.html",
        methods="results/report/methods.html",
        audits=get_stage_audits,
    default_target: True
