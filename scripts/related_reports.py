"""Rule related_reports: a trial's registration and its papers, a preprint and its journal
version, linked as reports of one study candidate."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # this workflow's own sysrev first

from sysrev.workflow.logs import rule_log
from sysrev.workflow.sources import related_reports

with rule_log(snakemake.log[0]):
    related_reports(records=snakemake.input.records, details=list(snakemake.input.details),
                    xml=[*snakemake.input.xml, *snakemake.input.chased], output=snakemake.output.related)
