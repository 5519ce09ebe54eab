# Screening stage: reviewers' decisions to final decisions, included reports and studies.


rule screen_records:
    input:
        unique=rules.deduplicate_records.output.unique,
        clusters=rules.deduplicate_records.output.clusters,
        decisions=config["screening"]["decisions"],
        studies=config["screening"]["studies"],
        code="src/sysrev/screening.py",
    output:
        final="results/screening/final_decisions.tsv",
        included="results/screening/included.tsv",
        audit="results/audit/screening.json",
    log:
        "logs/screen_records/screen_records.log",
    params:
        title_abstract_rule=config["screening"]["title_abstract_rule"],
        full_text_rule=config["screening"]["full_text_rule"],
        reviewers_required=config["screening"]["reviewers_required"],
        consensus_reviewer=config["screening"]["consensus_reviewer"],
        require_complete=config["screening"]["require_complete"],
    conda:
        "../envs/sysrev.yaml"
    script:
        "../scripts/screen_records.py"
