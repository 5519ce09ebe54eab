"""Rule pubmed_records: parse the PubMed snapshot of the search date."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # this workflow's own sysrev first

from sysrev.workflow.logs import rule_log
from sysrev.workflow.search import pubmed_records

with rule_log(snakemake.log[0]):
    pubmed_records(provenance=snakemake.input.provenance[0], xml=list(snakemake.input.xml),
                   query=snakemake.params.query, searches=snakemake.input.searches,
                   output=snakemake.output.records,
                   start_date=snakemake.params.start_date,
                   date_type=snakemake.params.date_type)
