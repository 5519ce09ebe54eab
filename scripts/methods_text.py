"""Rule methods_text: the methods section of the report, from the audits."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # this workflow's own sysrev first

from pathlib import Path

from sysrev.workflow.logs import rule_log
from sysrev.workflow.report import methods_text

with rule_log(snakemake.log[0]):
    audits = {Path(p).stem: p for p in snakemake.input.audits}
    methods_text(review=snakemake.params.review, question=snakemake.params.question,
                 audits=audits, prisma=snakemake.input.prisma,
                 pooled=list(snakemake.input.pooled), output=snakemake.output.html,
                 disclosure=snakemake.params.disclosure, title=snakemake.params.title,
                 searches=snakemake.input.searches, included=snakemake.input.included,
                 update=next(iter(snakemake.input.update_paragraph), None),
                 analyses=snakemake.params.analyses, labels=snakemake.params.labels)
