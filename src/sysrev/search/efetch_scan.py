"""Checking an efetch answer before it is stored: a streaming scan of ``PubmedArticleSet`` XML.

The retrieval client must know, for every batch, whether the XML is complete, how many
records it holds and which PMIDs, and must be able to drop a record already stored from an
earlier date window. Parsing each batch into Bio.Entrez objects would do, but it builds a
nested object for every element only to throw it away; an expat scan that notes where each
top-level record starts and ends in the bytes is several times faster and its memory is that
of the batch alone (see BENCHMARKS.md): expat checks the document is complete and
well-formed without a Python callback per element, and the records are located in the bytes. The record table itself is still parsed with
Bio.Entrez (:mod:`sysrev.search.pubmed_xml`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from xml.parsers import expat

_HTML = re.compile(rb"^\s*(<!doctype\s+html|<html)", re.IGNORECASE)


class EutilsResponseError(ValueError):
    """An E-utilities answer that is not what was asked for.

    ``retryable`` is true for answers that a second request may fix (truncated XML, an HTML
    error page from a proxy, an ``<ERROR>`` from a busy backend, a wrong record count).
    """

    def __init__(self, message: str, *, retryable: bool = True):
        super().__init__(message)
        self.retryable = retryable


class TruncatedXMLError(EutilsResponseError):
    """The XML stops before its root element is closed."""


class NcbiError(EutilsResponseError):
    """The answer is an E-utilities ``<ERROR>`` body; the message is NCBI's."""


@dataclass(frozen=True)
class ArticleSpan:
    """One top-level record of a ``PubmedArticleSet``: its kind, PMID and byte range."""

    kind: str
    pmid: str
    start: int
    end: int


@dataclass(frozen=True)
class ScannedSet:
    """The records of one efetch answer, in the order they came."""

    articles: tuple[ArticleSpan, ...]

    @property
    def pmids(self) -> list[str]:
        return [a.pmid for a in self.articles]

    def __len__(self) -> int:
        return len(self.articles)


def scan_pubmed_set(data: bytes) -> ScannedSet:
    """Scan efetch XML and return its records' PMIDs and byte spans.

    expat checks that the document is complete and well-formed (in C, with no Python
    callback per element); the records are then located in the bytes: a ``PubmedArticle``
    or ``PubmedBookArticle`` element cannot contain another, and by the PubMed DTD the first
    ``PMID`` inside one is its own (``MedlineCitation``/``BookDocument`` begin with it;
    ``CommentsCorrections`` PMIDs come later).

    Raises
    ------
    TruncatedXMLError
        When the document ends before it is complete (a dropped connection).
    NcbiError
        When the document is an E-utilities ``<ERROR>`` body.
    EutilsResponseError
        When the answer is empty, HTML, not well-formed, not a ``PubmedArticleSet``, or has a
        record without a PMID.
    """
    if not data.strip():
        raise EutilsResponseError("empty answer instead of PubmedArticleSet XML")
    if _HTML.match(data[:512]):
        raise EutilsResponseError("an HTML page instead of PubmedArticleSet XML")
    parser = expat.ParserCreate()
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        if exc.code in _TRUNCATION:
            raise TruncatedXMLError(
                f"truncated XML ({len(data)} bytes; {expat.errors.messages[exc.code]} at "
                f"line {exc.lineno})") from None
        raise EutilsResponseError(f"not well-formed XML: {exc}") from None
    errors = [m.group(1).decode("utf-8", "replace").strip() for m in _ERROR.finditer(data)]
    if errors:
        raise NcbiError(f"E-utilities error: {'; '.join(e for e in errors if e) or 'ERROR'}")
    _check_root(data)
    articles = []
    for match in _ARTICLE.finditer(data):
        kind, start, end = match.group(1).decode(), match.start(), match.end()
        pmid = _PMID.search(data, start, end)
        if not pmid:
            raise EutilsResponseError(
                f"a {kind} without a PMID (record {len(articles) + 1})", retryable=False)
        articles.append(ArticleSpan(kind, pmid.group(1).decode(), start, end))
    return ScannedSet(tuple(articles))


_TRUNCATION = {expat.errors.codes[expat.errors.XML_ERROR_NO_ELEMENTS],
               expat.errors.codes[expat.errors.XML_ERROR_UNCLOSED_TOKEN],
               expat.errors.codes[expat.errors.XML_ERROR_PARTIAL_CHAR]}
_ARTICLE = re.compile(rb"<(PubmedArticle|PubmedBookArticle)[\s>].*?</\1\s*>", re.S)
_PMID = re.compile(rb"<PMID(?:\s[^>]*)?>\s*(\d+)\s*</PMID>")
_ERROR = re.compile(rb"<ERROR>(.*?)</ERROR>", re.S)


def _check_root(data: bytes) -> None:
    match = re.search(rb"<([A-Za-z_][\w.:-]*)[\s>/]", _strip_prolog(data))
    root = match.group(1).decode() if match else None
    if root != "PubmedArticleSet":
        raise EutilsResponseError(f"a <{root}> document instead of a PubmedArticleSet")


_PROLOG_ITEM = re.compile(rb"\s*(<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>)", re.S)


def _strip_prolog(data: bytes) -> bytes:
    # The root element is the first tag that is not a declaration, comment or DOCTYPE.
    position = 0
    while True:
        match = _PROLOG_ITEM.match(data, position)
        if not match:
            return data[position:position + 4096]
        position = match.end()


def without_articles(data: bytes, scanned: ScannedSet, drop: set[str]) -> bytes:
    """The same XML with the records whose PMID is in ``drop`` cut out, bytes otherwise kept."""
    pieces = []
    position = 0
    for article in scanned.articles:
        if article.pmid in drop:
            pieces.append(data[position:article.start])
            position = article.end
    pieces.append(data[position:])
    return b"".join(pieces)


def article_digests(data: bytes) -> dict[str, str]:
    """PMID -> a short digest of that article's XML as PubMed gave it, for every article of a
    PubmedArticleSet: a record's version, so that a revised record shows as changed."""
    return {article.pmid: hashlib.sha256(data[article.start:article.end]).hexdigest()[:16]
            for article in scan_pubmed_set(data).articles}
