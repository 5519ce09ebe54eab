# Deduplication stage: one record per publication, every removal with its reason.


rule deduplicate_records:
    input:
        records=rules.collect_records.output.records,
        overrides=get_dedup_overrides,
        code=code_of("src/sysrev/dedup.py", "src/sysrev/dedup_related.py",
                     "src/sysrev/workflow/dedup.py"),
    output:
        unique="<results>/dedup/unique.tsv",
        duplicates="<results>/dedup/duplicates.tsv",
        clusters="<results>/dedup/clusters.tsv",
        maybe="<results>/dedup/maybe.tsv",
        related="<results>/dedup/related.tsv",
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
