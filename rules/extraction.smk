# Extraction stage: the sheets validated, SDs derived, one contrast per study and outcome.


checkpoint validate_extraction:
    input:
        studies=get_sheet("extraction.studies"),
        arms=get_sheet("extraction.arms"),
        contrast_sheet=get_contrast_sheet,
        included=rules.screen_records.output.included,
        code=code_of("src/sysrev/extraction/__init__.py", "src/sysrev/extraction/cells.py",
                      "src/sysrev/extraction/sheets.py", "src/sysrev/extraction/conversions.py",
                      "src/sysrev/extraction/multiarm.py", "src/sysrev/extraction/contrasts.py",
                      "src/sysrev/workflow/extraction.py"),
    output:
        arms="<results>/extraction/arms.tsv",
        contrasts="<results>/extraction/contrasts.tsv",
        studies="<results>/extraction/studies.tsv",
        audit="<results>/audit/extraction.json",
    log:
        "<logs>/validate_extraction/validate_extraction.log",
    params:
        input_sha256=get_input_sha256(config["extraction"]["studies"],
                                      config["extraction"]["arms"], get_contrast_sheet),
        outcomes=config["analysis"]["outcomes"],
        ci_distribution=config["extraction"]["ci_distribution"],
        multi_arm=config["extraction"]["multi_arm"],
        impute_sd=config["extraction"]["impute_sd"],
        median_sd=config["extraction"]["median_sd"],
        allow_lost_outcomes=config["extraction"]["allow_lost_outcomes"],
        subgroup=config["analysis"]["subgroup"],
        moderator_columns=get_moderator_columns(),
        multilevel_outcomes=config["analysis"]["multilevel"]["outcomes"],
    benchmark:
        "<benchmarks>/validate_extraction/validate_extraction.tsv"
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/sysrev.yaml"
    script:
        "../scripts/validate_extraction.py"
