"""Issue 16, "updates that know what is new", for the two sources the demo review searches
once (Europe PMC, citation chasing): two searches against the stand-ins, with faults in
each, and the update table says new, changed and withdrawn (ClinicalTrials.gov and PubMed:
tests/workflow/test_sources.py::test_update_tables_say_new_changed_withdrawn)."""

import dataclasses
from datetime import date

import pandas as pd

from sysrev.search import citations, europepmc
from sysrev.search.adapters import HttpSettings
from sysrev.search.entrez_client import EntrezSettings
from sysrev.workflow.sources import source_update
from tests.rest_stubs import EpmcRecord, RestStub, make_records


def no_sleep(_seconds):
    return None


def _update(source, tmp_path, first, second):
    out = tmp_path / f"{source}.tsv"
    source_update(source=source, current=str(second / "provenance.json"),
                  previous=str(first / "provenance.json"), output=str(out),
                  search_date=second.name)
    table = pd.read_csv(out, sep="\t", dtype=str, keep_default_na=False)
    return table[["record_id", "status"]].values.tolist()


def test_europepmc_update_new_changed_withdrawn(tmp_path):
    day = date(2024, 5, 1)
    before = [EpmcRecord(f"3600000{i}", "MED", f"Denosumab stub article {i}", day,
                         pmid=f"3600000{i}") for i in range(4)]
    after = [before[0], dataclasses.replace(before[1], title="Denosumab stub article 1 (rev)"),
             before[3], EpmcRecord("PPR700009", "PPR", "A new preprint", day)]
    spec = {"query": "denosumab"}
    folders = []
    for when, records, faults in (("2026-01-31", before, ["503", None, "truncated"]),
                                  ("2026-03-31", after, ["429", None, "timeout"])):
        with RestStub(epmc=records, fault_delay=1) as stub:
            stub.faults["search"] += faults
            europepmc.retrieve({**spec, "date": when}, tmp_path / when, HttpSettings(
                base_url=stub.europepmc_url, timeout=0.5, rate=None, page_size=2,
                backoff_base=0.0), sleep=no_sleep)
        folders.append(tmp_path / when)
    assert _update("europepmc", tmp_path, *folders) == [
        ["europepmc:PPR-PPR700009", "new"], ["europepmc:MED-36000001", "changed"],
        ["europepmc:MED-36000002", "withdrawn"]]


def test_citation_chase_update_new_changed_withdrawn(tmp_path):
    records = make_records(8, seed=9, start=date(2018, 1, 1), end=date(2025, 1, 1))
    pmid = [str(r.pmid) for r in records]
    revised = [dataclasses.replace(r, pub_date=date(2025, 2, 2)) if str(r.pmid) == pmid[3]
               else r for r in records]
    folders = []
    for when, recs, linked, faults in (
            ("2026-01-31", records, [pmid[2], pmid[3]], ["503", None, "truncated"]),
            ("2026-03-31", revised, [pmid[3], pmid[4]], ["drop", None, "timeout"])):
        with RestStub(records=recs, links={(pmid[0], "pubmed_pubmed_citedin"): linked},
                      fault_delay=1) as stub:
            stub.faults["elink"] += faults
            citations.retrieve({"seeds": [pmid[0]], "directions": ["citedin"], "date": when},
                               tmp_path / when, EntrezSettings(
                                   base_url=stub.root + "entrez/eutils/", email="t@example.org",
                                   rate=None, timeout=0.5, backoff_base=0.0, batch_size=2),
                               sleep=no_sleep)
        folders.append(tmp_path / when)
    assert _update("citations", tmp_path, *folders) == [
        [f"citations:{pmid[4]}", "new"], [f"citations:{pmid[3]}", "changed"],
        [f"citations:{pmid[2]}", "withdrawn"]]
