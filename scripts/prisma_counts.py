"""Rule prisma_counts: the PRISMA 2020 flow counts."""
from sysrev.workflow.logs import rule_log
from sysrev.workflow.prisma import prisma_counts

with rule_log(snakemake.log[0]):
    prisma_counts(records=snakemake.input.records, clusters=snakemake.input.clusters,
                  final=snakemake.input.final, included=snakemake.input.included,
                  searches=snakemake.input.searches, counts_out=snakemake.output.counts,
                  audit=snakemake.output.audit)
