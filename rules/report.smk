# Report stage: risk-of-bias figures, the GRADE summary of findings, and the methods text.


rule risk_of_bias_figures:
    input:
        rob=config["report"]["risk_of_bias"],
        studies=rules.validate_extraction.output.studies,
        arms=rules.validate_extraction.output.arms,
        code=code_of("src/sysrev/rob.py", "src/sysrev/plots/rob.py",
                      "src/sysrev/workflow/report.py"),
    output:
        traffic_png=report(
            "<results>/risk_of_bias/traffic_light.png",
            caption="../report/rob_traffic_light.rst",
            category="Risk of bias",
        ),
        traffic_svg="<results>/risk_of_bias/traffic_light.svg",
        summary_png=report(
            "<results>/risk_of_bias/summary.png",
            caption="../report/rob_summary.rst",
            category="Risk of bias",
        ),
        summary_svg="<results>/risk_of_bias/summary.svg",
        table="<results>/risk_of_bias/summary.tsv",
        audit="<results>/audit/risk_of_bias.json",
    log:
        "<logs>/risk_of_bias_figures/risk_of_bias_figures.log",
    params:
        tool=config["report"]["risk_of_bias_tool"],
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
        rob=config["report"]["risk_of_bias"],
        studies=rules.validate_extraction.output.studies,
        overrides=get_grade_overrides,
        code=code_of("src/sysrev/grade.py", "src/sysrev/plots/sof.py",
                      "src/sysrev/workflow/report.py"),
    output:
        tsv="<results>/sof/summary_of_findings.tsv",
        html=report(
            "<results>/sof/summary_of_findings.html",
            caption="../report/sof.rst",
            category="Summary of findings",
        ),
        png="<results>/sof/summary_of_findings.png",
        audit="<results>/audit/report.json",
    log:
        "<logs>/summary_of_findings/summary_of_findings.log",
    params:
        tool=config["report"]["risk_of_bias_tool"],
        title=config["report"]["title"],
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
        code=code_of("src/sysrev/report.py", "src/sysrev/workflow/report.py"),
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
        question=config["report"]["question"],
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
