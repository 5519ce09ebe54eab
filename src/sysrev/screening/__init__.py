"""Screening: reviewers' decisions in, final decisions, agreement, the living to-screen list.

Modules: :mod:`~sysrev.screening.matching` (decisions to records by stable keys),
:mod:`~sysrev.screening.decisions` (generic CSV, checks), :mod:`~sysrev.screening.formats`
(Rayyan, ASReview, Covidence) and :mod:`~sysrev.screening.asreview_project` (ASReview
project files), both reading files through :mod:`~sysrev.screening.readers`,
:mod:`~sysrev.screening.rules` (final decisions),
:mod:`~sysrev.screening.agreement` (Cohen's kappa, conflicts),
:mod:`~sysrev.screening.living` (records still to screen), :mod:`~sysrev.screening.studies`
(reports to studies), :mod:`~sysrev.screening.streaming` (a large library in batches: compact
key sets, the final decisions of a batch, the to-screen rows kept on disk).
"""

from sysrev.screening.decisions import DECISIONS, STAGES, check_decisions, load_generic
from sysrev.screening.matching import RecordMatcher
from sysrev.screening.rules import ScreeningRules, final_decisions
from sysrev.screening.studies import check_studies_exist, load_study_links

__all__ = ["DECISIONS", "STAGES", "check_decisions", "load_generic", "RecordMatcher",
           "ScreeningRules", "final_decisions", "check_studies_exist", "load_study_links"]
