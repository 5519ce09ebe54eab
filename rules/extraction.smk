# Extraction stage: the sheets validated, SDs derived, one contrast per study and outcome.


checkpoint validate_extraction:
    input:
        studies=config["extraction"]["studies"],
        arms=config["extraction"]["arms"],
        included=rules.screen_records.output.included,
        code="src/sysrev/extraction.py",
    output:
        arms="results/extraction/arms.tsv",
        contrasts="results/extraction/contrasts.tsv",
        studies="results/extraction/studies.tsv",
        audit="results/audit/extraction.json",
    log:
        "logs/validate_extraction/validate_extraction.log",
    params:
        outcomes=config["analysis"]["outcomes"],
        ci_distribution=config["extraction"]["ci_distribution"],
    conda:
        "../envs/sysrev.yaml"
    script:
        "../scripts/validate_extraction.py"
