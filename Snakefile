# sysrev: a systematic review and meta-analysis as one re-runnable workflow.
import os
import sys

from snakemake.utils import min_version, validate

min_version("9.0")

# This workflow's own sysrev first (as in every rule script), for the checks run while the
# workflow is read. current_basedir is this file's folder also when sysrev is a module (basedir
# is then the folder of the Snakefile that uses it).
if os.path.isdir(f"{workflow.current_basedir}/src/sysrev"):
    sys.path.insert(0, f"{workflow.current_basedir}/src")

from sysrev.config import check_config_file, check_config_values
from sysrev.workflow.identity import check_results_identity, config_identity
from sysrev.workflow.logs import install_run_hooks


# The bundled review's config is the default only: a review's own --configfile replaces it
# whole (never merged key by key), so no other review inherits the bundled query or data.
if not workflow.overwrite_configfiles:

    check_config_file("config/config.yaml")  # file and line of a YAML error

    configfile: "config/config.yaml"

else:
    # Snakemake has read them already; checked again for what it lets pass (a key given
    # twice, aliases), naming the file and line.
    for _configfile in workflow.overwrite_configfiles:
        check_config_file(_configfile)

# Before the schema: a YAML alias bomb would hang its validator, an unquoted date gets a
# dump of the section instead of "quote the date", and markup would be live in the report.
check_config_values(config)
validate(config, "config/schema.yaml")


report: "report/workflow.rst"


# Python's mimetypes knows neither RIS nor BibTeX: without a type, the report offers the
# reference exports with none (registered here, where `snakemake --report` runs).
import mimetypes

mimetypes.add_type("application/x-research-info-systems", ".ris")
mimetypes.add_type("application/x-bibtex", ".bib")


# Each review writes its own results/<review>/ and logs/<review>/, so reviews that share a
# checkout never overwrite each other (a config's `pathvars` or a module may set others).
pathvars:
    results=f"results/{config['review']}",
    logs=f"logs/{config['review']}",
    benchmarks=f"benchmarks/{config['review']}",


# Two configs with one `review:` name would share a results folder: the first run into it
# records its config there (at the end of the run, which is known then not to be a dry run),
# another config's run stops before anything is written.
IDENTITY = config_identity(workflow.configfiles, config["review"])
if workflow.is_main_process:
    check_results_identity(
        config.get("pathvars", {}).get("results", f"results/{config['review']}"), IDENTITY,
        write=False)


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
include: "rules/update.smk"


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
# extraction row, pending decisions, a suspicious export): repeat them at the end of every run,
# a "Nothing to be done" rerun included. A failed run leaves the last successful run's tables
# in place: mark the folder until a run succeeds. The hooks are installed on the workflow
# object, so that they hold when sysrev is used as a module (whose onsuccess/onerror
# Snakemake does not inherit).
install_run_hooks(workflow,
                  config.get("pathvars", {}).get("results", f"results/{config['review']}"),
                  config.get("pathvars", {}).get("logs", f"logs/{config['review']}"),
                  identity=IDENTITY)
