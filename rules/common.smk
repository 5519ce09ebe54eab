# Helper functions only: input functions (get_*) and predicates (is_*).
# The logic they use lives in sysrev.workflow.inputs (tested in tests/unit/test_workflow_inputs.py).
import os
from pathlib import Path

from sysrev.config import check_config
from sysrev.workflow.analysis import outcomes_with_data, outcomes_with_studies
from sysrev.workflow.inputs import (code_paths, export_staged_prefix, input_digests,
                                    local_copy, xml_files)
from sysrev.workflow.report import outcomes_with_sensitivity
from sysrev.search.update import previous_snapshot_dir as previous_pubmed_snapshot
from sysrev.workflow.search import export_file

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


#: The workflow's own folder (rules/..), wherever the review's working directory is: with
#: --directory, as a module, or on a cluster, code inputs resolve here, not in the review.
WORKFLOW_ROOT = Path(str(workflow.current_basedir)).parent


def code_of(*modules):
    """The package modules a rule's results depend on (listed as inputs, so that a change of
    method reruns the stage): the given ones plus the shared I/O modules
    (:func:`sysrev.workflow.inputs.code_paths`). They are local(): part of the deployed
    workflow, never moved through a storage provider when jobs share no file system."""
    return [local(path) for path in code_paths(WORKFLOW_ROOT, modules)]


def get_input_sha256(*sources):
    """A param function: the SHA-256 of a rule's raw inputs (exports, snapshot XML, sheets),
    each source a path or an input function. Snakemake reruns a job when an input is newer
    than its outputs; an edit that keeps an old modification time (a copy with cp -p, an
    unpacked archive, a restored backup) would leave the old results accepted. A changed
    digest is a changed param, so the job reruns. (A param function that takes ``input`` is
    ignored by Snakemake's params trigger, hence the sources are named again here.)"""

    def input_sha256(wildcards):
        return input_digests(sources, wildcards)

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


def get_grade_overrides(wildcards):
    """Reviewers' GRADE overrides, when the review has them."""
    overrides = config["report"]["grade_overrides"]
    return [overrides] if overrides else []


def get_previous_version(wildcards):
    """included.tsv of the previous version of the review (updated reviews only)."""
    previous = config["prisma"]["previous_version"]
    return [f"{previous}/included.tsv", f"{previous}/records.tsv"] if previous else []


def get_decision_files(wildcards):
    """Every configured screening decision file."""
    return [source["file"] for source in config["screening"]["decisions"]]


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
    return [sheet] if sheet else []


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
    exports = [f"<results>/exports/{name}" for name in
               ("included.ris", "included.bib", "excluded.ris", "excluded.bib")]
    # One output of every job is a target, intermediate ones too: Snakemake tolerates a
    # missing intermediate file when what was built from it exists, so after a failed job
    # (whose outputs it deletes) the next run would otherwise accept the results built from
    # the old input and report "Nothing to be done".
    intermediates = (get_pubmed_table(wildcards) + get_imported_tables(wildcards)
                     + get_pooled_results(wildcards))
    return (outputs + intermediates + get_forest_plots(wildcards)
            + get_funnel_plots(wildcards) + get_report_tables(wildcards) + exports
            + get_stage_audits(wildcards))
