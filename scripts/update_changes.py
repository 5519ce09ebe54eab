"""Rule update_changes: what changed since the previous version of the review."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # this workflow's own sysrev first

from sysrev.workflow.logs import rule_log
from sysrev.workflow.update import update_changes

with rule_log(snakemake.log[0]):
    update_changes(versions=list(snakemake.params.versions), records=snakemake.input.records,
                   clusters=snakemake.input.clusters, final=snakemake.input.final,
                   included=snakemake.input.included, arms=snakemake.input.arms,
                   summary=snakemake.input.summary, sof=snakemake.input.sof,
                   searches=snakemake.input.searches, studies=snakemake.input.studies,
                   stopping=snakemake.input.stopping, outcomes=snakemake.params.outcomes,
                   changes_out=snakemake.output.changes,
                   versions_out=snakemake.output.versions,
                   paragraph_out=snakemake.output.paragraph, page_out=snakemake.output.page,
                   audit=snakemake.output.audit,
                   pubmed_date=snakemake.params.pubmed_date,
                   archive_files=list(snakemake.input.versions))
