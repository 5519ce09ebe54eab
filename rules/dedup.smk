# Deduplication stage: one record per publication, every removal with its reason.


rule deduplicate_records:
    input:
        records=rules.collect_records.output.records,
        overrides=get_dedup_overrides,
        code=code_of("src/sysrev/dedup.py", "src/sysrev/dedup_related.py",
                     "src/sysrev/workflow/dedup.py"),
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
        related=report(
            "<results>/dedup/related.tsv",
            caption="../report/dedup_related.rst",
            category="Deduplication",
        ),
        audit="<results>/audit/dedup.json",
    log:
        "<logs>/deduplicate_records/deduplicate_records.log",
    params:
        source_priority=config["dedup"]["source_priority"],
        errata=config["dedup"]["errata"],
    conda:
        "../envs/sysrev.yaml"
    script:
        "../scripts/deduplicate_records.py"
