"""Rule pubmed_update: the PubMed records new since the previous search."""
from sysrev.workflow.logs import rule_log
from sysrev.workflow.search import pubmed_update

with rule_log(snakemake.log[0]):
    pubmed_update(records=snakemake.input.records, previous=list(snakemake.input.previous),
                  output=snakemake.output.new_records)
