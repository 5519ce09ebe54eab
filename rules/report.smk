# Report stage: risk-of-bias figures, the GRADE summary of findings, and the methods text.


rule risk_of_bias_figures:
    input:
        rob=get_sheet("report.risk_of_bias"),
        studies=rules.validate_extraction.output.studies,
        arms=rules.validate_extraction.output.arms,
        sheet=get_sheet("extraction.studies"),
        code=code_of("src/sysrev/rob.py", "src/sysrev/plots/rob.py",
                      "src/sysrev/study_order.py", "src/sysrev/workflow/report.py"),
    output:
        traffic_png=report(
            "<results>/risk_of_bias/traffic_light.png",
            caption="../report/rob_traffic_light.rst",
            category="Risk of bias",
            labels={"item": "Traffic-light plot (each study)"},
        ),
        traffic_svg="<results>/risk_of_bias/traffic_light.svg",
        summary_png=report(
            "<results>/risk_of_bias/summary.png",
            caption="../report/rob_summary.rst",
            category="Risk of bias",
            labels={"item": "Summary plot (share of participants)"},
        ),
        summary_svg="<results>/risk_of_bias/summary.svg",
        table="<results>/risk_of_bias/summary.tsv",
        audit="<results>/audit/risk_of_bias.json",
    log:
        "<logs>/risk_of_bias_figures/risk_of_bias_figures.log",
    params:
        input_sha256=get_input_sha256(config["report"]["risk_of_bias"]),
        tool=config["report"]["risk_of_bias_tool"],
        study_order=config["report"]["study_order"],
    benchmark:
        "<benchmarks>/risk_of_bias_figures/risk_of_bias_figures.tsv"
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/sysrev.yaml"
    script:
        "../scripts/risk_of_bias_figures.py"


rule summary_of_findings:
    input:
        pooled=get_pooled_results,
        effects=get_effects_tables,
        rob=get_sheet("report.risk_of_bias"),
        studies=rules.validate_extraction.output.studies,
        overrides=get_grade_overrides,
        sheet=get_sheet("extraction.studies"),
        rob_sensitivity=get_rob_sensitivity_table,
        code=code_of("src/sysrev/grade.py", "src/sysrev/plots/sof.py",
                      "src/sysrev/study_order.py", "src/sysrev/workflow/report.py"),
    output:
        tsv="<results>/sof/summary_of_findings.tsv",
        html=report(
            "<results>/sof/summary_of_findings.html",
            caption="../report/sof.rst",
            category="Summary of findings",
            labels={"table": "Summary of findings (GRADE)"},
        ),
        png="<results>/sof/summary_of_findings.png",
        audit="<results>/audit/report.json",
    log:
        "<logs>/summary_of_findings/summary_of_findings.log",
    params:
        input_sha256=get_input_sha256(config["report"]["risk_of_bias"], get_grade_overrides),
        tool=config["report"]["risk_of_bias_tool"],
        sof=config["report"]["summary_of_findings"],
        study_order=config["report"]["study_order"],
        intervention=config["analysis"]["treatment_label"],
        comparison=config["analysis"]["control_label"],
    benchmark:
        "<benchmarks>/summary_of_findings/summary_of_findings.tsv"
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/sysrev.yaml"
    script:
        "../scripts/summary_of_findings.py"


rule methods_text:
    input:
        audits=get_stage_audits,
        prisma=rules.prisma_counts.output.counts,
        pooled=get_pooled_results,
        searches=get_searches_table(),
        included=rules.screen_records.output.included,
        update_paragraph=get_update_paragraph,
        code=code_of("src/sysrev/report/methods.py", "src/sysrev/report/htmltable.py",
                      "src/sysrev/report/tables.py", "src/sysrev/search/citations.py",
                      "src/sysrev/workflow/report.py", "src/sysrev/workflow/search.py"),
    output:
        html=report(
            "<results>/report/methods.html",
            caption="../report/methods.rst",
            category="Methods",
        ),
    log:
        "<logs>/methods_text/methods_text.log",
    params:
        review=config["review"],
        title=config["report"]["title"],
        question=config["report"]["question"],
        disclosure=config["report"]["disclosure"],
        analyses=get_further_analyses(),
        labels={o["id"]: o["label"] for o in config["analysis"]["outcomes"]},
    benchmark:
        "<benchmarks>/methods_text/methods_text.tsv"
    resources:
        mem_mb=1000,
        runtime=10,
    localrule: True
    conda:
        "../envs/sysrev.yaml"
    script:
        "../scripts/methods_text.py"


rule report_tables:
    input:
        summary=rules.summarise_analyses.output.summary,
        counts=rules.prisma_counts.output.counts,
        duplicates=rules.deduplicate_records.output.duplicates,
        maybe=rules.deduplicate_records.output.maybe,
        agreement=rules.screen_records.output.agreement,
        conflicts=rules.screen_records.output.conflicts,
        related=rules.deduplicate_records.output.related,
        unique=rules.deduplicate_records.output.unique,
        rob=rules.risk_of_bias_figures.output.table,
        included=rules.screen_records.output.included,
        code=code_of("src/sysrev/report/htmltable.py", "src/sysrev/report/tables.py",
                      "src/sysrev/rob.py", "src/sysrev/workflow/report.py"),
    output:
        summary=report(
            "<results>/report/tables/summary.html",
            caption="../report/summary.rst",
            category="Meta-analysis",
            subcategory="Pooled results",
            labels={"table": "Pooled results of every outcome"},
        ),
        prisma=report(
            "<results>/report/tables/prisma_counts.html",
            caption="../report/prisma_counts.rst",
            category="PRISMA 2020",
            subcategory="Counts",
            labels={"table": "PRISMA 2020 flow counts"},
        ),
        duplicates=report(
            "<results>/report/tables/duplicates.html",
            caption="../report/dedup_duplicates.rst",
            category="Deduplication",
            labels={"table": "Duplicate records removed"},
        ),
        maybe=report(
            "<results>/report/tables/maybe.html",
            caption="../report/dedup_maybe.rst",
            category="Deduplication",
            labels={"table": "Possible duplicates for a reviewer"},
        ),
        related=report(
            "<results>/report/tables/related.html",
            caption="../report/dedup_related.rst",
            category="Deduplication",
            labels={"table": "Related reports (errata, retractions, comments)"},
        ),
        agreement=report(
            "<results>/report/tables/agreement.html",
            caption="../report/screening_agreement.rst",
            category="Screening",
            labels={"table": "Agreement between reviewers"},
        ),
        conflicts=report(
            "<results>/report/tables/conflicts.html",
            caption="../report/screening_conflicts.rst",
            category="Screening",
            labels={"table": "Disagreements and their resolution"},
        ),
        rob=report(
            "<results>/report/tables/risk_of_bias.html",
            caption="../report/rob_table.rst",
            category="Risk of bias",
            labels={"item": "Summary table (share of participants)"},
        ),
    log:
        "<logs>/report_tables/report_tables.log",
    params:
        level=config["analysis"]["level"],
        disclosure=config["report"]["disclosure"],
        tool=config["report"]["risk_of_bias_tool"],
    benchmark:
        "<benchmarks>/report_tables/report_tables.tsv"
    resources:
        mem_mb=1000,
        runtime=10,
    # tiny: run where snakemake runs, not as a cluster job
    localrule: True
    conda:
        "../envs/sysrev.yaml"
    script:
        "../scripts/report_tables.py"


rule sensitivity_table:
    input:
        leave1out=rules.meta_analysis.output.leave1out,
        cumulative=rules.meta_analysis.output.cumulative,
        pooled=rules.meta_analysis.output.pooled,
        rob_sensitivity=get_rob_sensitivity_table,
        code=code_of("src/sysrev/report/htmltable.py", "src/sysrev/report/tables.py",
                      "src/sysrev/workflow/report.py"),
    output:
        html=report(
            "<results>/report/tables/sensitivity_{outcome}.html",
            caption="../report/sensitivity.rst",
            category="Meta-analysis",
            subcategory="Sensitivity analyses",
            labels=get_outcome_report_labels,
        ),
    log:
        "<logs>/sensitivity_table/{outcome}.log",
    params:
        outcome=get_outcome,
        level=config["analysis"]["level"],
    benchmark:
        "<benchmarks>/sensitivity_table/{outcome}.tsv"
    resources:
        mem_mb=1000,
        runtime=10,
    # tiny: run where snakemake runs, not as a cluster job
    localrule: True
    conda:
        "../envs/sysrev.yaml"
    script:
        "../scripts/sensitivity_table.py"


rule export_references:
    input:
        unique=rules.deduplicate_records.output.unique,
        final=rules.screen_records.output.final,
        included=rules.screen_records.output.included,
        code=code_of("src/sysrev/exports.py", "src/sysrev/recordtable.py",
                     "src/sysrev/workflow/report.py"),
    output:
        included_ris=report(
            "<results>/exports/included.ris",
            caption="../report/export_included.rst",
            category="Exports",
            subcategory="References",
            labels={"file": "Included studies' reports (RIS)"},
        ),
        included_bib=report(
            "<results>/exports/included.bib",
            caption="../report/export_included.rst",
            category="Exports",
            subcategory="References",
            labels={"file": "Included studies' reports (BibTeX)"},
        ),
        excluded_ris=report(
            "<results>/exports/excluded.ris",
            caption="../report/export_excluded.rst",
            category="Exports",
            subcategory="References",
            labels={"file": "Excluded records (RIS)"},
        ),
        excluded_bib=report(
            "<results>/exports/excluded.bib",
            caption="../report/export_excluded.rst",
            category="Exports",
            subcategory="References",
            labels={"file": "Excluded records (BibTeX)"},
        ),
    log:
        "<logs>/export_references/export_references.log",
    benchmark:
        "<benchmarks>/export_references/export_references.tsv"
    resources:
        mem_mb=1000,
        runtime=10,
    # tiny: run where snakemake runs, not as a cluster job
    localrule: True
    conda:
        "../envs/sysrev.yaml"
    script:
        "../scripts/export_references.py"
