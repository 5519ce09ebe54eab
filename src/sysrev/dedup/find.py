"""Steps 1-6 together: :func:`find_duplicates` and :func:`deduplicate`, with the pair,
``maybe`` and related-report tables."""

from __future__ import annotations

import functools
import logging
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from sysrev.columns import DEDUP_COLUMNS
from sysrev.dedup import related
from sysrev.dedup.block import WINDOW, blocking
from sysrev.dedup.cluster import _RULE_ORDER, _Clusters, components, within_pairs
from sysrev.dedup.normalise import _Prepared, _text, prepare
from sysrev.dedup.score import (DISTINCT, DUPLICATE, MAYBE, PairScores, journal_score,
                                 pair_keys, score_candidates, score_for_clusters)

log = logging.getLogger(__name__)

#: How errata count (``dedup.errata``): ``related`` (linked to their article in
#: ``related.tsv``, the default) or ``duplicate`` (merged into the article's cluster, as
#: bib-dedupe counts them). Retraction notices, expressions of concern, comments and replies
#: are always related reports.
ERRATA_MODES = ("related", "duplicate")

#: Columns of ``maybe.tsv``.
MAYBE_COLUMNS = ["record_id_a", "record_id_b", "reason", "title_score", "author_score",
                 "journal_score", "year_match", "volume_match", "pages_match", "title_a",
                 "title_b"]

@dataclass
class DedupResult:
    """Everything deduplication found: one row per record, the scored candidate pairs and
    the pairs left for a human."""

    clusters: pd.DataFrame
    pairs: pd.DataFrame
    maybe: pd.DataFrame
    counts: dict = field(default_factory=dict)
    related: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=related.RELATED_COLUMNS))
    #: The normalised records (an update's index keeps their blocking keys).
    prepared: _Prepared | None = None
    #: With ``index_keys``: the blocking keys' hashes and the title rank, for the
    #: incremental index (:attr:`sysrev.dedup.block.Blocking.key_hashes`, ``title_rank``).
    key_hashes: list[np.ndarray] | None = None
    title_rank: np.ndarray | None = None


_REASONS = ("different kinds (erratum/comment/protocol)", "different PMIDs", "different DOIs",
            "conference abstract vs journal article", "different numbers in title",
            "years more than one apart", "different volumes", "different pages",
            "years one apart", "short title", "titles differ", "authors differ")


@functools.lru_cache(maxsize=None)
def _reason_text(flags: int) -> str:
    return "; ".join(text for bit, text in enumerate(_REASONS) if flags >> bit & 1)


def _fmt_match(code: int) -> str:
    return {0: "same", 1: "one apart", 2: "different", -1: ""}[int(code)]


#: _fmt_match's texts by code (0, 1, 2; -1 indexes the last, "").
_MATCH_TEXT = np.array(["same", "one apart", "different", ""], dtype=object)


def _match_text(codes: np.ndarray) -> np.ndarray:
    """:func:`_fmt_match` of many codes."""
    return _MATCH_TEXT[np.asarray(codes, dtype=np.int64)]


def _usage() -> tuple[float, float, float, float]:
    """CPU seconds of this process and of its finished workers, and the peak resident
    memory (MiB) of this process and of its largest finished worker (Unix; zeros
    elsewhere)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not Unix
        return 0.0, 0.0, 0.0, 0.0
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    # ru_maxrss: KiB on Linux
    return (own.ru_utime + own.ru_stime, workers.ru_utime + workers.ru_stime,
            own.ru_maxrss / 1024, workers.ru_maxrss / 1024)


class _Steps:
    """Logs the time each step took, its CPU time here and in the workers, and the peak
    memory so far (the log says where the time and memory go at scale)."""

    def __init__(self):
        self.start = time.perf_counter()
        self.cpu = _usage()[:2]

    def __call__(self, name: str) -> None:
        now, (own, workers, own_peak, worker_peak) = time.perf_counter(), _usage()
        log.info("deduplicate: %s in %.1f s (CPU %.1f s here, %.1f s in workers; peak "
                 "resident memory so far %.0f MiB here, %.0f MiB in the largest worker)",
                 name, now - self.start, own - self.cpu[0], workers - self.cpu[1],
                 own_peak, worker_peak)
        self.start, self.cpu = now, (own, workers)


def find_duplicates(records: pd.DataFrame, source_priority: Sequence[str] = ("pubmed",),
                    overrides: pd.DataFrame | None = None,
                    window: int = WINDOW, errata: str = "related",
                    threads: int = 1, prefer_kept: frozenset = frozenset(),
                    compare_only: frozenset | None = None,
                    prepared: _Prepared | None = None,
                    index_keys: bool = False) -> DedupResult:
    """Deduplicate ``records`` and return clusters, scored pairs, ``maybe`` pairs and the
    related reports (errata, retraction notices, comments, replies) linked to their article.

    See the module docstring for the method and :func:`deduplicate` for the parameters.
    ``prefer_kept``: record ids kept before all others in their cluster (an update keeps
    the records an earlier run kept, :mod:`sysrev.dedup.incremental`). ``compare_only``:
    record ids; when given, only candidate pairs holding one of them are scored (an
    update's new records: the earlier ones were compared with each other before).
    ``prepared``: the records already normalised (:func:`~sysrev.dedup.normalise.prepare`
    of ``records`` in record-id order; an update takes the earlier records' from its index
    instead of normalising them again). ``index_keys``: keep the blocking keys' hashes
    and the title rank in the result (:attr:`DedupResult.key_hashes`), made by the
    blocking workers, for the incremental index (:mod:`sysrev.dedup.incremental`).
    """
    if records["record_id"].duplicated().any():
        raise ValueError("record ids must be unique before deduplication")
    if errata not in ERRATA_MODES:
        raise ValueError(f"errata must be one of {ERRATA_MODES}, not '{errata}'")
    threads = max(1, int(threads))
    step = _Steps()
    work = records.sort_values("record_id", kind="mergesort").reset_index(drop=True)
    prep = prepare(work, errata, threads) if prepared is None else prepared
    n = len(work)
    if len(prep.ids) != n or (n and not (prep.ids == work["record_id"].to_numpy()).all()):
        raise ValueError("prepared records are not the records, in record-id order")
    step("normalised")
    blocked = blocking(prep, window, threads, hashes=index_keys)
    pairs, blocked.pairs = blocked.pairs, None  # (filtered below: one array held)
    if compare_only is not None and len(pairs):
        fresh = np.fromiter((rid in compare_only for rid in prep.ids), dtype=bool, count=n)
        pairs = pairs[fresh[pairs[:, 0]] | fresh[pairs[:, 1]]]
    candidates = len(pairs)
    step("blocked")
    keys = pair_keys(prep)
    # The pairs that matter later, and the other cannot-links as bare pairs.
    scores, cannot_pairs = score_for_clusters(prep, pairs, threads, keys=keys)
    step("scored")
    log.info("deduplicate: %d records, %d candidate pairs, %d threads", n, candidates,
             threads)
    # Related reports are looked for among the pairs that hold one.
    pairs = pairs[(prep.report[pairs[:, 0]] != "") | (prep.report[pairs[:, 1]] != "")]
    links_related = related.find_related(
        prep.ids, prep.report, prep.core, prep.title, pairs, doi=prep.doi, pmid=prep.pmid,
        journal_match=lambda i, j: bool(prep.journal[i] and prep.journal[j]) and
        journal_score(prep.journal[i], prep.journal[j]) == 100, year=prep.year,
        volume=prep.volume, first_page=prep.page_number, raw_titles=prep.raw_title,
        corrections=prep.corrections, threads=threads)
    unmarked = []
    for k in np.nonzero(scores.erratum)[0]:
        r, t = (int(scores.a[k]), int(scores.b[k])) if scores.erratum[k] == 1 else \
            (int(scores.b[k]), int(scores.a[k]))
        unmarked.append((r, t, related.ERRATUM, f"same title, first author, journal and "
                         f"volume; single page {prep.page[r]} outside the article's pages "
                         f"{prep.page[t]}", 3))
    if unmarked:
        links_related = pd.concat([links_related, pd.DataFrame(
            unmarked, columns=links_related.columns)], ignore_index=True)
    erratum_links = links_related[links_related["relation"] == related.ERRATUM] \
        if errata == "duplicate" else links_related.iloc[:0]
    erratum_pairs = {(min(r, t), max(r, t)) for r, t in
                     zip(erratum_links["report"], erratum_links["article"])}

    # Row of a record id (a pandas index: a fraction of a dict's memory at 1M records).
    index = pd.Index(prep.ids)
    # Reviewer overrides first: 'different' constrains every later merge, and 'same' is
    # merged before any automatic cannot-link exists, so only 'different' can refuse it.
    rows_by_decision = [] if overrides is None else sorted(
        overrides.itertuples(index=False), key=lambda r: r.decision != "different")
    different: list[tuple[int, int]] = []
    same: list[tuple[int, int, str, str, str]] = []
    for row in rows_by_decision:
        i, j = sorted((int(index.get_loc(row.record_id_a)),
                       int(index.get_loc(row.record_id_b))))
        if row.decision == "different":
            different.append((i, j))
        else:
            note = _text(getattr(row, "note", ""))
            same.append((i, j, "reviewer: same" + (f" ({note})" if note else ""),
                         row.record_id_a, row.record_id_b))
    forced_apart = set(different)
    # Every cannot-link pair, in pair order.
    cannot_a = np.concatenate([scores.a[scores.cannot_link], cannot_pairs[:, 0]]).astype(
        np.int64)
    cannot_b = np.concatenate([scores.b[scores.cannot_link], cannot_pairs[:, 1]]).astype(
        np.int64)
    del cannot_pairs
    order = np.lexsort((cannot_b, cannot_a))
    cannot_a, cannot_b = cannot_a[order], cannot_b[order]
    del order
    both_errata = (prep.report[cannot_a] == related.ERRATUM) & \
        (prep.report[cannot_b] == related.ERRATUM) if errata == "duplicate" else \
        np.zeros(len(cannot_a), dtype=bool)
    links = []
    erratum_detail: list[str] = []
    for k in np.nonzero(scores.decision == DUPLICATE)[0]:
        i, j = int(scores.a[k]), int(scores.b[k])
        if (i, j) not in forced_apart:
            title = scores.title[k]
            links.append((_RULE_ORDER[scores.rule[k]], -(101.0 if np.isnan(title) else title),
                          i, j, int(k)))
    # errata = duplicate: an erratum joins its article's cluster, after every other link.
    for row in erratum_links.itertuples(index=False):
        i, j = sorted((int(row.report), int(row.article)))
        if (i, j) not in forced_apart:
            links.append((_RULE_ORDER["erratum"], -float(3 - row.strength), i, j,
                          -1 - len(erratum_detail)))
            erratum_detail.append(f"erratum: {row.evidence}")
    # Strongest evidence first; within a rule, the most similar titles first.
    links.sort()
    # Only records that some link could bring together can conflict: cannot-links between
    # different components of the link graph are left out (they could never be refused).
    edges = np.array([(i, j) for _, _, i, j, _ in links] + [s[:2] for s in same],
                     dtype=np.int64).reshape(-1, 2)
    component = components(n, edges)
    # errata = duplicate: an erratum may join its article, and two errata of one
    # article then share its cluster.
    bound = ~both_errata & (component[cannot_a] == component[cannot_b])
    cannot = [(a, b) for a, b in zip(cannot_a[bound].tolist(), cannot_b[bound].tolist())
              if (a, b) not in erratum_pairs]
    del cannot_a, cannot_b, both_errata, bound

    def cluster(only: np.ndarray | None, extra: list[tuple[int, int]]):
        """Union-find over the links, overrides and cannot-links whose records are all in
        ``only`` (every record when None), with ``extra`` cannot-links after the
        overrides."""
        def inside(i: int, j: int) -> bool:
            return component[i] == component[j] and (only is None or (only[i] and only[j]))

        clusters = _Clusters(n)
        accepted: list[tuple[int, int, str, str, int]] = []  # (i, j, rule, detail, pair)
        for i, j in different:
            if inside(i, j):
                clusters.forbid(i, j)
        for i, j, detail, id_a, id_b in same:
            if only is not None and not (only[i] and only[j]):
                continue
            if clusters.union(i, j):
                accepted.append((i, j, "override", detail, -1))
            elif only is None:
                log.warning("override 'same' %s / %s conflicts with a 'different' "
                            "override; not applied", id_a, id_b)
        for i, j in cannot + extra:
            if inside(i, j):
                clusters.forbid(i, j)
        for _, _, i, j, k in links:
            if only is not None and not (only[i] and only[j]):
                continue
            if clusters.union(i, j):
                if k < 0:
                    accepted.append((i, j, "erratum", erratum_detail[-1 - k], -1))
                    continue
                rule = scores.rule[k]
                accepted.append((i, j, rule, _detail(prep, scores, k, rule), k))
        return clusters, accepted

    step("related reports found")
    clusters, accepted = cluster(None, [])
    roots = clusters.roots()
    step("clustered")
    # Cluster-level conflicts: two records that cannot be one publication (years, volume
    # and pages, journals, kinds, identifiers, numbers in the title) may have joined one
    # cluster through a third record that lacks the conflicting fields. Such clusters are
    # built again from their own links with those pairs as cannot-links, so no cluster
    # holds a conflicting pair (reviewer 'same' overrides still win).
    inner = within_pairs(roots)
    if len(inner):
        checked = score_candidates(prep, inner, threads, keys=keys)
        conflict = checked.conflict.copy()
        if errata == "duplicate":
            conflict &= (prep.report[checked.a] != related.ERRATUM) & \
                (prep.report[checked.b] != related.ERRATUM)
        conflicting = [(int(a), int(b)) for a, b in zip(checked.a[conflict],
                                                        checked.b[conflict])
                       if (int(a), int(b)) not in erratum_pairs]
        if conflicting:
            split = np.isin(roots, roots[np.array(conflicting).ravel()])
            again, accepted_again = cluster(split, conflicting)
            roots = np.where(split, again.roots(), roots)
            accepted = [e for e in accepted if not split[e[0]]] + accepted_again
            log.info("deduplicate: %d clusters held records that cannot be one "
                     "publication (%d pairs); split", len(np.unique(roots[split])),
                     len(conflicting))
    step("cluster conflicts checked")
    # Kept record per cluster: most complete, then preferred source, then record id (the
    # rows are in record-id order, so a stable sort leaves ties in that order).
    # An article is kept before an erratum merged into its cluster.
    priority = {s: r for r, s in enumerate(source_priority)}
    rank = np.fromiter((priority.get(src, len(priority)) for src in prep.source),
                       dtype=np.int64, count=n)
    is_report = (prep.report != "").astype(np.int64)
    not_preferred = np.fromiter((rid not in prefer_kept for rid in prep.ids), dtype=np.int64,
                                count=n) if prefer_kept else np.zeros(n, dtype=np.int64)
    order = np.lexsort((np.arange(n), rank, -prep.completeness, is_report, not_preferred,
                        roots))
    first = np.ones(n, dtype=bool)
    first[1:] = roots[order[1:]] != roots[order[:-1]]
    kept_of_root = np.full(n, -1, dtype=np.int64)
    kept_of_root[roots[order[first]]] = order[first]
    kept = kept_of_root[roots]

    # Each removed record is reported with the link that first reaches it breadth-first
    # from the kept record: the most direct evidence available.
    adjacency: dict[int, list[tuple[int, str, str, int]]] = defaultdict(list)
    for i, j, rule, detail, k in accepted:
        adjacency[i].append((j, rule, detail, k))
        adjacency[j].append((i, rule, detail, k))
    via: dict[int, tuple[int, str, str, int]] = {}
    for start in sorted({int(kept[i]) for i in adjacency}):
        queue, seen = deque([start]), {start}
        while queue:
            current = queue.popleft()
            for other, rule, detail, k in sorted(adjacency[current],
                                                 key=lambda e: (_RULE_ORDER[e[1]],
                                                                prep.ids[e[0]])):
                if other not in seen:
                    seen.add(other)
                    via[other] = (current, rule, detail, k)
                    queue.append(other)
    linked = np.array(sorted(via), dtype=np.int64)
    rule_col = np.full(n, "", dtype=object)
    detail_col = np.full(n, "", dtype=object)
    linked_col = np.full(n, "", dtype=object)
    pair_of = np.full(n, -1, dtype=np.int64)
    for i in linked.tolist():
        current, rule, detail, k = via[i]
        rule_col[i], detail_col[i], linked_col[i], pair_of[i] = rule, detail, \
            prep.ids[current], k
    has = pair_of >= 0
    kk = np.where(has, pair_of, 0)

    def scored(values: np.ndarray) -> np.ndarray:
        out = np.full(n, np.nan)
        if len(values):
            out[has] = np.round(values[kk[has]], 1)
        return out

    def matched(values: np.ndarray) -> np.ndarray:
        out = np.full(n, "", dtype=object)
        if len(values):
            out[has] = _match_text(values[kk[has]])
        return out

    result = pd.DataFrame({
        "record_id": prep.ids, "cluster_id": prep.ids[kept], "kept": kept == np.arange(n),
        "kept_record_id": prep.ids[kept], "rule": rule_col, "detail": detail_col,
        "linked_to": linked_col, "title_score": scored(scores.title),
        "author_score": scored(scores.author), "journal_score": scored(scores.journal),
        "year_match": matched(scores.year), "volume_match": matched(scores.volume),
        "pages_match": matched(scores.pages)}, columns=DEDUP_COLUMNS)

    # Pairs reported: duplicates and maybes (distinct pairs are the bulk and say little).
    pair_table = _pair_table(prep, scores, scores.decision != DISTINCT)
    row_a = index.get_indexer(pair_table["record_id_a"])
    row_b = index.get_indexer(pair_table["record_id_b"])
    shown = (pair_table["decision"] == MAYBE).to_numpy() & (roots[row_a] != roots[row_b])
    titles = work["title"].to_numpy()
    maybe = pair_table[shown].assign(title_a=titles[row_a[shown]],
                                     title_b=titles[row_b[shown]])
    del index, row_a, row_b
    maybe = maybe.loc[:, MAYBE_COLUMNS].reset_index(drop=True)
    related_table = _related_table(prep, links_related, prep.ids[kept])
    counts = {"candidate_pairs": int(candidates),
              "related_reports": {r: int((related_table["relation"] == r).sum())
                                  for r in related.RELATIONS},
              "errata_merged": int(sum(1 for e in accepted if e[2] == "erratum")),
              "pairs_duplicate": int((scores.decision == DUPLICATE).sum()),
              "pairs_maybe": int((scores.decision == MAYBE).sum()),
              "maybe_pairs_for_review": int(len(maybe)),
              "overrides": int(0 if overrides is None else len(overrides))}
    step("tables made")
    log.info("deduplicate: %d records, %d kept, %d removed, %d maybe pairs", len(result),
             int(result["kept"].sum()), int((~result["kept"]).sum()), len(maybe))
    return DedupResult(clusters=result, pairs=pair_table, maybe=maybe, counts=counts,
                       related=related_table, prepared=prep,
                       key_hashes=blocked.key_hashes if index_keys else None,
                       title_rank=blocked.title_rank if index_keys else None)


def _related_table(p: _Prepared, links: pd.DataFrame, kept_ids: np.ndarray) -> pd.DataFrame:
    """``related.tsv``: one row per (report, article) pair of *kept* records, the strongest
    evidence first; pairs that ended in one cluster (errata counted as duplicates) are left
    out. The evidence names the records it was found on when those are not the kept ones."""
    rows = {}
    for row in links.sort_values(["strength", "report", "article"],
                                 kind="mergesort").itertuples(index=False):
        rep, art = kept_ids[row.report], kept_ids[row.article]
        if rep == art:
            continue
        evidence = row.evidence
        if (p.ids[row.report], p.ids[row.article]) != (rep, art):
            evidence += f" (on {p.ids[row.report]} / {p.ids[row.article]})"
        rows.setdefault((rep, art), (row.relation, evidence))
    table = pd.DataFrame([(r, a, rel, ev) for (r, a), (rel, ev) in rows.items()],
                         columns=related.RELATED_COLUMNS)
    return table.sort_values(["record_id", "related_record_id"], kind="mergesort"
                             ).reset_index(drop=True)


def _detail(p: _Prepared, s: PairScores, k: int, rule: str) -> str:
    i = s.a[k]
    if rule == "doi":
        return f"doi {p.doi[i]}"
    if rule == "pmid":
        return f"pmid {p.pmid[i]}"
    year = p.year[i] if p.year[i] >= 0 else p.year[s.b[k]]
    if rule == "title_year_author":
        return f"title '{p.title[i][:60]}', year {year if year >= 0 else '?'}"
    parts = [f"title {s.title[k]:.0f}"]
    if not np.isnan(s.author[k]):
        parts.append(f"authors {s.author[k]:.0f}")
    if not np.isnan(s.journal[k]):
        parts.append(f"journal {s.journal[k]:.0f}")
    for name, code in (("year", s.year[k]), ("volume", s.volume[k]), ("pages", s.pages[k])):
        if code >= 0:
            parts.append(f"{name} {_fmt_match(code)}")
    return ", ".join(parts)


def _pair_table(p: _Prepared, s: PairScores, keep: np.ndarray) -> pd.DataFrame:
    """The pairs selected by ``keep`` with their scores, decision and reasons."""
    k = np.nonzero(keep)[0]
    table = pd.DataFrame({
        "record_id_a": p.ids[s.a[k]], "record_id_b": p.ids[s.b[k]],
        "decision": s.decision[k], "rule": s.rule[k],
        "reason": [*map(_reason_text, s.reason[k].tolist())],
        "title_score": np.round(s.title[k], 1), "author_score": np.round(s.author[k], 1),
        "journal_score": np.round(s.journal[k], 1),
        "year_match": _match_text(s.year[k]), "volume_match": _match_text(s.volume[k]),
        "pages_match": _match_text(s.pages[k])})
    return table.sort_values(["record_id_a", "record_id_b"], kind="mergesort").reset_index(
        drop=True)


def deduplicate(records: pd.DataFrame,
                source_priority: Sequence[str] = ("pubmed",),
                overrides: pd.DataFrame | None = None, errata: str = "related",
                threads: int = 1) -> pd.DataFrame:
    """Find duplicate records and choose one record to keep per publication.

    Parameters
    ----------
    records
        The record table; at least ``record_id, title, authors, year, journal, volume,
        issue, pages, doi, pmid`` (``source``, ``publication_types`` and the other record
        columns are used when present).
    source_priority
        Sources preferred, in order, when two records are equally complete.
    overrides
        Reviewer decisions on pairs (:func:`load_overrides`): ``same`` links two records
        whatever the scores say; ``different`` keeps them in different clusters.
    errata
        ``related`` (default): an erratum or correction is a report of its own, linked to
        its article in :attr:`DedupResult.related`. ``duplicate``: an erratum joins its
        article's cluster (rule ``erratum``), as bib-dedupe counts errata. Retraction
        notices, expressions of concern, comments and replies are never duplicates.
    threads
        Worker processes for normalising the records and scoring the candidate pairs (the
        rule's ``threads``); tables under :data:`~sysrev.dedup.parallel.MIN_PARALLEL`
        records per worker run in one process. The result is the same for any number.

    Returns
    -------
    pandas.DataFrame
        One row per input record, sorted by record id: ``record_id, cluster_id, kept,
        kept_record_id, rule, detail`` and the evidence of the link that brought the record
        into its cluster (``linked_to``, ``title_score``, ``author_score``,
        ``journal_score``, ``year_match``, ``volume_match``, ``pages_match``). ``rule`` is
        ``doi``, ``pmid``, ``title_year_author`` (identical normalised title, same year,
        same first author), ``fuzzy`` (near-identical title with corroborating authors,
        pages or journal), ``bibliographic`` (same first author, year, journal, volume
        and first page), ``erratum`` (``errata="duplicate"`` only) or ``override``; empty
        for a record that was not linked.

    Notes
    -----
    Records are never compared all against all: see the module docstring. Time and memory
    grow linearly with the number of records (see BENCHMARKS.md).
    """
    return find_duplicates(records, source_priority, overrides, errata=errata,
                           threads=threads).clusters
