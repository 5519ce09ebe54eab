# Screening stage: reviewers' decisions to final decisions, agreement, the records still to
# screen, and the included reports with their studies.


rule screen_records:
    input:
        records=rules.collect_records.output.records,
        unique=rules.deduplicate_records.output.unique,
        clusters=rules.deduplicate_records.output.clusters,
        decisions=get_decision_files,
        studies=get_sheet("screening.studies"),
        previous_snapshot=get_previous_pubmed_files,
        previous_version=get_previous_version,
        update_tables=get_update_tables,
        related=get_study_candidate_links,
        code=code_of("src/sysrev/screening/decisions.py", "src/sysrev/screening/formats.py",
                      "src/sysrev/screening/asreview_project.py",
                      "src/sysrev/screening/readers.py",
                      "src/sysrev/screening/matching.py", "src/sysrev/screening/rules.py",
                      "src/sysrev/screening/agreement.py", "src/sysrev/screening/living.py",
                      "src/sysrev/screening/studies.py", "src/sysrev/screening/prioritise.py",
                      "src/sysrev/screening/stopping.py", "src/sysrev/screening/streaming.py",
                      "src/sysrev/workflow/screening.py",
                      "src/sysrev/workflow/sources.py", "src/sysrev/dedup/normalise.py",
                      "src/sysrev/related_reports.py"),
    output:
        final="<results>/screening/final_decisions.tsv",
        included="<results>/screening/included.tsv",
        to_screen="<results>/screening/to_screen.csv",
        to_screen_asreview="<results>/screening/to_screen_asreview.csv",
        agreement="<results>/screening/agreement.tsv",
        conflicts="<results>/screening/conflicts.tsv",
        stopping="<results>/screening/stopping.json",
        audit="<results>/audit/screening.json",
    log:
        "<logs>/screen_records/screen_records.log",
    params:
        input_sha256=get_input_sha256(get_decision_files, config["screening"]["studies"],
                                      get_previous_pubmed_files, get_previous_version),
        sources=config["screening"]["decisions"],
        title_abstract_rule=config["screening"]["title_abstract_rule"],
        full_text_rule=config["screening"]["full_text_rule"],
        reviewers_required=config["screening"]["reviewers_required"],
        consensus_reviewer=config["screening"]["consensus_reviewer"],
        require_complete=config["screening"]["require_complete"],
        prioritise=config["screening"].get("prioritise", False),
        recall_target=get_stopping_setting("recall_target"),
        confidence=get_stopping_setting("confidence"),
    benchmark:
        "<benchmarks>/screen_records/screen_records.tsv"
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../envs/sysrev.yaml"
    script:
        "../scripts/screen_records.py"
