"""Rule source_records: one source's snapshot (SHA-256 checked) into its record table."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # this workflow's own sysrev first

from sysrev.workflow.logs import rule_log
from sysrev.workflow.sources import source_records

with rule_log(snakemake.log[0]):
    source_records(source=snakemake.wildcards.api_source,
                   provenance=snakemake.input.provenance, config=snakemake.config,
                   seeds=next(iter(snakemake.input.seeds), None),
                   output=snakemake.output.records, details=snakemake.output.details)
