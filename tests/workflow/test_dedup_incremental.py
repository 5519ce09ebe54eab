"""The bundled review as a living update: the dedup index of a run without the PubMed record
that is new since the earlier snapshot (search/pubmed/2024-12-31), then the rule
deduplicate_records on every record uses it (an update of one record) and gives what the
from-scratch run gave, but for the kept record the module says may differ."""

import json
import shutil

import pytest

from sysrev.dedup.incremental import differences
from sysrev.dedup.unique import read_clusters
from sysrev.tables import read_tsv
from sysrev.workflow.dedup import deduplicate_records
from tests.workflow.conftest import run_snakemake

pytestmark = pytest.mark.workflow

TABLES = ("unique", "duplicates", "clusters", "maybe", "related")


def test_update_from_earlier_snapshot(bundled_run, tmp_path):
    work = tmp_path / "project"
    shutil.copytree(bundled_run, work, symlinks=True)
    folder = work / "results/denosumab_ra"
    scratch = {k: (folder / f"dedup/{k}.tsv").read_bytes() for k in TABLES}
    audit = json.loads((folder / "audit/dedup.json").read_text())
    last_run = folder / "dedup/index/last_run.json"
    assert json.loads(last_run.read_text())["mode"] == "from scratch"
    records = read_tsv(folder / "search/records.tsv")
    earlier = set(json.loads((work / "data/denosumab_ra/search/pubmed/2024-12-31/"
                                     "provenance.json").read_text())["pmids"])
    new = (records["source"] == "pubmed") & ~records["pmid"].isin(earlier)
    assert list(records.loc[new, "record_id"]) == ["pubmed:40335975"]
    # The earlier run: its outputs and index, in place of the bundled run's.
    before_path = tmp_path / "before.tsv"
    records[~new].to_csv(before_path, sep="\t", index=False, lineterminator="\n")
    deduplicate_records(records=str(before_path), audit=str(tmp_path / "audit.json"),
                        source_priority=audit["parameters"]["source_priority"],
                        errata=audit["parameters"]["errata"],
                        **{k: str(folder / f"dedup/{k}.tsv") for k in TABLES})
    before = read_clusters(folder / "dedup/clusters.tsv")

    result = run_snakemake(work, "--forcerun", "deduplicate_records",
                           "results/denosumab_ra/audit/dedup.json")
    assert result.returncode == 0, result.stderr[-3000:]
    counts = json.loads((folder / "audit/dedup.json").read_text())["counts"]
    run = json.loads(last_run.read_text())
    assert run["mode"] == "update"
    assert run["new_records"] == 1
    for name in ("maybe", "related"):
        assert (folder / f"dedup/{name}.tsv").read_bytes() == scratch[name], name
    scratch_path = tmp_path / "scratch_clusters.tsv"
    scratch_path.write_bytes(scratch["clusters"])
    found = differences(before, read_clusters(scratch_path),
                        read_clusters(folder / "dedup/clusters.tsv"), ["pubmed:40335975"])
    # The one difference: from scratch the new PubMed record is kept (source priority);
    # the update keeps the Embase record kept before. The audit's counts are those of the
    # tables: the same records kept and removed per source as from scratch but for that
    # one kept record (pubmed kept one fewer, embase one more).
    assert found.to_dict("records") == [{
        "first_record_id": "embase:SYSREV-EMB-0026", "kept_from_scratch": "pubmed:40335975",
        "kept_in_update": "embase:SYSREV-EMB-0026", "cause": "kept"}]
    for key in ("records_in", "unique_records", "duplicates_removed", "related_reports"):
        assert counts[key] == audit["counts"][key], key
    assert counts["by_source"]["pubmed"]["kept"] == audit["counts"]["by_source"]["pubmed"]["kept"] - 1
    assert counts["by_source"]["embase"]["kept"] == audit["counts"]["by_source"]["embase"]["kept"] + 1
