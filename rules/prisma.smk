# PRISMA stage: the PRISMA 2020 flow counts (computed from the tables above), the PRISMA2020
# template CSV and the flow diagram.


rule prisma_counts:
    input:
        records=rules.collect_records.output.records,
        clusters=rules.deduplicate_records.output.clusters,
        final=rules.screen_records.output.final,
        included=rules.screen_records.output.included,
        stopping=rules.screen_records.output.stopping,
        searches=get_searches_table(),
        previous_version=get_previous_version,
        pooled=get_pooled_results,
        code=code_of("src/sysrev/prisma.py", "src/sysrev/recordtable.py",
                     "src/sysrev/workflow/prisma.py"),
    output:
        counts="<results>/prisma/counts.json",
        csv=report(
            "<results>/prisma/prisma2020.csv",
            caption="../report/prisma2020_csv.rst",
            category="Exports",
            subcategory="PRISMA 2020",
            labels={"file": "PRISMA2020 template CSV"},
        ),
        audit="<results>/audit/prisma.json",
    log:
        "<logs>/prisma_counts/prisma_counts.log",
    params:
        input_sha256=get_input_sha256(get_searches_table(), get_previous_version),
        removed_by_automation=config["prisma"]["removed_by_automation"],
        previous_version=config["prisma"]["previous_version"],
        disclosure=config["report"]["disclosure"],
        sources=get_searched_sources() + sorted(EXPORTS),
        registers=[source for source in get_api_sources() if source == "ctgov"],
        other_sources=[source for source in get_api_sources() if source == "citations"],
    benchmark:
        "<benchmarks>/prisma_counts/prisma_counts.tsv"
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../envs/sysrev.yaml"
    script:
        "../scripts/prisma_counts.py"


rule prisma_flow:
    input:
        counts=rules.prisma_counts.output.counts,
        code=code_of("src/sysrev/plots/prisma_flow.py", "src/sysrev/workflow/prisma.py"),
    output:
        png=report(
            "<results>/prisma/flow.png",
            caption="../report/prisma_flow.rst",
            category="PRISMA 2020",
            subcategory="Flow diagram",
        ),
        svg="<results>/prisma/flow.svg",
    log:
        "<logs>/prisma_flow/prisma_flow.log",
    benchmark:
        "<benchmarks>/prisma_flow/prisma_flow.tsv"
    resources:
        mem_mb=1000,
        runtime=10,
    localrule: True
    conda:
        "../envs/sysrev.yaml"
    script:
        "../scripts/prisma_flow.py"
