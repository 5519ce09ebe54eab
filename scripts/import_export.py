"""Rule import_export: read one database export into the record table."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # this workflow's own sysrev first

from sysrev.workflow.logs import rule_log
from sysrev.workflow.search import import_export

with rule_log(snakemake.log[0]):
    import_export(export=snakemake.input.export, source=snakemake.wildcards.source,
                  fmt=snakemake.params.fmt, allow_empty=snakemake.params.allow_empty,
                  output=snakemake.output.records, report=snakemake.output.report)
