"""Ranked screening: order the records awaiting a title/abstract decision by a model trained
on the review's earlier title/abstract decisions.

The model is the usual baseline of screening prioritisation (ASReview's default is of the
same family): TF-IDF features of title and abstract over word 1- and 2-grams, and a
class-balanced logistic regression (L2, lbfgs; deterministic: no random state is used, so
the same decisions always give the same ranking). A record's ``priority_score`` is the
model's probability that it will be included.

With fewer than :data:`MIN_INCLUDES` included (or no excluded) records to learn from, a
model would rank at random: the records keep the order they had without prioritisation and
the reason is stated in the file, the log and the audit.

References
----------
Cohen AM, Hersh WR, Peterson K, Yen PY. Reducing workload in systematic review preparation
using automated citation classification. J Am Med Inform Assoc 2006;13:206-19 (WSS).
van de Schoot R, et al. An open source machine learning framework for efficient and
transparent systematic reviews. Nat Mach Intell 2021;3:125-33 (ASReview).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

#: Fewest included records the model is trained from; below it the order is not changed.
MIN_INCLUDES = 5
#: Columns added to ``to_screen.csv`` when screening is prioritised.
PRIORITY_COLUMNS = ["priority_rank", "priority_score", "priority_training_records"]


@dataclass(frozen=True)
class Ranking:
    """What the ranking was trained on and whether it was applied (for the audit)."""

    applied: bool
    training_records: int
    training_includes: int
    training_excludes: int
    reason: str
    model: str = ("TF-IDF (word 1-2 grams, sublinear tf) of title + abstract; logistic "
                  "regression, class_weight=balanced, L2, C=1, lbfgs (scikit-learn)")

    def to_dict(self) -> dict:
        return asdict(self)


def record_text(table: pd.DataFrame) -> pd.Series:
    """Title and abstract of each record as one string (missing parts are empty)."""
    def text(column: str) -> pd.Series:
        if column not in table.columns:
            return pd.Series("", index=table.index)
        return table[column].where(table[column].map(lambda v: isinstance(v, str)), "")

    return (text("title") + " " + text("abstract")).str.strip()


def training_labels(finals: pd.DataFrame) -> pd.Series:
    """1/0 per record id from the final title/abstract decisions (include/exclude; pending
    and other decisions are not training data). A record that went on to full text counts
    as an include: it looked relevant on its title and abstract, which is what is ranked."""
    ta = finals[(finals["stage"] == "title_abstract")
                & finals["final_decision"].isin(["include", "exclude"])]
    return pd.Series((ta["final_decision"] == "include").astype(int).to_numpy(),
                     index=ta["record_id"].to_numpy())


def score_records(train_text: list[str], labels: list[int], score_text: list[str]
                  ) -> np.ndarray:
    """The model's inclusion probability of each ``score_text`` after training on
    ``train_text`` with ``labels`` (1 include, 0 exclude)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    score = ranker(train_text, labels)
    if not score_text:
        return np.zeros(0)
    return score(score_text)


def ranker(train_text: list[str], labels: list[int]):
    """The model trained on ``train_text`` with ``labels``, as a function giving the
    inclusion probability of each text of a list (one batch at a time gives the same
    probabilities as all at once: each text's features and score are its own)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectoriser = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, lowercase=True,
                                 strip_accents="unicode")
    features = vectoriser.fit_transform(train_text)
    model = LogisticRegression(class_weight="balanced", C=1.0, solver="lbfgs",
                               max_iter=1000)
    model.fit(features, np.asarray(labels))

    def score(texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros(0)
        return model.predict_proba(vectoriser.transform(texts))[:, 1]

    return score


def prioritise(pending: pd.DataFrame, unique: pd.DataFrame, finals: pd.DataFrame,
               min_includes: int = MIN_INCLUDES) -> tuple[pd.DataFrame, Ranking]:
    """Rank ``pending`` (the ``to_screen`` table, in its usual order) by the model.

    Full-text rows stay first, in their order (their title/abstract decision is made).
    Title/abstract rows follow by descending score, ties by their usual order. The
    returned table has :data:`PRIORITY_COLUMNS` added (empty score and rank when the
    ranking is not applied, or for full-text rows).
    """
    labels = training_labels(finals)
    labels = labels[labels.index.isin(set(unique["record_id"]))]
    table = pending.copy()
    table["priority_training_records"] = len(labels)
    table["priority_rank"] = ""
    table["priority_score"] = ""
    unranked = not_ranked(labels, min_includes)
    if unranked:
        return table, unranked
    text = record_text(unique.set_index("record_id", drop=False))
    ta_rows = table.index[table["stage"] == "title_abstract"]
    ta_ids = table.loc[ta_rows, "record_id"].tolist()
    scores = score_records(text.loc[labels.index].tolist(), labels.tolist(),
                           text.loc[ta_ids].tolist())
    # Rounded before sorting, so that the order does not hang on the last bits of a float.
    rounded = np.round(scores, 6)
    order = sorted(range(len(ta_ids)), key=lambda i: (-rounded[i], i))
    ranked_ta = table.loc[ta_rows].iloc[order].copy()
    ranked_ta["priority_rank"] = [str(i + 1) for i in range(len(order))]
    ranked_ta["priority_score"] = [f"{rounded[i]:.6f}" for i in order]
    full_text = table[table["stage"] != "title_abstract"]
    result = pd.concat([full_text, ranked_ta]).reset_index(drop=True)
    return result, ranked(len(ta_ids), labels)


def not_ranked(labels: pd.Series, min_includes: int = MIN_INCLUDES) -> Ranking | None:
    """The :class:`Ranking` of a list left in its usual order because ``labels`` (the
    training labels) are too few; ``None`` when a model can be trained."""
    includes, excludes = int(labels.sum()), int(len(labels) - labels.sum())
    if includes < min_includes or excludes == 0:
        reason = (f"not ranked: {includes} included and {excludes} excluded title/abstract "
                  f"decisions to learn from (at least {min_includes} included and 1 excluded "
                  "needed); records keep their usual order")
        return Ranking(False, len(labels), includes, excludes, reason)
    return None


def ranked(records: int, labels: pd.Series) -> Ranking:
    """The :class:`Ranking` of ``records`` title/abstract records ranked by a model trained
    on ``labels``."""
    includes, excludes = int(labels.sum()), int(len(labels) - labels.sum())
    reason = (f"ranked {records} title/abstract records by a model trained on "
              f"{len(labels)} decisions ({includes} included, {excludes} excluded)")
    return Ranking(True, len(labels), includes, excludes, reason)
