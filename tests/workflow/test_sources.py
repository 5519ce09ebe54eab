"""The sources demo review (PubMed, ClinicalTrials.gov, Europe PMC and citation chasing;
.test/data/sources_demo): it runs with no network from its frozen snapshots, fills the
registers and other-methods arms of the PRISMA flow, lists what is new, changed and
withdrawn per source, keeps a decision on a withdrawn record; the offline route (snakemake
retrieve on one machine, the run on another) works; and a missing snapshot with no network
stops at once, saying what to do."""

import hashlib
import importlib.util
import json
import shutil
import socket
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.workflow.conftest import REPO, copy_project, environment, run_snakemake

pytestmark = pytest.mark.workflow

CONFIG = ".test/config/sources_demo.yaml"
DATA = Path(".test/data/sources_demo")
RESULTS = Path("results/sources_demo")
URL_VARIABLES = ("SYSREV_EUTILS_URL", "SYSREV_CTGOV_URL", "SYSREV_EUROPEPMC_URL")


def closed_port_url() -> str:
    with socket.socket() as sock:  # nothing listens there: every connection is refused
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/"


def offline():
    url = closed_port_url()
    return environment(**{name: url for name in URL_VARIABLES})


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def tsv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> Path:
    work = copy_project(tmp_path_factory.mktemp("sources_demo"))
    with offline():
        result = run_snakemake(work, "--configfile", CONFIG)
    assert result.returncode == 0, result.stderr[-5000:]
    return work


def test_demo_runs_offline_from_its_snapshots(demo_run):
    assert not list(demo_run.glob("logs/sources_demo/retrieve_*"))
    records = tsv(demo_run / RESULTS / "search/records.tsv")
    assert records["source"].value_counts().to_dict() == {
        "pubmed": 23, "europepmc": 6, "ctgov": 5, "citations": 5}
    audit = json.loads((demo_run / RESULTS / "audit/search.json").read_text())
    snapshots = {s["source"]: s.get("snapshot") for s in audit["parameters"]["sources"]}
    assert snapshots["ctgov"]["search_date"] == "2026-01-31"
    assert snapshots["citations"]["count"] == 5
    with offline():
        rerun = run_snakemake(demo_run, "--configfile", CONFIG)
    assert rerun.returncode == 0 and "Nothing to be done" in rerun.stdout + rerun.stderr


def test_update_tables_say_new_changed_withdrawn(demo_run):
    updates = demo_run / RESULTS / "search/updates"
    ctgov = tsv(updates / "ctgov.tsv")
    assert ctgov[["record_id", "status"]].values.tolist() == [
        ["ctgov:NCT01000065", "new"], ["ctgov:NCT01000013", "changed"],
        ["ctgov:NCT01000039", "withdrawn"]]
    changed = ctgov[ctgov["status"] == "changed"].iloc[0]
    assert (changed["previous_version"], changed["version"]) == ("2014-05-04", "2025-11-03")
    pubmed = tsv(updates / "pubmed.tsv")
    assert pubmed.groupby("status")["record_id"].apply(list).to_dict() == {
        "new": ["pubmed:30000119"], "changed": ["pubmed:30000008"],
        "withdrawn": ["pubmed:30000003"]}
    for first in ("europepmc", "citations"):  # a first search: nothing to compare with
        assert tsv(updates / f"{first}.tsv").empty


def test_a_decision_on_a_withdrawn_record_is_kept_and_reported(demo_run):
    audit = json.loads((demo_run / RESULTS / "audit/screening.json").read_text())
    kept = audit["counts"]["decisions_on_withdrawn_records"]
    assert [(k["record_id"], k["decision"], k["line"]) for k in kept] == [
        ("pubmed:30000003", "exclude", 13)]
    log = (demo_run / "logs/sources_demo/screen_records/screen_records.log").read_text()
    assert "pubmed:30000003 is kept" in log


def test_a_study_link_to_a_withdrawn_record_is_kept_and_reported(tmp_path, caplog):
    """studies.csv naming a record its source's new search no longer returns: the link is
    set aside and reported (like a decision on a withdrawn record), not "no such record";
    a withdrawn main report says what to do."""
    from sysrev.errors import InputErrors
    from sysrev.screening import RecordMatcher
    from sysrev.screening.studies import read_study_links
    records = pd.DataFrame({"record_id": ["pubmed:1", "pubmed:2"], "source": ["pubmed"] * 2,
                            "source_id": ["1", "2"], "pmid": ["1", "2"], "doi": [None] * 2,
                            "title": ["One", "Two"], "year": ["2020"] * 2,
                            "authors": ["A"] * 2})
    matcher = RecordMatcher(records, pd.DataFrame({"record_id": ["pubmed:1", "pubmed:2"],
                                                   "cluster_id": ["pubmed:1", "pubmed:2"]}))
    finals = pd.DataFrame({"record_id": ["pubmed:1", "pubmed:2"], "stage": ["full_text"] * 2,
                           "final_decision": ["include"] * 2})
    path = tmp_path / "studies.csv"
    path.write_text("study_id,record_id,role\nS1,pubmed:1,main\nS1,pubmed:3,secondary\n"
                    "S2,pubmed:2,main\n", encoding="utf-8")
    with pytest.raises(InputErrors, match="no such record 'pubmed:3'"):
        read_study_links(path, matcher, finals)
    with caplog.at_level("WARNING"):
        links, aside = read_study_links(path, matcher, finals, {"pubmed:3"})
    assert links["record_id"].tolist() == ["pubmed:1", "pubmed:2"]
    assert aside == [{"study_id": "S1", "record_id": "pubmed:3", "role": "secondary",
                      "file": str(path), "line": 3}]
    assert any("pubmed:3" in r.getMessage() and "kept" in r.getMessage()
               for r in caplog.records)
    path.write_text("study_id,record_id,role\nS1,pubmed:1,secondary\nS1,pubmed:3,main\n"
                    "S2,pubmed:2,main\n", encoding="utf-8")
    with pytest.raises(InputErrors, match="main report pubmed:3 was withdrawn"):
        read_study_links(path, matcher, finals, {"pubmed:3"})


def test_search_audit_gives_date_limits_and_the_methods_say_them(demo_run):
    audit = json.loads((demo_run / RESULTS / "audit/search.json").read_text())
    snapshots = {s["source"]: s.get("snapshot") for s in audit["parameters"]["sources"]}
    assert snapshots["ctgov"]["date_limit"] == \
        "AREA[StudyFirstPostDate]RANGE[MIN,2026-01-31]"
    assert snapshots["europepmc"]["date_limit"] == "FIRST_PDATE:[1900-01-01 TO 2026-01-31]"
    assert {s: snapshots[s]["records_after_search_date"]
            for s in ("ctgov", "europepmc", "citations")} == {
        "ctgov": 0, "europepmc": 0, "citations": 0}
    methods = (demo_run / RESULTS / "report/methods.html").read_text()
    assert "AREA[StudyFirstPostDate]RANGE[MIN,2026-01-31]" in methods
    assert "elink has no date limit" in methods


def test_prisma_registers_and_other_methods_arms(demo_run):
    counts = json.loads((demo_run / RESULTS / "prisma/counts.json").read_text())
    ident = counts["identification"]
    assert ident["registers"] == {"ctgov": 5}
    assert ident["databases"] == {"europepmc": 6, "pubmed": 23}
    other = counts["other_methods"]
    # 5 chased records, one of them also found by PubMed: counted in the database arm.
    assert (other["records_identified"], other["duplicates_of_databases_and_registers"]) \
        == (4, 1)
    assert (other["reports_sought"], other["reports_assessed"], other["reports_excluded"],
            other["reports_included"]) == (2, 2, 1, 1)
    assert other["exclusion_reasons"] == {"wrong population": 1}
    assert counts["included"]["studies"] == 3 and counts["included"]["reports"] == 4
    csv = pd.read_csv(demo_run / RESULTS / "prisma/prisma2020.csv", dtype=str,
                      keep_default_na=False).set_index("data")["n"]
    assert csv["register_results"] == "5"
    assert csv["register_specific_results"] == "ClinicalTrials.gov, 5"
    assert (csv["citations_results"], csv["other_sought_reports"], csv["other_assessed"]) \
        == ("4", "2", "2")
    assert csv["other_excluded"] == "wrong population, 1"
    svg = (demo_run / RESULTS / "prisma/flow.svg").read_text()
    assert "Identification of studies via other methods" in svg
    methods = (demo_run / RESULTS / "report/methods.html").read_text()
    assert "pubmed_pubmed_citedin" in methods and "outside PMC" in methods


def test_trial_and_preprint_are_related_reports_not_duplicates(demo_run):
    related = tsv(demo_run / RESULTS / "search/related_reports.tsv")
    pairs = set(map(tuple, related[["record_id_a", "record_id_b", "relation"]].values))
    assert ("ctgov:NCT01000000", "pubmed:30000018", "registration_of") in pairs
    assert ("europepmc:PPR-PPR910001", "pubmed:30000018", "preprint_of") in pairs
    duplicates = tsv(demo_run / RESULTS / "dedup/duplicates.tsv")
    assert not set(duplicates["removed_record_id"]) & {"ctgov:NCT01000000",
                                                        "europepmc:PPR-PPR910001"}


def test_a_trial_its_papers_and_a_preprint_are_one_study_candidate(demo_run):
    """The sources' links reach deduplication (kept apart, related in related.tsv and in
    unique.tsv's related_reports) and screening (to_screen.csv names each record's study
    candidate and the candidate's other reports)."""
    related = tsv(demo_run / RESULTS / "dedup/related.tsv")
    assert related[["record_id", "related_record_id", "relation"]].values.tolist() == [
        ["ctgov:NCT01000000", "pubmed:30000018", "registration_of"],
        ["ctgov:NCT01000013", "pubmed:30000022", "registration_of"],
        ["europepmc:PPR-PPR910001", "pubmed:30000018", "preprint_of"]]
    unique = tsv(demo_run / RESULTS / "dedup/unique.tsv").set_index("record_id")
    assert unique.loc["pubmed:30000018", "related_reports"] == (
        "registration_of:ctgov:NCT01000000; preprint_of:europepmc:PPR-PPR910001")
    pending = pd.read_csv(demo_run / RESULTS / "screening/to_screen.csv", dtype=str,
                          keep_default_na=False).set_index("record_id")
    assert pending.loc["europepmc:PPR-PPR910001", "study_candidate"] == "ctgov:NCT01000000"
    assert pending.loc["europepmc:PPR-PPR910001", "related_reports"] == (
        "ctgov:NCT01000000; pubmed:30000018")
    assert pending.loc["ctgov:NCT01000013", "related_reports"] == "pubmed:30000022"


def _generator():
    spec = importlib.util.spec_from_file_location(
        "make_snapshots", REPO / DATA / "make_snapshots.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _set_dates(work: Path, date: str) -> None:
    path = work / CONFIG
    config = yaml.safe_load(path.read_text())
    for source in ("pubmed", "ctgov", "europepmc", "citations"):
        config["search"][source]["date"] = date
    path.write_text(yaml.safe_dump(config, sort_keys=False))


@pytest.mark.slow
def test_offline_route_retrieve_on_one_machine_run_on_another(tmp_path):
    from tests.rest_stubs import RestStub, make_trials
    gen = _generator()
    online = copy_project(tmp_path / "online")
    offline_machine = copy_project(tmp_path / "offline")
    old = digest(online / DATA / "search")
    for work in (online, offline_machine):
        _set_dates(work, "2026-03-31")
    trials = make_trials(7, seed=4, cite={0: ["30000018"]})
    links = {("30000018", "pubmed_pubmed_citedin"): ["30000032", "20000003"],
             ("30000022", "pubmed_pubmed_citedin"): ["20000023"]}
    with RestStub(trials=trials, records=gen.RECORDS + gen.EXTRA, links=links,
                  fault_delay=1) as stub:
        stub.faults["studies"] += ["503", None, "truncated"]
        stub.faults["search"] += ["429"]
        stub.faults["elink"] += ["drop"]
        with environment(SYSREV_EUTILS_URL=stub.root + "entrez/eutils/",
                         SYSREV_CTGOV_URL=stub.ctgov_url,
                         SYSREV_EUROPEPMC_URL=stub.europepmc_url):
            result = run_snakemake(online, "retrieve", "--cores", "1", "--configfile", CONFIG)
    assert result.returncode == 0, result.stderr[-5000:]
    new = {s: online / DATA / "search" / s / "2026-03-31"
           for s in ("pubmed", "ctgov", "europepmc", "citations")}
    assert all((folder / "provenance.json").is_file() for folder in new.values())
    # Only the new snapshots were written: old ones unchanged, no table computed.
    now = digest(online / DATA / "search")
    assert {k: v for k, v in now.items() if k in old} == old
    # (The results folder holds at most the record of which config made it.)
    assert not list((online / RESULTS).rglob("*.tsv"))
    assert not (online / RESULTS / "search").exists()
    # The analysis machine gets the new folders and runs without network.
    for source, folder in new.items():
        shutil.copytree(folder, offline_machine / DATA / "search" / source / "2026-03-31")
    with offline():
        result = run_snakemake(offline_machine, "--configfile", CONFIG)
    assert result.returncode == 0, result.stderr[-5000:]
    ctgov = tsv(offline_machine / RESULTS / "search/updates/ctgov.tsv")
    assert ctgov["previous_search_date"].unique().tolist() == ["2026-01-31"]
    assert ("ctgov:NCT01000039", "new") in set(map(tuple, ctgov[["record_id", "status"]].values))
    assert ("ctgov:NCT01000078", "new") in set(map(tuple, ctgov[["record_id", "status"]].values))


def test_no_network_and_no_snapshot_stops_at_once(tmp_path):
    work = copy_project(tmp_path / "w")
    path = work / CONFIG
    config = yaml.safe_load(path.read_text())
    config["search"]["ctgov"]["date"] = "2026-03-31"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    with offline():
        result = run_snakemake(work, "retrieve", "--configfile", CONFIG)
    assert result.returncode != 0
    log = (work / "logs/sources_demo/retrieve_source/ctgov_2026-03-31.log").read_text()
    assert "ClinicalTrials.gov: no network" in log
    assert "2026-03-31" in log and "Updating without internet" in log
    assert log.count("; retry ") == 1  # two refused tries, then it stops
    assert not (work / DATA / "search/ctgov/2026-03-31").exists()
