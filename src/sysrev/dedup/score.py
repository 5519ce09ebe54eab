"""Step 3 and 4: score every candidate pair and decide duplicate / maybe / distinct, with
the cannot-link evidence; :data:`RULES` describes the rules for the audit."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, fields

import numpy as np
from rapidfuzz import fuzz, process

from sysrev.dedup.normalise import _Prepared, _single_page, title_numbers

log = logging.getLogger(__name__)

#: Titles shorter than this (after normalisation) are too generic to link records on by
#: title alone ("Erratum", "Editorial", "Reply").
MIN_TITLE_LENGTH = 25

#: Score thresholds (0-100). A duplicate needs a near-identical title *and* corroboration.
TITLE_DUPLICATE = 93.0
TITLE_MAYBE = 80.0
AUTHOR_MATCH = 80.0
JOURNAL_MATCH = 80.0
#: Below this title score two long titles are plainly different articles: within a cluster
#: they must agree in their first page, and come from different exports (see ``conflict``).
TITLE_UNRELATED = 80.0
#: Below this journal score (and neither name a word-prefix of the other) two venues differ.
JOURNAL_CONFLICT = 60.0

#: Pair decisions.
DUPLICATE, MAYBE, DISTINCT = "duplicate", "maybe", "distinct"

#: The rules, as the dedup audit (``results/<review>/audit/dedup.json``) states them:
#: kept beside the code that applies them, so that a change of rule changes both.
RULES = [
    "override: a reviewer's 'same' pair in the overrides file ('different' pairs are never "
    "put in one cluster)",
    "doi: equal normalised DOI, titles agreeing (edit ratio >= 80 or one a prefix of the "
    "other), same first page when both have one",
    "pmid: equal PMID, titles agreeing (edit ratio >= 50)",
    "title_year_author: equal normalised title (>= 25 characters), same year and first "
    "author, no conflicting DOI, PMID, volume or pages",
    "fuzzy: title edit ratio >= 93 (or a truncated prefix), authors >= 80 where both have "
    "them, corroborated by authors, first page, or volume and journal; no conflicts; also "
    "with first pages one apart when title, first author and authors, year, journal, volume "
    "and issue agree and no DOIs conflict; and one article in a journal and its "
    "other-language edition ('... (English Edition)': title >= 93, first author and "
    "authors, years at most one apart)",
    "bibliographic: same year, volume, first page and journal, with the same first author "
    "and page ranges, or with titles >= 93; also under two different DOIs (a publisher's "
    "alias, a database's second DOI) when title >= 93, first author and authors, year, "
    "journal, volume, issue and first page all agree (never two versions of one DOI, "
    "'.pub2'/'.pub3', nor conference abstracts); a title under 25 characters only when "
    "it is identical and all those fields agree",
    "titles: compared without inline markup and HTML entities ('<i>', '&#39;'); a title in "
    "two languages ('...; ...', '... = ...', '... [...]') also part by part",
    "erratum: (errata = duplicate only) an erratum or correction joins the cluster of the "
    "article it corrects (PubMed ErratumFor/ErratumIn, same DOI, or its title after the "
    "'Erratum:' prefix matching the article's)",
    "related reports (never merged; linked in related.tsv): erratum/correction (unless "
    "errata = duplicate), retraction notice, expression of concern, comment, reply, found "
    "by title prefix or publication type and linked by PubMed CommentsCorrections, same "
    "DOI, the title after the prefix (edit ratio >= 90 or a prefix), or a citation of the "
    "article's volume and first page in the same journal",
    "conference abstracts (conference journal or publication type, or a lettered page) and "
    "records without a title are never linked on journal, volume and pages alone",
    "an erratum printed under its article's title (same title, first author, journal and "
    "volume, a single page outside the article's pages) and a correction titled with its "
    "article's citation ('(vol 360, pg 542, 2009)') are errata",
    "kept apart by title, year or first-author rules: different issues of one volume whose "
    "pages do not agree (issues above 60 not compared); one title at two conference venues "
    "or in two plainly different journals in two years; titles naming opposite "
    "populations (children/adults, men/women)",
    "never linked: erratum/retraction, comment/reply or protocol vs other items; conference "
    "vs journal item; different numbers in similar titles (Part 1 / Part 2); different "
    "PMIDs, or different DOIs unless every other field agrees (above); years more than one "
    "apart",
    "never in one cluster, even through other records: two long titles that plainly differ "
    "(edit ratio < 80) on different first pages, or from one export without the same "
    "first page",
]

_JOURNAL_STOP = frozenset("of the and in on for a an".split())

_JOURNAL_CACHE: dict[tuple[str, str], float] = {}


def _is_abbreviation(short: list[str], full: list[str]) -> bool:
    """Each word of ``short`` starts a later word of ``full``, in order, and every word of
    ``full`` left out is short (so ``Ann Rheum Dis`` abbreviates ``Annals of the Rheumatic
    Diseases`` but ``Arthritis`` does not abbreviate ``Arthritis Research Therapy``)."""
    k = 0
    skipped = 0
    for word in short:
        while k < len(full) and not full[k].startswith(word):
            skipped += 1
            k += 1
        if k == len(full):
            return False
        k += 1
    skipped += len(full) - k
    return skipped == 0


_POPULATIONS = (
    (frozenset("children child paediatric pediatric adolescents adolescent infants infant "
               "neonates neonatal newborns".split()), frozenset("adult adults".split())),
    (frozenset("men male males".split()), frozenset("women female females".split())),
)


def _population_conflict(a: str, b: str) -> bool:
    """One title names a population the other replaces by its counterpart."""
    wa, wb = set(a.split()), set(b.split())
    for x, y in _POPULATIONS:
        if (wa & x and wb & y and not wa & y and not wb & x) or \
                (wa & y and wb & x and not wa & x and not wb & y):
            return True
    return False


def _journal_prefix(a: str, b: str) -> bool:
    """One normalised journal name is the other's first words (a supplement's name)."""
    wa, wb = a.split(), b.split()
    short, long_ = (wa, wb) if len(wa) <= len(wb) else (wb, wa)
    return bool(short) and long_[:len(short)] == short


# Words that name a journal's edition in another language ("… (English Edition)",
# "… (Engl Ed)", "… Edición en español").
_EDITION_WORDS = frozenset("english engl ed edn edition edicion espanol spanish ingles version "
                           "en eng ausgabe deutsche german francaise french edicao portugues "
                           "portuguese".split())
# A version suffix of a DOI: a Cochrane review's update (".pub3"), a preprint's revision.
_VERSION = re.compile(r"(\.pub\d+|v\d+|\.\d+)$")


def _other_edition(a: str, b: str) -> bool:
    """One normalised journal name is the other's followed by words that name an edition in
    another language (``revista espanola de cardiologia english edition``)."""
    wa, wb = a.split(), b.split()
    short, long_ = (wa, wb) if len(wa) <= len(wb) else (wb, wa)
    return bool(short) and len(long_) > len(short) and long_[:len(short)] == short and \
        all(w in _EDITION_WORDS for w in long_[len(short):])


def journal_score(a: str, b: str) -> float:
    """Similarity of two normalised journal names (0-100), abbreviations counted as equal."""
    if a == b:
        return 100.0
    key = (a, b) if a < b else (b, a)
    cached = _JOURNAL_CACHE.get(key)
    if cached is not None:
        return cached
    wa = [w for w in a.split() if w not in _JOURNAL_STOP]
    wb = [w for w in b.split() if w not in _JOURNAL_STOP]
    if wa == wb or (wa and wb and (_is_abbreviation(wa, wb) or _is_abbreviation(wb, wa))):
        score = 100.0
    else:
        score = float(fuzz.token_sort_ratio(" ".join(wa), " ".join(wb)))
    if len(_JOURNAL_CACHE) < 1_000_000:
        _JOURNAL_CACHE[key] = score
    return score


@dataclass
class PairScores:
    """Scores and decisions of the candidate pairs (parallel arrays)."""

    a: np.ndarray
    b: np.ndarray
    title: np.ndarray
    author: np.ndarray
    journal: np.ndarray
    year: np.ndarray  # 0 same, 1 one apart, 2 further, -1 missing
    volume: np.ndarray  # 0 same, 2 different, -1 missing
    pages: np.ndarray
    decision: np.ndarray
    rule: np.ndarray
    cannot_link: np.ndarray
    reason: np.ndarray
    erratum: np.ndarray  # 1: a is an unmarked erratum of b, 2: b of a, 0: neither
    #: The two cannot be one publication, checked between any two records of a cluster
    #: (not only pairs compared directly): a cannot-link, years more than one apart, both
    #: volume and first page different, or two plainly different journals in different
    #: years; never for a pair that is itself a duplicate.
    conflict: np.ndarray

    def __len__(self) -> int:
        return len(self.a)

    def subset(self, keep: np.ndarray) -> "PairScores":
        """The pairs selected by ``keep`` (a mask or indices), in their order."""
        return PairScores(**{f.name: getattr(self, f.name)[keep] for f in fields(self)})

    @staticmethod
    def concat(parts: list["PairScores"]) -> "PairScores":
        """The pairs of ``parts``, one after the other."""
        return PairScores(**{f.name: np.concatenate([getattr(p, f.name) for p in parts])
                             for f in fields(PairScores)})


def _agreement(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = np.where(x == y, 0, 2)
    return np.where((x < 0) | (y < 0), -1, out)


def _codes(values: list) -> np.ndarray:
    """An integer per value, equal for equal values; -1 for ``""``."""
    codes: dict = {"": -1}
    return np.fromiter((codes.setdefault(v, len(codes) - 1) for v in values),
                       dtype=np.int32, count=len(values))


@dataclass
class PairKeys:
    """What scoring needs of every record beyond :class:`_Prepared`'s number arrays, made
    once per table (:func:`pair_keys`) before the scoring workers are forked.

    Equality of identifiers, first authors, last pages, page ranges and title numbers is
    tested on integer codes (-1 where the field is empty), so a worker reads those as
    numpy arrays it shares with its parent; only the titles and author lists it compares
    are Python strings. A forked worker copies every memory page whose objects it touches
    (reference counts), so strings read for every record would be copied into each worker.
    """

    core: np.ndarray  # object: titles compared (a related report's without its prefix)
    core_len: np.ndarray
    authors: np.ndarray  # object
    no_author: np.ndarray
    journal: np.ndarray  # object (one object per distinct journal name)
    doi: np.ndarray
    pmid: np.ndarray
    first_author: np.ndarray
    last_page: np.ndarray  # last page of a page range
    pages_norm: np.ndarray  # whole page range ("" is a value of its own here)
    numbers: np.ndarray  # code of the set of numbers in the title
    number_sets: list  # the sets, by code
    page_letter: np.ndarray  # first page starts with a letter
    source: np.ndarray  # code of the source (the export a record came from)
    has_parts: np.ndarray  # a title in two languages (_Prepared.parts)
    single: np.ndarray  # a single page (see score_pairs)


def pair_keys(p: _Prepared) -> PairKeys:
    """The :class:`PairKeys` of ``p``."""
    n = len(p.ids)
    number_codes: dict = {}
    numbers = np.fromiter((number_codes.setdefault(x, len(number_codes)) for x in p.numbers),
                          dtype=np.int32, count=n)
    range_codes: dict = {}
    page_letter = np.fromiter((pg[:1].isalpha() for pg in p.page), dtype=bool, count=n)
    return PairKeys(
        core=np.asarray(p.core, dtype=object),
        core_len=np.fromiter(map(len, p.core), dtype=np.int64, count=n),
        authors=np.asarray(p.authors, dtype=object),
        no_author=np.fromiter((not x for x in p.authors), dtype=bool, count=n),
        journal=np.asarray(p.journal, dtype=object),
        doi=_codes(p.doi), pmid=_codes(p.pmid), first_author=_codes(p.first_author),
        last_page=_codes([r.partition("-")[2] for r in p.pages_norm]),
        pages_norm=np.fromiter((range_codes.setdefault(r, len(range_codes))
                                for r in p.pages_norm), dtype=np.int32, count=n),
        numbers=numbers, number_sets=list(number_codes),
        page_letter=page_letter,
        source=_codes(p.source),
        has_parts=np.fromiter(map(bool, p.parts), dtype=bool, count=n),
        single=(np.fromiter(map(_single_page, p.pages_norm), dtype=bool, count=n) |
                ((p.page_number >= 0) & ~p.page_range)) & ~page_letter)


def score_pairs(p: _Prepared, pairs: np.ndarray, threads: int = 1,
                keys: PairKeys | None = None) -> PairScores:
    """Score every candidate pair and decide duplicate / maybe / distinct, with rapidfuzz
    on ``threads`` worker threads (``keys``: :func:`pair_keys` of ``p``, made here when
    not given)."""
    keys = pair_keys(p) if keys is None else keys
    a, b = pairs[:, 0], pairs[:, 1]
    m = len(a)
    # Related reports are compared by their title without the prefix or citation, so two
    # databases' copies of one erratum ("Erratum: X", "X (vol 360, pg 542, 2009)") agree;
    # a report and its article stay apart by their kinds.
    titles = keys.core
    authors = keys.authors
    ta, tb = titles[a], titles[b]
    title = process.cpdist(ta, tb, scorer=fuzz.ratio, workers=threads).astype(np.float64) \
        if m else np.zeros(0)
    la, lb = keys.core_len[a], keys.core_len[b]
    no_title = (la == 0) | (lb == 0)
    # A title cut short by a database (field length limits) is a prefix of the full one.
    maybe_truncated = np.nonzero((title < 100) & (np.minimum(la, lb) >= 40))[0]
    truncated = np.zeros(m, dtype=bool)
    for k in maybe_truncated:
        s, t = (ta[k], tb[k]) if la[k] <= lb[k] else (tb[k], ta[k])
        if t.startswith(s):
            truncated[k] = True
    title = np.where(truncated, 100.0, title)
    # A title written in two languages ("Utilidad de …; Are antimicrobials …") is compared
    # part by part with the other record's title: one language may be all the other has.
    has_parts = keys.has_parts
    rows, left, right = [], [], []
    for k in np.nonzero((has_parts[a] | has_parts[b]) & (title < TITLE_DUPLICATE))[0].tolist():
        for parts, other in ((p.parts[a[k]], tb[k]), (p.parts[b[k]], ta[k])):
            if len(other) >= MIN_TITLE_LENGTH:
                for part in parts:
                    if len(part) >= MIN_TITLE_LENGTH:
                        rows.append(k)
                        left.append(part)
                        right.append(other)
    if rows:
        np.maximum.at(title, np.asarray(rows, dtype=np.int64), process.cpdist(
            left, right, scorer=fuzz.ratio, workers=threads).astype(np.float64))
    title = np.where(no_title, np.nan, title)

    aa, ab = authors[a], authors[b]
    author = process.cpdist(aa, ab, scorer=fuzz.token_set_ratio, workers=threads).astype(
        np.float64) if m else np.zeros(0)
    no_author = keys.no_author[a] | keys.no_author[b]
    author = np.where(no_author, np.nan, author)

    journals = keys.journal
    ja, jb = journals[a], journals[b]
    journal = np.full(m, np.nan)
    # Journal names are compared only where they can change the decision.
    same_place = (p.year[a] == p.year[b]) & (p.volume[a] == p.volume[b]) & \
        (p.page_number[a] == p.page_number[b]) & (p.page_number[a] >= 0)
    need = np.nonzero(~(title < TITLE_MAYBE) | np.isnan(title) | same_place)[0]
    for k in need:
        if ja[k] and jb[k]:
            journal[k] = journal_score(ja[k], jb[k])

    year_gap = np.abs(p.year[a] - p.year[b])
    year = np.where((p.year[a] < 0) | (p.year[b] < 0), -1,
                    np.where(year_gap == 0, 0, np.where(year_gap == 1, 1, 2)))
    volume = _agreement(p.volume[a], p.volume[b])
    pages = _agreement(p.page_number[a], p.page_number[b])
    # First pages that differ under one last page ("2141-2147" / "2142-2147") are a typo.
    last_a, last_b = keys.last_page[a], keys.last_page[b]
    same_last = (last_a >= 0) & (last_a == last_b)
    pages = np.where((pages == 2) & same_last, 0, pages)

    # Codes, -1 where missing.
    da, db, pa, pb = keys.doi[a], keys.doi[b], keys.pmid[a], keys.pmid[b]
    doi_present = (da >= 0) & (db >= 0)
    pmid_present = (pa >= 0) & (pb >= 0)
    same_doi = doi_present & (da == db)
    same_pmid = pmid_present & (pa == pb)
    doi_conflict = doi_present & (da != db)
    pmid_conflict = pmid_present & (pa != pb)

    kind_conflict = p.kind[a] != p.kind[b]
    format_conflict = ((p.fmt[a] == 1) & (p.fmt[b] == 2)) | ((p.fmt[a] == 2) & (p.fmt[b] == 1))
    # "Pediatric Nephrology.Conference: …" is that journal's supplement: the abstract and
    # a "Pediatric Nephrology" record may be one item, so other fields decide.
    prefix = np.zeros(m, dtype=bool)
    for k in np.nonzero(format_conflict | (~np.isnan(journal) & (journal < JOURNAL_CONFLICT))
                        )[0]:
        prefix[k] = _journal_prefix(ja[k], jb[k])
    format_conflict &= ~prefix
    # Two venues that are plainly not one journal, in different years: a paper presented at
    # two conferences, or an abstract and the later article, are two records.
    journal_conflict = ~np.isnan(journal) & (journal < JOURNAL_CONFLICT) & ~prefix
    issue = _agreement(p.issue[a], p.issue[b])
    numbers, number_sets = keys.numbers, keys.number_sets
    number_conflict = np.zeros(m, dtype=bool)
    for k in np.nonzero(numbers[a] != numbers[b])[0]:
        na, nb = number_sets[numbers[a[k]]], number_sets[numbers[b[k]]]
        if truncated[k]:
            short = ta[k] if la[k] <= lb[k] else tb[k]
            longer_prefix = (tb[k] if la[k] <= lb[k] else ta[k])[:len(short)]
            na, nb = title_numbers(short), title_numbers(longer_prefix)
        # Numbers are compared between similar titles only: between a title and its
        # translation the other fields decide.
        number_conflict[k] = na != nb and not no_title[k] and title[k] >= TITLE_MAYBE
    # Titles that differ in the population they study (children / adults, men / women).
    for k in np.nonzero(~number_conflict & (title >= TITLE_MAYBE) & (title < 100))[0]:
        number_conflict[k] = _population_conflict(ta[k], tb[k])

    first_a = keys.first_author  # codes, -1 where missing
    same_first = (first_a[a] == first_a[b]) & (first_a[a] >= 0)
    author_ok = np.isnan(author) | (author >= AUTHOR_MATCH)
    author_match = ~np.isnan(author) & (author >= AUTHOR_MATCH)
    journal_match = ~np.isnan(journal) & (journal >= JOURNAL_MATCH)
    short_title = np.minimum(la, lb) < MIN_TITLE_LENGTH
    volume_eq, page_eq = volume == 0, pages == 0
    # Different issues of one volume, where the pages do not agree: a recurring column
    # ("Editor's Comments") or the article and its erratum in a later issue. Where the
    # pages agree the issue field is not trusted (some exports put a record number there).
    # Two conference papers of one title at two venues in two years: two presentations.
    venues = (p.fmt[a] == 1) & (p.fmt[b] == 1) & ~np.isnan(journal) & \
        (journal < JOURNAL_MATCH) & ~prefix & (year != 0)
    soft_conflict = (volume == 2) | (pages == 2) | (year == 2) | \
        ((issue == 2) & (pages != 0)) | (journal_conflict & (year != 0)) | venues

    # An identifier links two records only when their titles agree too: publishers give
    # one DOI to a whole supplement of conference abstracts, and databases copy DOIs and
    # PMIDs onto the wrong record.
    # (A PMID is never shared by a supplement, so for PMIDs a weaker title agreement will do.)
    ident_title_ok = no_title | (title >= TITLE_MAYBE) | (same_pmid & (title >= 50))
    for k in np.nonzero((same_doi | same_pmid) & ~ident_title_ok)[0]:
        s_, t_ = (ta[k], tb[k]) if la[k] <= lb[k] else (tb[k], ta[k])
        ident_title_ok[k] = len(s_) >= MIN_TITLE_LENGTH and t_.startswith(s_)
    # Different first pages under one DOI: two abstracts of one supplement, as a rule.
    ident_link = (same_doi | same_pmid) & ~kind_conflict & ~pmid_conflict & ident_title_ok \
        & ~(same_doi & ~same_pmid & (pages == 2))
    # Different DOIs are strong evidence of two items, not proof: a publisher's alias DOI,
    # or a database's second DOI for one article, on records that agree in everything else
    # (title, first author and authors, year, journal, volume, issue, first page). Never two
    # versions of one DOI ("….pub2" / "….pub3", "…v1" / "…v2": a review's update, a
    # preprint's revision), never conference abstracts.
    page_letter = keys.page_letter
    conference = (p.fmt[a] == 1) | (p.fmt[b] == 1) | page_letter[a] | page_letter[b]
    doi_alias = doi_conflict & ~pmid_conflict & ~kind_conflict & ~number_conflict & \
        ~short_title & ~truncated & (title >= TITLE_DUPLICATE) & (year == 0) & (volume == 0) & \
        (pages == 0) & (issue != 2) & same_first & author_match & journal_match & ~conference
    for k in np.nonzero(doi_alias)[0]:
        doi_alias[k] = _VERSION.sub("", p.doi[a[k]]) != _VERSION.sub("", p.doi[b[k]])
    # One article in a journal and in its other-language edition ("Rev Esp Cardiol" and
    # "Rev Esp Cardiol (Engl Ed)"): the same title and authors under two DOIs, volumes and
    # page numbers.
    edition = np.zeros(m, dtype=bool)
    for k in np.nonzero(~np.isnan(journal) & (journal < 100) & (title >= TITLE_DUPLICATE)
                        & ~short_title & same_first & author_match & (year >= 0)
                        & (year <= 1))[0]:
        edition[k] = _other_edition(ja[k], jb[k])
    edition &= ~pmid_conflict & ~kind_conflict & ~number_conflict & ~format_conflict
    # Cannot-link: evidence that two records are different items, whatever else agrees.
    shared_identifier = (same_doi | same_pmid) & (title < 60) & ~author_match
    hard_ids = kind_conflict | pmid_conflict | \
        (doi_conflict & ~same_pmid & ~doi_alias & ~edition) | shared_identifier
    hard = hard_ids | ~ident_link & (format_conflict | number_conflict | (year == 2))

    decision = np.full(m, DISTINCT, dtype=object)
    rule = np.full(m, "", dtype=object)

    dup_doi = ident_link & same_doi & ident_title_ok
    dup_pmid = ident_link & same_pmid & ~dup_doi & ident_title_ok
    # A volume conflict alone does not part records with one long title, first author,
    # year, journal and first page: databases put the supplement or issue number in the
    # volume field ("1)" for "Suppl 1)").
    volume_only = (volume == 2) & (pages == 0) & (year == 0) & same_first & \
        (np.isnan(journal) | journal_match)
    exact_title = (title == 100) & ~truncated & ~short_title & ~hard & \
        (~soft_conflict | (volume_only & ~(year == 2) & ~(pages == 2))) & \
        (year != 1) & (same_first | (first_a[a] < 0) | (first_a[b] < 0)) & \
        ~doi_conflict & ~pmid_conflict
    corroborated = author_match | page_eq | (volume_eq & journal_match) | \
        (np.isnan(author) & journal_match & (year == 0))
    fuzzy = ~hard & ~soft_conflict & ~short_title & (title >= TITLE_DUPLICATE) & \
        author_ok & corroborated
    # The same authors, year, journal, volume and first page: one article whatever its title
    # (translated titles, titles with typos in many words).
    # Page *ranges* only: abstracts on one supplement page share their single page. Not
    # for conference abstracts (several share a supplement page range) unless they share
    # the DOI and the whole page range too, nor for a record without a title (one with no
    # title links by DOI or PMID only).
    # Identical page ranges outweigh different numbers in the titles (a typo, "p6INK4a" for
    # "p16INK4a"): Part 1 and Part 2 are never on the same pages.
    same_range = keys.pages_norm
    same_range = (same_range[a] == same_range[b]) & p.page_range[a] & p.page_range[b]
    bib_hard = hard_ids | ~ident_link & (format_conflict | (year == 2) |
                                         (number_conflict & ~same_range))
    bibliographic = ~bib_hard & (year == 0) & volume_eq & page_eq & journal_match & \
        (issue != 2) & \
        same_first & author_match & ~doi_conflict & p.page_range[a] & p.page_range[b] & \
        ~no_title & (~conference | (same_doi & same_range))
    # The same title in the same journal, year, volume and first page is one article even
    # when the author lists disagree (given names and surnames swapped, "Tong H" / "Hua T"),
    # unless the two are conference abstracts: then differing authors mean two abstracts.
    bibliographic |= ~hard & ~short_title & (title >= TITLE_DUPLICATE) & (year == 0) & \
        volume_eq & page_eq & journal_match & ~doi_conflict & ~(conference & ~author_ok) & \
        (issue != 2)
    # Page numbers are the field databases garble most ("314-320" / "t-20"); a conflict of
    # pages alone does not keep apart records that agree on everything else.
    # An erratum printed under its article's title: the same title, first author, journal
    # and volume, on a single page outside the article's page range. Never merged by the
    # garbled-pages rule; linked to the article as an erratum (page evidence).
    # (Electronic locators such as "e12724" or "a1754" are not single pages.)
    single = keys.single
    outside = np.zeros(m, dtype=bool)
    for k in np.nonzero((single[a] ^ single[b]) & (pages == 2))[0]:
        s_, r_ = (a[k], b[k]) if single[a[k]] else (b[k], a[k])
        first, _, last = p.pages_norm[r_].partition("-")
        page = p.page_number[s_]
        outside[k] = bool(last) and not (int(first.lstrip("abcdefghijklmnopqrstuvwxyz"))
                                          <= page <= int(last))
    unmarked_erratum = (title >= TITLE_DUPLICATE) & ~short_title & same_first & \
        volume_eq & journal_match & (pages == 2) & (year >= 0) & (year <= 1) & \
        (p.kind[a] == 0) & (p.kind[b] == 0) & ~(same_doi | same_pmid) & outside
    fuzzy |= ~hard & ~short_title & (title == 100) & ~truncated & (pages == 2) & (year == 0) & \
        (issue != 2) & ~unmarked_erratum & \
        volume_eq & journal_match & ~np.isnan(author) & (author >= 95) & ~doi_conflict

    # First pages one apart on records without conflicting identifiers that agree in
    # everything else: one database counts from the cover page.
    page_near = (pages == 2) & (np.abs(p.page_number[a] - p.page_number[b]) == 1)
    fuzzy |= ~hard & page_near & ~short_title & (title >= TITLE_DUPLICATE) & (year == 0) & \
        volume_eq & (issue != 2) & journal_match & same_first & author_match & \
        ~doi_conflict & ~conference & ~unmarked_erratum
    fuzzy |= edition & ~hard
    bibliographic |= doi_alias & ~hard
    # A short title ("Denosumab", "Osteoporosis") links two records only with everything
    # else equal: first author and authors, year, journal, volume, issue and first page.
    bibliographic |= ~hard & short_title & ~no_title & (title == 100) & (year == 0) & \
        volume_eq & page_eq & (issue != 2) & journal_match & same_first & author_match & \
        ~doi_conflict & ~conference

    for mask, name in ((dup_doi, "doi"), (dup_pmid, "pmid"),
                       (exact_title & ~dup_doi & ~dup_pmid, "title_year_author")):
        free = mask & (rule == "")
        decision[free], rule[free] = DUPLICATE, name
    free = fuzzy & (rule == "")
    decision[free], rule[free] = DUPLICATE, "fuzzy"
    free = bibliographic & (rule == "")
    decision[free], rule[free] = DUPLICATE, "bibliographic"

    maybe = (rule == "") & ~hard & (
        (title >= TITLE_MAYBE) & (author_ok | journal_match) |
        (same_first & (year <= 1) & (year >= 0) & volume_eq & page_eq) |
        ((same_doi | same_pmid) & ~ident_title_ok))
    maybe |= (rule == "") & doi_conflict & ~kind_conflict & ~pmid_conflict & \
        (title >= 98) & author_match & (year == 0) & ~(volume == 2) & ~(pages == 2)
    decision[maybe] = MAYBE

    # Two long titles that plainly differ, on different first pages or from one export: two
    # articles, whatever records between them agree with each (checked within clusters).
    one_export = (keys.source[a] == keys.source[b]) & (keys.source[a] >= 0)
    unrelated = ~no_title & ~short_title & (title < TITLE_UNRELATED) & \
        ((pages == 2) | (one_export & ~page_eq))

    # Reasons as bit flags (rendered to text only for the pairs that are reported).
    reason = np.zeros(m, dtype=np.int64)
    for bit, mask in enumerate((kind_conflict, pmid_conflict, doi_conflict, format_conflict,
                                number_conflict, year == 2, volume == 2, pages == 2,
                                year == 1, short_title, title < TITLE_DUPLICATE,
                                ~author_ok)):
        reason |= mask.astype(np.int64) << bit
    reason[decision == DUPLICATE] = 0
    return PairScores(a=a, b=b, title=title, author=author, journal=journal, year=year,
                      volume=volume, pages=pages, decision=decision, rule=rule,
                      cannot_link=hard & (decision != DUPLICATE), reason=reason,
                      conflict=(decision != DUPLICATE) & (
                          hard | (year == 2) | ((volume == 2) & (pages == 2))
                          | (journal_conflict & (year != 0)) | unrelated),
                      erratum=np.where(unmarked_erratum & (decision != DUPLICATE),
                                       np.where(single[a], 1, 2), 0))


#: Pairs scored per call (bounds the memory the scores' intermediate arrays take).
SCORE_CHUNK = 100_000


def score_candidates(p: _Prepared, pairs: np.ndarray, workers: int = 1,
                     keep_distinct: bool = True, keys: PairKeys | None = None) -> PairScores:
    """:func:`score_pairs` in chunks of :data:`SCORE_CHUNK` pairs on ``workers`` processes.

    With ``keep_distinct=False`` only the pairs that matter later are kept: duplicates,
    maybes, cannot-links and unmarked errata (most candidate pairs are plainly distinct).
    """
    from sysrev.dedup.parallel import map_ranges

    # Made before the workers are forked: they share it.
    keys = pair_keys(p) if keys is None else keys

    def task(start: int, stop: int) -> PairScores:
        scores = score_pairs(p, pairs[start:stop], keys=keys)
        if not keep_distinct:
            scores = scores.subset((scores.decision != DISTINCT) | scores.cannot_link
                                   | (scores.erratum != 0))
        return scores

    # Workers live on from chunk to chunk: each reads every record's title and authors
    # (most records are in most chunks), so a fresh worker per chunk would copy those pages
    # again each time; the other fields are shared numpy arrays (PairKeys).
    return PairScores.concat(map_ranges(task, len(pairs), workers, chunk=SCORE_CHUNK,
                                        fresh=False))


def score_for_clusters(p: _Prepared, pairs: np.ndarray, workers: int = 1,
                       keys: PairKeys | None = None) -> tuple[PairScores, np.ndarray]:
    """The candidate pairs as clustering needs them: the scores of the pairs that matter
    later (duplicates, maybes, unmarked errata), and the other cannot-link pairs as
    ``(i, j)`` rows only (int32), both in pair order.

    Most candidate pairs are plainly distinct, and many of those are cannot-links
    (different DOIs, years far apart); clustering needs only which two records they are:
    8 bytes a pair instead of a hundred (millions of pairs at a million records).
    """
    from sysrev.dedup.parallel import map_ranges

    keys = pair_keys(p) if keys is None else keys

    def task(start: int, stop: int) -> tuple[PairScores, np.ndarray]:
        scores = score_pairs(p, pairs[start:stop], keys=keys)
        keep = (scores.decision != DISTINCT) | (scores.erratum != 0)
        only = scores.cannot_link & ~keep
        return scores.subset(keep), np.stack([scores.a[only], scores.b[only]],
                                             axis=1).astype(np.int32)

    # Workers live on from chunk to chunk (see score_candidates).
    parts = map_ranges(task, len(pairs), workers, chunk=SCORE_CHUNK, fresh=False)
    return (PairScores.concat([part[0] for part in parts]),
            np.concatenate([part[1] for part in parts]))
