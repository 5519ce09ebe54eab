"""Related reports: errata, retraction notices, expressions of concern, comments and replies.

A related report is a publication of its own *about* another one. It is not a duplicate of
its article (it is another item, often in another issue, with its own PMID and DOI) and it
must not be lost either: a review shows an erratum or a retraction next to the study it
concerns. :func:`report_kind` tells what a record is from its title and publication types;
:func:`find_related` links each related report to its article with the evidence:

``pubmed``
    PubMed's CommentsCorrections (``ErratumFor``/``ErratumIn``, ``RetractionOf``/
    ``RetractionIn``, ``ExpressionOfConcernFor``/``…In``, ``CommentOn``/``CommentIn``)
    names the other record's PMID.
``title``
    The report's title without its prefix ("Erratum:", "Correction to", "Comment on",
    "Reply to", "Retraction of", "Expression of concern:") is the article's title
    (edit ratio >= :data:`CORE_TITLE_MATCH`, or one title a prefix of the other).
``doi``
    A database gave the report the article's DOI.
``citation``
    Same journal, and the report's title cites the article's year, volume and first page.

:func:`retraction_status` reads what marks an article as retracted or under an expression
of concern: the PubMed publication type ``Retracted Publication``, CommentsCorrections
``RetractionIn`` / ``ExpressionOfConcernIn``, a title prefixed ``RETRACTED:`` or
``WITHDRAWN:`` by the publisher, and (in :mod:`sysrev.dedup`) a retraction notice or
expression of concern linked to the article.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Sequence

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

#: Relations written to ``related.tsv`` (``record_id`` is the report, ``related_record_id``
#: the article it concerns).
ERRATUM, RETRACTION, CONCERN, COMMENT, REPLY = ("erratum", "retraction",
                                                "expression_of_concern", "comment", "reply")
RELATIONS = (ERRATUM, RETRACTION, CONCERN, COMMENT, REPLY)

#: Columns of ``related.tsv``.
RELATED_COLUMNS = ["record_id", "related_record_id", "relation", "evidence"]

#: Similarity (0-100) of a report's title without its prefix and the article's title.
CORE_TITLE_MATCH = 90.0

#: Shortest title (normalised characters) that may link a report to an article by title.
MIN_CORE_LENGTH = 25

#: Values of the ``retraction`` column.
RETRACTED, EXPRESSION_OF_CONCERN = "retracted", "expression of concern"

# Prefixes that make a title a related report, tried on the case-folded raw title (the
# punctuation tells "Correction: X" from "Correction of hypokalaemia"). Order matters:
# the first match names the kind.
_QUOTES = "\"'\u2018\u2019\u201c\u201d\u00ab"  # characters, for use inside [...]
_PUNCT = r"[:.\-\u2013(\[]"
_PREFIXES: list[tuple[str, re.Pattern]] = [
    (CONCERN, re.compile(r"^(editorial\s+)?expressions?\s+of\s+concern\b\s*(\w+\s+)?"
                         + _PUNCT + r"?(\s*(for|about|regarding|on|to|in)\b)?")),
    (RETRACTION, re.compile(r"^(notice\s+of\s+retraction|retraction\s+(note|notice|statement)"
                            r"|retraction|retracted\s+publication\s+notice)\b\s*" + _PUNCT
                            + r"?(\s*(of|to|for|on)\b)?")),
    (ERRATUM, re.compile(r"^((author|publisher)s?'?\s+)?(erratum|errata|corrigendum|corrigenda)"
                         r"\b\s*" + _PUNCT + r"?(\s*(to|for|in|on|of)\b)?")),
    (ERRATUM, re.compile(r"^((author|publisher)s?'?\s+)?(notice\s+of\s+)?corrections?"
                         r"(\s*" + _PUNCT + r"|\s+to\b|\s*$)")),
    (REPLY, re.compile(r"^(the\s+)?(authors?'?\s+)?(reply|replies|response)\s*"
                       r"(from\s+the\s+authors?)?\s*(" + _PUNCT + r"|$|(to|on)\s*[:" + _QUOTES
                       + r"]|to\s+(the\s+)?(letter|comment|commentary|correspondence)"
                       r"(\s+(on|by|to|regarding|about))?\b)"
                       r"|^in\s+(reply|response)\b|^(authors?'?\s+)(reply|response)\b")),
    (COMMENT, re.compile(r"^(comment|comments|commentary|invited\s+commentary|editorial\s+"
                         r"comment)\s*(on|to|regarding|about)?\s*(" + _PUNCT + r"|$|["
                         + _QUOTES + r"])|^(comment|comments|commentary)\s+on\b|^re\s*:")),
]
# Words publishers put in front of a retracted article's own title.
_RETRACTED_TITLE = re.compile(r"^\W*(retracted(\s+article)?|withdrawn)\s*[:.\-\u2013]\s*")
_RETRACTED_TITLE_RAW = re.compile(r"^\W*(retracted(\s+article)?|withdrawn)\s*[:.\-\u2013]\s*",
                                  re.IGNORECASE)
_PUBTYPE_KIND = (("expression of concern", CONCERN), ("retraction of publication", RETRACTION),
                 ("retraction notice", RETRACTION), ("published erratum", ERRATUM),
                 ("erratum", ERRATUM), ("correction", ERRATUM), ("comment", COMMENT))
_TRAILING_CITATION = re.compile(r"\s*[\[(][^\])]*\d{4}[^\])]*[\])]?\s*\.?$")
# Cheap first test: only titles starting with one of these words can carry a prefix.
_MAYBE_PREFIX = re.compile(r"^\W*(the\s+)?(errat|corrig|correc|notice|retract|expression|"
                           r"editorial|repl|response|in\s+re|authors?|publishers?|comment|"
                           r"invited|re\b)", re.IGNORECASE)
_MAYBE_SUFFIX = re.compile(r"(reply|response|comments?|commentary|\d\)\)?)\W*$",
                           re.IGNORECASE)
# The article a correction notice corrects, cited after the title: Web of Science's
# "(vol 360, pg 542, 2009)" and Embase's "(New England Journal of Medicine (2009) 360
# (542))".
_CORRECTION_CITATION = re.compile(
    r"\s*\(\s*vol\s+\w+\s*,\s*pg\s+\w+\s*,\s*\d{4}\s*\)\s*\.?$"
    r"|\s*\([^()]*[a-z][^()]*\(\d{4}\)\s*\d+\s*(\(\s*\w+\s*\)\s*)?,?\s*\(\s*[\w-]+\s*\)\s*\)"
    r"\s*\.?$")
# A reply or comment named after the title: "authors' reply" in any form, or "reply" /
# "comment" set off by punctuation.
_SUFFIX = re.compile(r"(\s+[-:.\u2013(\[]?\s*(the\s+)?(?P<reply>authors?'?\s+(reply|response)"
                     r"|(?<=[-:.\u2013(\[ ])(?<![a-z0-9] )(reply|in\s+reply))"
                     r"|\s*[-:.\u2013(\[]\s*(comments?|commentary|editorial\s+comment))"
                     r"\s*[)\].]*$")
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_NUMBERS = re.compile(r"\d+")
# PubMed CommentsCorrections RefTypes: (report side, article side, relation).
_REF_TYPES = {"ErratumFor": ERRATUM, "RetractionOf": RETRACTION,
              "ExpressionOfConcernFor": CONCERN, "CommentOn": COMMENT}
_REF_TYPES_ARTICLE = {"ErratumIn": ERRATUM, "RetractionIn": RETRACTION,
                      "ExpressionOfConcernIn": CONCERN, "CommentIn": COMMENT}


def _fold(text: str) -> str:
    if text.isascii():
        return text.casefold().strip()
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch)).casefold().strip()


def _normalise(text: str) -> str:
    return " ".join(_NON_WORD.sub(" ", _fold(text)).split())


def split_report_title(title: str) -> tuple[str, str]:
    """The kind of related report a title announces, and the title without the prefix.

    Prefixes are removed repeatedly ("Reply to: Comment on 'X'" gives ``reply`` and ``x``);
    the kind is that of the first prefix. A title with no such prefix gives ``("", title)``.
    A publisher's ``RETRACTED:`` or ``WITHDRAWN:`` in front of an article's own title is
    removed too but makes no kind: that record *is* the article.

    Returns
    -------
    tuple of str
        ``(kind, core)``; ``core`` is normalised (see :func:`sysrev.dedup.normalise_title`).
    """
    text = _fold(title or "")
    text = _RETRACTED_TITLE.sub("", text)
    kind = ""
    cited = _CORRECTION_CITATION.search(text)
    if cited:  # "… (vol 360, pg 542, 2009)": Web of Science's title for a correction
        kind = ERRATUM
        text = text[:cited.start()]
    suffix = _SUFFIX.search(text)
    if suffix:  # "… Syndrome AUTHORS REPLY", "…: Reply", "… (comment)"
        kind = REPLY if suffix.group("reply") else COMMENT
        text = text[:suffix.start()]
    for _ in range(3):
        for name, pattern in _PREFIXES:
            match = pattern.match(text)
            if match and match.end() > 0:
                kind = kind or name
                text = text[match.end():].lstrip(" :.-\u2013'\"\u2018\u2019\u201c\u201d«»[(")
                break
        else:
            break
    # A citation of the article after its title ("[J Clin 2019;12:34]") is not title.
    text = _TRAILING_CITATION.sub("", text) if kind else text
    return kind, _normalise(text)


def title_report_kind(title: str) -> str:
    """The related-report kind a title announces by a prefix or suffix, or ``""``."""
    title = title or ""
    if _MAYBE_PREFIX.match(title) or _maybe_suffix(title):
        return split_report_title(title)[0]
    return ""


#: Longest text :data:`_MAYBE_SUFFIX` matches before its trailing non-word characters.
_MAYBE_SUFFIX_WORD = len("commentary")


def _maybe_suffix(title: str) -> bool:
    """``_MAYBE_SUFFIX.search(title)``, looking only at the title's end: a match is one of
    its words (or a digit) ending at the title's last word character, followed by
    non-word characters only, so it starts within :data:`_MAYBE_SUFFIX_WORD` characters
    of that one (a search over the whole title tries every position: most of the time
    :func:`report_kinds` took on a million titles)."""
    end = len(title)
    # \W in a str pattern: neither alphanumeric (str.isalnum) nor "_"
    while end and not (title[end - 1].isalnum() or title[end - 1] == "_"):
        end -= 1
    return _MAYBE_SUFFIX.search(title, max(0, end - _MAYBE_SUFFIX_WORD)) is not None


def report_kind(title: str, publication_types: str = "") -> str:
    """``erratum``, ``retraction``, ``expression_of_concern``, ``comment``, ``reply`` or
    ``""`` (an article) from the title's prefix, else from the publication types.

    ``Retracted Publication`` is the type of the retracted *article* and gives ``""``;
    ``Letter`` and ``Editorial`` alone are not enough to call a record a comment.
    """
    return title_report_kind(title) or _pubtype_kind(publication_types)


def _pubtype_kind(publication_types: str) -> str:
    types = (publication_types or "").casefold()
    for needle, name in _PUBTYPE_KIND:
        if needle in types:
            return name
    return ""


def report_kinds(titles: Sequence[str], publication_types: Sequence[str]) -> list[str]:
    """:func:`report_kind` of many records at once (the same values, computed once per
    distinct publication-type string, and the title parsed only where it may carry a
    prefix or suffix)."""
    by_type: dict[str, str] = {}
    out = []
    for title, types in zip(titles, publication_types):
        kind = title_report_kind(title)
        if not kind:
            kind = by_type.get(types)
            if kind is None:
                kind = by_type[types] = _pubtype_kind(types)
        out.append(kind)
    return out


def strip_retracted_prefix(title: str) -> str:
    """The title without a publisher's ``RETRACTED:``/``WITHDRAWN:`` prefix (case kept)."""
    return _RETRACTED_TITLE_RAW.sub("", title or "")


def is_retracted_title(title: str) -> bool:
    """True when the publisher marked the article's own title ``RETRACTED:``/``WITHDRAWN:``."""
    return bool(_RETRACTED_TITLE.match(_fold(title or "")))


def parse_comments_corrections(value: str) -> list[tuple[str, str]]:
    """``"ErratumIn 123; RetractionIn 456"`` -> ``[("ErratumIn", "123"), ...]``."""
    out = []
    for part in (value or "").split(";"):
        words = part.split()
        if len(words) >= 2 and words[-1].isdigit():
            out.append((words[0], words[-1].lstrip("0")))
    return out


def retraction_status(publication_types: str, comments_corrections: str, title: str) -> str:
    """``retracted (…evidence)``, ``expression of concern (…)`` or ``""`` for one record."""
    evidence_retracted, evidence_concern = [], []
    if "retracted publication" in (publication_types or "").casefold():
        evidence_retracted.append("publication type Retracted Publication")
    for ref_type, pmid in parse_comments_corrections(comments_corrections):
        if ref_type == "RetractionIn":
            evidence_retracted.append(f"RetractionIn PMID {pmid}")
        elif ref_type == "ExpressionOfConcernIn":
            evidence_concern.append(f"ExpressionOfConcernIn PMID {pmid}")
    if is_retracted_title(title):
        evidence_retracted.append("title marked retracted/withdrawn")
    if evidence_retracted:
        return f"{RETRACTED} ({'; '.join(evidence_retracted)})"
    if evidence_concern:
        return f"{EXPRESSION_OF_CONCERN} ({'; '.join(evidence_concern)})"
    return ""


def combine_status(values: Sequence[str]) -> str:
    """One status from several (a cluster's records and its linked notices): retracted wins
    over an expression of concern; evidence is merged and deduplicated in order."""
    def evidence(value: str) -> list[str]:
        m = re.match(r"^[^(]*\((.*)\)$", value)
        return [e.strip() for e in m.group(1).split(";")] if m else []

    values = [v for v in values if isinstance(v, str) and v.strip()]
    for status in (RETRACTED, EXPRESSION_OF_CONCERN):
        chosen = [v for v in values if v.startswith(status)]
        if chosen:
            seen = list(dict.fromkeys(e for v in chosen for e in evidence(v)))
            return f"{status} ({'; '.join(seen)})" if seen else status
    return ""


def find_related(ids: np.ndarray, kinds: Sequence[str], cores: Sequence[str],
                 titles: Sequence[str], pairs: np.ndarray, *, doi: Sequence[str],
                 pmid: Sequence[str], journal_match, volume: np.ndarray,
                 first_page: np.ndarray, raw_titles: Sequence[str],
                 corrections: Sequence[str], year: np.ndarray | None = None,
                 threads: int = 1) -> pd.DataFrame:
    """Links between related reports and the articles they concern.

    Parameters
    ----------
    ids, kinds, cores, titles
        Per record: id, :func:`report_kind`, title without report prefix, normalised title.
    pairs
        Candidate pairs ``(i, j)`` (from blocking); PubMed CommentsCorrections links are
        added whatever the blocking found.
    doi, pmid, volume, first_page, raw_titles, corrections
        Per record: normalised DOI and PMID, volume and first page numbers (-1 missing),
        the title as given, and ``comments_corrections`` (``"ErratumIn 123; …"``).
    journal_match
        ``journal_match(i, j) -> bool``: the two records are in the same journal.
    year
        Per record: publication year (-1 missing); a citation must give the article's year.
    threads
        Worker threads for the title scores.

    Returns
    -------
    pandas.DataFrame
        ``report, article, relation, evidence, strength`` as record indices (one row per
        linked pair; the strongest evidence first in ``strength``: 0 PubMed, 1 DOI,
        2 title, 3 citation; specificity: PubMed, DOI, citation, title).
    """
    kinds = np.asarray(kinds, dtype=object)
    rows: dict[tuple[int, int], tuple[str, str, int]] = {}
    title_scores: dict[tuple[int, int], float] = {}

    # Specificity of each kind of evidence: PubMed, DOI, citation, title.
    rank = {0: 0, 1: 1, 3: 2, 2: 3}

    def add(r: int, a: int, relation: str, evidence: str, strength: int) -> None:
        old = rows.get((r, a))
        if old is None or rank[strength] < rank[old[2]]:
            rows[(r, a)] = (relation, evidence, strength)

    # PubMed's own links, in both directions.
    index_of_pmid: dict[str, int] = {}
    linking = [i for i, value in enumerate(corrections) if value]
    if linking:
        for i, p in enumerate(pmid):
            if p:
                index_of_pmid.setdefault(p, i)
    for i in linking:
        for ref_type, target in parse_comments_corrections(corrections[i]):
            j = index_of_pmid.get(target)
            if j is None or j == i:
                continue
            if ref_type in _REF_TYPES:
                add(i, j, _REF_TYPES[ref_type], f"PubMed {ref_type} {target}", 0)
            elif ref_type in _REF_TYPES_ARTICLE:
                add(j, i, _REF_TYPES_ARTICLE[ref_type], f"PubMed {ref_type} {pmid[j]}", 0)

    if len(pairs):
        a, b = pairs[:, 0], pairs[:, 1]
        ka, kb = kinds[a], kinds[b]
        # A report and an article; or a reply and the comment it answers.
        one = ((ka != "") & (kb == "")) | ((ka == "") & (kb != ""))
        one |= ((ka == REPLY) & (kb == COMMENT)) | ((ka == COMMENT) & (kb == REPLY))
        sel = np.nonzero(one)[0]
        rep = np.where((ka[sel] != "") & ~((ka[sel] == COMMENT) & (kb[sel] == REPLY)),
                       a[sel], b[sel])
        art = np.where(rep == a[sel], b[sel], a[sel])
        cores_arr = np.asarray(cores, dtype=object)
        titles_arr = np.asarray(titles, dtype=object)
        # A comment answered by a reply is compared by its core title too.
        target = np.where(kinds[art] == "", titles_arr[art], cores_arr[art])
        score = process.cpdist(cores_arr[rep], target, scorer=fuzz.ratio,
                               workers=threads) if len(sel) else np.zeros(0)
        for r, t, s in zip(rep.tolist(), art.tolist(), np.asarray(score).tolist()):
            relation = kinds[r]
            core, other = cores[r], (titles[t] if kinds[t] == "" else cores[t])
            short, long_ = sorted((core, other), key=len)
            # Numbers must agree: an erratum to Part 1 is not one to Part 2.
            same_numbers = long_.startswith(short) or \
                set(_NUMBERS.findall(core)) == set(_NUMBERS.findall(other))
            if len(short) >= MIN_CORE_LENGTH and same_numbers and (
                    s >= CORE_TITLE_MATCH or long_.startswith(short)):
                add(r, t, relation, f"title after the {relation.replace('_', ' ')} prefix "
                    f"matches ({s:.0f})", 2)
                title_scores[(r, t)] = 100.0 if long_.startswith(short) else s
            elif doi[r] and doi[r] == doi[t]:
                add(r, t, relation, f"same DOI {doi[r]}", 1)
    # A report whose title cites volume and first page of an article in its journal
    # ("Correction to Ann Rheum Dis 2019;78:899-907"): looked up directly, as blocking on
    # titles cannot bring the two together.
    cited = {r: sorted({int(x) for x in _NUMBERS.findall(raw_titles[r] or "")})
             for r in np.nonzero(kinds != "")[0].tolist()}
    # The articles at a volume and first page some report cites (looked up for those only).
    wanted = {(v, pg) for numbers in cited.values() for v in numbers for pg in numbers
              if v != pg}
    volume, first_page = np.asarray(volume, dtype=np.int64), np.asarray(first_page,
                                                                        dtype=np.int64)
    candidates = np.nonzero((kinds == "") & (volume >= 0) & (first_page >= 0)
                            & np.isin(volume, [v for v, _ in wanted])
                            & np.isin(first_page, [pg for _, pg in wanted]))[0]
    place: dict[tuple[int, int], list[int]] = {}
    for i in candidates.tolist():
        place.setdefault((int(volume[i]), int(first_page[i])), []).append(i)
    for r, numbers in cited.items():
        for v in numbers:
            for pg in numbers:
                for t in place.get((v, pg), []) if v != pg else []:
                    if t != r and (year is None or int(year[t]) in numbers) and \
                            journal_match(r, t):
                        add(r, t, kinds[r], f"cites volume {v}, page {pg} in the same "
                            "journal", 3)
    # Each report keeps its links of the most specific kind only: PubMed, then DOI, then a
    # citation of volume and page, then the title, and by title only the best-matching
    # articles (an erratum to "Eculizumab for aHUS" is not one to "Eculizumab for congenital
    # aHUS" in the same issue).
    best: dict[int, int] = {}
    for (r, _), v in rows.items():
        best[r] = min(best.get(r, 9), rank[v[2]])
    top: dict[int, float] = {}
    for (r, t), sc in title_scores.items():
        top[r] = max(top.get(r, 0.0), sc)
    # A citation that fits several articles ("542-544" also gives page 544, where the next
    # article starts) keeps those whose title matches too, when there are any.
    cited_titled = {r for (r, t), v in rows.items() if v[2] == 3 and (r, t) in title_scores}
    kept = {key: v for key, v in rows.items() if rank[v[2]] == best[key[0]] and
            (v[2] != 2 or title_scores[key] >= top[key[0]] - 2.0) and
            (v[2] != 3 or key[0] not in cited_titled or key in title_scores)}
    out = pd.DataFrame([(r, t, *v) for (r, t), v in kept.items()],
                       columns=["report", "article", "relation", "evidence", "strength"])
    return out.sort_values(["report", "article"], kind="mergesort").reset_index(drop=True)
