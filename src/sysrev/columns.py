"""Column names of every table the pipeline reads or writes, in their fixed output order.

One place for them, so a renamed column is renamed everywhere and every TSV keeps its layout.
"""

#: The record table: one row per record as identified in one source (database or register).
#: ``record_id`` is ``<source>:<source_id>`` and never changes across reruns or search updates,
#: because ``source_id`` is the database's own accession (PMID, Embase ``U2``, WoS ``UT``,
#: CENTRAL ``AN``) or, failing that, a hash of the record's bibliographic content.
RECORD_COLUMNS = [
    "record_id", "source", "source_id", "pmid", "doi", "title", "authors", "year",
    "journal", "volume", "issue", "pages", "publication_types", "mesh_terms", "language",
    "abstract", "source_file", "source_position",
    # PubMed's retraction / expression-of-concern status and CommentsCorrections links
    # ("ErratumIn 123; RetractionIn 456"); empty for records from other sources.
    "retraction", "comments_corrections",
]

#: Records of the PubMed search that the previous search (snapshot) did not have.
UPDATE_COLUMNS = ["record_id", "pmid", "doi", "title", "authors", "year", "journal",
                  "previous_search_date"]

#: One row per input record after deduplication.
DEDUP_COLUMNS = ["record_id", "cluster_id", "kept", "kept_record_id", "rule", "detail",
                 "linked_to", "title_score", "author_score", "journal_score", "year_match",
                 "volume_match", "pages_match"]

#: Removed duplicates: which record was removed in favour of which, and why.
DUPLICATE_COLUMNS = ["removed_record_id", "kept_record_id", "cluster_id", "rule", "detail",
                     "removed_source", "kept_source", "linked_to", "title_score",
                     "author_score", "journal_score", "year_match", "volume_match",
                     "pages_match"]

#: A screening decision as provided by reviewers (generic CSV layout).
DECISION_COLUMNS = ["record_id", "reviewer", "stage", "decision", "reason", "note"]

#: The final decision per unique record and stage.
FINAL_DECISION_COLUMNS = ["record_id", "stage", "final_decision", "reason", "basis",
                          "reviewers", "decisions"]

#: Links between full-text reports and the studies (trials) they describe.
STUDY_LINK_COLUMNS = ["study_id", "record_id", "role"]

#: Included reports, one per row, with their study.
INCLUDED_COLUMNS = ["study_id", "record_id", "role", "title", "authors", "year", "journal",
                    "doi", "pmid", "sources", "retraction"]

#: Arm-level extraction sheet (as provided).
ARM_COLUMNS = ["study_id", "arm", "group", "outcome", "timepoint", "n", "mean", "sd", "se",
               "ci_lower", "ci_upper", "ci_level", "events", "total", "source", "note"]

#: Optional columns of the arm-level sheet: a median with its quartiles and/or range.
ARM_OPTIONAL_COLUMNS = ["median", "q1", "q3", "min", "max"]

#: Optional column of the arm and contrast sheets: the id of an effect size within its study,
#: outcome and time point (several measures, arm pairs or subscales of one study, analysed
#: by the three-level model). Written to contrasts.tsv, arms.tsv and effects.tsv only when a
#: sheet gives it, so that a review without it keeps its tables unchanged.
ES_ID = "es_id"


def with_es_id(columns: list[str], table) -> list[str]:
    """``columns`` plus ``es_id`` when ``table`` (a DataFrame) has a filled-in ``es_id``."""
    has = ES_ID in table.columns and bool((table[ES_ID].fillna("").astype(str) != "").any())
    return list(columns) + [ES_ID] if has else list(columns)


#: Contrast-level extraction sheet (optional file): a reported between-group effect.
CONTRAST_SHEET_COLUMNS = ["study_id", "outcome", "timepoint", "measure", "estimate", "se",
                          "ci_lower", "ci_upper", "ci_level", "n_treatment", "n_control",
                          "source", "note"]

#: Per-study effect sizes of one outcome.
EFFECT_COLUMNS = ["study_id", "label", "year", "n_treatment", "n_control",
                  "mean_treatment", "sd_treatment", "mean_control", "sd_control",
                  "events_treatment", "events_control", "yi", "vi", "sei", "ci_lower",
                  "ci_upper", "weight_fixed", "weight_random", "conversions",
                  "comparison", "data_level", "subgroup"]

#: The cross-outcome summary.
SUMMARY_COLUMNS = ["outcome", "label", "measure", "status", "k", "participants", "model",
                   "estimate", "ci_lower", "ci_upper", "p_value", "tau2", "i2", "q", "q_p",
                   "fixed_estimate", "fixed_ci_lower", "fixed_ci_upper", "studies",
                   "not_analysable", "preset", "prediction_lower", "prediction_upper",
                   "tau2_ci_lower", "tau2_ci_upper", "mh_estimate", "mh_ci_lower",
                   "mh_ci_upper", "egger_p", "subgroup_test_p", "small_study_tests",
                   # The same studies named by their labels, for readers.
                   "study_labels", "not_analysable_labels"]

#: Value written into a numeric extraction cell that the source does not report.
NOT_REPORTED = "NR"
