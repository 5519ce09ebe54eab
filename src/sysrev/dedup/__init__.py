"""Deduplication of the record table, with the reason and the evidence for every removal.

The method, in order:

1. **Normalise** every record once: title (markup and HTML entities removed, case,
   diacritics, punctuation folded; a title in two languages also kept by part), author
   surnames (initials dropped, so ``Takeuchi T.`` and ``Takeuchi, Tsutomu`` agree), first
   author, year, journal, volume, first page, DOI, PMID, and markers of what *kind* of item
   it is (erratum or retraction, comment or reply, protocol, conference abstract) and the
   numbers in its title (``Part 1``, ``phase II``, ``5-year``).
2. **Candidate pairs by blocking**, never all pairs: records are sorted by several keys
   (DOI; PMID; first and last four title words; first author and year; year, volume and
   first page; first author and first page) and each record is compared with its
   :data:`WINDOW` nearest neighbours that share the key (sorted-neighbourhood blocking).
   Work therefore grows linearly with the number of records.
3. **Scores** (rapidfuzz, vectorised over all candidate pairs): title similarity (edit
   ratio; a truncated title that is a prefix of the other counts as equal), author
   similarity (token-set ratio of surnames), journal similarity (abbreviation-aware:
   ``Ann Rheum Dis`` = ``Annals of the Rheumatic Diseases``), and agreement of year,
   volume and first page.
4. **Decision** per pair: ``duplicate``, ``maybe`` (for a human) or ``distinct``. Pairs of
   different kinds (erratum and article, comment and article, protocol and results,
   conference abstract and journal paper), with different numbers in their titles (Part 1
   and Part 2), conflicting PMIDs, conflicting DOIs (unless every other field agrees: a
   publisher's alias DOI), or years more than one apart are *distinct* and
   also **may not end up in one cluster** through other links (cannot-link constraints).
5. **Clusters**: links are merged strongest first (reviewer overrides, DOI, PMID, identical
   title, scored links) with union-find, skipping any merge that would join a cannot-link
   pair. Reviewer overrides (``same`` / ``different``) come first and always win. Then
   every two records of a cluster are checked, compared directly or not: a cluster holding
   two that cannot be one publication (a cannot-link, years more than one apart, volume and
   first page both different, two plainly different journals in different years, two long
   titles that plainly differ on different first pages or from one export) is built
   again from its own links with those pairs as cannot-links.
6. **Kept record**: an article before a related report, then the most complete record of
   each cluster (ties: source priority, then record id); :func:`unique_records` fills its
   empty fields from the others and names the record each filled value came from.
7. **Related reports** (:mod:`sysrev.dedup.related`): errata, corrections, retraction
   notices, expressions of concern, comments and replies are never merged with their
   article; each is linked to it (``related.tsv``: relation and evidence). With
   ``errata="duplicate"`` errata join their article's cluster instead (rule ``erratum``),
   as bib-dedupe counts them. A retracted article, or one under an expression of concern,
   carries that status into :func:`unique_records`' ``retraction`` column.

Conference abstracts (a conference journal or publication type, or a lettered page) and
records without a title are never linked on journal, volume and pages alone: several
abstracts share one supplement page range, and a record with no title links only by DOI or
PMID. Normalising and scoring run on ``threads`` worker processes; the result is the same
for any number of them.

Everything is deterministic: records are processed in record-id order and every sort is
stable, so two runs, or one run on shuffled input, give identical output.

The modules follow these steps: :mod:`~sysrev.dedup.normalise` (1),
:mod:`~sysrev.dedup.block` (2), :mod:`~sysrev.dedup.score` (3, 4, and :data:`RULES`, the
rules as the audit states them), :mod:`~sysrev.dedup.overrides` (the reviewers' pairs),
:mod:`~sysrev.dedup.cluster` (5), :mod:`~sysrev.dedup.find` (:func:`find_duplicates`, the
steps together), :mod:`~sysrev.dedup.related` (7), :mod:`~sysrev.dedup.unique` (6: the
unique records, the removed duplicates and their counts) and :mod:`~sysrev.dedup.parallel`
(the worker processes).
"""

from sysrev.dedup import related
from sysrev.dedup.block import WINDOW, candidate_pairs
from sysrev.dedup.find import (ERRATA_MODES, MAYBE_COLUMNS, DedupResult, deduplicate,
                               find_duplicates)
from sysrev.dedup.normalise import (COMPLETENESS_FIELDS, MAX_ISSUE, author_surnames,
                                    first_author_key, normalise_title, title_numbers)
from sysrev.dedup.overrides import OVERRIDE_COLUMNS, OVERRIDE_OPTIONAL, load_overrides
from sysrev.dedup.score import (AUTHOR_MATCH, DISTINCT, DUPLICATE, JOURNAL_CONFLICT,
                                JOURNAL_MATCH, MAYBE, MIN_TITLE_LENGTH, RULES,
                                TITLE_DUPLICATE, TITLE_MAYBE, PairScores, journal_score,
                                score_pairs)
from sysrev.dedup.unique import (SCORE_COLUMNS, UNIQUE_COLUMNS, duplicate_counts,
                                 duplicate_table, read_clusters, unique_records)

__all__ = [
    "AUTHOR_MATCH", "COMPLETENESS_FIELDS", "DISTINCT", "DUPLICATE", "DedupResult",
    "ERRATA_MODES", "JOURNAL_CONFLICT", "JOURNAL_MATCH", "MAX_ISSUE", "MAYBE",
    "MAYBE_COLUMNS", "MIN_TITLE_LENGTH", "OVERRIDE_COLUMNS", "OVERRIDE_OPTIONAL",
    "PairScores", "RULES", "SCORE_COLUMNS", "TITLE_DUPLICATE", "TITLE_MAYBE",
    "UNIQUE_COLUMNS", "WINDOW", "author_surnames", "candidate_pairs", "deduplicate",
    "duplicate_counts", "duplicate_table", "find_duplicates", "first_author_key",
    "journal_score", "load_overrides", "normalise_title", "read_clusters", "related",
    "score_pairs", "title_numbers", "unique_records",
]
