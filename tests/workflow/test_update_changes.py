"""The bundled review as an update of its 2020-12-31 version: what changed, the results by
version, the update paragraph; an incomplete archive; ranked screening and the stopping test
in a run."""

import html
import json
import shutil
import stat

import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy.stats import hypergeom

from tests.workflow.conftest import REPO, run_snakemake

pytestmark = pytest.mark.workflow

RESULTS = "results/denosumab_ra"
VERSION = REPO / "data/denosumab_ra/versions/2020-12-31"


def _copy(bundled_run, target):
    shutil.copytree(bundled_run, target, symlinks=True)
    for path in (target / "data/denosumab_ra/versions/2020-12-31").glob("*.*"):
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    return target


def _changes(workdir):
    table = pd.read_csv(workdir / RESULTS / "update/changes.tsv", sep="\t", dtype=str,
                        keep_default_na=False)
    return {(r.section, r.item, r.field): (r.previous, r.current, r.changed)
            for r in table.itertuples()}, table


def test_changes_since_the_earlier_version(bundled_run):
    rows, table = _changes(bundled_run)
    previous = pd.read_csv(VERSION / "records.tsv", sep="\t", dtype=str)
    current = pd.read_csv(bundled_run / RESULTS / "search/records.tsv", sep="\t", dtype=str)
    for source in ("pubmed", "embase", "wos", "central"):
        before = set(previous.loc[previous["source"] == source, "record_id"])
        now = set(current.loc[current["source"] == source, "record_id"])
        assert rows[("records_per_source", source, "records")][:2] == (str(len(before)),
                                                                        str(len(now)))
        assert rows[("records_per_source", source, "new")][1] == str(len(now - before))
        assert rows[("records_per_source", source, "withdrawn")][1] == "0"
    assert {k[1] for k in rows if k[2] == "new_study"} == {"IWAMOTO2022", "SO2021"}
    new_reports = {k[1] for k in rows if k[2] == "new_report"}
    assert "pubmed:33858976" in new_reports  # the DESIRABLE extension (2021)
    # The same decisions and extraction: nothing changed for the studies of 2020.
    assert not table[(table["section"].isin(["decision", "extraction"]))
                     & (table["changed"] == "yes")].shape[0]
    assert rows[("outcome", "sae", "k")][:2] == ("2", "3")
    assert rows[("outcome", "hypocalcaemia", "k")][:2] == ("0", "1")
    assert rows[("outcome", "erosion", "k")] == ("1", "1", "no")
    summary = pd.read_csv(bundled_run / RESULTS / "analysis/summary.tsv", sep="\t")
    sae = summary.set_index("outcome").loc["sae"]
    assert_allclose(float(rows[("outcome", "sae", "estimate")][1]), sae["estimate"],
                    rtol=1e-5)
    versions = pd.read_csv(bundled_run / RESULTS / "update/versions.tsv", sep="\t", dtype=str)
    assert list(versions.loc[versions["outcome"] == "sae", "version"]) == ["2020-12-31",
                                                                          "2025-06-30"]
    for outcome in ("sae", "erosion", "jsn"):
        assert (bundled_run / RESULTS / f"update/versions_{outcome}.png").stat().st_size > 0
    paragraph = json.loads((bundled_run / RESULTS / "update/paragraph.json").read_text())
    text = paragraph["paragraph"]
    assert text.startswith("This update extends the search from 2020-12-31 to 2025-06-30.")
    assert "2 new studies (Iwamoto 2022 and So 2021) were included, with 4 new reports" in text
    assert "(12 from Cochrane Central Register of Controlled Trials (CENTRAL), " in text
    assert "Serious adverse events (k 2 to 3)" in text
    page = (bundled_run / RESULTS / "report/tables/changes.html").read_text()
    assert "All 98 records were screened" in page
    methods = (bundled_run / RESULTS / "report/methods.html").read_text()
    assert html.escape(text) in methods
    assert "All 98 records were screened at title and abstract" in methods
    counts = json.loads((bundled_run / RESULTS / "prisma/counts.json").read_text())
    assert any("no stopping criterion was needed" in note for note in counts["notes"])
    assert "<h3>Changes since 2020-12-31</h3>" in page


def test_archive_stays_as_it_was(bundled_run):
    for name in ("records.tsv", "summary.tsv", "version.json"):
        assert (bundled_run / "data/denosumab_ra/versions/2020-12-31" / name).read_bytes() \
            == (VERSION / name).read_bytes()


def test_incomplete_archive_is_an_error_naming_the_file(bundled_run, tmp_path):
    work = _copy(bundled_run, tmp_path / "w")
    (work / "data/denosumab_ra/versions/2020-12-31/arms.tsv").unlink()
    run = run_snakemake(work, f"{RESULTS}/update/changes.tsv")
    assert run.returncode != 0
    log = (work / "logs/denosumab_ra/update_changes/update_changes.log").read_text()
    assert "versions/2020-12-31/arms.tsv: missing" in log


def test_ranked_screening_and_stopping_test_in_a_run(bundled_run, tmp_path):
    work = _copy(bundled_run, tmp_path / "w")
    config = (work / "config/config.yaml").read_text()
    (work / "config/config.yaml").write_text(config.replace("  prioritise: false",
                                                            "  prioritise: true"))
    sheet = work / "data/denosumab_ra/screening/decisions.csv"
    decisions = pd.read_csv(sheet, dtype=str, keep_default_na=False)
    finals = pd.read_csv(bundled_run / RESULTS / "screening/final_decisions.tsv", sep="\t",
                         dtype=str, keep_default_na=False)
    ta = finals[finals["stage"] == "title_abstract"].sort_values("record_id")
    excluded = list(ta.loc[ta["final_decision"] == "exclude", "record_id"])
    # Leave 12 excluded records unscreened, and mark 20 others as the random sample.
    unscreened, sample = set(excluded[:12]), set(excluded[12:32])
    clusters = pd.read_csv(bundled_run / RESULTS / "dedup/clusters.tsv", sep="\t", dtype=str)
    unique_of = dict(zip(clusters["record_id"], clusters["cluster_id"]))
    unique = decisions["record_id"].map(unique_of)
    decisions = decisions[~(unique.isin(unscreened) & (decisions["stage"] == "title_abstract"))]
    decisions["sample"] = ""
    decisions.loc[unique.isin(sample) & (decisions["stage"] == "title_abstract"),
                  "sample"] = "random"
    decisions.to_csv(sheet, index=False)
    run = run_snakemake(work, f"{RESULTS}/screening/to_screen.csv")
    assert run.returncode == 0, run.stderr[-3000:]
    to_screen = pd.read_csv(work / RESULTS / "screening/to_screen.csv", dtype=str,
                            keep_default_na=False)
    assert set(to_screen["record_id"]) == unscreened
    assert list(to_screen["priority_rank"]) == [str(i) for i in range(1, 13)]
    scores = to_screen["priority_score"].astype(float)
    assert scores.is_monotonic_decreasing
    training = len(ta) - len(unscreened)
    assert set(to_screen["priority_training_records"]) == {str(training)}
    stopping = json.loads((work / RESULTS / "screening/stopping.json").read_text())
    includes = int((ta["final_decision"] == "include").sum())
    urn = len(ta) - (training - len(sample))
    assert (stopping["sample"], stopping["relevant_in_sample"], stopping["urn"]) == (
        20, 0, urn)
    k_null = int(includes / 0.95 - includes) + 1
    # JSON tables keep 10 significant digits (sysrev.tables.FLOAT_FORMAT).
    assert_allclose(stopping["p_value"], hypergeom.cdf(0, urn, k_null, 20), rtol=1e-9)
    audit = json.loads((work / RESULTS / "audit/screening.json").read_text())
    assert audit["counts"]["prioritised"]["training_records"] == training
    assert audit["counts"]["stopping"]["p_value"] == stopping["p_value"]
