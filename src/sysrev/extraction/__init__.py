"""The data-extraction sheets: validation, conversions and per-study contrasts.

The layout of the sheets, the checks and the conversions are documented in
``docs/extraction.md``. In short:

``studies.csv``
    One row per included study: ``study_id, label, year, design, comparison, source``, plus
    the study-level column named by ``analysis.subgroup`` when subgroups are configured.
``arms.csv``
    One row per study arm, outcome and time point: ``study_id, arm, group, outcome,
    timepoint, n, mean, sd, se, ci_lower, ci_upper, ci_level, events, total, source, note``
    and, optionally, ``median, q1, q3, min, max``. ``group`` is ``treatment`` or
    ``control``. A continuous outcome gives ``n`` and a ``mean`` with one of ``sd``, ``se``
    or a CI, or a ``median`` with its quartiles and/or range; a binary outcome gives
    ``events`` and ``total``. A number the source does not report is written ``NR``; a cell
    that does not apply is left empty. Every row names its ``source`` (URL, table, quote).
``contrasts.csv`` (optional)
    One row per study, outcome and time point whose report gives only a between-group effect:
    ``study_id, outcome, timepoint, measure, estimate, se, ci_lower, ci_upper, ci_level,
    n_treatment, n_control, source, note``. ``estimate`` and the CI are on the scale the
    paper reports (a ratio for RR and OR); ``se`` of a ratio is the SE of its logarithm.
``es_id`` (optional column of ``arms.csv`` and ``contrasts.csv``)
    The id of an effect size within its study, outcome and time point, when one study gives
    several (measures, arm pairs, subscales): the rows of one ``es_id`` make one contrast,
    and ids must be unique per study, outcome, time point (and arm). Several effect sizes of
    one study are allowed only for the outcomes of ``analysis.multilevel.outcomes``.

Conversions (Cochrane Handbook v6.5, chapter 6) are flagged on every value they touch:
SE → SD (SD = SE·√n), CI → SD (SD = √n·(upper − lower)/(2·q), with q from the t distribution
with n − 1 df for small arms and from the normal otherwise), median with IQR and/or range →
mean (Luo et al. 2018) and SD (Wan et al. 2014; Shi et al. 2020 when both are given),
several arms of one group combined into one (Handbook Table 6.5.a) or a shared control group
split between the comparisons (Handbook 23.3.4), a missing SD imputed from other studies
(Handbook 6.5.2.7; off unless configured), and for contrast rows SE from CI and the log of
a reported ratio.

Modules, in the order of the stage: :mod:`~sysrev.extraction.sheets` (loading and checking
the sheets, each arm's mean and SD derived), :mod:`~sysrev.extraction.conversions` (the
conversions with their Handbook references, SD imputation), :mod:`~sysrev.extraction.multiarm`
(combining and splitting arms), :mod:`~sysrev.extraction.contrasts` (one contrast per study,
outcome and comparison); :mod:`~sysrev.extraction.cells` holds what they share. The
references (Cochrane Handbook v6.5; Wan 2014, Luo 2018, Shi 2020) are in the docstrings of
``conversions`` and ``multiarm``.
"""

from sysrev.extraction.cells import GROUPS, INTEGER, NUMERIC, OutcomeSpec
from sysrev.extraction.contrasts import (CONTRAST_COLUMNS, CONTRAST_ORDER, several_effects,
                                        study_contrasts)
from sysrev.extraction.conversions import (IMPUTE_SD, MEDIAN_SD, SMALL_ARM, ci_to_sd,
                                           impute_missing_sd, median_to_mean, quantiles_to_sd)
from sysrev.extraction.multiarm import MULTI_ARM, combine_continuous
from sysrev.extraction.sheets import (ES_ID, RATIO, STUDY_COLUMNS, VALIDATED_ARM_COLUMNS,
                                      VALIDATED_CONTRAST_SHEET_COLUMNS, describe_unused,
                                      load_studies, lost_outcomes, rows_off_timepoint,
                                      validate_arms, validate_contrast_sheet, with_es_id)

__all__ = ["CONTRAST_COLUMNS", "CONTRAST_ORDER", "ES_ID", "GROUPS", "IMPUTE_SD", "INTEGER", "MEDIAN_SD", "MULTI_ARM",
           "NUMERIC", "OutcomeSpec", "RATIO", "SMALL_ARM", "STUDY_COLUMNS",
           "VALIDATED_ARM_COLUMNS", "VALIDATED_CONTRAST_SHEET_COLUMNS", "ci_to_sd",
           "combine_continuous", "describe_unused", "impute_missing_sd", "load_studies",
           "lost_outcomes", "median_to_mean", "quantiles_to_sd", "rows_off_timepoint",
           "several_effects", "study_contrasts", "validate_arms", "validate_contrast_sheet",
           "with_es_id"]
