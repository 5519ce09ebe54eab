# Deduplication stage: one record per publication, every removal with its reason.


rule deduplicate_records:
    input:
        records=rules.collect_records.output.records,
        overrides=get_dedup_overrides,
        source_links=get_source_links,
        code=code_of("src/sysrev/dedup/__init__.py", "src/sysrev/dedup/band.py",
                     "src/sysrev/dedup/block.py",
                     "src/sysrev/dedup/cluster.py", "src/sysrev/dedup/find.py",
                     "src/sysrev/dedup/incremental.py", "src/sysrev/dedup/normalise.py",
                     "src/sysrev/dedup/overrides.py", "src/sysrev/dedup/parallel.py",
                     "src/sysrev/dedup/related.py",
                     "src/sysrev/dedup/score.py", "src/sysrev/dedup/unique.py",
                     "src/sysrev/related_reports.py", "src/sysrev/workflow/dedup.py"),
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
        input_sha256=get_input_sha256(get_dedup_overrides),
        source_priority=config["dedup"]["source_priority"],
        errata=config["dedup"]["errata"],
        incremental=config["dedup"]["incremental"],
        maybe_per_100k=config["dedup"]["maybe_per_100k"],
        maybe_minimum=config["dedup"]["maybe_minimum"],
    benchmark:
        "<benchmarks>/deduplicate_records/deduplicate_records.tsv"
    threads: 4
    resources:
        # 4 GB, or 20 MB per MB of records.tsv for a larger library (6.7 GB at 1M records)
        mem_mb=memory_for_input(4000, 20),
        runtime=30,
    conda:
        "../envs/sysrev.yaml"
    script:
        "../scripts/deduplicate_records.py"


# Spreadsheet-safe copies of the record tables (formula-like cells neutralised): the TSVs
# keep every cell as the sources gave it, for the pipeline.
rule spreadsheet_tables:
    input:
        records=rules.collect_records.output.records,
        unique=rules.deduplicate_records.output.unique,
        code=code_of("src/sysrev/workflow/spreadsheets.py"),
    output:
        records="<results>/spreadsheets/records.csv",
        unique="<results>/spreadsheets/unique.csv",
    log:
        "<logs>/spreadsheet_tables/spreadsheet_tables.log",
    benchmark:
        "<benchmarks>/spreadsheet_tables/spreadsheet_tables.tsv"
    resources:
        mem_mb=1000,
        runtime=10,
    # tiny: run where snakemake runs, not as a cluster job
    localrule: True
    conda:
        "../envs/sysrev.yaml"
    script:
        "../scripts/spreadsheet_tables.py"
