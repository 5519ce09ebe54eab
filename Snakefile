# sysrev: a systematic review and meta-analysis as one re-runnable workflow.
import os

from snakemake.utils import min_version, validate

min_version("9.0")


# The bundled review's config is the default only: a review's own --configfile replaces it
# whole (never merged key by key), so no other review inherits the bundled query or data.
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


validate(config, "config/schema.yaml")


# Each review writes its own results/<review>/ and logs/<review>/, so reviews that share a
# checkout never overwrite each other (a config's `pathvars` or a module may set others).
pathvars:
    results=f"results/{config['review']}",
    logs=f"logs/{config['review']}",
    benchmarks=f"benchmarks/{config['review']}",


# An NCBI API key (optional: it raises NCBI's rate limit) is passed on to jobs that run on
# other machines. Declared only when set: Snakemake's envvars: stops a run whose declared
# variable is unset, and a review without a key (or without PubMed) must run as well.
if "NCBI_API_KEY" in os.environ:

    envvars:
        "NCBI_API_KEY",


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
        get_final_outputs,
    default_target: True
