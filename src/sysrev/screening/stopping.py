"""A stopping statistic that can be reported: the hypergeometric test of Callaghan and
Müller-Hansen (2020), the ``buscar`` method.

After screening records in ranked order, the reviewers screen a simple random sample of the
records not yet screened (decision files mark them: the generic layout's ``sample`` column
set to ``random``). Under the null hypothesis "recall is below the target", the records not
screened before the sample (the urn, ``N`` records) hold at least

    K = floor(r_seen / target - r_before) + 1

relevant records, where ``r_before`` is the number of relevant records found before the
sample and ``r_seen`` that number plus the ``k`` found in the sample. The p-value is the
probability of finding ``k`` or fewer relevant records in a sample of ``n`` drawn without
replacement from an urn of ``N`` records of which ``K`` are relevant: the hypergeometric
cumulative distribution ``P(X <= k)``, X ~ Hypergeom(N, K, n). The null is rejected, and
screening may stop, when p < 1 - confidence. With K > N the null hypothesis is impossible
(not enough records left to miss the target) and p = 0.

"Relevant" is a final title/abstract include: ranking and stopping are about that stage.
The whole sample is one draw (the order within it is not used), as in the paper's workflow.

References
----------
Callaghan MW, Müller-Hansen F. Statistical stopping criteria for automated screening in
systematic reviews. Syst Rev 2020;9:273. doi:10.1186/s13643-020-01521-4
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import pandas as pd

#: The value of a decision file's ``sample`` column that marks the random sample.
RANDOM_SAMPLE = "random"


def null_relevant(r_before: int, r_seen: int, recall_target: float) -> int:
    """The fewest relevant records the urn must hold for recall to be below the target."""
    return math.floor(r_seen / recall_target - r_before) + 1


def buscar_p(urn: int, r_before: int, sample: int, found: int, recall_target: float) -> float:
    """p-value of "recall < ``recall_target``" after ``found`` relevant records in a random
    sample of ``sample`` from the ``urn`` records not screened before it, ``r_before``
    relevant records having been found before the sample."""
    if not 0 < recall_target < 1:
        raise ValueError(f"recall target must be between 0 and 1, not {recall_target}")
    if not 0 <= found <= sample <= urn:
        raise ValueError(f"need 0 <= found ({found}) <= sample ({sample}) <= urn ({urn})")
    from scipy.stats import hypergeom

    k_null = null_relevant(r_before, r_before + found, recall_target)
    if k_null > urn:
        return 0.0
    return float(hypergeom.cdf(found, urn, k_null, sample))


@dataclass(frozen=True)
class StoppingResult:
    """The stopping test of one review (``sample`` 0: no test was possible)."""

    records: int
    screened: int
    not_screened: int
    screened_before_sample: int
    relevant_before_sample: int
    sample: int
    relevant_in_sample: int
    urn: int
    recall_target: float
    confidence: float
    k_null: int | None
    p_value: float | None
    stop: bool | None
    statement: str

    def to_dict(self) -> dict:
        return asdict(self)


def _pct(value: float) -> str:
    return f"{100 * value:g}%"


def stopping_test(finals: pd.DataFrame, sample_ids: set[str], recall_target: float,
                  confidence: float, records: int | None = None) -> StoppingResult:
    """The stopping test from the final title/abstract decisions (every unique record has a
    row; ``pending`` is not screened) and the record ids of the random sample.

    With ``records`` (the number of unique records), ``finals`` may hold only the records
    with decisions: every other record is not screened."""
    ta = finals[finals["stage"] == "title_abstract"]
    decided = ta[ta["final_decision"].isin(["include", "exclude"])]
    records = int(len(ta)) if records is None else int(records)
    screened = int(len(decided))
    in_sample = decided["record_id"].isin(sample_ids)
    before, drawn = decided[~in_sample], decided[in_sample]
    r_before = int((before["final_decision"] == "include").sum())
    n, k = int(len(drawn)), int((drawn["final_decision"] == "include").sum())
    urn = records - int(len(before))
    common = dict(records=records, screened=screened, not_screened=records - screened,
                  screened_before_sample=int(len(before)), relevant_before_sample=r_before,
                  sample=n, relevant_in_sample=k, urn=urn, recall_target=recall_target,
                  confidence=confidence)
    if n == 0:
        if records == screened:
            statement = (f"All {records} records were screened at title and abstract, so no "
                         "stopping criterion was needed.")
        else:
            statement = (f"Screening stopped without a statistical criterion: "
                         f"{records - screened} of {records} records were not screened at "
                         "title and abstract, and no random sample of them was screened.")
        return StoppingResult(**common, k_null=None, p_value=None, stop=None,
                              statement=statement)
    p = buscar_p(urn, r_before, n, k, recall_target)
    k_null = null_relevant(r_before, r_before + k, recall_target)
    alpha = 1 - confidence
    stop = p < alpha
    verdict = (f"p = {p:.4g} < {alpha:.4g}: the hypothesis that recall is below "
               f"{_pct(recall_target)} is rejected at {_pct(confidence)} confidence"
               if stop else
               f"p = {p:.4g} is not below {alpha:.4g}: recall below {_pct(recall_target)} "
               f"cannot be ruled out at {_pct(confidence)} confidence")
    statement = (f"After {len(before)} records screened in ranked order ({r_before} "
                 f"included), a random sample of {n} of the remaining {urn} records was "
                 f"screened ({k} included). Stopping test of Callaghan and Müller-Hansen "
                 f"(2020; hypergeometric, H0: recall < {_pct(recall_target)}, which needs "
                 f"at least {k_null} relevant records among the {urn}): {verdict}. "
                 f"{records - screened} records were not screened.")
    return StoppingResult(**common, k_null=k_null, p_value=p, stop=stop, statement=statement)
