"""Rule deduplicate_records: unique records and the duplicates removed, with reasons."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # this workflow's own sysrev first

from sysrev.workflow.dedup import deduplicate_records
from sysrev.workflow.logs import rule_log

with rule_log(snakemake.log[0]):
    deduplicate_records(records=snakemake.input.records, unique=snakemake.output.unique,
                        duplicates=snakemake.output.duplicates,
                        clusters=snakemake.output.clusters, maybe=snakemake.output.maybe,
                        related=snakemake.output.related, audit=snakemake.output.audit,
                        source_priority=list(snakemake.params.source_priority),
                        errata=snakemake.params.errata, threads=snakemake.threads,
                        incremental=snakemake.params.incremental,
                        maybe_per_100k=snakemake.params.maybe_per_100k,
                        maybe_minimum=snakemake.params.maybe_minimum,
                        overrides=next(iter(snakemake.input.overrides), None),
                        source_links=next(iter(snakemake.input.source_links), None))
