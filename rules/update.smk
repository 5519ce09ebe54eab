# Update stage: what changed since the previous (archived) version of the review, the
# results by review version, and the update paragraph. Runs only for an updated review.


rule update_changes:
    input:
        versions=get_update_archive_files,
        records=rules.collect_records.output.records,
        clusters=rules.deduplicate_records.output.clusters,
        final=rules.screen_records.output.final,
        included=rules.screen_records.output.included,
        stopping=rules.screen_records.output.stopping,
        arms=rules.validate_extraction.output.arms,
        studies=rules.validate_extraction.output.studies,
        summary=rules.summarise_analyses.output.summary,
        sof=rules.summary_of_findings.output.tsv,
        searches=get_searches_table(),
        code=code_of("src/sysrev/update/archive.py", "src/sysrev/update/changes.py",
                      "src/sysrev/update/text.py", "src/sysrev/report/htmltable.py",
                      "src/sysrev/report/tables.py", "src/sysrev/recordtable.py",
                      "src/sysrev/workflow/update.py"),
    output:
        changes="<results>/update/changes.tsv",
        versions="<results>/update/versions.tsv",
        paragraph="<results>/update/paragraph.json",
        page=report(
            "<results>/report/tables/changes.html",
            caption="../report/changes.rst",
            category="Update",
            labels={"table": "Changes since the previous version"},
        ),
        audit="<results>/audit/update.json",
    log:
        "<logs>/update_changes/update_changes.log",
    params:
        input_sha256=get_input_sha256(get_update_archive_files, get_searches_table()),
        versions=get_update_versions(),
        outcomes=config["analysis"]["outcomes"],
        pubmed_date=get_pubmed_setting("date"),
    benchmark:
        "<benchmarks>/update_changes/update_changes.tsv"
    resources:
        mem_mb=1000,
        runtime=10,
    localrule: True
    conda:
        "../envs/sysrev.yaml"
    script:
        "../scripts/update_changes.py"


# One job draws every outcome's plot: each reads the whole versions.tsv (a change to one
# outcome rewrites it and so reruns them all anyway), and a plot takes a fraction of the
# matplotlib start-up each job paid (issue 20: 7 jobs of ~1.2 s CPU each, mostly start-up).
rule versions_plots:
    input:
        versions=rules.update_changes.output.versions,
        code=code_of("src/sysrev/plots/versions.py", "src/sysrev/plots/forest.py",
                      "src/sysrev/workflow/update.py"),
    output:
        **get_versions_plot_outputs(),
    log:
        "<logs>/versions_plots/versions_plots.log",
    params:
        outcomes=list(OUTCOMES.values()),
        level=config["analysis"]["level"],
    benchmark:
        "<benchmarks>/versions_plots/versions_plots.tsv"
    resources:
        mem_mb=1000,
        runtime=10,
    localrule: True
    conda:
        "../envs/sysrev.yaml"
    script:
        "../scripts/versions_plots.py"
