# The searched sources besides PubMed: ClinicalTrials.gov (registers), Europe PMC (a
# database) and citation chasing through Entrez elink (other methods), each optional in the
# config. Like PubMed's, each source's snapshot of a search date is frozen: the checkpoint
# that retrieves it exists only while the snapshot is missing, so no change of params, code
# or environment can make Snakemake run a search again over an existing snapshot.
if get_missing_api_sources():

    checkpoint retrieve_source:
        input:
            seeds=get_citation_seeds,
        output:
            snapshot=protected(directory(f"{config['data_dir']}/search/{{api_source}}/{{api_date}}")),
        log:
            "<logs>/retrieve_source/{api_source}_{api_date}.log",
        params:
            search=get_source_search,
            sources=config["search"].get("sources"),
            entrez=config["entrez"],
        benchmark:
            "<benchmarks>/retrieve_source/{api_source}_{api_date}.tsv"
        resources:
            mem_mb=1000,
            runtime=120,
        localrule: True
        conda:
            "../envs/sysrev.yaml"
        script:
            "../scripts/retrieve_source.py"


if get_api_sources():

    rule source_records:
        input:
            settings="<results>/search/settings/{api_source}.json",
            provenance=get_source_provenance,
            files=get_source_snapshot_files,
            seeds=get_citation_seeds,
            code=code_of("src/sysrev/search/adapters.py", "src/sysrev/search/ctgov.py",
                          "src/sysrev/search/europepmc.py", "src/sysrev/search/citations.py",
                          "src/sysrev/search/pubmed_xml.py", "src/sysrev/search/registry.py",
                          "src/sysrev/imports/records.py", "src/sysrev/workflow/sources.py"),
        output:
            records="<results>/search/sources/{api_source}.tsv",
            details="<results>/search/sources/{api_source}_details.tsv",
        log:
            "<logs>/source_records/{api_source}.log",
        params:
            input_sha256=get_input_sha256(get_source_snapshot_files, get_source_provenance,
                                          get_citation_seeds),
            search=get_source_search,
        benchmark:
            "<benchmarks>/source_records/{api_source}.tsv"
        resources:
            mem_mb=4000,
            runtime=30,
        conda:
            "../envs/sysrev.yaml"
        script:
            "../scripts/source_records.py"

    rule related_reports:
        input:
            records=rules.collect_records.output.records,
            details=get_source_details,
            xml=get_pubmed_snapshot_xml,
            chased=get_api_source_xml,
            code=code_of("src/sysrev/related_reports.py", "src/sysrev/workflow/sources.py"),
        output:
            related="<results>/search/related_reports.tsv",
        log:
            "<logs>/related_reports/related_reports.log",
        params:
            input_sha256=get_input_sha256(get_pubmed_snapshot_xml, get_api_source_xml),
        benchmark:
            "<benchmarks>/related_reports/related_reports.tsv"
        resources:
            mem_mb=4000,
            runtime=30,
        conda:
            "../envs/sysrev.yaml"
        script:
            "../scripts/related_reports.py"


if get_searched_sources():

    rule source_update:
        input:
            current=get_update_current,
            files=get_update_current_files,
            previous=get_update_previous,
            previous_files=get_update_previous_files,
            code=code_of("src/sysrev/search/adapters.py", "src/sysrev/search/ctgov.py",
                          "src/sysrev/search/europepmc.py", "src/sysrev/search/citations.py",
                          "src/sysrev/search/registry.py", "src/sysrev/search/snapshot.py",
                          "src/sysrev/workflow/sources.py"),
        output:
            table="<results>/search/updates/{update_source}.tsv",
        log:
            "<logs>/source_update/{update_source}.log",
        params:
            input_sha256=get_input_sha256(get_update_current_files, get_update_previous_files),
            date=get_update_date,
        benchmark:
            "<benchmarks>/source_update/{update_source}.tsv"
        resources:
            mem_mb=4000,
            runtime=30,
        conda:
            "../envs/sysrev.yaml"
        script:
            "../scripts/source_update.py"

