"""Rule retrieve_pubmed: fetch the PubMed search of the search date into its frozen snapshot."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # this workflow's own sysrev first

from sysrev.workflow.logs import rule_log
from sysrev.workflow.search import retrieve_pubmed

with rule_log(snakemake.log[0]):
    retrieve_pubmed(snapshot_dir=snakemake.output.snapshot,
                    query=snakemake.params.query, search_date=snakemake.params.date,
                    start_date=snakemake.params.start_date,
                    date_type=snakemake.params.date_type, email=snakemake.params.email,
                    base_url=snakemake.params.base_url, batch_size=snakemake.params.batch_size,
                    timeout=snakemake.params.timeout, max_tries=snakemake.params.max_tries)
