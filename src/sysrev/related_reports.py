"""Reports of one study found in different places: a trial's registration and the papers
that cite it, a preprint and its journal version.

They are not duplicates (deduplication keeps every one of them), they are related reports:
one study candidate. This module only links them, from what the sources say:

- ``registration_of``: a ClinicalTrials.gov registration (``ctgov:<NCT>``) and a
  publication, when the registration cites the publication's PMID (``referencesModule``),
  when PubMed lists the NCT id among the article's secondary ids (``DataBank``
  ``ClinicalTrials.gov``), or when the NCT id is written in the title or abstract;
- ``preprint_of``: a Europe PMC preprint and a journal article with the same title
  (case, punctuation and white space aside) and the same first author surname.

The table is written beside the record table (``results/<review>/search/related_reports.tsv``)
for the reviewers and for study linking; the deduplication code is not changed.
"""

from __future__ import annotations

import logging
import re
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Iterable

import pandas as pd

log = logging.getLogger(__name__)

RELATED_COLUMNS = ["record_id_a", "record_id_b", "relation", "evidence"]
_NCT = re.compile(r"\bNCT\d{8}\b")


def databank_nct_ids(xml_files: Iterable[str | Path]) -> dict[str, set[str]]:
    """PMID -> the ClinicalTrials.gov ids PubMed lists among the article's DataBank secondary
    ids (``DataBankList/DataBank[DataBankName='ClinicalTrials.gov']/AccessionNumberList``)."""
    found: dict[str, set[str]] = {}
    for path in xml_files:
        for _, element in ET.iterparse(str(path)):
            if element.tag not in ("PubmedArticle", "PubmedBookArticle"):
                continue
            pmid = element.findtext(".//PMID")
            for bank in element.iter("DataBank"):
                if (bank.findtext("DataBankName") or "").strip() != "ClinicalTrials.gov":
                    continue
                for number in bank.iter("AccessionNumber"):
                    if number.text and _NCT.fullmatch(number.text.strip()) and pmid:
                        found.setdefault(pmid.strip(), set()).add(number.text.strip())
            element.clear()
    return found


def _normal_title(title: object) -> str:
    text = unicodedata.normalize("NFKD", str(title or "")).lower()
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def _first_surname(authors: object) -> str:
    first = re.split(r"[;,]", str(authors or ""), maxsplit=1)[0].strip()
    return _normal_title(first.split(" ")[0]) if first else ""


def related_reports(records: pd.DataFrame, *, references: pd.DataFrame | None = None,
                    databank: dict[str, set[str]] | None = None,
                    preprints: set[str] | None = None) -> pd.DataFrame:
    """Link the related reports among ``records`` (the record table).

    ``references``: ``nct_id, pmid`` of the registrations' cited publications;
    ``databank``: PMID -> NCT ids from PubMed's DataBank lists; ``preprints``: record ids
    of preprints.
    """
    rows: dict[tuple[str, str, str], set[str]] = {}

    def link(a: str, b: str, relation: str, evidence: str) -> None:
        rows.setdefault((a, b, relation), set()).add(evidence)

    trials = set(records.loc[records["source"] == "ctgov", "source_id"].astype(str))
    papers = records[records["source"] != "ctgov"]
    by_pmid: dict[str, list[str]] = {}
    for rid, pmid in zip(papers["record_id"], papers["pmid"]):
        if isinstance(pmid, str) and pmid:
            by_pmid.setdefault(pmid, []).append(rid)
    for row in (references.itertuples(index=False) if references is not None else []):
        if row.nct_id in trials:
            for rid in by_pmid.get(str(row.pmid), []):
                link(f"ctgov:{row.nct_id}", rid, "registration_of",
                     "the registration cites the PMID (referencesModule)")
    for pmid, ncts in (databank or {}).items():
        for nct in ncts & trials:
            for rid in by_pmid.get(pmid, []):
                link(f"ctgov:{nct}", rid, "registration_of",
                     "PubMed DataBank ClinicalTrials.gov secondary id")
    for rid, title, abstract in zip(papers["record_id"], papers["title"], papers["abstract"]):
        text = f"{title or ''} {abstract or ''}"
        for nct in set(_NCT.findall(text)) & trials:
            link(f"ctgov:{nct}", rid, "registration_of", "NCT id in the title or abstract")
    if preprints:
        keyed: dict[tuple[str, str], list[str]] = {}
        for rid, title, authors in zip(papers["record_id"], papers["title"], papers["authors"]):
            if rid not in preprints:
                keyed.setdefault((_normal_title(title), _first_surname(authors)), []) \
                    .append(rid)
        pre = papers[papers["record_id"].isin(preprints)]
        for rid, title, authors in zip(pre["record_id"], pre["title"], pre["authors"]):
            key = (_normal_title(title), _first_surname(authors))
            if key[0]:
                for other in keyed.get(key, []):
                    link(rid, other, "preprint_of", "same title and first author")
    table = pd.DataFrame([(a, b, r, "; ".join(sorted(e))) for (a, b, r), e in rows.items()],
                         columns=RELATED_COLUMNS)
    return table.sort_values(RELATED_COLUMNS[:3]).reset_index(drop=True)
