"""Agreement between reviewers (Cohen's kappa with its 95% CI) and the conflicts table.

References
----------
Cohen J. A coefficient of agreement for nominal scales. Educ Psychol Meas 1960;20:37-46.
Fleiss JL, Cohen J, Everitt BS. Large sample standard errors of kappa and weighted kappa.
Psychol Bull 1969;72:323-7 (the variance used for the confidence interval).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

AGREEMENT_COLUMNS = ["stage", "reviewer_a", "reviewer_b", "records", "agreements",
                     "raw_agreement", "kappa", "kappa_ci_lower", "kappa_ci_upper",
                     "categories"]
CONFLICT_COLUMNS = ["record_id", "stage", "decisions", "resolution", "final_decision"]


@dataclass(frozen=True)
class Kappa:
    """Cohen's kappa of two raters with its Fleiss-Cohen-Everitt confidence interval."""

    n: int
    observed: float
    expected: float
    kappa: float
    se: float
    ci_lower: float
    ci_upper: float


def cohen_kappa(a: Sequence[str], b: Sequence[str], level: float = 95) -> Kappa:
    """Cohen's kappa of two raters' labels on the same items.

    Undefined (NaN) when chance agreement is 1, i.e. both raters used one and the same
    category for every item.
    """
    if len(a) != len(b) or not len(a):
        raise ValueError("cohen_kappa: need two equally long, non-empty label sequences")
    categories = sorted(set(a) | set(b))
    index = {c: i for i, c in enumerate(categories)}
    table = np.zeros((len(categories), len(categories)))
    for x, y in zip(a, b):
        table[index[x], index[y]] += 1
    n = len(a)
    p = table / n
    rows, cols = p.sum(axis=1), p.sum(axis=0)
    po = float(np.trace(p))
    pe = float(np.sum(rows * cols))
    if math.isclose(pe, 1.0):
        return Kappa(n, po, pe, math.nan, math.nan, math.nan, math.nan)
    kappa = (po - pe) / (1 - pe)
    k = len(categories)
    diagonal = sum(p[i, i] * ((1 - pe) - (cols[i] + rows[i]) * (1 - po)) ** 2
                   for i in range(k))
    off = (1 - po) ** 2 * sum(p[i, j] * (cols[i] + rows[j]) ** 2
                              for i in range(k) for j in range(k) if i != j)
    variance = (diagonal + off - (po * pe - 2 * pe + po) ** 2) / (n * (1 - pe) ** 4)
    se = math.sqrt(max(variance, 0.0))
    z = float(stats.norm.ppf(1 - (1 - level / 100) / 2))
    # Like R's psych::cohen.kappa, bounds beyond ±1 are set to ±1.
    return Kappa(n, po, pe, kappa, se, max(-1.0, kappa - z * se), min(1.0, kappa + z * se))


def agreement_table(decisions: pd.DataFrame, consensus_reviewer: str) -> pd.DataFrame:
    """Raw agreement and Cohen's kappa for every pair of reviewers at every stage, on the
    records both decided."""
    rows = []
    people = decisions[decisions["reviewer"] != consensus_reviewer]
    for stage, part in people.groupby("stage", sort=True):
        wide = part.drop_duplicates(["unique_record_id", "reviewer"]).pivot(
            index="unique_record_id", columns="reviewer", values="decision")
        for first, second in itertools.combinations(sorted(wide.columns), 2):
            both = wide[[first, second]].dropna()
            if both.empty:
                continue
            k = cohen_kappa(list(both[first]), list(both[second]))
            rows.append({"stage": stage, "reviewer_a": first, "reviewer_b": second,
                         "records": k.n, "agreements": int(round(k.observed * k.n)),
                         "raw_agreement": k.observed, "kappa": k.kappa,
                         "kappa_ci_lower": k.ci_lower, "kappa_ci_upper": k.ci_upper,
                         "categories": "; ".join(sorted(set(both[first]) | set(both[second])))})
    return pd.DataFrame(rows, columns=AGREEMENT_COLUMNS)


def conflicts_table(decisions: pd.DataFrame, finals: pd.DataFrame,
                    consensus_reviewer: str) -> pd.DataFrame:
    """Records on which reviewers disagreed at a stage, and how each was resolved."""
    final = {(r, s): (d, b) for r, s, d, b in zip(finals["record_id"], finals["stage"],
                                                  finals["final_decision"], finals["basis"])}
    people = decisions[decisions["reviewer"] != consensus_reviewer]
    rows = []
    for (record, stage), group in people.groupby(["unique_record_id", "stage"], sort=True):
        if group["decision"].nunique() < 2:
            continue
        decided, basis = final.get((record, stage), ("", "not reached"))
        per = group.drop_duplicates("reviewer").sort_values("reviewer")
        rows.append({"record_id": record, "stage": stage,
                     "decisions": "; ".join(f"{r}={d}" for r, d in
                                            zip(per["reviewer"], per["decision"])),
                     "resolution": basis, "final_decision": decided})
    return pd.DataFrame(rows, columns=CONFLICT_COLUMNS)
