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


# -- into deduplication and screening ---------------------------------------------------
#: The relations of this table, as ``dedup/related.tsv`` also names them.
SOURCE_RELATIONS = ("registration_of", "preprint_of")


def load_related_reports(path: str | Path | None) -> pd.DataFrame:
    """``search/related_reports.tsv`` (None or no file: no links)."""
    if path is None or not Path(path).is_file():
        return pd.DataFrame(columns=RELATED_COLUMNS)
    from sysrev.tables import read_tsv
    table = read_tsv(path)
    missing = [c for c in RELATED_COLUMNS if c not in table.columns]
    if missing:
        from sysrev.errors import InputError
        raise InputError(path, f"missing columns: {', '.join(missing)}")
    return table.loc[:, RELATED_COLUMNS].astype(str)


def linked_groups(pairs: Iterable[tuple[str, str]]) -> list[list[str]]:
    """The records that ``pairs`` join, directly or through others (union-find), each group
    sorted, groups in the order of their first record."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        parent[find(a)] = find(b)
    groups: dict[str, list[str]] = {}
    for record in sorted(parent):
        groups.setdefault(find(record), []).append(record)
    return sorted(groups.values())


def cannot_links(links: pd.DataFrame, overrides: pd.DataFrame) -> pd.DataFrame:
    """The related reports as ``different`` overrides for deduplication, so that a preprint
    is never merged with its journal version nor a registration with its papers (they often
    share a title): within the records the links join, every registration, preprint and
    paper is kept apart from the records of another of these kinds (two copies of one paper
    from two databases still merge). A pair the reviewers decided themselves
    (``dedup/overrides.csv``) keeps their decision."""
    kind: dict[str, str] = {}
    for a, b, relation in zip(links["record_id_a"], links["record_id_b"], links["relation"]):
        kind[a] = "registration" if relation == "registration_of" else "preprint"
        kind.setdefault(b, "paper")
    decided = {frozenset(p) for p in zip(overrides["record_id_a"], overrides["record_id_b"])}
    rows = []
    for members in linked_groups(zip(links["record_id_a"], links["record_id_b"])):
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                if kind[a] != kind[b] and frozenset((a, b)) not in decided:
                    rows.append((a, b, "different", f"related reports of one study "
                                 f"candidate ({kind[a]} and {kind[b]})"))
    return pd.DataFrame(rows, columns=["record_id_a", "record_id_b", "decision", "note"])


def dedup_relations(links: pd.DataFrame, clusters: pd.DataFrame) -> pd.DataFrame:
    """The related reports as rows of ``dedup/related.tsv`` (``record_id`` the registration
    or preprint, ``related_record_id`` the paper), between the unique records that stand for
    them (each record's cluster); the evidence names the records when those are not the
    unique ones. Pairs that ended in one cluster (a reviewer said ``same``) are left out."""
    from sysrev.dedup.related import RELATED_COLUMNS as DEDUP_COLUMNS
    cluster_of = dict(zip(clusters["record_id"], clusters["cluster_id"]))
    rows = {}
    for a, b, relation, evidence in links.sort_values(RELATED_COLUMNS[:3]).itertuples(
            index=False):
        rep, art = cluster_of.get(a), cluster_of.get(b)
        if rep is None or art is None or rep == art:
            continue
        if (a, b) != (rep, art):
            evidence += f" (on {a} / {b})"
        rows.setdefault((rep, art), (relation, evidence))
    return pd.DataFrame([(r, a, rel, ev) for (r, a), (rel, ev) in rows.items()],
                        columns=DEDUP_COLUMNS)


def study_candidates(related: pd.DataFrame) -> dict[str, str]:
    """Unique record -> its study candidate: the records joined by ``registration_of`` and
    ``preprint_of`` links (``dedup/related.tsv``) are one candidate, named by its
    registration (the smallest ``ctgov:`` id) or else its smallest record id. Records in no
    such link are not listed (each is its own candidate)."""
    links = related[related["relation"].isin(SOURCE_RELATIONS)]
    out = {}
    for members in linked_groups(zip(links["record_id"], links["related_record_id"])):
        trials = sorted(m for m in members if m.startswith("ctgov:"))
        name = trials[0] if trials else min(members)
        out.update({m: name for m in members})
    return out
