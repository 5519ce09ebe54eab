"""Rule collect_records: every source's records into records.tsv, with the search audit."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # this workflow's own sysrev first

from sysrev.workflow.logs import rule_log
from sysrev.workflow.search import collect_records

with rule_log(snakemake.log[0]):
    collect_records(tables=[*snakemake.input.pubmed, *snakemake.input.exports,
                            *snakemake.input.api_sources],
                    searches=snakemake.input.searches,
                    provenance=next(iter(snakemake.input.provenance), None),
                    output=snakemake.output.records, audit=snakemake.output.audit,
                    update=next(iter(snakemake.input.pubmed_update), None),
                    raw_inputs={"exports": list(snakemake.input.raw_exports),
                                "pubmed_xml": list(snakemake.input.raw_pubmed),
                                "source_snapshots": list(snakemake.input.raw_api_sources)},
                    export_sources=[e["source"] for e in snakemake.config["search"]["exports"]],
                    api_sources=[s for s in ("ctgov", "europepmc", "citations")
                                 if snakemake.config["search"].get(s)],
                    parameters={"pubmed_query": snakemake.params.query,
                                "pubmed_search_date": snakemake.params.date,
                                "pubmed_previous_search_date": snakemake.params.previous_date})
