"""Rule screen_records: final screening decisions, agreement, to-screen list, included."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # this workflow's own sysrev first

from sysrev.screening import ScreeningRules
from sysrev.workflow.logs import rule_log
from sysrev.workflow.screening import screen_records

with rule_log(snakemake.log[0]):
    p = snakemake.params
    screen_records(records=snakemake.input.records, unique=snakemake.input.unique,
                   clusters=snakemake.input.clusters, sources=list(p.sources),
                   studies=snakemake.input.studies,
                   previous_snapshot=list(snakemake.input.previous_snapshot),
                   previous_records=next((f for f in snakemake.input.previous_version
                                          if f.endswith("records.tsv")), None),
                   final=snakemake.output.final, included=snakemake.output.included,
                   to_screen_out=snakemake.output.to_screen,
                   to_screen_asreview=snakemake.output.to_screen_asreview,
                   agreement=snakemake.output.agreement,
                   conflicts=snakemake.output.conflicts, audit=snakemake.output.audit,
                   withdrawn_from=list(snakemake.input.update_tables),
                   related=next(iter(snakemake.input.related), None),
                   stopping=snakemake.output.stopping, prioritise_records=p.prioritise,
                   recall_target=p.recall_target, confidence=p.confidence,
                   rules=ScreeningRules(p.title_abstract_rule, p.full_text_rule,
                                        p.reviewers_required, p.consensus_reviewer,
                                        p.require_complete))
