"""Deduplication of the record table, with the reason for every removal.

Records are linked by exact, normalised identifiers (DOI, PMID) and by an identical
normalised title, published in a compatible year by a compatible first author. Linked records
form clusters (connected components); each cluster keeps one record, chosen deterministically
as the most complete, and its empty fields are filled from the others with their origin noted.

Comparison is by blocking on exact keys, never all pairs, so time grows with the number of
records, not its square.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Iterable, Sequence

import pandas as pd

from sysrev.columns import DEDUP_COLUMNS, DUPLICATE_COLUMNS, RECORD_COLUMNS

log = logging.getLogger(__name__)

#: Fields counted when choosing the most complete record, and filled in from its duplicates.
COMPLETENESS_FIELDS = ("pmid", "doi", "title", "authors", "year", "journal", "volume",
                       "issue", "pages", "abstract", "publication_types", "language")

#: Titles shorter than this (after normalisation) are too generic to link records on.
MIN_TITLE_LENGTH = 25

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise_title(title: object) -> str:
    """Lower case, diacritics removed, punctuation and spacing folded; other scripts kept."""
    if not isinstance(title, str) or not title.strip():
        return ""
    text = unicodedata.normalize("NFKD", title)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(_NON_WORD.sub(" ", text.casefold()).split())


def first_author_key(authors: object) -> str:
    """The first author's surname, normalised (``"Takeuchi, T"`` and ``"Takeuchi T"`` agree)."""
    if not isinstance(authors, str) or not authors.strip():
        return ""
    first = re.split(r";", authors)[0].strip()
    surname = first.split(",")[0] if "," in first else first.rsplit(" ", 1)[0]
    return normalise_title(surname)


@dataclass(frozen=True)
class Link:
    """Evidence that two records are the same publication."""

    a: str
    b: str
    rule: str
    detail: str


def _present(value: object) -> bool:
    return isinstance(value, str) and value != "" or (
        value is not None and not isinstance(value, str) and not pd.isna(value))


def _links_by_key(records: pd.DataFrame, column: str, rule: str) -> Iterable[Link]:
    groups: dict[str, list[str]] = defaultdict(list)
    for record_id, key in zip(records["record_id"], records[column]):
        if _present(key):
            groups[str(key)].append(record_id)
    for key, ids in groups.items():
        anchor = ids[0]
        for other in ids[1:]:
            yield Link(anchor, other, rule, f"{column} {key}")


def _compatible(a: pd.Series, b: pd.Series) -> bool:
    """Whether two records with the same title may be one publication."""
    for field in ("doi", "pmid"):
        if _present(a[field]) and _present(b[field]) and a[field] != b[field]:
            return False
    if _present(a["year"]) and _present(b["year"]) and a["year"] != b["year"]:
        return False
    fa, fb = a["_author"], b["_author"]
    return not (fa and fb and fa != fb)


def _title_links(records: pd.DataFrame) -> Iterable[Link]:
    groups: dict[str, list[int]] = defaultdict(list)
    for index, key in zip(records.index, records["_title"]):
        if len(key) >= MIN_TITLE_LENGTH:
            groups[key].append(index)
    for key, members in groups.items():
        for i, left in enumerate(members):
            for right in members[i + 1:]:
                a, b = records.loc[left], records.loc[right]
                if _compatible(a, b):
                    year = a["year"] if _present(a["year"]) else b["year"]
                    yield Link(a["record_id"], b["record_id"], "title_year_author",
                               f"title '{key[:60]}', year {year if _present(year) else '?'}")


def _components(ids: Sequence[str], links: list[Link]) -> dict[str, list[str]]:
    parent = {i: i for i in ids}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for link in links:
        ra, rb = find(link.a), find(link.b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[str, list[str]] = defaultdict(list)
    for i in ids:
        groups[find(i)].append(i)
    return groups


def _completeness(row: pd.Series) -> int:
    return sum(_present(row[f]) for f in COMPLETENESS_FIELDS)


def deduplicate(records: pd.DataFrame,
                source_priority: Sequence[str] = ("pubmed",)) -> pd.DataFrame:
    """Find duplicate records and choose one record to keep per publication.

    Parameters
    ----------
    records
        The record table; at least ``record_id, source, title, authors, year, doi, pmid``
        (identifiers already normalised, as :func:`sysrev.imports.records.make_record_table`
        leaves them).
    source_priority
        Sources preferred, in order, when two records are equally complete.

    Returns
    -------
    pandas.DataFrame
        One row per input record: ``record_id, cluster_id, kept, kept_record_id, rule,
        detail``. ``rule``/``detail`` say how a removed record was linked into its cluster
        (``doi``, ``pmid`` or ``title_year_author``); they are empty for kept records.
    """
    if records["record_id"].duplicated().any():
        raise ValueError("record ids must be unique before deduplication")
    work = records.copy()
    work["_title"] = work["title"].map(normalise_title)
    work["_author"] = work["authors"].map(first_author_key)
    work = work.reset_index(drop=True)

    links = list(_links_by_key(work, "doi", "doi"))
    links += _links_by_key(work, "pmid", "pmid")
    links += _title_links(work)

    priority = {s: i for i, s in enumerate(source_priority)}
    by_id = work.set_index("record_id", drop=False)
    adjacency: dict[str, list[Link]] = defaultdict(list)
    for link in links:
        adjacency[link.a].append(link)
        adjacency[link.b].append(link)

    rows = []
    for members in _components(list(work["record_id"]), links).values():
        kept = min(members, key=lambda r: (-_completeness(by_id.loc[r]),
                                           priority.get(by_id.loc[r, "source"], len(priority)),
                                           r))
        # Breadth-first from the kept record: each member is reported with the link that
        # first reaches it, so its reason is the most direct evidence available.
        reason: dict[str, Link] = {}
        queue, seen = deque([kept]), {kept}
        while queue:
            current = queue.popleft()
            for link in sorted(adjacency[current], key=lambda l: (l.rule, l.a, l.b)):
                other = link.b if link.a == current else link.a
                if other not in seen:
                    seen.add(other)
                    reason[other] = link
                    queue.append(other)
        for member in members:
            link = reason.get(member)
            rows.append({"record_id": member, "cluster_id": kept, "kept": member == kept,
                         "kept_record_id": kept, "rule": link.rule if link else "",
                         "detail": link.detail if link else ""})
    result = pd.DataFrame(rows, columns=DEDUP_COLUMNS)
    log.info("deduplicate: %d records, %d kept, %d removed", len(result),
             int(result["kept"].sum()), int((~result["kept"]).sum()))
    return result.sort_values("record_id", kind="mergesort").reset_index(drop=True)


UNIQUE_COLUMNS = RECORD_COLUMNS + ["cluster_size", "cluster_records", "cluster_sources",
                                   "filled_fields"]


def unique_records(records: pd.DataFrame, clusters: pd.DataFrame) -> pd.DataFrame:
    """One row per cluster: the kept record with empty fields filled from its duplicates.

    ``filled_fields`` lists each filled field with the record it came from
    (``doi<-embase:SYSREV-EMB-0003``).
    """
    merged = records.merge(clusters[["record_id", "cluster_id", "kept"]], on="record_id",
                           how="inner", validate="one_to_one")
    out = []
    for cluster_id, group in merged.groupby("cluster_id", sort=True):
        group = group.sort_values("record_id", kind="mergesort")
        kept = group[group["kept"]].iloc[0].copy()
        others = group[~group["kept"]]
        filled = []
        for field in COMPLETENESS_FIELDS:
            if _present(kept[field]):
                continue
            for _, other in others.iterrows():
                if _present(other[field]):
                    kept[field] = other[field]
                    filled.append(f"{field}<-{other['record_id']}")
                    break
        kept["cluster_size"] = len(group)
        kept["cluster_records"] = "; ".join(group["record_id"])
        kept["cluster_sources"] = "; ".join(sorted(set(group["source"])))
        kept["filled_fields"] = "; ".join(filled)
        out.append(kept)
    table = pd.DataFrame(out, columns=UNIQUE_COLUMNS) if out else pd.DataFrame(
        columns=UNIQUE_COLUMNS)
    return table.sort_values("record_id", kind="mergesort").reset_index(drop=True)


def duplicate_table(records: pd.DataFrame, clusters: pd.DataFrame) -> pd.DataFrame:
    """The removed records: which record each was removed for, by which rule."""
    removed = clusters[~clusters["kept"]]
    source = records.set_index("record_id")["source"]
    table = pd.DataFrame({
        "removed_record_id": removed["record_id"],
        "kept_record_id": removed["kept_record_id"],
        "cluster_id": removed["cluster_id"],
        "rule": removed["rule"],
        "detail": removed["detail"],
        "removed_source": removed["record_id"].map(source),
        "kept_source": removed["kept_record_id"].map(source),
    }, columns=DUPLICATE_COLUMNS)
    return table.sort_values("removed_record_id", kind="mergesort").reset_index(drop=True)


def duplicate_counts(records: pd.DataFrame, clusters: pd.DataFrame) -> dict[str, object]:
    """Counts for the audit and PRISMA: per source, and duplicates within and across sources."""
    merged = records[["record_id", "source"]].merge(clusters, on="record_id")
    kept_source = merged.set_index("record_id")["source"]
    removed = merged[~merged["kept"]]
    within = int((removed["source"].values == removed["kept_record_id"].map(kept_source)
                  .values).sum())
    return {
        "records_in": int(len(records)),
        "records_per_source": {s: int(n) for s, n in
                               records["source"].value_counts().sort_index().items()},
        "unique_records": int(clusters["kept"].sum()),
        "duplicates_removed": int(len(removed)),
        "duplicates_within_source": within,
        "duplicates_across_sources": int(len(removed)) - within,
        "duplicates_by_rule": {r: int(n) for r, n in
                               removed["rule"].value_counts().sort_index().items()},
    }


def read_clusters(path) -> pd.DataFrame:
    """Read ``clusters.tsv`` back, with ``kept`` as booleans."""
    from sysrev.tables import read_tsv

    table = read_tsv(path)
    table["kept"] = table["kept"] == "yes"
    return table
