# PRISMA stage: the PRISMA 2020 flow counts, computed from the tables above.


rule prisma_counts:
    input:
        records=rules.collect_records.output.records,
        clusters=rules.deduplicate_records.output.clusters,
        final=rules.screen_records.output.final,
        included=rules.screen_records.output.included,
        searches=get_searches_table(),
        code="src/sysrev/prisma.py",
    output:
        counts=report(
            "results/prisma/counts.json",
            caption="../report/prisma_counts.rst",
            category="PRISMA 2020",
        ),
        audit="results/audit/prisma.json",
    log:
        "logs/prisma_counts/prisma_counts.log",
    conda:
        "../envs/sysrev.yaml"
    script:
        "../scripts/prisma_counts.py"
