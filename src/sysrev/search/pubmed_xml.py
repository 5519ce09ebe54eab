"""Parsing E-utilities efetch XML (``PubmedArticleSet``) into record-table rows with Bio.Entrez."""

from __future__ import annotations

import html
import logging
import re
from pathlib import Path
from typing import Any, Iterator

from Bio import Entrez

from sysrev.errors import InputError
from sysrev.imports.records import clean_text

log = logging.getLogger(__name__)

_TAG = re.compile(r"<[^>]+>")


def plain_text(value: Any) -> str | None:
    """Text of a title or abstract with inline HTML/MathML tags removed and entities decoded."""
    text = clean_text(value)
    if text is None:
        return None
    return clean_text(html.unescape(_TAG.sub("", text)))


def _abstract(article: dict) -> str | None:
    abstract = article.get("Abstract")
    if not abstract:
        return None
    parts = []
    for section in abstract.get("AbstractText", []):
        label = getattr(section, "attributes", {}).get("Label")
        text = plain_text(section)
        if text:
            parts.append(f"{label}: {text}" if label else text)
    return " ".join(parts) or None


def _authors(author_list: Any) -> str | None:
    names = []
    for author in author_list or []:
        if "CollectiveName" in author:
            names.append(plain_text(author["CollectiveName"]))
        elif "LastName" in author:
            initials = author.get("Initials") or ""
            names.append(f"{author['LastName']} {initials}".strip())
    names = [n for n in names if n]
    return "; ".join(names) or None


def _article_ids(ids: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in ids or []:
        kind = getattr(item, "attributes", {}).get("IdType")
        if kind and kind not in found:
            found[kind] = str(item)
    return found


#: CommentsCorrections RefTypes kept in ``comments_corrections``: those that tie a record to
#: its erratum, retraction, expression of concern or comment (``Cites`` and the like are not).
LINK_REF_TYPES = ("ErratumIn", "ErratumFor", "RetractionIn", "RetractionOf",
                  "ExpressionOfConcernIn", "ExpressionOfConcernFor", "CommentIn", "CommentOn",
                  "RetractedAndRepublishedIn", "RetractedAndRepublishedFrom")


def _comments_corrections(citation: dict) -> str | None:
    """``"ErratumIn 123; RetractionIn 456"`` from a MedlineCitation's CommentsCorrectionsList
    (entries without a PMID are left out: they cannot be linked to a record)."""
    out = []
    for entry in citation.get("CommentsCorrectionsList", []) or []:
        ref_type = getattr(entry, "attributes", {}).get("RefType", "")
        pmid = str(entry.get("PMID", "") or "").strip()
        if ref_type in LINK_REF_TYPES and pmid.isdigit():
            out.append(f"{ref_type} {pmid}")
    return "; ".join(dict.fromkeys(out)) or None


def _year(pub_date: dict) -> str | None:
    if "Year" in pub_date:
        return str(pub_date["Year"])
    medline = pub_date.get("MedlineDate")
    match = re.search(r"\d{4}", str(medline or ""))
    return match.group(0) if match else None


def _journal_article(entry: dict) -> dict[str, Any]:
    citation = entry["MedlineCitation"]
    article = citation["Article"]
    journal = article.get("Journal", {})
    issue = journal.get("JournalIssue", {})
    ids = _article_ids(entry.get("PubmedData", {}).get("ArticleIdList"))
    doi = ids.get("doi")
    if not doi:
        for eloc in article.get("ELocationID", []):
            if getattr(eloc, "attributes", {}).get("EIdType") == "doi":
                doi = str(eloc)
                break
    return {
        "pmid": str(citation["PMID"]),
        "doi": doi,
        "title": plain_text(article.get("ArticleTitle")) or plain_text(
            article.get("VernacularTitle")),
        "authors": _authors(article.get("AuthorList")),
        "year": _year(issue.get("PubDate", {})),
        "journal": clean_text(journal.get("ISOAbbreviation") or journal.get("Title")),
        "volume": clean_text(issue.get("Volume")),
        "issue": clean_text(issue.get("Issue")),
        "pages": clean_text((article.get("Pagination") or {}).get("MedlinePgn")),
        "publication_types": "; ".join(str(p) for p in article.get("PublicationTypeList", [])),
        "language": "; ".join(str(x) for x in article.get("Language", [])) or None,
        "abstract": _abstract(article),
        "mesh_terms": "; ".join(str(h["DescriptorName"])
                                for h in citation.get("MeshHeadingList", [])) or None,
        "comments_corrections": _comments_corrections(citation),
    }


def _book_article(entry: dict) -> dict[str, Any]:
    document = entry["BookDocument"]
    book = document.get("Book", {})
    ids = _article_ids(entry.get("PubmedBookData", {}).get("ArticleIdList")
                       or document.get("ArticleIdList"))
    title = document.get("ArticleTitle") or book.get("BookTitle")
    author_lists = document.get("AuthorList") or book.get("AuthorList") or []
    authors = author_lists[0] if author_lists and isinstance(author_lists[0], list) \
        else author_lists
    return {
        "pmid": str(document["PMID"]),
        "doi": ids.get("doi"),
        "title": plain_text(title),
        "authors": _authors(authors),
        "year": _year(book.get("PubDate", {})),
        "journal": plain_text(book.get("BookTitle")),
        "volume": None, "issue": None, "pages": None,
        "publication_types": "; ".join(str(p) for p in document.get("PublicationType", [])),
        "language": "; ".join(str(x) for x in document.get("Language", [])) or None,
        "abstract": _abstract(document),
        "mesh_terms": None,
    }


def parse_pubmed_xml(path: str | Path) -> Iterator[dict[str, Any]]:
    """Yield one dict per ``PubmedArticle`` or ``PubmedBookArticle`` in an efetch XML file.

    ``retraction`` says whether PubMed marks the article retracted (publication type
    ``Retracted Publication``, CommentsCorrections ``RetractionIn``) or under an expression
    of concern (``ExpressionOfConcernIn``), with that evidence; see
    :func:`sysrev.dedup.related.retraction_status`.

    Raises
    ------
    InputError
        When the file is not a complete ``PubmedArticleSet`` (truncated XML, an HTML page, an
        E-utilities ``<ERROR>`` body).
    """
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            data = Entrez.read(handle)
    except Exception as exc:  # Bio.Entrez raises several parser error types
        raise InputError(path, f"not a readable PubmedArticleSet: {exc}") from exc
    if not hasattr(data, "get") or "PubmedArticle" not in data:
        error = data.get("ERROR") if hasattr(data, "get") else None
        raise InputError(path, f"E-utilities returned no PubmedArticleSet"
                               f"{': ' + str(error) if error else ''}")
    for entry in data.get("PubmedArticle", []):
        yield _with_retraction(_journal_article(entry))
    for entry in data.get("PubmedBookArticle", []):
        yield _with_retraction(_book_article(entry))


def _with_retraction(record: dict[str, Any]) -> dict[str, Any]:
    from sysrev.dedup.related import retraction_status

    record.setdefault("comments_corrections", None)
    record["retraction"] = retraction_status(record.get("publication_types") or "",
                                             record.get("comments_corrections") or "",
                                             record.get("title") or "") or None
    return record
