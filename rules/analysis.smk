# Analysis stage: effect sizes, pooling, forest plots, the summary across outcomes.


rule meta_analysis:
    input:
        contrasts=rules.validate_extraction.output.contrasts,
        studies=rules.validate_extraction.output.studies,
        code=code_of("src/sysrev/analysis.py", "src/sysrev/summary.py",
                      "src/sysrev/meta/__init__.py",
                      "src/sysrev/meta/escalc.py", "src/sysrev/meta/rma.py",
                      "src/sysrev/meta/mh.py", "src/sysrev/meta/regression.py",
                      "src/sysrev/meta/subgroup.py", "src/sysrev/meta/sensitivity.py",
                      "src/sysrev/meta/bias.py", "src/sysrev/meta/presets.py",
                      "src/sysrev/meta/trimfill.py", "src/sysrev/analysis_models.py",
                      "src/sysrev/exports.py", "src/sysrev/workflow/analysis.py",
                      "src/sysrev/report/htmltable.py", "src/sysrev/report/tables.py",
                      "src/sysrev/workflow/report.py"),
    output:
        effects="<results>/analysis/{outcome}/effects.tsv",
        pooled="<results>/analysis/{outcome}/pooled.json",
        metafor=report(
            "<results>/analysis/{outcome}/metafor.csv",
            caption="../report/metafor_csv.rst",
            category="Exports",
            subcategory="metafor-ready CSV",
            labels=get_outcome_report_labels,
        ),
        leave1out="<results>/analysis/{outcome}/leave1out.tsv",
        cumulative="<results>/analysis/{outcome}/cumulative.tsv",
        # The study-effects page of the report, made here rather than by a job of its own:
        # writing it takes milliseconds, starting a job for it ~0.7 s of CPU (BENCHMARKS.md,
        # "Fewer jobs and the workflow's own cost").
        effects_html=report(
            "<results>/report/tables/effects_{outcome}.html",
            caption="../report/outcome_table.rst",
            category="Meta-analysis",
            subcategory="Study effects",
            labels=get_outcome_report_labels,
        ),
    log:
        "<logs>/meta_analysis/{outcome}.log",
    params:
        outcome=get_outcome,
        preset=config["analysis"]["preset"],
        random_method=config["analysis"]["random_method"],
        test=config["analysis"]["test"],
        prediction_interval=config["analysis"]["prediction_interval"],
        level=config["analysis"]["level"],
        subgroup=config["analysis"]["subgroup"],
        subgroup_tau2=config["analysis"]["subgroup_tau2"],
        small_study_min_studies=config["analysis"]["small_study_min_studies"],
        trim_and_fill=get_trim_and_fill(),
    benchmark:
        "<benchmarks>/meta_analysis/{outcome}.tsv"
    resources:
        mem_mb=1000,
        runtime=10,
    group:
        "outcome"
    conda:
        "../envs/sysrev.yaml"
    script:
        "../scripts/meta_analysis.py"


rule forest_plot:
    input:
        effects=rules.meta_analysis.output.effects,
        pooled=rules.meta_analysis.output.pooled,
        studies=rules.validate_extraction.output.studies,
        sheet=get_sheet("extraction.studies"),
        rob=get_forest_rob,
        code=code_of("src/sysrev/plots/forest.py", "src/sysrev/plots/rob.py",
                      "src/sysrev/rob.py", "src/sysrev/study_order.py",
                      "src/sysrev/workflow/analysis.py"),
    output:
        png=report(
            "<results>/analysis/{outcome}/forest.png",
            caption="../report/forest_plot.rst",
            category="Forest plots",
            labels=get_outcome_report_labels,
        ),
        svg="<results>/analysis/{outcome}/forest.svg",
        pdf="<results>/analysis/{outcome}/forest.pdf",
    log:
        "<logs>/forest_plot/{outcome}.log",
    params:
        outcome=get_outcome,
        treatment_label=config["analysis"]["treatment_label"],
        control_label=config["analysis"]["control_label"],
        study_order=config["report"]["study_order"],
        rob_tool=config["report"]["risk_of_bias_tool"],
    benchmark:
        "<benchmarks>/forest_plot/{outcome}.tsv"
    resources:
        mem_mb=1000,
        runtime=10,
    group:
        "outcome"
    conda:
        "../envs/sysrev.yaml"
    script:
        "../scripts/forest_plot.py"


rule summarise_analyses:
    input:
        pooled=get_pooled_results,
        code=code_of("src/sysrev/summary.py", "src/sysrev/workflow/analysis.py"),
    output:
        summary="<results>/analysis/summary.tsv",
        audit="<results>/audit/analysis.json",
    log:
        "<logs>/summarise_analyses/summarise_analyses.log",
    params:
        preset=config["analysis"]["preset"],
        random_method=config["analysis"]["random_method"],
        test=config["analysis"]["test"],
        prediction_interval=config["analysis"]["prediction_interval"],
        level=config["analysis"]["level"],
        subgroup=config["analysis"]["subgroup"],
        subgroup_tau2=config["analysis"]["subgroup_tau2"],
        small_study_min_studies=config["analysis"]["small_study_min_studies"],
    benchmark:
        "<benchmarks>/summarise_analyses/summarise_analyses.tsv"
    resources:
        mem_mb=1000,
        runtime=10,
    localrule: True
    conda:
        "../envs/sysrev.yaml"
    script:
        "../scripts/summarise_analyses.py"


rule funnel_plot:
    input:
        pooled=rules.meta_analysis.output.pooled,
        code=code_of("src/sysrev/plots/funnel.py", "src/sysrev/workflow/analysis.py"),
    output:
        png=report(
            "<results>/analysis/{outcome}/funnel.png",
            caption="../report/funnel_plot.rst",
            category="Funnel plots",
            labels=get_outcome_report_labels,
        ),
        svg="<results>/analysis/{outcome}/funnel.svg",
    log:
        "<logs>/funnel_plot/{outcome}.log",
    params:
        contours=config["analysis"]["funnel_contours"],
    benchmark:
        "<benchmarks>/funnel_plot/{outcome}.tsv"
    resources:
        mem_mb=1000,
        runtime=10,
    group:
        "outcome"
    conda:
        "../envs/sysrev.yaml"
    script:
        "../scripts/funnel_plot.py"


rule meta_regression:
    input:
        effects=rules.meta_analysis.output.effects,
        sheet=get_sheet("extraction.studies"),
        code=code_of("src/sysrev/analysis_models.py", "src/sysrev/meta/regression.py",
                      "src/sysrev/plots/bubble.py", "src/sysrev/extraction/sheets.py",
                      "src/sysrev/workflow/analysis.py"),
    output:
        table="<results>/analysis/{outcome}/meta_regression.tsv",
        summary="<results>/analysis/{outcome}/meta_regression.json",
        png=report(
            "<results>/analysis/{outcome}/bubble.png",
            caption="../report/bubble_plot.rst",
            category="Meta-regression",
            labels=get_outcome_report_labels,
        ),
        svg="<results>/analysis/{outcome}/bubble.svg",
    log:
        "<logs>/meta_regression/{outcome}.log",
    params:
        outcome=get_outcome,
        moderators=get_moderators,
        method=config["analysis"]["meta_regression"]["method"],
        test=config["analysis"]["meta_regression"]["test"],
        level=config["analysis"]["level"],
        permutations=config["analysis"]["meta_regression"]["permutations"],
        seed=config["analysis"]["meta_regression"]["seed"],
    benchmark:
        "<benchmarks>/meta_regression/{outcome}.tsv"
    resources:
        mem_mb=1000,
        runtime=30,
    group:
        "outcome"
    conda:
        "../envs/sysrev.yaml"
    script:
        "../scripts/meta_regression.py"


rule multilevel_model:
    input:
        effects=rules.meta_analysis.output.effects,
        sheet=get_sheet("extraction.studies"),
        code=code_of("src/sysrev/analysis_models.py", "src/sysrev/meta/multilevel.py",
                      "src/sysrev/extraction/sheets.py", "src/sysrev/workflow/analysis.py"),
    output:
        table="<results>/analysis/{outcome}/multilevel.tsv",
        summary="<results>/analysis/{outcome}/multilevel.json",
    log:
        "<logs>/multilevel_model/{outcome}.log",
    params:
        outcome=get_outcome,
        moderators=get_moderators,
        method=config["analysis"]["multilevel"]["method"],
        robust=config["analysis"]["multilevel"]["robust"],
        level=config["analysis"]["level"],
    benchmark:
        "<benchmarks>/multilevel_model/{outcome}.tsv"
    resources:
        mem_mb=1000,
        runtime=10,
    group:
        "outcome"
    conda:
        "../envs/sysrev.yaml"
    script:
        "../scripts/multilevel_model.py"


rule rob_sensitivity:
    input:
        effects=get_effects_tables,
        pooled=get_pooled_results,
        rob=get_sheet("report.risk_of_bias"),
        studies=rules.validate_extraction.output.studies,
        code=code_of("src/sysrev/analysis_models.py", "src/sysrev/rob.py",
                      "src/sysrev/workflow/analysis.py"),
    output:
        table="<results>/analysis/rob_sensitivity.tsv",
    log:
        "<logs>/rob_sensitivity/rob_sensitivity.log",
    params:
        input_sha256=get_input_sha256(config["report"]["risk_of_bias"]),
        tool=config["report"]["risk_of_bias_tool"],
        restriction=config["analysis"]["rob_sensitivity"],
    benchmark:
        "<benchmarks>/rob_sensitivity/rob_sensitivity.tsv"
    resources:
        mem_mb=1000,
        runtime=10,
    localrule: True
    conda:
        "../envs/sysrev.yaml"
    script:
        "../scripts/rob_sensitivity.py"
