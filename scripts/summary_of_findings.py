"""Rule summary_of_findings: the GRADE summary-of-findings table."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # this workflow's own sysrev first

from sysrev.workflow.logs import rule_log
from sysrev.workflow.report import summary_of_findings

with rule_log(snakemake.log[0]):
    overrides = list(snakemake.input.overrides)
    summary_of_findings(pooled=list(snakemake.input.pooled), rob=snakemake.input.rob,
                        studies=snakemake.input.studies, tool=snakemake.params.tool,
                        overrides=overrides[0] if overrides else None,
                        tsv=snakemake.output.tsv, html_out=snakemake.output.html,
                        png=snakemake.output.png, audit=snakemake.output.audit,
                        sof=snakemake.params.sof,
                        study_order=snakemake.params.study_order,
                        sheet=snakemake.input.sheet,
                        intervention=snakemake.params.intervention,
                        comparison=snakemake.params.comparison,
                        rob_sensitivity=(snakemake.input.rob_sensitivity[0]
                                         if snakemake.input.rob_sensitivity else None))
