"""The search stage against a local E-utilities server: a new search date is retrieved into a
new snapshot, old snapshots stay byte-identical, an existing snapshot is never requested or
re-run, and the API key is written nowhere."""

import hashlib
import json
import math
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.eutils_server import EutilsStub, make_records
from tests.workflow.conftest import environment, run_snakemake

pytestmark = pytest.mark.workflow

SEARCH_TARGETS = ["results/denosumab_ra/search/records.tsv", "results/denosumab_ra/search/update.tsv",
                  "results/denosumab_ra/audit/search.json"]
PUBMED = Path("data/denosumab_ra/search/pubmed")
API_KEY = "sysrev-test-api-key-0f3c9a"
RECORDS = make_records(47, seed=5, start=date(2020, 1, 1), end=date(2026, 1, 31))


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def run(work: Path, stub: EutilsStub, *args: str):
    with environment(SYSREV_EUTILS_URL=stub.url, NCBI_API_KEY=API_KEY):
        return run_snakemake(work, *args)


def set_config(work: Path, **entrez) -> dict:
    path = work / "config/config.yaml"
    config = yaml.safe_load(path.read_text())
    config["search"]["pubmed"]["date"] = "2026-01-31"
    config["entrez"].update(entrez)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return config


def test_bundled_config_requests_nothing(bundled_copy):
    # bundled_run itself ran from scratch with E-utilities pointed at a closed port (OFFLINE):
    # a request there would have failed it. Here, the search targets rerun against the stub.
    work = bundled_copy
    with EutilsStub(RECORDS) as stub:
        result = run(work, stub, *SEARCH_TARGETS)
        assert result.returncode == 0, result.stderr[-3000:]
        assert stub.count() == 0
    assert not (work / "logs/denosumab_ra/retrieve_pubmed").exists()
    update = pd.read_csv(work / "results/denosumab_ra/search/update.tsv", sep="\t", dtype=str)
    assert update["pmid"].tolist() == ["40335975"]
    audit = json.loads((work / "results/denosumab_ra/audit/search.json").read_text())
    assert audit["counts"]["pubmed_new_since_previous_search"] == 1
    assert audit["parameters"]["pubmed_previous_search_date"] == "2024-12-31"


def test_new_search_date_is_retrieved_under_faults_into_a_new_snapshot(bundled_copy):
    work = bundled_copy
    old = {d: digest(work / PUBMED / d) for d in ("2024-12-31", "2025-06-30")}
    set_config(work, batch_size=10, timeout=1, max_tries=4)
    with EutilsStub(RECORDS, fault_delay=3.0) as stub:
        stub.faults["esearch"] += ["503"]
        stub.faults["efetch"] += ["429", None, "truncated", None, "drop", None, "timeout",
                                  None, "wrong_count"]
        first = run(work, stub, *SEARCH_TARGETS)
        assert first.returncode == 0, first.stderr[-5000:]
        requests_after_retrieval = stub.count()
        assert stub.count("efetch") == math.ceil(47 / 10) + 5  # five efetch faults retried

        snapshot = work / PUBMED / "2026-01-31"
        provenance = json.loads((snapshot / "provenance.json").read_text())
        expected = sorted(str(r.pmid) for r in RECORDS)
        assert "pmids" not in provenance  # listed in pmids.txt, its digest recorded
        assert provenance["pmid_list"]["records"] == len(expected)
        assert (snapshot / "pmids.txt").read_text().splitlines() == sorted(expected, key=int)
        assert provenance["retries"] == 6 and provenance["api_key_used"] is True
        assert (snapshot / "provenance.json").stat().st_mode & 0o222 == 0  # protected()
        pubmed = pd.read_csv(work / "results/denosumab_ra/search/pubmed.tsv", sep="\t", dtype=str)
        assert sorted(pubmed["pmid"]) == expected
        # Against the previous search (2025-06-30) every record of the server is new.
        update = pd.read_csv(work / "results/denosumab_ra/search/update.tsv", sep="\t", dtype=str)
        assert sorted(update["pmid"]) == expected
        assert set(update["previous_search_date"]) == {"2025-06-30"}
        audit = json.loads((work / "results/denosumab_ra/audit/search.json").read_text())
        assert audit["counts"]["pubmed_new_since_previous_search"] == 47
        assert audit["counts"]["records_per_source"]["pubmed"] == 47
        log = (work / "logs/denosumab_ra/retrieve_pubmed/retrieve_pubmed.log").read_text()
        assert "batch 5/5" in log and "records/s" in log
        assert {d: digest(work / PUBMED / d) for d in old} == old

        # Nothing changed: nothing to do, nothing requested.
        again = run(work, stub, *SEARCH_TARGETS)
        assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr
        assert stub.count() == requests_after_retrieval

        # Another query for a date that has a snapshot: a clear error, the snapshot untouched.
        frozen = digest(snapshot)
        searches = work / "data/denosumab_ra/search/searches.tsv"
        config = yaml.safe_load((work / "config/config.yaml").read_text())
        old_query = config["search"]["pubmed"]["query"]
        config["search"]["pubmed"]["query"] = "denosumab[tiab]"
        (work / "config/config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        searches.write_text(searches.read_text().replace(old_query, "denosumab[tiab]"))
        changed = run(work, stub, *SEARCH_TARGETS)
        assert changed.returncode != 0
        assert "different query" in (work / "logs/denosumab_ra/pubmed_records/pubmed_records.log").read_text()
        assert "set search.pubmed.date to a new date" in changed.stderr
        assert digest(snapshot) == frozen
        assert stub.count() == requests_after_retrieval

    # The key went to the server but into no file of the project.
    for path in work.rglob("*"):
        if path.is_file():
            assert API_KEY.encode() not in path.read_bytes(), path


def test_new_search_date_retrieves_when_only_the_pubmed_table_is_requested(bundled_copy):
    """Issue 17: after a change of search date, `snakemake results/<review>/search/
    pubmed.tsv` said "Nothing to be done" and kept the table of the old snapshot: Snakemake
    checks nothing but modification times for a job whose inputs wait for a checkpoint. The
    search's settings file (rule search_settings) now carries the date into that job."""
    work = bundled_copy
    settings = work / "results/denosumab_ra/search/settings/pubmed.json"
    assert json.loads(settings.read_text())["date"] == "2025-06-30"
    set_config(work)
    with EutilsStub(RECORDS) as stub:
        result = run(work, stub, "results/denosumab_ra/search/pubmed.tsv")
        assert result.returncode == 0, result.stderr[-3000:]
        assert "Nothing to be done" not in result.stdout + result.stderr
        assert stub.count("efetch") > 0
    assert (work / PUBMED / "2026-01-31/provenance.json").is_file()
    pubmed = pd.read_csv(work / "results/denosumab_ra/search/pubmed.tsv", sep="\t", dtype=str)
    assert sorted(pubmed["pmid"]) == sorted(str(r.pmid) for r in RECORDS)
    assert json.loads(settings.read_text())["date"] == "2026-01-31"
    assert "sysrev@example.org" not in settings.read_text()  # the contact address stays out
