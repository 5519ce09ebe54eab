"""Rule screen_records: final screening decisions and the included reports."""
from sysrev.screening import ScreeningRules
from sysrev.workflow.logs import rule_log
from sysrev.workflow.screening import screen_records

with rule_log(snakemake.log[0]):
    p = snakemake.params
    screen_records(unique=snakemake.input.unique, clusters=snakemake.input.clusters,
                   decisions=snakemake.input.decisions, studies=snakemake.input.studies,
                   final=snakemake.output.final, included=snakemake.output.included,
                   audit=snakemake.output.audit,
                   rules=ScreeningRules(p.title_abstract_rule, p.full_text_rule,
                                        p.reviewers_required, p.consensus_reviewer,
                                        p.require_complete))
