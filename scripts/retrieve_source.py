"""Rule retrieve_source: fetch one source's search of its date into its frozen snapshot."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # this workflow's own sysrev first

from sysrev.workflow.logs import rule_log
from sysrev.workflow.sources import retrieve_source

with rule_log(snakemake.log[0]):
    retrieve_source(source=snakemake.wildcards.api_source,
                    snapshot_dir=snakemake.output.snapshot, config=snakemake.config,
                    seeds=next(iter(snakemake.input.seeds), None))
