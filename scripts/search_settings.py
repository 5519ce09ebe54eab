"""Rule search_settings: what defines one searched source's search (a date change reruns)."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # this workflow's own sysrev first

from sysrev.workflow.logs import rule_log
from sysrev.workflow.search import search_settings

with rule_log(snakemake.log[0]):
    search_settings(source=snakemake.wildcards.searched_source,
                    search=snakemake.params.search, output=snakemake.output.settings)
