"""Rule pubmed_records: parse the PubMed snapshot of the search date."""
from sysrev.workflow.logs import rule_log
from sysrev.workflow.search import pubmed_records

with rule_log(snakemake.log[0]):
    pubmed_records(snapshot_dir=snakemake.params.snapshot_dir, query=snakemake.params.query,
                   searches=snakemake.input.searches, output=snakemake.output.records)
