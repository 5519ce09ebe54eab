"""What changed since the previous version of the review: one long table, ``changes.tsv``.

Every row is one change (or one comparison, for the per-source and per-outcome numbers):

``section``
    ``records_per_source`` (records identified by each source, new and withdrawn: every
    source of the record table, whatever its name), ``record`` (each new or withdrawn
    record), ``study`` (new included studies), ``report`` (new included reports),
    ``extraction`` (studies whose extracted data changed: which arm, outcome and field),
    ``decision`` (final decisions that changed), ``outcome`` (per outcome: k, pooled
    estimate, CI, prediction interval, tau², I², GRADE certainty, direction and
    significance of the result).
``item``, ``field``
    What changed (a source, record, study or outcome id; the field of it).
``previous``, ``current``
    The values in the previous and the current version (empty: absent).
``changed``
    ``yes`` or ``no``.

Records are followed across versions by their record id; a record of the previous version
that is now a duplicate of another is followed to the publication it belongs to (the
current dedup clusters), so a changed choice of the kept copy is not a changed decision.
Estimates are compared as written in ``summary.tsv`` (ratio measures on the ratio scale).
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from sysrev.recordtable import CHUNK_ROWS, id_hashes, repeated_values, tsv_chunks
from sysrev.errors import InputError
from sysrev.errors import columns_word
from sysrev.tables import read_tsv, read_tsv_header
from sysrev.update.archive import Version

CHANGES_COLUMNS = ["section", "item", "field", "previous", "current", "changed"]
SECTIONS = ["records_per_source", "record", "study", "report", "extraction", "decision",
            "outcome"]
#: Outcome fields compared, in this order (summary.tsv columns, then GRADE and the verdict).
OUTCOME_FIELDS = ["k", "participants", "estimate", "ci_lower", "ci_upper", "prediction_lower",
                  "prediction_upper", "tau2", "i2", "certainty", "direction", "significance"]
#: Arm-level extraction rows are keyed by these columns; the others are compared.
ARM_KEY = ["study_id", "arm", "outcome", "timepoint"]
RATIO_MEASURES = ("RR", "OR", "HR")


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _number(value: object) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _row(section, item, field, previous, current) -> dict:
    previous, current = _text(previous), _text(current)
    return {"section": section, "item": item, "field": field, "previous": previous,
            "current": current, "changed": "yes" if previous != current else "no"}


def verdict(summary_row: Mapping | None) -> tuple[str, str]:
    """(direction, significance) of one outcome's pooled result: direction ``favours
    treatment-side`` is not judged (outcomes differ in which side is good); it is the side
    of no effect the estimate lies on (``above null``/``below null``/``null``), and
    significance whether the CI excludes no effect (``CI excludes null``/``CI includes
    null``). Empty when the outcome was not pooled."""
    if summary_row is None:
        return "", ""
    estimate = _number(summary_row.get("estimate"))
    low, high = _number(summary_row.get("ci_lower")), _number(summary_row.get("ci_upper"))
    if estimate is None:
        return "", ""
    null = 1.0 if summary_row.get("measure") in RATIO_MEASURES else 0.0
    direction = ("above null" if estimate > null else "below null" if estimate < null
                 else "null")
    if low is None or high is None:
        return direction, ""
    significant = low > null or high < null
    return direction, "CI excludes null" if significant else "CI includes null"


def _per_source(previous: pd.DataFrame, current: pd.DataFrame) -> list[dict]:
    """Records per source, then how many are new and how many withdrawn (counts in
    ``current``)."""
    rows = []
    for source in sorted(set(previous["source"]) | set(current["source"])):
        before = set(previous.loc[previous["source"] == source, "record_id"])
        now = set(current.loc[current["source"] == source, "record_id"])
        rows.append(_row("records_per_source", source, "records", len(before), len(now)))
        for field, n in (("new", len(now - before)), ("withdrawn", len(before - now))):
            rows.append({"section": "records_per_source", "item": source, "field": field,
                         "previous": "", "current": str(n), "changed": "yes" if n else "no"})
    return rows


def _texts(values: pd.Series) -> pd.Series:
    """:func:`_text` of every value of a column of text (NA as the empty text)."""
    values = values.astype(object)
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        return values.where(values.notna(), "")
    return values.map(_text)


def _frame(section: str, item, field, previous, current) -> pd.DataFrame:
    """Rows of ``section`` as :func:`_row` makes them, for whole columns at once (each
    argument a column or one value for every row)."""
    n = max([len(v) for v in (item, field, previous, current) if not isinstance(v, str)],
            default=1)

    def column(value):
        if isinstance(value, str):
            return pd.Series([value] * n, dtype=object)
        return _texts(pd.Series(value, dtype=object).reset_index(drop=True))

    previous, current = column(previous), column(current)
    return pd.DataFrame({"section": section, "item": column(item), "field": column(field),
                         "previous": previous, "current": current,
                         "changed": pd.Series(["no", "yes"], dtype=object)[
                             (previous != current).astype(int).to_numpy()].to_numpy()},
                        columns=CHANGES_COLUMNS)


def _unique_complete(keys: pd.DataFrame) -> bool:
    """Whether ``keys`` (record_id, source) has every value and no record id twice."""
    return bool(keys.notna().all(axis=None) and keys["record_id"].is_unique)


def record_changes(previous_chunks: Iterable[pd.DataFrame],
                   current: pd.DataFrame) -> pd.DataFrame | None:
    """The ``records_per_source`` and ``record`` rows, the previous version's record table
    read a chunk at a time (``record_id`` and ``source`` columns) against the current one's
    ``record_id`` and ``source``: what :func:`_per_source` and :func:`_records` give, with
    per record a flag and a position instead of sets, dictionaries and a dict per row
    (issue 20: 245 MB at 100k records). None when a table has an empty id or source, or an
    id twice (the set comparison then decides, over the whole tables)."""
    if not _unique_complete(current):
        return None
    ids = pd.Index(current["record_id"])
    cur_source = current["source"].to_numpy(dtype=object)
    seen = np.zeros(len(current), dtype=bool)          # the id was in the previous version
    same = np.zeros(len(current), dtype=bool)          # ... under the same source
    before: Counter = Counter()
    gone, gone_any, hashes = [], [], []
    for chunk in previous_chunks:
        if chunk.empty:
            continue
        if chunk[["record_id", "source"]].isna().any(axis=None):
            return None
        hashes.append(id_hashes(chunk["record_id"]))
        where = ids.get_indexer(chunk["record_id"])
        found = where >= 0
        seen[where[found]] = True
        kept = np.zeros(len(chunk), dtype=bool)
        kept[found] = cur_source[where[found]] == chunk["source"].to_numpy(dtype=object)[found]
        same[where[kept]] = True
        before.update(chunk["source"].value_counts().to_dict())
        gone.append(chunk.loc[~kept, ["record_id", "source"]])
        gone_any.append(chunk.loc[~found, ["record_id", "source"]])
    if hashes and len(repeated_values(np.concatenate(hashes))):
        return None  # possibly an id twice in the previous version
    gone = pd.concat(gone) if gone else pd.DataFrame(columns=["record_id", "source"])
    now = current["source"].value_counts()
    new = current["source"][~same].value_counts()
    withdrawn = gone["source"].value_counts()
    sources = sorted(set(before) | set(now.index))
    counts = pd.DataFrame({"before": [before.get(s, 0) for s in sources],
                           "now": [int(now.get(s, 0)) for s in sources],
                           "new": [int(new.get(s, 0)) for s in sources],
                           "withdrawn": [int(withdrawn.get(s, 0)) for s in sources]})
    per_source = []
    for source, row in zip(sources, counts.itertuples(index=False)):
        per_source.append(_row("records_per_source", source, "records", row.before, row.now))
        for field, n in (("new", row.new), ("withdrawn", row.withdrawn)):
            per_source.append({"section": "records_per_source", "item": source,
                               "field": field, "previous": "", "current": str(n),
                               "changed": "yes" if n else "no"})
    added = current.loc[~seen, ["record_id", "source"]].sort_values("record_id",
                                                                    kind="mergesort")
    removed = (pd.concat(gone_any) if gone_any else pd.DataFrame(
        columns=["record_id", "source"])).sort_values("record_id", kind="mergesort")
    return pd.concat([pd.DataFrame(per_source, columns=CHANGES_COLUMNS),
                      _frame("record", added["record_id"], "new", "", added["source"]),
                      _frame("record", removed["record_id"], "withdrawn", removed["source"],
                             "")], ignore_index=True)


def _records(previous: pd.DataFrame, current: pd.DataFrame) -> list[dict]:
    before, now = set(previous["record_id"]), set(current["record_id"])
    source = dict(zip(current["record_id"], current["source"]))
    old_source = dict(zip(previous["record_id"], previous["source"]))
    return ([_row("record", r, "new", "", source[r]) for r in sorted(now - before)]
            + [_row("record", r, "withdrawn", old_source[r], "") for r in sorted(before - now)])


def _studies_and_reports(previous: pd.DataFrame, current: pd.DataFrame) -> list[dict]:
    rows = []
    old_studies = set(previous["study_id"])
    for study in sorted(set(current["study_id"]) - old_studies):
        n = int((current["study_id"] == study).sum())
        rows.append(_row("study", study, "new_study", "", f"{n} report{'s' * (n != 1)}"))
    for study in sorted(old_studies - set(current["study_id"])):
        rows.append(_row("study", study, "no_longer_included", "included", ""))
    old_reports = set(zip(previous["study_id"], previous["record_id"]))
    old_keys = {k for col in ("record_id", "pmid", "doi") if col in previous.columns
                for k in previous[col] if isinstance(k, str) and k}
    for rec in current.sort_values(["study_id", "record_id"]).itertuples(index=False):
        keys = {getattr(rec, c, "") for c in ("record_id", "pmid", "doi")} - {"", None}
        keys = {k for k in keys if isinstance(k, str)}
        if (rec.study_id, rec.record_id) not in old_reports and not keys & old_keys:
            rows.append(_row("report", rec.record_id, "new_report", "",
                             f"{rec.study_id} ({rec.role})"))
    return rows


def _extraction(previous: pd.DataFrame, current: pd.DataFrame) -> list[dict]:
    rows = []
    shared = sorted(set(previous["study_id"]) & set(current["study_id"]))
    fields = [c for c in current.columns if c in previous.columns and c not in ARM_KEY]

    def keyed(table):
        part = table[table["study_id"].isin(shared)]
        return {tuple(_text(v) for v in key): row for key, row in
                zip(part[ARM_KEY].itertuples(index=False, name=None),
                    part.to_dict("records"))}

    old, new = keyed(previous), keyed(current)
    for key in sorted(set(old) | set(new)):
        item = key[0]
        where = "/".join(key[1:])
        if key not in old:
            rows.append(_row("extraction", item, f"{where}: row", "", "added"))
        elif key not in new:
            rows.append(_row("extraction", item, f"{where}: row", "present", ""))
        else:
            for field in fields:
                a, b = _text(old[key][field]), _text(new[key][field])
                if a != b:
                    rows.append(_row("extraction", item, f"{where}: {field}", a, b))
    return rows


def _decisions(previous: pd.DataFrame, current: pd.DataFrame,
               clusters: pd.DataFrame) -> pd.DataFrame:
    """Final decisions of the previous version's records that changed, each record followed
    to its publication's kept record (the current clusters); merges, not a loop per row."""
    old = previous.loc[:, ["record_id", "stage", "final_decision"]].sort_values(
        ["record_id", "stage", "final_decision"], kind="mergesort")
    # As dict(zip(...)) built them: the last row of a repeated key wins.
    to_unique = clusters.loc[:, ["record_id", "cluster_id"]].drop_duplicates(
        "record_id", keep="last").set_index("record_id")["cluster_id"]
    clustered = old["record_id"].isin(to_unique.index)
    unique = old["record_id"].map(to_unique).where(clustered, old["record_id"])
    now = current.loc[:, ["record_id", "stage", "final_decision"]].drop_duplicates(
        ["record_id", "stage"], keep="last").rename(columns={"record_id": "_unique",
                                                             "final_decision": "_later"})
    joined = old.assign(_unique=unique.to_numpy()).merge(now, how="left",
                                                         on=["_unique", "stage"],
                                                         indicator=True)
    # A withdrawn record is listed as withdrawn, not as a changed decision.
    changed = joined[(joined["_merge"] == "both")
                     & (joined["_later"] != joined["final_decision"])]
    same = (changed["_unique"] == changed["record_id"]).to_numpy()
    item = np.where(same, changed["record_id"].astype(object),
                    changed["record_id"].astype(str) + " (now "
                    + changed["_unique"].astype(str) + ")")
    return _frame("decision", pd.Series(item, dtype=object), changed["stage"],
                  changed["final_decision"], changed["_later"])


def _outcomes(previous: Version, summary: pd.DataFrame, sof: pd.DataFrame) -> list[dict]:
    def by_outcome(table):
        return {row["outcome"]: row for row in table.to_dict("records")}

    old_sum, new_sum = by_outcome(previous.summary), by_outcome(summary)
    old_sof, new_sof = by_outcome(previous.summary_of_findings), by_outcome(sof)
    rows = []
    for outcome in sorted(set(old_sum) | set(new_sum)):
        a, b = old_sum.get(outcome), new_sum.get(outcome)
        verdicts = (verdict(a), verdict(b))
        for field in OUTCOME_FIELDS:
            if field == "certainty":
                values = [(t.get(outcome) or {}).get("certainty") for t in (old_sof, new_sof)]
            elif field == "direction":
                values = [v[0] for v in verdicts]
            elif field == "significance":
                values = [v[1] for v in verdicts]
            else:
                values = [(s or {}).get(field) for s in (a, b)]
                if field == "k":
                    values = [v if v is not None else 0 for v in values]
            rows.append(_row("outcome", outcome, field, *values))
    return rows


def changes_table(previous: Version, *, records: pd.DataFrame, clusters: pd.DataFrame,
                  final_decisions: pd.DataFrame, included: pd.DataFrame, arms: pd.DataFrame,
                  summary: pd.DataFrame, summary_of_findings: pd.DataFrame,
                  previous_records: str | None = None,
                  rows: int = CHUNK_ROWS) -> pd.DataFrame:
    """Every change from the archived ``previous`` version to the current tables.

    ``records`` needs only the ``record_id`` and ``source`` columns. ``previous_records``
    (the archive's ``records.tsv``) is read ``rows`` rows at a time instead of
    ``previous.records`` when given."""
    keys = ["record_id", "source"]
    current = records.loc[:, keys]
    if previous_records is not None:
        missing = [c for c in keys if c not in read_tsv_header(previous_records)]
        if missing:
            raise InputError(previous_records, f"missing {columns_word(missing)} {missing} "
                             "(an archived records.tsv has the record table's columns)",
                             line=1)
    chunks = (tsv_chunks(previous_records, rows, keys) if previous_records is not None
              else [previous.records.loc[:, keys]])
    record_rows = record_changes(chunks, current)
    if record_rows is None:
        old = (read_tsv(previous_records, keys) if previous_records is not None
               else previous.records)
        record_rows = pd.DataFrame(_per_source(old, current) + _records(old, current),
                                   columns=CHANGES_COLUMNS)
    # Sections in the order of SECTIONS, rows in the order each section built them.
    parts = [record_rows,
             pd.DataFrame(_studies_and_reports(previous.included, included),
                          columns=CHANGES_COLUMNS),
             pd.DataFrame(_extraction(previous.arms, arms), columns=CHANGES_COLUMNS),
             _decisions(previous.final_decisions, final_decisions, clusters),
             pd.DataFrame(_outcomes(previous, summary, summary_of_findings),
                          columns=CHANGES_COLUMNS)]
    return pd.concat(parts, ignore_index=True)


def summary_numbers(changes: pd.DataFrame) -> dict:
    """The counts the update paragraph and page headline state."""
    def count(section, field):
        part = changes[(changes["section"] == section) & (changes["field"] == field)]
        return int(len(part))

    per_source = changes[changes["section"] == "records_per_source"]
    new_per_source = {row.item: int(row.current) for row in per_source.itertuples()
                      if row.field == "new"}
    outcomes = changes[changes["section"] == "outcome"]
    moved = sorted(set(outcomes.loc[outcomes["field"].isin(["direction", "significance"])
                                    & (outcomes["changed"] == "yes")
                                    & (outcomes["previous"] != ""), "item"]))
    certainty = sorted(set(outcomes.loc[(outcomes["field"] == "certainty")
                                        & (outcomes["changed"] == "yes"), "item"]))
    k_changed = sorted(set(outcomes.loc[(outcomes["field"] == "k")
                                        & (outcomes["changed"] == "yes"), "item"]))
    return {"new_records": count("record", "new"),
            "withdrawn_records": count("record", "withdrawn"),
            "new_records_per_source": new_per_source,
            "new_studies": sorted(changes.loc[changes["field"] == "new_study", "item"]),
            "new_reports": count("report", "new_report"),
            "studies_with_changed_data": sorted(set(
                changes.loc[changes["section"] == "extraction", "item"])),
            "changed_decisions": count("decision", "title_abstract")
            + count("decision", "full_text"),
            "outcomes_with_new_k": k_changed,
            "outcomes_with_changed_conclusion": moved,
            "outcomes_with_changed_certainty": certainty}
