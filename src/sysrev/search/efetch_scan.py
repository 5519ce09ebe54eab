"""Checking an efetch answer before it is stored: a streaming scan of ``PubmedArticleSet`` XML.

The retrieval client must know, for every batch, whether the XML is complete, how many
records it holds and which PMIDs, and must be able to drop a record already stored from an
earlier date window. Parsing each batch into Bio.Entrez objects would do, but it builds a
nested object for every element only to throw it away; an expat scan that notes where each
top-level record starts and ends in the bytes is several times faster and its memory is that
of the batch alone (see BENCHMARKS.md). The record table itself is still parsed with
Bio.Entrez (:mod:`sysrev.search.pubmed_xml`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.parsers import expat

ARTICLE_TAGS = ("PubmedArticle", "PubmedBookArticle")
_PMID_PARENTS = {"PubmedArticle": "MedlineCitation", "PubmedBookArticle": "BookDocument"}
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
    stack: list[str] = []
    articles: list[ArticleSpan] = []
    current: dict = {}
    errors: list[str] = []
    text: list[str] = []

    def start(name: str, attrs: dict) -> None:
        stack.append(name)
        depth = len(stack)
        if depth == 2 and name in ARTICLE_TAGS:
            current.clear()
            current.update(kind=name, start=parser.CurrentByteIndex, pmid=None)
        elif name in ("PMID", "ERROR"):
            text.clear()

    def end(name: str) -> None:
        depth = len(stack)
        if name == "ERROR":
            errors.append("".join(text).strip())
        elif (name == "PMID" and depth == 4 and current and current["pmid"] is None
              and stack[2] == _PMID_PARENTS[current["kind"]]):
            current["pmid"] = "".join(text).strip()
        elif depth == 2 and name in ARTICLE_TAGS:
            index = parser.CurrentByteIndex
            close = data.index(b">", index) + 1
            if not current.get("pmid"):
                raise EutilsResponseError(
                    f"a {name} without a PMID (record {len(articles) + 1})", retryable=False)
            articles.append(ArticleSpan(name, current["pmid"], current["start"], close))
            current.clear()
        stack.pop()

    def chars(value: str) -> None:
        text.append(value)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.buffer_text = True
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        if exc.code in (expat.errors.codes[expat.errors.XML_ERROR_NO_ELEMENTS],
                        expat.errors.codes[expat.errors.XML_ERROR_UNCLOSED_TOKEN],
                        expat.errors.codes[expat.errors.XML_ERROR_PARTIAL_CHAR]) or stack:
            raise TruncatedXMLError(
                f"truncated XML ({len(data)} bytes; {expat.errors.messages[exc.code]} at "
                f"line {exc.lineno})") from None
        raise EutilsResponseError(f"not well-formed XML: {exc}") from None
    if errors:
        raise NcbiError(f"E-utilities error: {'; '.join(e for e in errors if e) or 'ERROR'}")
    return _check_root(data, ScannedSet(tuple(articles)))


def _check_root(data: bytes, scanned: ScannedSet) -> ScannedSet:
    match = re.search(rb"<([A-Za-z_][\w.:-]*)[\s>/]", _strip_prolog(data))
    root = match.group(1).decode() if match else None
    if root != "PubmedArticleSet":
        raise EutilsResponseError(f"a <{root}> document instead of a PubmedArticleSet")
    return scanned


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
