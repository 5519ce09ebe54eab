"""End-to-end: the bundled denosumab review, its counts, pooled results and determinism."""

import hashlib
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from tests.workflow.conftest import REPO, copy_project, run_snakemake

pytestmark = pytest.mark.workflow

DATA = REPO / "data" / "denosumab_ra"
REFERENCE = {c["id"]: c for c in json.loads(
    (REPO / "tests" / "reference" / "metafor_reference.json").read_text())["cases"]}


def _count_in_files():
    """Records per source counted straight from the provided files, independently of sysrev."""
    pubmed = (DATA / "search/pubmed/2025-06-30/records.xml").read_text(encoding="utf-8")
    embase = (DATA / "exports/embase.ris").read_text(encoding="utf-8-sig")
    wos = (DATA / "exports/wos.txt").read_text(encoding="utf-8-sig")
    central = (DATA / "exports/central.ris").read_text(encoding="utf-8-sig")
    return {"pubmed": pubmed.count("<PubmedArticle>"),
            "embase": len(re.findall(r"^TY  - ", embase, re.M)),
            "wos": len(re.findall(r"^PT ", wos, re.M)),
            "central": len(re.findall(r"^TY  -  ", central, re.M))}


def test_outputs_exist(bundled_run):
    for path in ["results/denosumab_ra/search/records.tsv", "results/denosumab_ra/dedup/unique.tsv",
                 "results/denosumab_ra/dedup/duplicates.tsv", "results/denosumab_ra/screening/included.tsv",
                 "results/denosumab_ra/prisma/counts.json", "results/denosumab_ra/analysis/summary.tsv",
                 "results/denosumab_ra/analysis/mtss/pooled.json", "results/denosumab_ra/analysis/mtss/forest.png",
                 "results/denosumab_ra/analysis/mtss/forest.svg", "results/denosumab_ra/analysis/mtss/forest.pdf",
                 "results/denosumab_ra/analysis/sae/forest.png",
                 "results/denosumab_ra/prisma/prisma2020.csv", "results/denosumab_ra/prisma/flow.png",
                 "results/denosumab_ra/prisma/flow.svg", "results/denosumab_ra/screening/to_screen.csv",
                 "results/denosumab_ra/screening/agreement.tsv", "results/denosumab_ra/screening/conflicts.tsv"]:
        assert (bundled_run / path).is_file(), path
    # No outcome has 10 studies: no funnel plot (Cochrane Handbook 13.3.5.4), and the summary
    # says why.
    assert not list((bundled_run / "results/denosumab_ra/analysis").glob("*/funnel.*"))
    summary = pd.read_csv(bundled_run / "results/denosumab_ra/analysis/summary.tsv", sep="\t",
                          keep_default_na=False).set_index("outcome")
    assert summary.loc["sae", "small_study_tests"] == (
        "no funnel plot or Egger's test: 3 studies, fewer than 10 (Cochrane Handbook 13.3.5.4)")
    assert summary.loc["jsn", "small_study_tests"] == \
        "no funnel plot or Egger's test: no analysable study"
    for stage in ["search", "dedup", "screening", "extraction", "analysis", "prisma"]:
        audit = json.loads((bundled_run / f"results/denosumab_ra/audit/{stage}.json").read_text())
        assert audit["stage"] == stage
        assert audit["software"]["sysrev"]
        for entry in audit["inputs"].values():
            for item in entry if isinstance(entry, list) else [entry]:
                assert re.fullmatch(r"[0-9a-f]{64}", item["sha256"])


def test_prisma_counts_come_from_the_data(bundled_run):
    counts = json.loads((bundled_run / "results/denosumab_ra/prisma/counts.json").read_text())
    in_files = _count_in_files()
    ident = counts["identification"]
    assert ident["databases"] == in_files
    assert ident["records_identified"] == sum(in_files.values()) == 151

    clusters = pd.read_csv(bundled_run / "results/denosumab_ra/dedup/clusters.tsv", sep="\t")
    assert ident["duplicates_removed"] == (clusters["kept"] == "no").sum() == 53

    decisions = pd.read_csv(DATA / "screening/decisions.csv", keep_default_na=False)
    ft = decisions[decisions["stage"] == "full_text"]
    forward = ft["record_id"].nunique()
    scr = counts["screening"]
    assert scr["records_screened"] == 98
    assert scr["records_screened"] - scr["records_excluded"] == forward == 22
    assert counts["retrieval"]["reports_not_retrieved"] == ft[
        ft["decision"] == "not_retrieved"]["record_id"].nunique() == 4
    elig = counts["eligibility"]
    assert elig["reports_assessed"] == 18
    assert elig["reports_excluded"] == 9
    assert sum(elig["exclusion_reasons"].values()) == 9
    links = pd.read_csv(DATA / "screening/studies.csv")
    assert counts["included"]["reports"] == len(links) == 9
    assert counts["included"]["studies"] == links["study_id"].nunique() == 5
    assert all(check["holds"] for check in counts["checks"])
    # Studies and reports in at least one meta-analysis (an outcome pooling two or more).
    pooled = set()
    for path in (bundled_run / "results/denosumab_ra/analysis").glob("*/pooled.json"):
        result = json.loads(path.read_text())
        if result["k"] >= 2:
            pooled.update(result["studies"])
    assert pooled == {"DESIRABLE2019", "DRIVE2016", "IWAMOTO2022"}
    prisma_csv = pd.read_csv(bundled_run / "results/denosumab_ra/prisma/prisma2020.csv",
                             dtype=str, keep_default_na=False)
    values = dict(zip(prisma_csv["data"], prisma_csv["n"]))
    assert values["total_studies_ma"] == "3"
    assert values["total_reports_ma"] == str(links["study_id"].isin(pooled).sum())


def test_cross_database_duplicates_have_reasons(bundled_run):
    dups = pd.read_csv(bundled_run / "results/denosumab_ra/dedup/duplicates.tsv", sep="\t")
    assert set(dups["rule"]) == {"doi", "pmid", "title_year_author"}
    assert (dups["removed_source"] != dups["kept_source"]).all()
    assert dups["detail"].notna().all()
    # DRIVE has no DOI or PMID: its Embase and CENTRAL records meet only by title.
    drive = dups[dups["kept_record_id"] == "embase:SYSREV-EMB-0009"]
    assert list(drive["removed_record_id"]) == ["central:SYSREV-CEN-0005"]
    assert drive.iloc[0]["rule"] == "title_year_author"
    assert drive.iloc[0]["detail"].startswith("title 'effect of denosumab on japanese")


def test_pooled_results_match_metafor(bundled_run):
    mtss = json.loads((bundled_run / "results/denosumab_ra/analysis/mtss/pooled.json").read_text())
    ref = REFERENCE["review_desirable_mtss_MD_DL"]["result"]
    assert mtss["k"] == 1
    assert mtss["random"]["estimate"] == pytest.approx(ref["estimate"], rel=1e-8)
    assert mtss["random"]["se"] == pytest.approx(ref["se"], rel=1e-8)
    sae = json.loads((bundled_run / "results/denosumab_ra/analysis/sae/pooled.json").read_text())
    for model, case in (("random", "review_sae_RR_DL"), ("fixed", "review_sae_RR_EE")):
        ref = REFERENCE[case]["result"]
        assert sae["k"] == 3
        assert sae[model]["estimate"] == pytest.approx(ref["estimate"], rel=1e-8)
        assert sae[model]["ci_lb"] == pytest.approx(ref["ci.lb"], rel=1e-8)
        assert sae[model]["tau2"] == pytest.approx(ref["tau2"], rel=1e-8, abs=1e-12)
    summary = pd.read_csv(bundled_run / "results/denosumab_ra/analysis/summary.tsv", sep="\t")
    assert set(summary["outcome"]) == {"bmd_ls", "erosion", "jsn", "mtss", "das28", "sae",
                                       "hypocalcaemia"}
    no_data = summary[summary["status"] == "no analysable data"]
    assert set(no_data["outcome"]) == {"bmd_ls", "jsn", "das28"}
    assert no_data["not_analysable"].str.contains("not reported").all()


def test_erosion_sd_is_derived_from_the_ci_and_flagged(bundled_run):
    effects = pd.read_csv(bundled_run / "results/denosumab_ra/analysis/erosion/effects.tsv", sep="\t")
    row = effects.iloc[0]
    assert row["study_id"] == "DESIRABLE2019"
    assert "SD from 95% CI (normal quantile)" in row["conversions"]
    assert "combined" in row["conversions"]
    # Placebo SD = sqrt(218) * (1.31 - 0.65) / (2 * 1.959964) (Cochrane Handbook 6.5.2.3).
    assert row["sd_control"] == pytest.approx(218 ** 0.5 * 0.66 / (2 * 1.959963984540054),
                                              rel=1e-9)


def _digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((root / "results").rglob("*"))
            if p.suffix in (".tsv", ".json", ".csv", ".svg")}


def test_two_clean_runs_are_byte_identical_and_a_rerun_does_nothing(bundled_run,
                                                                    tmp_path):
    second = copy_project(tmp_path / "second")
    result = run_snakemake(second)
    assert result.returncode == 0, result.stderr[-3000:]
    first_digests = {k: v for k, v in _digests(bundled_run).items()
                     if not k.startswith("results/denosumab_ra/audit/")}
    second_digests = {k: v for k, v in _digests(second).items()
                      if not k.startswith("results/denosumab_ra/audit/")}
    assert first_digests == second_digests
    # Audits name their input paths, which are relative, so they match too.
    assert _digests(bundled_run) == _digests(second)
    rerun = run_snakemake(second)
    assert rerun.returncode == 0
    assert "Nothing to be done" in rerun.stdout + rerun.stderr


def test_report_stage_outputs(bundled_run):
    sof = pd.read_csv(bundled_run / "results/denosumab_ra/sof/summary_of_findings.tsv", sep="\t",
                      keep_default_na=False)
    assert list(sof["outcome"]) == ["bmd_ls", "erosion", "jsn", "mtss", "das28", "sae",
                                    "hypocalcaemia"]
    sae = sof.set_index("outcome").loc["sae"]
    assert sae["effect"] == "RR 1.00 (0.54 to 1.86)"
    assert sof.set_index("outcome").loc["mtss", "absolute_effect"] == \
        "MD \u22120.64 (\u22121.21 to \u22120.06)"
    assert sae["certainty"] == "Very low"
    assert "includes no effect" in sae["reasons"]
    assert sof.set_index("outcome").loc["jsn", "certainty"] == "not assessable"
    shares = pd.read_csv(bundled_run / "results/denosumab_ra/risk_of_bias/summary.tsv", sep="\t")
    overall = shares[shares["domain"] == "overall"].set_index("judgement")["percent"]
    assert overall["Some concerns"] == pytest.approx(100.0, rel=1e-9)
    methods = (bundled_run / "results/denosumab_ra/report/methods.html").read_text(encoding="utf-8")
    for text in ("Embase", "Web of Science Core Collection", "2025-06-30",
                 "53 duplicates were removed", "Cohen&#x27;s kappa", "DL estimator"):
        assert text in methods, text
    for figure in ("results/denosumab_ra/risk_of_bias/traffic_light.png", "results/denosumab_ra/prisma/flow.png",
                   "results/denosumab_ra/sof/summary_of_findings.png"):
        assert (bundled_run / figure).stat().st_size > 20_000


def test_snakemake_report_builds(bundled_run):
    result = run_snakemake(bundled_run, "--report", "results/denosumab_ra/report.html")
    assert result.returncode == 0, result.stderr[-2000:]
    page = (bundled_run / "results/denosumab_ra/report.html").read_text(encoding="utf-8", errors="replace")
    for category in ("Forest plots", "PRISMA 2020", "Risk of bias", "Summary of findings",
                     "Methods"):
        assert category in page, category
