"""End-to-end: the bundled denosumab review, its counts, pooled results and determinism."""

import base64
import hashlib
import html
import json
import math
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.html_tables import by_first_column
from tests.html_tables import parse as parse_html_tables
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
            if p.suffix in (".tsv", ".json", ".csv", ".svg")
            # how the incremental dedup ran (mode, step times): a log, not an output
            and not p.match("dedup/index/last_run.json")}


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


def test_forest_plots_show_risk_of_bias_dots_by_default(bundled_run):
    """Issue 17: RevMan's risk-of-bias columns beside each study, on by default when
    judgements exist (the schema's default; the bundled config states it too)."""
    schema = yaml.safe_load((REPO / "config/schema.yaml").read_text(encoding="utf-8"))
    assert schema["properties"]["report"]["properties"]["forest_rob"]["default"] is True
    svg = (bundled_run / "results/denosumab_ra/analysis/sae/forest.svg").read_text(
        encoding="utf-8")
    # Three studies, five RoB 2 domains and the overall: 18 dots, 6 column headers.
    assert svg.count('id="rob_dot"') == 18
    assert svg.count('id="rob_header"') == 6


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
    # Each database search with its own note from searches.tsv; the review's title; τ².
    searches = pd.read_csv(DATA / "search/searches.tsv", sep="\t", dtype=str)
    for note in searches["notes"]:
        assert html.escape(note) in methods, note
    assert "Methods: Denosumab versus control in rheumatoid arthritis" in methods
    assert "\u03c4\u00b2" in methods and not re.search(r"\btau2\b", methods)
    assert methods.index("screened on title and abstract") < methods.index(
        "full-text reports were sought")
    assert "5 studies in 9 reports were included" in methods
    assert "18 reports were assessed for eligibility" in methods
    # The bundled review says what it is wherever kappa or reports assessed are shown.
    disclosure = yaml.safe_load((REPO / "config/config.yaml").read_text())["report"][
        "disclosure"]
    assert "one person playing two reviewer roles" in disclosure
    assert "not from full texts" in disclosure
    assert methods.count(html.escape(disclosure)) == 2
    counts = json.loads((bundled_run / "results/denosumab_ra/prisma/counts.json").read_text())
    assert disclosure in counts["notes"]
    for table in ("agreement", "conflicts", "prisma_counts", "risk_of_bias"):
        page = (bundled_run / f"results/denosumab_ra/report/tables/{table}.html").read_text(
            encoding="utf-8")
        assert html.escape(disclosure) in page, table
    # Issue 13: studies and outcomes by label where a reader sees them; the SoF in GRADE style.
    assert ("<li>Modified Sharp erosion score, change from baseline, DESIRABLE (Takeuchi "
            "2019): ") in methods
    assert "erosion DESIRABLE2019" not in methods
    summary_page = (bundled_run / "results/denosumab_ra/report/tables/summary.html").read_text(
        encoding="utf-8")
    jsn_page = (bundled_run / "results/denosumab_ra/report/tables/effects_jsn.html").read_text(
        encoding="utf-8")
    for study_id in ("COHEN2008", "DRIVE2016", "DESIRABLE2019", "SO2021", "IWAMOTO2022"):
        assert study_id not in summary_page and study_id not in jsn_page, study_id
    assert "DESIRABLE (Takeuchi 2019)" in summary_page
    summary = pd.read_csv(bundled_run / "results/denosumab_ra/analysis/summary.tsv", sep="\t",
                          keep_default_na=False).set_index("outcome")
    assert "DESIRABLE2019" in summary.loc["sae", "studies"]
    assert "DESIRABLE (Takeuchi 2019)" in summary.loc["sae", "study_labels"]
    sof_page = (bundled_run / "results/denosumab_ra/sof/summary_of_findings.html").read_text(
        encoding="utf-8")
    assert ("<h2>Denosumab compared with placebo or conventional treatment without another "
            "anti-osteoporotic drug for rheumatoid arthritis</h2>") in sof_page
    assert "<b>Patient or population:</b> adults with rheumatoid arthritis" in sof_page
    assert "Risk with control" in sof_page and "Risk with denosumab" in sof_page
    assert "Risk with Control" not in sof_page and " per 1000" not in sof_page
    assert "<p>a. " in sof_page
    for figure in ("results/denosumab_ra/risk_of_bias/traffic_light.png", "results/denosumab_ra/prisma/flow.png",
                   "results/denosumab_ra/sof/summary_of_findings.png"):
        assert (bundled_run / figure).stat().st_size > 20_000


def test_snakemake_report_builds(bundled_copy):
    result = run_snakemake(bundled_copy, "--report", "results/denosumab_ra/report.html")
    assert result.returncode == 0, result.stderr[-2000:]
    page = (bundled_copy / "results/denosumab_ra/report.html").read_text(encoding="utf-8", errors="replace")
    for category in ("Forest plots", "PRISMA 2020", "Risk of bias", "Summary of findings",
                     "Methods", "Meta-analysis", "Deduplication", "Screening"):
        assert category in page, category
    # Every table is an HTML page shown inline, not a TSV to download.
    embedded = {}
    for encoded in re.findall(r"data:text/html;[^\"\\]*?base64,([A-Za-z0-9+/=]+)", page):
        text = base64.b64decode(encoded).decode("utf-8")
        title = re.search(r"<title>(.*?)</title>", text)
        embedded[html.unescape(title.group(1)) if title else ""] = text
    assert "data:text/tab-separated-values" not in page
    tables = {title: _html_tables(text) for title, text in embedded.items()}
    summary = by_first_column(tables["Pooled results"])
    assert summary["Serious adverse events"]["Random effects (95% CI)"] == "1.00 (0.54 to 1.86)"
    assert summary["Modified total Sharp score, change from baseline"][
        "Random effects (95% CI)"] == "-0.64 (-1.21 to -0.06)"
    boxes = {row[1]: row[2] for row in tables["PRISMA 2020 flow counts"][0][1:]}
    assert boxes["Records identified"] == "151" and boxes["Duplicate records removed"] == "53"
    assert boxes["Reports assessed for eligibility"] == "18"
    assert boxes["Records from Web of Science Core Collection"] == "45"
    duplicates = tables["Duplicate records removed"][0]
    assert len(duplicates) - 1 == 53
    assert ["central:SYSREV-CEN-0002", "pubmed:18438830", "doi"] == duplicates[
        [row[0] for row in duplicates].index("central:SYSREV-CEN-0002")][:3]
    agreement = tables["Agreement between reviewers"][0]
    assert [row[0] for row in agreement[1:]] == ["Title and abstract", "Full text"]
    sae = tables["Serious adverse events (12 months)"][0]
    assert sae[0][:5] == ["Study", "Year", "Treatment", "Control", "RR (95% CI)"]
    assert ["Iwamoto 2022", "2022", "1/23", "2/23", "0.50 (0.05 to 5.14)"] in [
        row[:5] for row in sae]
    # Why SAE has no funnel plot; the RoB percentages; SAE's sensitivity analyses (the last
    # cumulative step is the pooled estimate); related reports (none in this review).
    assert summary["Serious adverse events"]["Funnel plot and Egger's test"] == \
        "no funnel plot or Egger's test: 3 studies, fewer than 10 (Cochrane Handbook 13.3.5.4)"
    rob = {row[0]: row[1:] for row in tables["Risk-of-bias summary"][0]}
    assert rob["Domain"] == ["Low", "Some concerns", "High"]
    assert rob["Overall risk of bias"] == ["0.0%", "100.0%", "0.0%"]
    loo, cumulative = tables["Serious adverse events: sensitivity analyses"]
    assert len(loo) - 1 == 3 and loo[0][0] == "Study left out"
    assert cumulative[-1][1:4] == ["Iwamoto 2022", "3", "1.00 (0.54 to 1.86)"]
    assert tables["Related reports"][0][1] == ["(none)"]
    assert "Serious adverse events: sensitivity analyses" in embedded
    # Issue 17: the SoF entry is named by its caption; the reference exports have a type.
    assert "Summary of findings (GRADE)" in page
    assert "data:application/x-research-info-systems" in page
    assert "data:application/x-bibtex" in page
    # Issue 17: sysrev's stylesheet (profiles/default, read by Snakemake by itself) starts
    # the content pane at its top-left corner: Snakemake centres it, and the part of a page
    # taller or wider than the window (the landing page's title at a 900-pixel window) was
    # out of reach. The rule's selector must match the pane Snakemake draws.
    stylesheet = (bundled_copy / "report/report.css").read_text(encoding="utf-8")
    assert f"<style>{stylesheet}</style>" in page
    rule = re.search(r"(#app div(?:\.[\w-]+)+) \{([^}]*)\}", stylesheet)
    assert "align-items: flex-start" in rule.group(2)
    assert "justify-content: flex-start" in rule.group(2)
    pane = re.search(r'"grow flex items-center justify-center h-screen overflow-auto"', page)
    assert pane and set(rule.group(1).split(".")[1:]) <= set(pane.group(0)[1:-1].split())
    # The landing page describes the review and the workflow.
    description = re.search(r"workflow_desc = (\".*?\");?\n", page).group(1)
    assert "Denosumab versus control in rheumatoid arthritis" in description
    assert "Deduplication" in description and "title" in description


def _html_tables(text):
    """Rows of cells of every table in an HTML page."""
    return parse_html_tables(text).tables


def test_exports_match_the_extraction_and_the_screening(bundled_run):
    results = bundled_run / "results/denosumab_ra"
    arms = pd.read_csv(DATA / "extraction/arms.csv", dtype=str, keep_default_na=False)
    sae_arms = arms[arms["outcome"] == "sae"]
    sae = pd.read_csv(results / "analysis/sae/metafor.csv").set_index("study_id")
    assert list(sae.index) == ["DESIRABLE2019", "DRIVE2016", "IWAMOTO2022"]
    assert set(sae["measure"]) == {"RR"}
    for study, row in sae.iterrows():
        sheet = sae_arms[sae_arms["study_id"] == study]
        treatment, control = (sheet[sheet["group"] == g] for g in ("treatment", "control"))
        # Multi-arm trials: the denosumab arms combined (events and totals summed).
        assert row["ai"] == treatment["events"].astype(int).sum(), study
        assert row["n1i"] == treatment["total"].astype(int).sum(), study
        assert row["ci"] == control["events"].astype(int).sum(), study
        assert row["n2i"] == control["total"].astype(int).sum(), study
        assert row["bi"] == row["n1i"] - row["ai"] and row["di"] == row["n2i"] - row["ci"]
        expected = math.log(row["ai"] / row["n1i"]) - math.log(row["ci"] / row["n2i"])
        assert row["yi"] == pytest.approx(expected, rel=1e-12)
        assert row["vi"] == pytest.approx(1 / row["ai"] - 1 / row["n1i"] + 1 / row["ci"]
                                          - 1 / row["n2i"], rel=1e-12)
    mtss = pd.read_csv(results / "analysis/mtss/metafor.csv").set_index("study_id")
    placebo = arms[(arms["outcome"] == "mtss") & (arms["study_id"] == "DESIRABLE2019")
                   & (arms["group"] == "control")].iloc[0]
    row = mtss.loc["DESIRABLE2019"]
    assert (row["m2i"], row["sd2i"], row["n2i"]) == (float(placebo["mean"]),
                                                    float(placebo["sd"]), int(placebo["n"]))
    assert row["n1i"] == 217 + 219 and row["yi"] == pytest.approx(row["m1i"] - row["m2i"],
                                                                  rel=1e-12)

    counts = json.loads((results / "prisma/counts.json").read_text())
    included = (results / "exports/included.ris").read_text(encoding="utf-8")
    assert included.count("TY  - ") == included.count("ER  - ") == counts["included"]["reports"]
    excluded = (results / "exports/excluded.ris").read_text(encoding="utf-8")
    full_text = re.findall(r"^N1  - Excluded at full-text assessment: (.*)$", excluded, re.M)
    assert pd.Series(full_text).value_counts().to_dict() == \
        counts["eligibility"]["exclusion_reasons"]
    assert len(re.findall(r"^N1  - Excluded at title and abstract screening", excluded,
                          re.M)) == counts["screening"]["records_excluded"]
    bib = (results / "exports/included.bib").read_text(encoding="utf-8")
    assert bib.count("@article{") + bib.count("@misc{") == counts["included"]["reports"]
    assert "note = {Included: study COHEN2008 (main report)}" in bib
