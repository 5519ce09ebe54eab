"""The update report: PubMed records new since the previous search."""

import json
import shutil
from pathlib import Path

import pandas as pd

from sysrev.columns import UPDATE_COLUMNS
from sysrev.search.update import (new_records, previous_snapshot_dir, snapshot_dates,
                                  snapshot_pmids)
from sysrev.tables import read_tsv
from sysrev.workflow.search import pubmed_records, pubmed_update

REPO = Path(__file__).resolve().parents[3]
PUBMED = REPO / "data/denosumab_ra/search/pubmed"


def test_snapshot_dates_skip_partial_and_incomplete_folders(tmp_path):
    shutil.copytree(PUBMED, tmp_path / "pubmed")
    (tmp_path / "pubmed/2026-01-31.partial").mkdir()
    (tmp_path / "pubmed/2026-01-31.partial/provenance.json").write_text("{}")
    (tmp_path / "pubmed/2026-02-28").mkdir()  # no provenance.json: not a snapshot
    assert snapshot_dates(tmp_path / "pubmed") == ["2024-12-31", "2025-06-30"]
    assert previous_snapshot_dir(tmp_path / "pubmed", "2026-03-31").name == "2025-06-30"
    assert previous_snapshot_dir(tmp_path / "pubmed", "2025-06-30").name == "2024-12-31"
    assert previous_snapshot_dir(tmp_path / "pubmed", "2024-12-31") is None
    assert snapshot_dates(tmp_path / "nowhere") == []


def test_bundled_review_has_exactly_one_new_record(tmp_path):
    query = json.loads((PUBMED / "2025-06-30/provenance.json").read_text())["query"]
    searches = tmp_path / "searches.tsv"
    shutil.copy(REPO / "data/denosumab_ra/search/searches.tsv", searches)
    table = tmp_path / "pubmed.tsv"
    snapshot = PUBMED / "2025-06-30"
    pubmed_records(provenance=str(snapshot / "provenance.json"),
                   xml=sorted(str(p) for p in snapshot.glob("*.xml")), query=query,
                   searches=str(searches), output=str(table))
    out = tmp_path / "update.tsv"
    pubmed_update(records=str(table), previous=[str(PUBMED / "2024-12-31/records.xml")],
                  output=str(out))
    update = read_tsv(out)
    assert list(update.columns) == UPDATE_COLUMNS
    assert update["pmid"].tolist() == ["40335975"]
    assert update["record_id"].tolist() == ["pubmed:40335975"]
    assert update["previous_search_date"].tolist() == ["2024-12-31"]


def test_first_search_has_nothing_new_to_report(tmp_path):
    current = pd.DataFrame({c: ["x"] for c in UPDATE_COLUMNS[:-1]})
    assert new_records(current, None, None).empty
    out = tmp_path / "update.tsv"
    table = tmp_path / "pubmed.tsv"
    current.to_csv(table, sep="\t", index=False)
    pubmed_update(records=str(table), previous=[], output=str(out))
    assert out.read_text() == "\t".join(UPDATE_COLUMNS) + "\n"


def test_new_records_sorted_by_pmid():
    current = pd.DataFrame({"record_id": ["pubmed:100", "pubmed:20", "pubmed:3"],
                            "pmid": ["100", "20", "3"], "doi": [None] * 3,
                            "title": ["a", "b", "c"], "authors": [None] * 3,
                            "year": ["2020"] * 3, "journal": [None] * 3})
    fresh = new_records(current, {"20"}, "2024-01-01")
    assert fresh["pmid"].tolist() == ["3", "100"]


def test_snapshot_pmids_reads_every_file():
    pmids = snapshot_pmids([PUBMED / "2025-06-30/records.xml"])
    assert len(pmids) == 29 and "40335975" in pmids
