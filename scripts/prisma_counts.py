"""Rule prisma_counts: the PRISMA 2020 flow counts and the PRISMA2020 CSV."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # this workflow's own sysrev first

from sysrev.workflow.logs import rule_log
from sysrev.workflow.prisma import prisma_counts

with rule_log(snakemake.log[0]):
    previous = snakemake.params.previous_version
    prisma_counts(records=snakemake.input.records, clusters=snakemake.input.clusters,
                  final=snakemake.input.final, included=snakemake.input.included,
                  searches=snakemake.input.searches,
                  previous_version=previous or None,
                  counts_out=snakemake.output.counts, csv_out=snakemake.output.csv,
                  audit=snakemake.output.audit,
                  removed_by_automation=snakemake.params.removed_by_automation,
                  pooled=list(snakemake.input.pooled),
                  disclosure=snakemake.params.disclosure,
                  sources=list(snakemake.params.sources),
                  registers=list(snakemake.params.registers),
                  other_sources=list(snakemake.params.other_sources),
                  stopping=snakemake.input.stopping)
