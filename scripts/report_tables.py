"""Rule report_tables: the tables the report shows inline, as HTML pages."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # this workflow's own sysrev first

from sysrev.workflow.logs import rule_log
from sysrev.workflow.report import report_tables

with rule_log(snakemake.log[0]):
    report_tables(summary=snakemake.input.summary, counts=snakemake.input.counts,
                  duplicates=snakemake.input.duplicates, maybe=snakemake.input.maybe,
                  agreement=snakemake.input.agreement, conflicts=snakemake.input.conflicts,
                  related=snakemake.input.related, unique=snakemake.input.unique,
                  rob_shares=snakemake.input.rob, included=snakemake.input.included,
                  level=snakemake.params.level, disclosure=snakemake.params.disclosure,
                  tool=snakemake.params.tool,
                  outputs={key: snakemake.output[key] for key in
                           ("summary", "prisma", "duplicates", "maybe", "agreement",
                            "conflicts", "related", "rob")})
