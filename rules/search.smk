# Search stage: the frozen PubMed snapshot and the database exports, into one record table.


# The live PubMed search. The rule exists only while the search date has no snapshot: once
# the snapshot is there, no rule can make it, so Snakemake can never decide to re-run the
# search (and delete the frozen snapshot first), whatever changes in params, code or
# environment. A changed query then fails in pubmed_records with "different query".
# A checkpoint, because the snapshot's XML files are known only after the retrieval; its
# output is the whole snapshot folder, so that a job on a node without a shared file system
# hands every file back. A review without PubMed (search.pubmed: null) has none of these.
if is_pubmed_searched() and is_pubmed_snapshot_missing():

    checkpoint retrieve_pubmed:
        output:
            snapshot=protected(directory(get_pubmed_snapshot_dir())),
        log:
            "<logs>/retrieve_pubmed/retrieve_pubmed.log",
        params:
            query=config["search"]["pubmed"]["query"],
            date=config["search"]["pubmed"]["date"],
            start_date=config["search"]["pubmed"]["start_date"],
            date_type=config["search"]["pubmed"]["date_type"],
            email=config["search"]["pubmed"]["email"],
            base_url=config["entrez"]["base_url"],
            batch_size=config["entrez"]["batch_size"],
            timeout=config["entrez"]["timeout"],
            max_tries=config["entrez"]["max_tries"],
        benchmark:
            "<benchmarks>/retrieve_pubmed/retrieve_pubmed.tsv"
        resources:
            mem_mb=1000,
            runtime=120,
        localrule: True
        conda:
            "../envs/sysrev.yaml"
        script:
            "../scripts/retrieve_pubmed.py"


# What defines each searched source's search (its date, a digest of its other settings),
# rewritten when they change (params). The job reading a snapshot takes it as an input:
# Snakemake checks nothing but modification times for a job whose inputs wait for a
# checkpoint, so without it a changed date left results/<review>/search/pubmed.tsv (or a
# source's table), requested alone, read from the old snapshot ("Nothing to be done").
if get_searched_sources():

    rule search_settings:
        input:
            code=code_of("src/sysrev/workflow/search.py"),
        output:
            settings="<results>/search/settings/{searched_source}.json",
        log:
            "<logs>/search_settings/{searched_source}.log",
        params:
            search=get_search_settings,
        benchmark:
            "<benchmarks>/search_settings/{searched_source}.tsv"
        resources:
            mem_mb=1000,
            runtime=10,
        localrule: True
        conda:
            "../envs/sysrev.yaml"
        script:
            "../scripts/search_settings.py"


if is_pubmed_searched():

    rule pubmed_records:
        input:
            settings="<results>/search/settings/pubmed.json",
            xml=get_pubmed_snapshot_files,
            provenance=get_pubmed_provenance,
            searches=get_searches_table(),
            code=code_of("src/sysrev/search/snapshot.py", "src/sysrev/search/pubmed_xml.py",
                          "src/sysrev/search/pubmed.py", "src/sysrev/search/adapters.py",
                          "src/sysrev/search/registry.py", "src/sysrev/search/pmid_set.py",
                          "src/sysrev/workflow/search.py"),
        output:
            records="<results>/search/pubmed.tsv",
        log:
            "<logs>/pubmed_records/pubmed_records.log",
        params:
            input_sha256=get_input_sha256(get_pubmed_snapshot_files, get_pubmed_provenance,
                                          get_searches_table()),
            query=config["search"]["pubmed"]["query"],
            date=config["search"]["pubmed"]["date"],
            start_date=config["search"]["pubmed"]["start_date"],
            date_type=config["search"]["pubmed"]["date_type"],
        benchmark:
            "<benchmarks>/pubmed_records/pubmed_records.tsv"
        resources:
            mem_mb=4000,
            runtime=30,
        conda:
            "../envs/sysrev.yaml"
        script:
            "../scripts/pubmed_records.py"

    rule pubmed_update:
        input:
            records=rules.pubmed_records.output.records,
            previous=get_previous_pubmed_files,
            code=code_of("src/sysrev/search/update.py", "src/sysrev/search/efetch_scan.py",
                          "src/sysrev/workflow/search.py"),
        output:
            new_records="<results>/search/update.tsv",
        log:
            "<logs>/pubmed_update/pubmed_update.log",
        params:
            input_sha256=get_input_sha256(get_previous_pubmed_files),
            previous_date=get_previous_pubmed_search_date(),
        benchmark:
            "<benchmarks>/pubmed_update/pubmed_update.tsv"
        resources:
            mem_mb=4000,
            runtime=30,
        conda:
            "../envs/sysrev.yaml"
        script:
            "../scripts/pubmed_update.py"


rule import_export:
    input:
        export=get_export_file,
        code=code_of("src/sysrev/imports/ris.py", "src/sysrev/imports/wos.py",
                      "src/sysrev/imports/medline.py", "src/sysrev/imports/endnote_xml.py",
                      "src/sysrev/imports/csv_export.py", "src/sysrev/imports/records.py",
                      "src/sysrev/imports/bibtex.py", "src/sysrev/imports/ovid.py",
                      "src/sysrev/imports/detect.py", "src/sysrev/imports/checks.py",
                      "src/sysrev/imports/sources.py", "src/sysrev/workflow/search.py"),
    output:
        records="<results>/search/imported/{source}.tsv",
        report="<results>/search/imported/{source}.json",
    log:
        "<logs>/import_export/{source}.log",
    params:
        input_sha256=get_input_sha256(get_export_file),
        fmt=get_export_format,
        allow_empty=get_export_allow_empty,
    benchmark:
        "<benchmarks>/import_export/{source}.tsv"
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../envs/sysrev.yaml"
    script:
        "../scripts/import_export.py"


rule collect_records:
    input:
        pubmed=get_pubmed_table,
        exports=get_imported_tables,
        import_reports=get_import_reports,
        searches=get_searches_table(),
        provenance=get_pubmed_provenance,
        pubmed_update=get_pubmed_update,
        raw_exports=get_export_files,
        raw_pubmed=get_pubmed_snapshot_xml,
        api_sources=get_api_source_tables,
        raw_api_sources=get_api_source_raw,
        code=code_of("src/sysrev/imports/sources.py", "src/sysrev/workflow/search.py",
                     "src/sysrev/recordtable.py",
                     "src/sysrev/search/ctgov.py", "src/sysrev/search/europepmc.py",
                     "src/sysrev/search/citations.py"),
    output:
        records="<results>/search/records.tsv",
        audit="<results>/audit/search.json",
    log:
        "<logs>/collect_records/collect_records.log",
    params:
        input_sha256=get_input_sha256(get_searches_table(), get_export_files,
                                      get_pubmed_snapshot_xml, get_api_source_raw),
        query=get_pubmed_setting("query"),
        date=get_pubmed_setting("date"),
        previous_date=get_previous_pubmed_search_date(),
    benchmark:
        "<benchmarks>/collect_records/collect_records.tsv"
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../envs/sysrev.yaml"
    script:
        "../scripts/collect_records.py"
