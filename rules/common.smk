# Helper functions only: input functions (get_*) and predicates (is_*).
# The logic they use lives in sysrev.workflow.inputs (tested in tests/unit/test_workflow_inputs.py).
import os
from pathlib import Path

from sysrev.config import check_config, configured_previous_version, configured_sheet
from sysrev.workflow.analysis import outcomes_with_data, outcomes_with_studies
from sysrev.workflow.inputs import (code_paths, export_staged_prefix, input_digests,
                                    local_copy, memory_for_input, snapshot_data_files,
                                    xml_files)
from sysrev.workflow.report import outcomes_with_sensitivity
from sysrev.search.update import previous_snapshot_dir as previous_pubmed_snapshot
from sysrev.workflow.search import export_file, search_identity
from sysrev.search.adapters import previous_snapshot as previous_source_snapshot
from sysrev.search.registry import API_SOURCES

check_config(config)
# Jobs that share no file system: tell them where the storage provider stages files.
export_staged_prefix(workflow.storage_settings)

OUTCOMES = {o["id"]: o for o in config["analysis"]["outcomes"]}
EXPORTS = {e["source"]: e for e in config["search"]["exports"]}
STAGES = ["search", "dedup", "screening", "extraction", "analysis", "prisma", "risk_of_bias",
          "report"]


wildcard_constraints:
    outcome="|".join(OUTCOMES),
    source="|".join(EXPORTS) if EXPORTS else "(?!)",
    api_source="|".join(API_SOURCES),
    api_date=r"\d{4}-\d{2}-\d{2}",
    update_source="|".join(("pubmed",) + API_SOURCES),
    searched_source="|".join(("pubmed",) + API_SOURCES),


#: The workflow's own folder (rules/..), wherever the review's working directory is: with
#: --directory, as a module, or on a cluster, code inputs resolve here, not in the review.
WORKFLOW_ROOT = Path(str(workflow.current_basedir)).parent


def code_of(*modules):
    """The package modules a rule's results depend on (listed as inputs, so that a change of
    method reruns the stage): the given ones plus the shared I/O modules
    (:func:`sysrev.workflow.inputs.code_paths`). They are local(): part of the deployed
    workflow, never moved through a storage provider when jobs share no file system."""
    return [local(path) for path in code_paths(WORKFLOW_ROOT, modules)]


#: The digests of the raw inputs, kept between runs (sysrev.workflow.inputs.remembered_sha256):
#: a no-op rerun or --report does not read a large export again.
INPUT_DIGEST_CACHE = ".snakemake/sysrev/input_digests.json"


def get_input_sha256(*sources):
    """A param function: the SHA-256 of a rule's raw inputs (exports, snapshot XML, sheets),
    each source a path or an input function. Snakemake reruns a job when an input is newer
    than its outputs; an edit that keeps an old modification time (a copy with cp -p, an
    unpacked archive, a restored backup) would leave the old results accepted. A changed
    digest is a changed param, so the job reruns. (A param function that takes ``input`` is
    ignored by Snakemake's params trigger, hence the sources are named again here.)"""

    def input_sha256(wildcards):
        return input_digests(sources, wildcards, cache=INPUT_DIGEST_CACHE)

    return input_sha256


def get_export_files(wildcards):
    """Every configured export file (raw inputs of the search audit)."""
    return [export_file(get_searches_table(), config["data_dir"], source) for source in EXPORTS]


def get_searches_table():
    """searches.tsv of the review: one row per source (file, query, date)."""
    return f"{config['data_dir']}/search/searches.tsv"


def is_pubmed_searched():
    """True when the review searches PubMed through Entrez (search.pubmed is set)."""
    return bool(config["search"].get("pubmed"))


def get_pubmed_setting(key):
    """One key of search.pubmed (a parameter of the rules), or None without PubMed."""
    return config["search"]["pubmed"].get(key) if is_pubmed_searched() else None


def get_pubmed_snapshot_dir():
    """The PubMed snapshot folder of the configured search date."""
    return f"{config['data_dir']}/search/pubmed/{config['search']['pubmed']['date']}"


def is_pubmed_snapshot_missing():
    """True when the search date has no complete snapshot yet (it is then retrieved)."""
    return not os.path.isfile(f"{get_pubmed_snapshot_dir()}/provenance.json")


def get_pubmed_snapshot_files(wildcards):
    """The snapshot's XML files, known once the snapshot exists (after retrieve_pubmed)."""
    if is_pubmed_snapshot_missing():
        folder = checkpoints.retrieve_pubmed.get().output.snapshot
    else:
        folder = get_pubmed_snapshot_dir()
    return xml_files(folder)


def get_pubmed_snapshot_xml(wildcards):
    """The snapshot's XML files (none for a review without PubMed): raw inputs of the audit."""
    return get_pubmed_snapshot_files(wildcards) if is_pubmed_searched() else []


def get_pubmed_provenance(wildcards):
    """The snapshot's provenance.json (none for a review without PubMed)."""
    if not is_pubmed_searched():
        return []
    if is_pubmed_snapshot_missing():
        return [f"{checkpoints.retrieve_pubmed.get().output.snapshot}/provenance.json"]
    return [f"{get_pubmed_snapshot_dir()}/provenance.json"]


def get_pubmed_table(wildcards):
    """PubMed's record table (none for a review without PubMed)."""
    return ["<results>/search/pubmed.tsv"] if is_pubmed_searched() else []


def get_pubmed_update(wildcards):
    """The PubMed update report (none for a review without PubMed)."""
    return ["<results>/search/update.tsv"] if is_pubmed_searched() else []


def get_previous_pubmed_search_date():
    """Search date of the latest PubMed snapshot before the configured one, or None."""
    if not is_pubmed_searched():
        return None
    folder = previous_pubmed_snapshot(f"{config['data_dir']}/search/pubmed",
                                      config["search"]["pubmed"]["date"])
    return folder.name if folder else None


def get_previous_pubmed_files(wildcards):
    """XML files of the previous PubMed snapshot (none for a review's first search)."""
    previous = get_previous_pubmed_search_date()
    if previous is None:
        return []
    return xml_files(f"{config['data_dir']}/search/pubmed/{previous}")


def get_effects_tables(wildcards):
    return [f"<results>/analysis/{outcome}/effects.tsv" for outcome in OUTCOMES]


def get_rob_sensitivity_table(wildcards):
    """analysis/rob_sensitivity.tsv when analysis.rob_sensitivity is configured."""
    if config["analysis"]["rob_sensitivity"] == "none":
        return []
    return ["<results>/analysis/rob_sensitivity.tsv"]


def get_grade_overrides(wildcards):
    """Reviewers' GRADE overrides, when the review has them."""
    overrides = config["report"]["grade_overrides"]
    return [configured_sheet(config, "report.grade_overrides")] if overrides else []


def get_sheet(key):
    """An input function for the sheet the config names under ``key``: the file, or an error
    naming the key when it does not exist. Only jobs the requested targets need check it, so
    search and deduplication run before the screening sheets exist."""

    def sheet(wildcards):
        return configured_sheet(config, key)

    return sheet


def get_forest_rob(wildcards):
    """The risk-of-bias judgements sheet for the forest plots' RoB columns, or none when
    ``report.forest_rob`` is false."""
    if not config["report"].get("forest_rob", True):
        return []
    return configured_sheet(config, "report.risk_of_bias")


def get_previous_version(wildcards):
    """included.tsv of the previous version of the review (updated reviews only)."""
    previous = configured_previous_version(config)
    return [f"{previous}/included.tsv", f"{previous}/records.tsv"] if previous else []


def get_decision_files(wildcards):
    """Every configured screening decision file."""
    return [configured_sheet(config, f"screening.decisions[{index}].file")
            for index in range(len(config["screening"]["decisions"]))]


def get_export_file(wildcards):
    """The export file of one database, as named in searches.tsv."""
    return export_file(get_searches_table(), config["data_dir"], wildcards.source)


def get_dedup_overrides(wildcards):
    """The reviewers' dedup overrides (same/different pairs), when the review has them."""
    path = f"{config['data_dir']}/dedup/overrides.csv"
    return [path] if os.path.isfile(path) else []


def get_export_format(wildcards):
    return EXPORTS[wildcards.source].get("format", "auto")


def get_export_allow_empty(wildcards):
    return bool(EXPORTS[wildcards.source].get("allow_empty", False))


def get_imported_tables(wildcards):
    return [f"<results>/search/imported/{source}.tsv" for source in EXPORTS]


def get_import_reports(wildcards):
    """What each export's import read (format detected, encoding, records), for the audit."""
    return [f"<results>/search/imported/{source}.json" for source in EXPORTS]


def get_contrast_sheet(wildcards):
    """The optional contrast-level extraction sheet (none when not configured)."""
    sheet = config["extraction"].get("contrasts")
    return [configured_sheet(config, "extraction.contrasts")] if sheet else []


def get_outcome(wildcards):
    return OUTCOMES[wildcards.outcome]


def get_outcome_report_labels(wildcards):
    """Labels of an outcome's items in the report: the outcome's label and measure."""
    outcome = OUTCOMES[wildcards.outcome]
    return {"outcome": outcome["label"], "measure": outcome["measure"]}


def get_report_tables(wildcards):
    """The HTML tables the report shows inline: one study-effects table per outcome, and
    leave-one-out/cumulative analyses of the outcomes with two or more analysable studies
    (known after extraction)."""
    tables = ["summary", "prisma_counts", "duplicates", "maybe", "related", "agreement",
              "conflicts", "risk_of_bias"]
    sensitivity = outcomes_with_sensitivity(get_extraction_contrasts())
    return ([f"<results>/report/tables/{table}.html" for table in tables]
            + [f"<results>/report/tables/effects_{outcome}.html" for outcome in OUTCOMES]
            + [f"<results>/report/tables/sensitivity_{outcome}.html"
               for outcome in sensitivity])


def get_pooled_results(wildcards):
    return [f"<results>/analysis/{outcome}/pooled.json" for outcome in OUTCOMES]


def get_extraction_contrasts():
    """contrasts.tsv of the validate_extraction checkpoint, as a local file to read: when jobs
    share no file system, it is fetched from the storage provider first."""
    return local_copy(checkpoints.validate_extraction.get().output.contrasts)


def get_forest_plots(wildcards):
    """Forest plots of the outcomes that have analysable data (known after extraction)."""
    contrasts = get_extraction_contrasts()
    return [f"<results>/analysis/{outcome}/forest.{ext}"
            for outcome in outcomes_with_data(contrasts) for ext in ("png", "svg", "pdf")]


def get_funnel_plots(wildcards):
    """Funnel plots of the outcomes with analysis.small_study_min_studies (10) or more
    analysable studies."""
    contrasts = get_extraction_contrasts()
    minimum = config["analysis"]["small_study_min_studies"]
    return [f"<results>/analysis/{outcome}/funnel.{ext}"
            for outcome in outcomes_with_studies(contrasts, minimum) for ext in ("png", "svg")]


def get_further_analyses():
    """The configuration of the analyses beyond one pooled estimate (methods text)."""
    return {key: config["analysis"][key] for key in ("trim_and_fill", "moderators",
                                                     "meta_regression", "multilevel",
                                                     "rob_sensitivity")}


def get_trim_and_fill():
    """analysis.trim_and_fill as the estimator, or None when not configured."""
    estimator = config["analysis"]["trim_and_fill"]
    return None if estimator == "none" else estimator


def get_moderator_columns():
    """The studies-sheet columns named by analysis.moderators."""
    return sorted({m["column"] for m in config["analysis"]["moderators"]})


def get_moderators(wildcards):
    """The moderators of analysis.moderators that apply to the outcome."""
    return [{"column": m["column"], "type": m["type"]}
            for m in config["analysis"]["moderators"]
            if not m["outcomes"] or wildcards.outcome in m["outcomes"]]


def get_model_outputs(wildcards):
    """Meta-regression, three-level model and risk-of-bias sensitivity outputs, for the
    analyses configured (none by default) and the outcomes with data."""
    with_data = outcomes_with_data(get_extraction_contrasts())
    moderated = {o for o in OUTCOMES
                 if any(not m["outcomes"] or o in m["outcomes"]
                        for m in config["analysis"]["moderators"])}
    multilevel = set(config["analysis"]["multilevel"]["outcomes"])
    outputs = [f"<results>/analysis/{o}/{name}" for o in with_data if o in moderated
               for name in ("meta_regression.tsv", "bubble.png")]
    outputs += [f"<results>/analysis/{o}/multilevel.tsv" for o in with_data
                if o in multilevel]
    if config["analysis"]["rob_sensitivity"] != "none":
        outputs.append("<results>/analysis/rob_sensitivity.tsv")
    return outputs


def get_stage_audits(wildcards):
    return [f"<results>/audit/{stage}.json" for stage in STAGES]


def get_final_outputs(wildcards):
    """Everything a run of the review produces (rule all)."""
    outputs = [
        "<results>/search/records.tsv",
        "<results>/dedup/unique.tsv",
        "<results>/dedup/duplicates.tsv",
        "<results>/spreadsheets/records.csv",
        "<results>/spreadsheets/unique.csv",
        "<results>/screening/included.tsv",
        "<results>/screening/to_screen.csv",
        "<results>/prisma/counts.json",
        "<results>/prisma/prisma2020.csv",
        "<results>/prisma/flow.png",
        "<results>/analysis/summary.tsv",
        "<results>/risk_of_bias/traffic_light.png",
        "<results>/risk_of_bias/summary.png",
        "<results>/sof/summary_of_findings.html",
        "<results>/report/methods.html",
    ]
    if is_pubmed_searched():
        outputs.append("<results>/search/update.tsv")
    outputs += get_update_tables(wildcards)
    if get_api_sources():
        outputs.append("<results>/search/related_reports.tsv")
    exports = [f"<results>/exports/{name}" for name in
               ("included.ris", "included.bib", "excluded.ris", "excluded.bib")]
    # One output of every job is a target, intermediate ones too: Snakemake tolerates a
    # missing intermediate file when what was built from it exists, so after a failed job
    # (whose outputs it deletes) the next run would otherwise accept the results built from
    # the old input and report "Nothing to be done".
    intermediates = (get_pubmed_table(wildcards) + get_imported_tables(wildcards)
                     + get_api_source_tables(wildcards)
                     + get_pooled_results(wildcards))
    return (outputs + intermediates + get_forest_plots(wildcards)
            + get_funnel_plots(wildcards) + get_report_tables(wildcards) + exports
            + get_model_outputs(wildcards)
            + get_stage_audits(wildcards) + get_update_outputs(wildcards))


# -- the searched sources besides PubMed (ClinicalTrials.gov, Europe PMC, citation chasing)
def get_api_sources():
    """The configured sources with an API besides PubMed, in a fixed order."""
    return [source for source in API_SOURCES if config["search"].get(source)]


def get_searched_sources():
    """Every source searched through an API (PubMed first): each has an update table."""
    return (["pubmed"] if is_pubmed_searched() else []) + get_api_sources()


def get_search_settings(wildcards):
    """The configured search of one searched source, PubMed or another (a parameter of
    search_settings: a changed date or query rewrites its file; the contact address is
    left out, so that changing it reruns nothing)."""
    return search_identity(config["search"][wildcards.searched_source])


def get_source_search(wildcards):
    """The configured search of one source (a parameter: a changed search reruns)."""
    return config["search"][wildcards.api_source]


def get_source_snapshot_dir(source):
    """The snapshot folder of a source's configured search date."""
    return f"{config['data_dir']}/search/{source}/{config['search'][source]['date']}"


def is_source_snapshot_missing(source):
    """True when the source's search date has no complete snapshot yet."""
    return not os.path.isfile(f"{get_source_snapshot_dir(source)}/provenance.json")


def get_missing_api_sources():
    """The sources whose configured search date has no snapshot (retrieve_source makes it)."""
    return [source for source in get_api_sources() if is_source_snapshot_missing(source)]


def get_source_folder(source):
    """The snapshot folder, through the retrieve_source checkpoint when it is missing."""
    if is_source_snapshot_missing(source):
        return checkpoints.retrieve_source.get(
            api_source=source, api_date=config["search"][source]["date"]).output.snapshot
    return get_source_snapshot_dir(source)


def get_source_provenance(wildcards):
    """The provenance.json of one source's snapshot (the job's declared input)."""
    return f"{get_source_folder(wildcards.api_source)}/provenance.json"


def get_source_snapshot_files(wildcards):
    """One source's snapshot answer files (their SHA-256 is a parameter of the reading job)."""
    folder = get_source_folder(wildcards.api_source)
    return snapshot_data_files(folder, provenance=False)


def get_citation_seeds(wildcards):
    """The seed table of the citation chase (only for that source)."""
    if wildcards.api_source != "citations":
        return []
    return [configured_sheet(config, "search.citations.seeds")]


def get_api_source_tables(wildcards):
    """The record tables of the sources besides PubMed."""
    return [f"<results>/search/sources/{source}.tsv" for source in get_api_sources()]


def get_api_source_xml(wildcards):
    """The PubMed-format XML of the citation chase (raw inputs of the audit, DataBank ids)."""
    if "citations" not in get_api_sources():
        return []
    folder = get_source_folder("citations")
    return xml_files(folder)


def get_api_source_raw(wildcards):
    """Every snapshot file of the sources besides PubMed (raw inputs of the search audit)."""
    files = []
    for source in get_api_sources():
        folder = get_source_folder(source)
        files += snapshot_data_files(folder)
    return files


def get_update_current(wildcards):
    """The provenance of the source's current snapshot (update tables)."""
    if wildcards.update_source == "pubmed":
        return get_pubmed_provenance(wildcards)
    return [f"{get_source_folder(wildcards.update_source)}/provenance.json"]


def get_update_current_files(wildcards):
    if wildcards.update_source == "pubmed":
        return get_pubmed_snapshot_files(wildcards)
    folder = get_source_folder(wildcards.update_source)
    return snapshot_data_files(folder)


def get_update_previous(wildcards):
    """The provenance of the source's latest snapshot before the configured date, if any."""
    folder = previous_source_snapshot(f"{config['data_dir']}/search/{wildcards.update_source}",
                                      config["search"][wildcards.update_source]["date"])
    return [f"{folder}/provenance.json"] if folder else []


def get_update_previous_files(wildcards):
    previous = get_update_previous(wildcards)
    if not previous:
        return []
    folder = os.path.dirname(previous[0])
    return snapshot_data_files(folder)


def get_update_date(wildcards):
    return config["search"][wildcards.update_source]["date"]


def get_update_tables(wildcards):
    """The update table of every source searched through an API."""
    return [f"<results>/search/updates/{source}.tsv" for source in get_searched_sources()]


def get_source_details(wildcards):
    """The detail tables of the sources besides PubMed (trial references, preprint flags)."""
    return [f"<results>/search/sources/{source}_details.tsv" for source in get_api_sources()
            if source in ("ctgov", "europepmc")]


def get_source_links(wildcards):
    """The related reports the sources link (a trial and its papers, a preprint and its
    journal version: ``search/related_reports.tsv``), for deduplication and screening, when
    the review searches a source besides PubMed."""
    return ["<results>/search/related_reports.tsv"] if get_api_sources() else []


def get_study_candidate_links(wildcards):
    """Deduplication's related reports, for grouping the to-screen list by study candidate,
    when the review's sources link related reports (:func:`get_source_links`)."""
    return ["<results>/dedup/related.tsv"] if get_api_sources() else []


def get_snapshot_provenances(wildcards):
    """Every configured search's snapshot (the retrieve target: missing ones are retrieved)."""
    found = get_pubmed_provenance(wildcards)
    return list(found) + [f"{get_source_folder(source)}/provenance.json"
                          for source in get_api_sources()]


def get_update_versions():
    """Archived versions of the review, for the changes table: update.versions and the
    prisma.previous_version folder (the version this one updates); empty for a review's
    first version. The rule orders them by their search dates."""
    versions = list(config.get("update", {}).get("versions") or [])
    previous = config["prisma"]["previous_version"]
    if previous and previous not in versions:
        versions.append(previous)
    return versions


def is_update():
    """True when the review has an archived earlier version to compare with."""
    return bool(get_update_versions())


def get_update_archive_files(wildcards):
    """Every file of every archived version (missing ones are named by the rule's error)."""
    from sysrev.update.archive import archive_paths

    return [path for folder in get_update_versions() for path in archive_paths(folder)
            if os.path.isfile(path)]


def get_update_outputs(wildcards):
    """The update stage's outputs (none for a review's first version)."""
    if not is_update():
        return []
    return (["<results>/update/changes.tsv", "<results>/update/versions.tsv",
             "<results>/update/paragraph.json", "<results>/report/tables/changes.html"]
            + [f"<results>/update/versions_{outcome}.png" for outcome in OUTCOMES])


def get_versions_plot_outputs():
    """The outputs of versions_plots: per outcome its plot as PNG (in the report, labelled
    with the outcome) and SVG, named ``png_<outcome>`` and ``svg_<outcome>``."""
    outputs = {}
    for outcome in OUTCOMES.values():
        outputs[f"png_{outcome['id']}"] = report(
            f"<results>/update/versions_{outcome['id']}.png",
            caption="../report/versions_plot.rst",
            category="Update",
            subcategory="Results by review version",
            labels={"outcome": outcome["label"], "measure": outcome["measure"]},
        )
    for outcome in OUTCOMES.values():
        outputs[f"svg_{outcome['id']}"] = f"<results>/update/versions_{outcome['id']}.svg"
    return outputs


def get_update_paragraph(wildcards):
    """The update paragraph of an updated review (none for a first version)."""
    return ["<results>/update/paragraph.json"] if is_update() else []


def get_stopping_setting(key):
    """screening.stopping.<key> (recall_target, confidence), with the schema's default."""
    defaults = {"recall_target": 0.95, "confidence": 0.95}
    return (config["screening"].get("stopping") or {}).get(key, defaults[key])
