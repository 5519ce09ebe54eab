"""A living-review update: a new search date with new records, old decisions kept."""

import hashlib
import json
import shutil

import pandas as pd
import pytest

from sysrev.update.archive import archive_version
from tests.workflow.conftest import run_snakemake

pytestmark = pytest.mark.workflow

# Two synthetic PubMed records (test fixtures, not review data): PMIDs far above any real one.
NEW_ARTICLES = """
<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM"><PMID Version="1">{pmid}</PMID>
<Article PubModel="Print"><Journal><JournalIssue CitedMedium="Internet"><Volume>1</Volume>
<PubDate><Year>2025</Year></PubDate></JournalIssue><ISOAbbreviation>Test J</ISOAbbreviation>
</Journal><ArticleTitle>Synthetic test record {letter}: denosumab in rheumatoid arthritis
</ArticleTitle><AuthorList><Author><LastName>Tester</LastName><Initials>{letter}</Initials>
</Author></AuthorList><Language>eng</Language><PublicationTypeList><PublicationType
UI="D016449">Randomized Controlled Trial</PublicationType></PublicationTypeList></Article>
</MedlineCitation><PubmedData><ArticleIdList><ArticleId IdType="pubmed">{pmid}</ArticleId>
</ArticleIdList></PubmedData></PubmedArticle>
"""
NEW_PMIDS = ["990000001", "990000002"]


def _add_snapshot(work, old_date, new_date):
    pubmed = work / "data/denosumab_ra/search/pubmed"
    shutil.copytree(pubmed / old_date, pubmed / new_date)
    xml = (pubmed / new_date / "records.xml").read_text(encoding="utf-8")
    extra = "".join(NEW_ARTICLES.format(pmid=p, letter=l) for p, l in zip(NEW_PMIDS, "AB"))
    (pubmed / new_date / "records.xml").write_text(
        xml.replace("</PubmedArticleSet>", extra + "</PubmedArticleSet>"), encoding="utf-8")
    provenance = json.loads((pubmed / new_date / "provenance.json").read_text())
    provenance.update({"search_date": new_date, "count": provenance["count"] + 2,
                       "maxdate": new_date.replace("-", "/")})
    if "pmids" in provenance:
        provenance["pmids"] = sorted(provenance["pmids"] + NEW_PMIDS)
    # A retrieval records each file's digest; snapshots are verified against them when read.
    for entry in provenance.get("files", []):
        if entry["file"] == "records.xml":
            entry["records"] += len(NEW_PMIDS)
            entry["sha256"] = hashlib.sha256(
                (pubmed / new_date / "records.xml").read_bytes()).hexdigest()
    (pubmed / new_date / "provenance.json").write_text(json.dumps(provenance, indent=2))


def test_search_update_keeps_decisions_and_lists_only_new_records(bundled_copy):
    # the first run is the session's finished bundled run (bundled_run asserts it succeeded)
    work = bundled_copy
    before = pd.read_csv(work / "results/denosumab_ra/screening/final_decisions.tsv", sep="\t",
                         keep_default_na=False)
    assert len(pd.read_csv(work / "results/denosumab_ra/screening/to_screen.csv")) == 0
    version = work / "data/denosumab_ra/versions/2025-06-30"
    archive_version(work / "results/denosumab_ra", version, "2025-06-30")
    snapshot_before = (work / "data/denosumab_ra/search/pubmed/2025-06-30/records.xml"
                       ).read_bytes()

    _add_snapshot(work, "2025-06-30", "2026-01-31")
    config = (work / "config/config.yaml").read_text()
    config = config.replace('date: "2025-06-30"', 'date: "2026-01-31"')
    config = config.replace("  previous_version: null", "  previous_version: "
                            "data/denosumab_ra/versions/2025-06-30")
    (work / "config/config.yaml").write_text(config)
    second = run_snakemake(work)
    assert second.returncode == 0, second.stderr[-3000:]

    to_screen = pd.read_csv(work / "results/denosumab_ra/screening/to_screen.csv", dtype=str)
    assert sorted(to_screen["record_id"]) == [f"pubmed:{p}" for p in NEW_PMIDS]
    assert set(to_screen["new_since_last_search"]) == {"yes"}
    assert set(to_screen["stage"]) == {"title_abstract"}
    assert to_screen["pubmed_url"].str.startswith("https://pubmed.ncbi.nlm.nih.gov/").all()

    after = pd.read_csv(work / "results/denosumab_ra/screening/final_decisions.tsv", sep="\t",
                        keep_default_na=False)
    old = after[~after["record_id"].isin([f"pubmed:{p}" for p in NEW_PMIDS])]
    pd.testing.assert_frame_equal(old.reset_index(drop=True), before)

    counts = json.loads((work / "results/denosumab_ra/prisma/counts.json").read_text())
    # The new-studies arm counts only what the new search found: the two new records.
    # (the exports, not searched again, are listed with no new record)
    assert {source: n for source, n in counts["identification"]["databases"].items()
            if n} == {"pubmed": 2}
    assert set(counts["identification"]["databases"]) == {"pubmed", "embase", "wos",
                                                           "central"}
    assert counts["identification"]["duplicates_removed"] == 0
    # Both new records await screening: none is counted as screened.
    assert counts["screening"] == {"records_screened": 0, "records_excluded": 0,
                                   "records_pending": 2}
    assert counts["retrieval"]["reports_sought"] == 0
    assert counts["eligibility"]["reports_assessed"] == 0
    assert counts["included"]["reports"] == 0
    assert all(check["holds"] for check in counts["checks"])
    assert counts["previous"] == {"studies": 5, "reports": 9}
    assert counts["included"]["new_studies"] == 0
    assert counts["included"]["total_studies"] == 5
    assert counts["included"]["total_reports"] == 9
    prisma_csv = pd.read_csv(work / "results/denosumab_ra/prisma/prisma2020.csv", dtype=str,
                             keep_default_na=False)
    values = dict(zip(prisma_csv["data"], prisma_csv["n"]))
    assert values["previous_studies"] == "5" and values["new_studies"] == "0"
    search = json.loads((work / "results/denosumab_ra/audit/search.json").read_text())
    pubmed = [s for s in search["parameters"]["sources"] if s["source"] == "pubmed"][0]
    assert pubmed["search_date"] == "2026-01-31" and pubmed["records"] == 31
    audit = json.loads((work / "results/denosumab_ra/audit/screening.json").read_text())
    assert audit["counts"]["pending_new_since_last_search"] == 2
    assert (work / "data/denosumab_ra/search/pubmed/2025-06-30/records.xml"
            ).read_bytes() == snapshot_before

    # What changed since the archived 2025-06-30 version: the two new PubMed records only.
    changes = pd.read_csv(work / "results/denosumab_ra/update/changes.tsv", sep="\t",
                          dtype=str, keep_default_na=False)
    new = changes[(changes["section"] == "record") & (changes["field"] == "new")]
    assert sorted(new["item"]) == [f"pubmed:{p}" for p in NEW_PMIDS]
    assert not len(changes[changes["section"].isin(["study", "report", "extraction",
                                                    "decision"])])
    assert (changes.loc[changes["section"] == "outcome", "changed"] == "no").all()
    versions = pd.read_csv(work / "results/denosumab_ra/update/versions.tsv", sep="\t",
                           dtype=str)
    assert list(versions.loc[versions["outcome"] == "sae", "version"]) == [
        "2020-12-31", "2025-06-30", "2026-01-31"]

