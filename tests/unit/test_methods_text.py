"""The methods text: the review's disclosure where agreement and reports assessed are shown,
each search with its own note, stages in order, the review's title, τ², plural forms, and no
wording of another review."""

import json
import re

import pytest

from sysrev.report.methods import methods_html

DISCLOSURE = "Decisions were made by one person playing two reviewer roles."


def _write(path, data):
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def _audits(tmp_path, *, agreement=True, sources=None, impute="none"):
    sources = sources or [
        {"source": "pubmed", "database": "PubMed", "platform": "NCBI E-utilities",
         "search_date": "2025-06-30", "query": "x[tiab]", "records": 1, "file": "f"},
        {"source": "embase", "database": "Embase", "platform": "Embase.com",
         "search_date": "2025-06-30", "query": "'x'/exp", "records": 2, "file": "e.ris"}]
    search = {"parameters": {"sources": sources, "pubmed_snapshot": None}}
    dedup = {"counts": {"records_in": 3, "duplicates_removed": 1,
                        "duplicates_across_sources": 1, "duplicates_within_source": 0,
                        "unique_records": 2, "duplicates_by_rule": {"doi": 1}},
             "parameters": {"rules": ["identical DOI"]}}
    agreements = [
        {"stage": "full_text", "reviewer_a": "R1", "reviewer_b": "R2", "records": 2,
         "raw_agreement": 1.0, "kappa": 1.0, "kappa_ci_lower": 1.0, "kappa_ci_upper": 1.0},
        {"stage": "title_abstract", "reviewer_a": "R1", "reviewer_b": "R2", "records": 2,
         "raw_agreement": 0.5, "kappa": 0.0, "kappa_ci_lower": -0.5,
         "kappa_ci_upper": 0.5}] if agreement else []
    screening = {"counts": {"conflicts": 1, "resolved_by_consensus": 1, "pending": 0,
                            "agreement": agreements},
                 "parameters": {"rule_text": "Title/abstract: any include goes forward."}}
    extraction = {"counts": {"conversions": []},
                  "parameters": {"multi_arm": "combined", "ci_distribution": "auto",
                                 "impute_sd": impute}}
    return {name: _write(tmp_path / f"{name}.json", data) for name, data in
            [("search", search), ("dedup", dedup), ("screening", screening),
             ("extraction", extraction)]}


def _prisma(tmp_path, studies=1, reports=1):
    return _write(tmp_path / "counts.json", {
        "included": {"studies": studies, "reports": reports},
        "screening": {"records_screened": 2, "records_excluded": 1, "records_pending": 0},
        "retrieval": {"reports_sought": 1, "reports_not_retrieved": 0},
        "eligibility": {"reports_assessed": 1, "reports_excluded": 0}})


def _pooled(tmp_path, k=1):
    return [_write(tmp_path / "pooled.json", {
        "outcome": "o", "label": "Outcome one", "measure": "RR", "k": k, "status": "pooled",
        "methods": {"random": "DL estimator of tau2", "test": "z",
                    "fixed": "inverse variance (EE)",
                    "i2_definition": "I2 = tau2 / (tau2 + s2), s2 the typical within-study "
                                     "variance", "zero_cells": "0.5 added"}})]


def _text(page):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def test_disclosure_is_printed_where_agreement_is_shown(tmp_path):
    page = methods_html(review="r", audits=_audits(tmp_path), prisma=_prisma(tmp_path),
                        pooled=_pooled(tmp_path), disclosure=DISCLOSURE)
    selection = page[page.index("Selection of studies"):]
    assert DISCLOSURE in selection[:selection.index("kappa")]
    assert page.count(DISCLOSURE) == 2  # at the top and in the selection of studies
    without = methods_html(review="r", audits=_audits(tmp_path), prisma=_prisma(tmp_path),
                           pooled=_pooled(tmp_path))
    assert "Note on this review" not in without


def test_no_wording_of_another_review(tmp_path):
    page = methods_html(review="r", audits=_audits(tmp_path), prisma=_prisma(tmp_path),
                        pooled=_pooled(tmp_path))
    assert "public source" not in page and "denosumab" not in page.lower()
    assert "were not imputed" in page
    imputed = methods_html(review="r", audits=_audits(tmp_path, impute="pooled"),
                           prisma=_prisma(tmp_path), pooled=_pooled(tmp_path))
    assert "imputed (pooled) and flagged" in imputed


def test_each_search_has_its_own_note_and_the_text_reads_in_order(tmp_path):
    notes = {"pubmed": "Assembled, not a verbatim search result",
             "embase": "Accession numbers are project-assigned"}
    page = methods_html(review="my_review", title="Drug versus placebo in disease",
                        audits=_audits(tmp_path), prisma=_prisma(tmp_path, 1, 2),
                        pooled=_pooled(tmp_path), search_notes=notes)
    rows = re.findall(r"<tr>(.*?)</tr>", page[page.index("PRISMA-S"):])
    assert "<th>Notes</th>" in rows[0]
    assert rows[1].endswith(f"<td>{notes['pubmed']}</td>")
    assert rows[2].endswith(f"<td>{notes['embase']}</td>")
    # The review's title, not its short name.
    assert "<h2>Methods: Drug versus placebo in disease</h2>" in page
    assert "my_review" not in page
    text = _text(page)
    # Title and abstract before full text, in the sentences and in the agreement table.
    assert text.index("Title and abstract R1 / R2") < text.index("Full text R1 / R2")
    assert text.index("screened on title and abstract") < text.index("full-text report")
    # tau² and I², never tau2 / I2.
    assert "\u03c4\u00b2" in text and "I\u00b2 = \u03c4\u00b2 / (\u03c4\u00b2 + s\u00b2)" in text
    assert not re.search(r"\btau2\b|\bI2\b", text)
    # Plural forms follow the numbers.
    assert "3 records were identified; 1 duplicate was removed" in text
    assert "leaving 2 unique records" in text
    assert "1 disagreement was recorded" in text and "0 decisions were pending" in text
    assert "1 study in 2 reports was included" in text
    assert "<td>1 study</td>" in page
    assert ("2 records were screened on title and abstract and 1 record excluded. Then 1 "
            "full-text report was sought, 0 reports could not be retrieved, 1 report was "
            "assessed for eligibility and 0 reports excluded with reasons.") in text


def test_plural_forms_of_many(tmp_path):
    page = methods_html(review="r", audits=_audits(tmp_path), prisma=_prisma(tmp_path, 5, 9),
                        pooled=_pooled(tmp_path, k=3))
    text = _text(page)
    assert "5 studies in 9 reports were included" in text and "<td>3 studies</td>" in page


def test_retracted_or_concern_reports_are_named_only_when_there_are_any(tmp_path):
    import pandas as pd

    from sysrev.workflow.report import methods_text

    def included(statuses):
        path = tmp_path / "included.tsv"
        pd.DataFrame({"study_id": ["S1", "S2"], "record_id": ["R1", "R2"],
                      "role": ["main", "main"], "title": ["Trial <one>", "Trial two"],
                      "retraction": statuses}).to_csv(path, sep="\t", index=False)
        return str(path)

    audits, prisma, pooled = _audits(tmp_path), _prisma(tmp_path, 2, 2), _pooled(tmp_path)
    out = tmp_path / "methods.html"
    methods_text(review="r", question="", audits=audits, prisma=prisma, pooled=pooled,
                 output=str(out), included=included(["retracted (retraction notice R7)", ""]))
    page = out.read_text(encoding="utf-8")
    text = _text(page)
    assert ("1 included report is retracted or under an expression of concern" in text)
    assert ("report R1 of study S1 (\u201cTrial &lt;one&gt;\u201d): retracted (retraction "
            "notice R7)." in text)
    assert "S2" not in text
    # Selection of studies first, then the flag, then extraction.
    assert text.index("were included") < text.index("Retractions and expressions of concern")
    assert text.index("Retractions") < text.index("Data extraction")
    methods_text(review="r", question="", audits=audits, prisma=prisma, pooled=pooled,
                 output=str(out), included=included(["", ""]))
    assert "retracted" not in out.read_text(encoding="utf-8")


def test_small_study_tests_and_sensitivity_analyses_are_described(tmp_path):
    rule = ("Egger's regression test (weighted linear regression of yi on sei, t with k - 2 "
            "df) and the funnel plot, from 10 studies on (Cochrane Handbook 13.3.5.4: at "
            "least 10)")
    base = {"measure": "RR", "status": "pooled",
            "methods": {"random": "DL estimator of tau2", "test": "z",
                        "fixed": "inverse variance (EE)", "small_study_tests": rule,
                        "i2_definition": "I2 = tau2 / (tau2 + s2), s2 the typical "
                                         "within-study variance"}}
    pooled = [_write(tmp_path / f"{o}.json", {
        **base, "outcome": o, "label": label, "k": k,
        "small_study": {"min_studies": 10, "assessed": k >= 10},
        "leave_one_out": [{"left_out": "A"}] * k if k >= 2 else []})
        for o, label, k in [("z_sae", "Serious adverse events", 3),
                            ("a_bmd", "Bone density", 1)]]
    text = _text(methods_html(review="r", audits=_audits(tmp_path),
                              prisma=_prisma(tmp_path), pooled=pooled))
    assert "s\u00b2 the typical within-study variance" in text and " s2 " not in text
    assert f"Small-study effects: {rule}." .replace("'", "&#x27;") in text
    assert ("No outcome had 10 or more analysable studies, so none has a funnel plot or "
            "Egger&#x27;s test.") in text
    assert "cumulative (studies added by year of publication) meta-analyses of Serious " \
           "adverse events." in text
    # Outcomes in the configured order (the order of the pooled files), not by id.
    assert text.index("Serious adverse events RR 3 studies") < text.index("Bone density RR")
    pooled12 = [_write(tmp_path / "big.json", {
        **base, "outcome": "b", "label": "Big outcome", "k": 12,
        "small_study": {"min_studies": 10, "assessed": True}, "leave_one_out": [{}]})]
    text = _text(methods_html(review="r", audits=_audits(tmp_path),
                              prisma=_prisma(tmp_path), pooled=pooled12))
    assert "Assessed for Big outcome." in text


def test_conversions_name_outcomes_and_studies_by_label(tmp_path):
    """Issue 13: "Erosion, DESIRABLE (Takeuchi 2019): ...", not "erosion DESIRABLE2019"."""
    import pandas as pd

    from sysrev.workflow.extraction import conversion_details
    contrasts = pd.DataFrame({"outcome": ["erosion"], "study_id": ["DESIRABLE2019"],
                              "comparison": [None],
                              "conversions": ["SD from 95% CI (t, n - 1 df)"]})
    studies = pd.DataFrame({"study_id": ["DESIRABLE2019"],
                            "label": ["DESIRABLE (Takeuchi 2019)"]})
    outcomes = [{"id": "erosion", "label": "Erosion score, change", "type": "continuous"}]
    details = conversion_details(contrasts, outcomes, studies)
    assert details == [{"outcome": "erosion", "outcome_label": "Erosion score, change",
                        "study_id": "DESIRABLE2019",
                        "study_label": "DESIRABLE (Takeuchi 2019)", "comparison": "",
                        "conversions": "SD from 95% CI (t, n - 1 df)"}]
    audits = _audits(tmp_path)
    extraction = json.loads(open(audits["extraction"], encoding="utf-8").read())
    extraction["counts"] = {"conversions": ["erosion DESIRABLE2019: SD from 95% CI"],
                            "conversion_details": details}
    _write(tmp_path / "extraction.json", extraction)
    page = methods_html(review="r", audits=audits, prisma=_prisma(tmp_path),
                        pooled=_pooled(tmp_path))
    assert ("<li>Erosion score, change, DESIRABLE (Takeuchi 2019): SD from 95% CI (t, n - 1 "
            "df)</li>") in page
    assert "DESIRABLE2019" not in page
