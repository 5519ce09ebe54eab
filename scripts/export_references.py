"""Rule export_references: RIS and BibTeX of the included and the excluded records."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # this workflow's own sysrev first

from sysrev.workflow.logs import rule_log
from sysrev.workflow.report import export_references

with rule_log(snakemake.log[0]):
    export_references(unique=snakemake.input.unique, final=snakemake.input.final,
                      included=snakemake.input.included,
                      included_ris=snakemake.output.included_ris,
                      included_bib=snakemake.output.included_bib,
                      excluded_ris=snakemake.output.excluded_ris,
                      excluded_bib=snakemake.output.excluded_bib)
