# sysrev: a systematic review and meta-analysis as one re-runnable workflow.
import os
import sys

from snakemake.utils import min_version, validate

min_version("9.0")

# This workflow's own sysrev first (as in every rule script), for the checks run while the
# workflow is read.
if os.path.isdir(f"{workflow.basedir}/src/sysrev"):
    sys.path.insert(0, f"{workflow.basedir}/src")

from sysrev.config import check_config_file
from sysrev.workflow.logs import clear_failed_run_marker, mark_failed_run, print_warning_summary


# The bundled review's config is the default only: a review's own --configfile replaces it
# whole (never merged key by key), so no other review inherits the bundled query or data.
if not workflow.overwrite_configfiles:

    check_config_file("config/config.yaml")  # file and line of a YAML error

    configfile: "config/config.yaml"


validate(config, "config/schema.yaml")


report: "report/workflow.rst"


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
include: "rules/sources.smk"
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


# The offline route's first half (README.md, "Updating without internet"): `snakemake
# retrieve --cores 1` on a machine with internet retrieves every configured search whose
# date has no snapshot yet, and nothing else.
rule retrieve:
    input:
        get_snapshot_provenances,


# A run that exits 0 can still carry warnings that change what its results mean (a dropped
# extraction row, pending decisions, a suspicious export): repeat them at the end. A failed
# run leaves the last successful run's tables in place: mark the folder until a run succeeds.
onsuccess:
    print_warning_summary(config.get("pathvars", {}).get("logs", f"logs/{config['review']}"))
    clear_failed_run_marker(config.get("pathvars", {}).get("results", f"results/{config['review']}"))


onerror:
    mark_failed_run(config.get("pathvars", {}).get("results", f"results/{config['review']}"),
                    log)
