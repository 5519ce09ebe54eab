"""Rule collect_records: every source's records into records.tsv, with the search audit."""
from sysrev.workflow.logs import rule_log
from sysrev.workflow.search import collect_records

with rule_log(snakemake.log[0]):
    collect_records(tables=[snakemake.input.pubmed, *snakemake.input.exports],
                    searches=snakemake.input.searches,
                    snapshot_dir=snakemake.params.snapshot_dir,
                    output=snakemake.output.records, audit=snakemake.output.audit,
                    update=snakemake.input.pubmed_update,
                    parameters={"pubmed_query": snakemake.params.query,
                                "pubmed_search_date": snakemake.params.date,
                                "pubmed_previous_search_date": snakemake.params.previous_date})
