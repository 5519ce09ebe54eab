# Deduplication stage: one record per publication, every removal with its reason.


rule deduplicate_records:
    input:
        records=rules.collect_records.output.records,
        overrides=get_dedup_overrides,
        code=code_of("src/sysrev/dedup.py", "src/sysrev/workflow/dedup.py"),
    output:
        unique="<results>/dedup/unique.tsv",
        duplicates=report(
            "<results>/dedup/duplicates.tsv",
            caption="../report/dedup_duplicates.rst",
            category="Deduplication",
        ),
        clusters="<results>/dedup/clusters.tsv",
        maybe=report(
            "<results>/dedup/maybe.tsv",
            caption="../report/dedup_maybe.rst",
            category="Deduplication",
        ),
        audit="<results>/audit/dedup.json",
    log:
        "<logs>/deduplicate_records/deduplicate_records.log",
    params:
        source_priority=config["dedup"]["source_priority"],
    benchmark:
        "<benchmarks>/deduplicate_records/deduplicate_records.tsv"
    threads: 4
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../envs/sysrev.yaml"
    script:
        "../scripts/deduplicate_records.py"
