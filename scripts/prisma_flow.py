"""Rule prisma_flow: the PRISMA 2020 flow diagram as PNG and SVG."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # this workflow's own sysrev first

from sysrev.workflow.logs import rule_log
from sysrev.workflow.prisma import prisma_flow

with rule_log(snakemake.log[0]):
    prisma_flow(counts=snakemake.input.counts, png=snakemake.output.png,
                svg=snakemake.output.svg)
