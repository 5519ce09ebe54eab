"""Rule source_update: new, changed and withdrawn records of one source since its previous
search."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # this workflow's own sysrev first

from sysrev.workflow.logs import rule_log
from sysrev.workflow.sources import source_update

with rule_log(snakemake.log[0]):
    source_update(source=snakemake.wildcards.update_source,
                  current=snakemake.input.current[0],
                  previous=next(iter(snakemake.input.previous), None),
                  search_date=snakemake.params.date, output=snakemake.output.table)
