"""Rule pubmed_update: the PubMed records new since the previous search."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # this workflow's own sysrev first

from sysrev.workflow.logs import rule_log
from sysrev.workflow.search import pubmed_update

with rule_log(snakemake.log[0]):
    pubmed_update(records=snakemake.input.records, previous=list(snakemake.input.previous),
                  output=snakemake.output.new_records)
