# Helper functions only: input functions (get_*) and predicates (is_*).
import os

from sysrev.config import check_config
from sysrev.workflow.analysis import outcomes_with_data
from sysrev.workflow.search import export_file

check_config(config)

OUTCOMES = {o["id"]: o for o in config["analysis"]["outcomes"]}
EXPORTS = {e["source"]: e for e in config["search"]["exports"]}
STAGES = ["search", "dedup", "screening", "extraction", "analysis", "prisma"]


wildcard_constraints:
    outcome="|".join(OUTCOMES),
    source="|".join(EXPORTS) if EXPORTS else "(?!)",


def get_searches_table():
    """searches.tsv of the review: one row per source (file, query, date)."""
    return f"{config['data_dir']}/search/searches.tsv"


def get_pubmed_snapshot_dir():
    """The PubMed snapshot folder of the configured search date."""
    pubmed = config["search"]["pubmed"]
    return f"{config['data_dir']}/search/pubmed/{pubmed['date']}"


def get_pubmed_snapshot_files(wildcards):
    """The snapshot's XML files and provenance (records.xml when it does not exist yet)."""
    folder = get_pubmed_snapshot_dir()
    xml = sorted(f for f in os.listdir(folder) if f.endswith(".xml")) if os.path.isdir(
        folder) else []
    return [f"{folder}/{name}" for name in (xml or ["records.xml"])]


def get_pubmed_provenance(wildcards):
    return f"{get_pubmed_snapshot_dir()}/provenance.json"


def get_export_file(wildcards):
    """The export file of one database, as named in searches.tsv."""
    return export_file(get_searches_table(), config["data_dir"], wildcards.source)


def get_export_format(wildcards):
    return EXPORTS[wildcards.source]["format"]


def get_imported_tables(wildcards):
    return [f"results/search/imported/{source}.tsv" for source in EXPORTS]


def get_outcome(wildcards):
    return OUTCOMES[wildcards.outcome]


def get_pooled_results(wildcards):
    return [f"results/analysis/{outcome}/pooled.json" for outcome in OUTCOMES]


def get_forest_plots(wildcards):
    """Forest plots of the outcomes that have analysable data (known after extraction)."""
    contrasts = checkpoints.validate_extraction.get().output.contrasts
    return [f"results/analysis/{outcome}/forest.{ext}"
            for outcome in outcomes_with_data(contrasts) for ext in ("png", "svg")]


def get_stage_audits(wildcards):
    return [f"results/audit/{stage}.json" for stage in STAGES]
