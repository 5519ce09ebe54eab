# Search stage: the frozen PubMed snapshot and the database exports, into one record table.


rule pubmed_records:
    input:
        xml=get_pubmed_snapshot_files,
        provenance=get_pubmed_provenance,
        searches=get_searches_table(),
        code=["src/sysrev/search/snapshot.py", "src/sysrev/search/pubmed_xml.py"],
    output:
        records="results/search/pubmed.tsv",
    log:
        "logs/pubmed_records/pubmed_records.log",
    params:
        query=config["search"]["pubmed"]["query"],
        date=config["search"]["pubmed"]["date"],
        snapshot_dir=get_pubmed_snapshot_dir(),
    conda:
        "../envs/sysrev.yaml"
    script:
        "../scripts/pubmed_records.py"


rule import_export:
    input:
        export=get_export_file,
        code=["src/sysrev/imports/ris.py", "src/sysrev/imports/wos.py",
              "src/sysrev/imports/records.py"],
    output:
        records="results/search/imported/{source}.tsv",
    log:
        "logs/import_export/{source}.log",
    params:
        fmt=get_export_format,
    conda:
        "../envs/sysrev.yaml"
    script:
        "../scripts/import_export.py"


rule collect_records:
    input:
        pubmed=rules.pubmed_records.output.records,
        exports=get_imported_tables,
        searches=get_searches_table(),
        provenance=get_pubmed_provenance,
        code="src/sysrev/imports/sources.py",
    output:
        records="results/search/records.tsv",
        audit="results/audit/search.json",
    log:
        "logs/collect_records/collect_records.log",
    params:
        query=config["search"]["pubmed"]["query"],
        date=config["search"]["pubmed"]["date"],
        snapshot_dir=get_pubmed_snapshot_dir(),
    conda:
        "../envs/sysrev.yaml"
    script:
        "../scripts/collect_records.py"
