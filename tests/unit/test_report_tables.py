"""The report's tables as HTML pages: escaping, captions with the configured level and the
outcome labels, PRISMA counts with their checks, study effects on the natural scale."""

import math
import re

import pandas as pd
import pytest

from sysrev.report.htmltable import html_page, html_table, number, p_value, plural
from sysrev.report.tables import (agreement_page, conflicts_page, effects_page,
                                  flagged_reports, flagged_sentence, prisma_page,
                                  related_page, rob_page, sensitivity_page, summary_page)
from tests.html_tables import by_first_column, min_content_width, parse


def test_cells_are_escaped_and_the_page_stands_alone():
    frame = pd.DataFrame({"a": ["<script>alert(1)</script>", "x & y"], "b": ["1", None]})
    page = html_page("T <1>", [html_table(frame, caption="C & D", numeric=["b"])],
                     notes=["n < m"], disclosure="one person <two roles>")
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "one person &lt;two roles&gt;" in page and "n &lt; m" in page
    tables = parse(page)
    assert tables.tables[0] == [["a", "b"], ["<script>alert(1)</script>", "1"], ["x & y", ""]]
    assert tables.captions == ["C & D"]
    assert "src=" not in page and "href=" not in page  # nothing loaded from outside
    with pytest.raises(ValueError, match="2 headers for 1 columns"):
        html_table(frame[["a"]], headers=["x", "y"])
    empty = parse(html_page("E", [html_table(frame.iloc[:0])]))
    assert empty.tables[0][1] == ["(none)"]


def test_number_formats():
    assert number("-0.6356192661") == "-0.64" and number(None) == "" and number("NR") == "NR"
    assert p_value("0.0009708956") == "<0.001" and p_value("0.98860") == "0.989"
    assert plural(1, "study", "studies") == "1 study"
    assert plural(2, "study", "studies") == "2 studies"
    assert plural(0, "report") == "0 reports"


def _summary_row(**values):
    columns = ["outcome", "label", "measure", "status", "k", "participants", "model",
               "estimate", "ci_lower", "ci_upper", "p_value", "tau2", "i2", "q", "q_p",
               "fixed_estimate", "fixed_ci_lower", "fixed_ci_upper", "studies",
               "not_analysable", "preset", "prediction_lower", "prediction_upper",
               "tau2_ci_lower", "tau2_ci_upper", "mh_estimate", "mh_ci_lower", "mh_ci_upper",
               "egger_p", "subgroup_test_p", "small_study_tests"]
    row = {c: None for c in columns}
    row.update(values)
    return row


def test_summary_page_uses_labels_and_the_configured_level():
    summary = pd.DataFrame([
        _summary_row(outcome="sae", label="Serious adverse events", measure="RR",
                     status="pooled", k="3", participants="1059", model="random (DL, z)",
                     estimate="1.00449712", ci_lower="0.5425805168", ci_upper="1.859658489",
                     p_value="0.9886", tau2="0.0909124", i2="29.2657", q="2.8274",
                     q_p="0.2432", fixed_estimate="1.0601", fixed_ci_lower="0.6651",
                     fixed_ci_upper="1.6898", studies="A; B; C"),
        _summary_row(outcome="jsn", label="Joint space narrowing", measure="MD", k="0",
                     participants="0", status="no analysable data",
                     not_analysable="S1: SD not reported; S2: mean not reported")])
    page = summary_page(summary, level=90)
    tables = parse(page)
    joined = by_first_column(tables.tables)
    assert list(joined) == ["Serious adverse events", "Joint space narrowing"]
    cells = joined["Serious adverse events"]
    assert "Random effects (90% CI)" in cells and "Fixed effect (90% CI)" in cells
    assert "95%" not in page
    assert "90% confidence intervals" in tables.captions[0]
    assert cells["Outcome"] == "Serious adverse events"
    assert cells["Random effects (90% CI)"] == "1.00 (0.54 to 1.86)"
    assert cells["I\u00b2"] == "29%" and cells["\u03c4\u00b2"] == "0.091"
    assert cells["Q (p)"] == "2.83 (p = 0.243)"
    assert joined["Joint space narrowing"]["Not analysable (why)"] == \
        "S1: SD not reported;\nS2: mean not reported"


def test_summary_page_says_why_there_is_no_funnel_plot():
    summary = pd.DataFrame([
        _summary_row(outcome="sae", label="Serious adverse events", measure="RR", k="3",
                     status="pooled", small_study_tests="no funnel plot or Egger's test: 3 "
                     "studies, fewer than 10 (Cochrane Handbook 13.3.5.4)"),
        _summary_row(outcome="bmd", label="Bone mineral density", measure="MD", k="12",
                     status="pooled", egger_p="0.41",
                     small_study_tests="funnel plot and Egger's test (12 studies)")])
    joined = by_first_column(parse(summary_page(summary, level=95)).tables)
    assert joined["Serious adverse events"]["Funnel plot and Egger's test"] == (
        "no funnel plot or Egger's test: 3 studies, fewer than 10 (Cochrane Handbook "
        "13.3.5.4)")
    cells = joined["Bone mineral density"]
    assert cells["Funnel plot and Egger's test"] == "funnel plot and Egger's test (12 studies)"
    assert cells["Egger p"] == "0.410"
    # A summary.tsv written before the column existed still renders (column left empty).
    old = summary.drop(columns="small_study_tests")
    joined = by_first_column(parse(summary_page(old, level=95)).tables)
    assert joined["Serious adverse events"]["Funnel plot and Egger's test"] == ""


INCLUDED = pd.DataFrame({
    "study_id": ["S2", "S1", "S1"], "record_id": ["R9", "R1", "R2"],
    "role": ["main", "main", "secondary"],
    "title": ["Trial two", "Trial one", "Trial one: extension"],
    "retraction": [None, "retracted (retraction notice R7)", "expression of concern"]})


#: The width of the report's pane at a 900-pixel window: Snakemake's menu beside it takes a
#: quarter of the window or the width of its longest entry (about 300 pixels with sysrev's
#: labels), the page's scroll bar 16 and its margins 16 more.
PANE_AT_900_PX = 900 - 300 - 16 - 16


def test_pooled_results_fit_the_report_pane_at_a_900_pixel_window():
    """Issue 17: the pooled-results table did not fit the window: 17 columns whose headers
    did not wrap needed some 1,300 pixels. Each of its tables must fit the pane beside the
    report's menu, measured with the bundled review's longest cells."""
    from sysrev.report.htmltable import STYLE

    summary = pd.DataFrame([
        _summary_row(outcome="mtss", label="Modified total Sharp score, change from baseline",
                     measure="MD", status="single study", k="1", participants="654",
                     model="random (DL, z)", estimate="-0.6356", ci_lower="-1.2130",
                     ci_upper="-0.0582", p_value="0.031", tau2="0", i2="0", q="0", q_p="1",
                     fixed_estimate="-0.6356", fixed_ci_lower="-1.2130",
                     fixed_ci_upper="-0.0582", prediction_lower="-1.2130",
                     prediction_upper="-0.0582", egger_p="0.2",
                     study_labels="DESIRABLE (Takeuchi 2019)", studies="DESIRABLE2019",
                     not_analysable_labels="Iwamoto 2022: treatment: mean or n not reported "
                     "for csdmard_plus_dmab; control: mean or n not reported for "
                     "csdmard_alone", not_analysable="x",
                     small_study_tests="no funnel plot or Egger's test: 1 study, fewer than "
                     "10 (Cochrane Handbook 13.3.5.4)"),
        _summary_row(outcome="bmd", label="Lumbar spine BMD, % change from baseline",
                     measure="MD", k="0", participants="0", status="no analysable data")])
    page = parse(summary_page(summary, level=95))
    assert len(page.tables) == 3
    assert "th{" in STYLE and "nowrap" not in STYLE.split("th{", 1)[1].split("}", 1)[0]
    widths = [min_content_width(page, i) for i in range(3)]
    assert max(widths) <= PANE_AT_900_PX, widths
    # The same columns as one table (as before the change), measured the same way, do not.
    one = pd.DataFrame([[page.tables[0][1][0]] + sum((t[1][1:] for t in page.tables), [])],
                       columns=["Outcome"] + sum((t[0][1:] for t in page.tables), []))
    before = parse(html_page("t", [html_table(one)]))
    assert min_content_width(before, 0) > PANE_AT_900_PX


def test_retracted_or_concern_reports_are_listed_above_the_summary():
    flagged = flagged_reports(INCLUDED)
    assert flagged.values.tolist() == [
        ["S1", "R1", "Trial one", "retracted (retraction notice R7)"],
        ["S1", "R2", "Trial one: extension", "expression of concern"]]
    assert flagged_sentence(flagged) == ("2 included reports (study S1) are retracted or "
                                         "under an expression of concern.")
    summary = pd.DataFrame([_summary_row(outcome="o", label="O", measure="RR", k="1",
                                         status="single study")])
    page = parse(summary_page(summary, level=95, included=INCLUDED))
    assert len(page.tables) == 4  # the flagged reports, then the pooled results' three
    assert page.tables[0][0] == ["Study", "Report", "Title", "Status"]
    assert page.tables[0][1] == ["S1", "R1", "Trial one", "retracted (retraction notice R7)"]
    assert page.captions[0].startswith("2 included reports (study S1) are retracted")
    # None flagged, or an included.tsv without the column: no table, no sentence.
    clean = INCLUDED.assign(retraction="")
    assert len(parse(summary_page(summary, level=95, included=clean)).tables) == 3
    assert flagged_reports(INCLUDED.drop(columns="retraction")).empty
    assert flagged_sentence(flagged_reports(clean)) == ""


def test_related_page_shows_both_titles_and_the_evidence():
    related = pd.DataFrame({"record_id": ["U5"], "related_record_id": ["U1"],
                            "relation": ["retraction"], "evidence": ["pubmed RetractionOf"]})
    unique = pd.DataFrame({"record_id": ["U1", "U5"],
                           "title": ["Denosumab in RA", "Retraction of: Denosumab in RA"]})
    page = parse(related_page(related, unique))
    assert page.tables[0] == [
        ["Relation", "Related report", "Its title", "Article it concerns", "Article's title",
         "Evidence of the link"],
        ["Retraction notice", "U5", "Retraction of: Denosumab in RA", "U1", "Denosumab in RA",
         "pubmed RetractionOf"]]
    assert page.captions[0].startswith("1 related report (errata")
    empty = parse(related_page(related.iloc[:0], unique))
    assert empty.tables[0][1] == ["(none)"] and empty.captions[0].startswith("0 related")


def test_rob_page_lists_domains_in_the_tools_order_with_percentages():
    shares = pd.DataFrame({
        "domain": ["D2", "D1", "overall", "D1", "overall"],
        "judgement": ["Low", "Low", "High", "High", "Some concerns"],
        "percent": ["100", "75.04", "40", "24.96", "60"]})
    page = rob_page(shares, tool="rob2", disclosure="One person, two roles.")
    header, *rows = parse(page).tables[0]
    assert header == ["Domain", "Low", "Some concerns", "High"]
    assert rows == [["D1 Randomisation process", "75.0%", "", "25.0%"],
                    ["D2 Deviations from the intended interventions", "100.0%", "", ""],
                    ["Overall risk of bias", "", "60.0%", "40.0%"]]
    assert "RoB 2" in page and "One person, two roles." in page


def test_sensitivity_page_shows_ratios_on_their_natural_scale():
    def rows(key_rows):
        return pd.DataFrame([{"step": str(i + 1), "study": s, "k": str(k),
                              "estimate": str(math.log(e)), "ci_lower": str(math.log(lo)),
                              "ci_upper": str(math.log(hi)), "se": "0.1", "pval": p,
                              "tau2": "0.0123", "i2": "12.6", "h2": "1.1", "q": "1",
                              "q_p": "0.3"} for i, (s, k, e, lo, hi, p) in
                             enumerate(key_rows)])
    loo = rows([("Cohen 2008", 2, 0.8, 0.5, 1.28, "0.35"),
                ("Takeuchi 2019", 2, 1.2, 0.9, 1.6, "0.0004")])
    cum = rows([("Cohen 2008", 1, 2.0, 1.0, 4.0, "0.05")])
    pooled = {"outcome": "sae", "label": "Serious adverse events", "measure": "RR"}
    page = sensitivity_page(loo, cum, pooled, level=90)
    parsed = parse(page)
    (lhead, l1, l2), (chead, c1) = parsed.tables
    assert lhead == ["Study left out", "Studies", "RR (90% CI)", "p", "\u03c4\u00b2", "I\u00b2"]
    assert l1 == ["Cohen 2008", "2", "0.80 (0.50 to 1.28)", "0.350", "0.012", "13%"]
    assert l2[3] == "<0.001"
    assert chead[:3] == ["Step", "Study added", "Studies"]
    assert c1 == ["1", "Cohen 2008", "1", "2.00 (1.00 to 4.00)", "0.050", "0.012", "13%"]
    assert "leave-one-out" in parsed.captions[0] and "cumulative" in parsed.captions[1]


COUNTS = {
    "identification": {"database_names": {"pubmed": "PubMed", "embase": "Embase"},
                       "databases": {"pubmed": 29, "embase": 62}, "registers": {},
                       "records_identified": 91, "duplicates_removed": 20,
                       "removed_by_automation": 0, "removed_other_reasons": 0},
    "screening": {"records_screened": 71, "records_excluded": 50, "records_pending": 0},
    "retrieval": {"reports_sought": 21, "reports_not_retrieved": 3},
    "eligibility": {"reports_assessed": 18, "reports_excluded": 9, "reports_pending": 0,
                    "exclusion_reasons": {"Not randomised": 4, "Wrong population": 5}},
    "included": {"studies": 5, "reports": 9, "some_new_box": 7, "new_studies": 5,
                 "new_reports": 9, "total_studies": 5, "total_reports": 9,
                 "studies_meta_analysis": 3, "reports_meta_analysis": 6},
    "checks": [{"equation": "a = b", "holds": True, "value": 91},
               {"equation": "c = d", "holds": False, "value": 3}],
    "notes": ["Updated review: ..."],
}


def test_prisma_page_lists_every_box_check_and_note():
    page = prisma_page(COUNTS, disclosure="Screened by one person in two roles.")
    boxes, checks = parse(page).tables
    rows = {row[1]: row[2] for row in boxes[1:]}
    assert rows["Records identified"] == "91"
    assert rows["Records from PubMed"] == "29" and rows["Records from Embase"] == "62"
    assert rows["Reports assessed for eligibility"] == "18"
    assert rows["Reports excluded: Not randomised"] == "4"
    assert rows["Some new box"] == "7"  # a key the page does not know is still shown
    assert checks[1:] == [["a = b", "91", "holds"], ["c = d", "3", "FAILS"]]
    # In the order of the flow (counts.json's keys are sorted alphabetically).
    assert [row[1] for row in boxes[1:]] == [
        "Records identified", "Records from PubMed", "Records from Embase",
        "Duplicate records removed", "Records marked as ineligible by automation tools",
        "Records removed for other reasons", "Records screened", "Records excluded",
        "Records awaiting screening", "Reports sought for retrieval", "Reports not retrieved",
        "Reports assessed for eligibility", "Reports excluded",
        "Reports excluded: Wrong population", "Reports excluded: Not randomised",
        "Reports awaiting assessment", "Studies included in review",
        "Reports of included studies", "Studies included in a meta-analysis",
        "Reports of studies included in a meta-analysis", "Some new box"]
    assert "Updated review: ..." in page
    assert "Screened by one person in two roles." in page
    # An updated review shows the previous version's boxes and the new/total ones.
    updated = parse(prisma_page({**COUNTS, "previous": {"studies": 2, "reports": 3}})).tables[0]
    labels = [row[1] for row in updated[1:]]
    assert labels[:2] == ["Studies included in previous version of review",
                          "Reports of studies included in previous version of review"]
    assert {"New studies included", "Total studies included"} <= set(labels)


def test_effects_page_shows_ratios_on_their_natural_scale():
    effects = pd.DataFrame({
        "study_id": ["S1"], "label": ["Smith 2020"], "year": ["2020"],
        "n_treatment": ["23"], "n_control": ["23"], "mean_treatment": [None],
        "sd_treatment": [None], "mean_control": [None], "sd_control": [None],
        "events_treatment": ["1"], "events_control": ["2"],
        "yi": [str(math.log(0.5))], "vi": ["1.413"], "sei": ["1.19"],
        "ci_lower": [str(math.log(0.05))],
        "ci_upper": [str(math.log(5.14))], "weight_fixed": ["100"],
        "weight_random": ["100"], "conversions": [None], "comparison": [None],
        "data_level": ["arms"], "subgroup": [None]})
    pooled = {"outcome": "hypo", "label": "Hypocalcaemia", "measure": "RR",
              "timepoint": "12 months", "not_analysable": [{"study_id": "S2",
                                                            "reason": "not reported"}],
              "random": {"method": "DL", "exp_estimate": 0.5, "exp_ci_lb": 0.05,
                         "exp_ci_ub": 5.14, "tau2": 0.0, "i2": 0.0}}
    page = effects_page(effects, pooled, level=95)
    parsed = parse(page)
    header, row = parsed.tables[0]
    cells = dict(zip(header, row))
    assert cells["RR (95% CI)"] == "0.50 (0.05 to 5.14)"
    assert cells["Treatment"] == "1/23" and cells["Control"] == "2/23"
    assert "Comparison" not in header and "Subgroup" not in header  # empty columns dropped
    assert parsed.captions == ["Hypocalcaemia: study effects (RR) with 95% confidence "
                               "intervals"]
    assert "Random effects (DL): RR 0.50 (0.05 to 5.14)" in page
    assert "Not analysable: S2: not reported" in page


def test_agreement_page_shows_kappa_with_its_interval_and_the_disclosure():
    agreement = pd.DataFrame({"stage": ["full_text", "title_abstract"],
                              "reviewer_a": ["R1"] * 2, "reviewer_b": ["R2"] * 2,
                              "records": ["22", "98"], "agreements": ["19", "90"],
                              "raw_agreement": ["0.8636", "0.9183673469"],
                              "kappa": ["0.78", "0.750952986"],
                              "kappa_ci_lower": ["0.55", "0.5966760468"],
                              "kappa_ci_upper": ["1.0", "0.9052299252"],
                              "categories": ["exclude; include", "exclude; include; maybe"]})
    page = agreement_page(agreement, disclosure="One person played both roles.")
    header, row, full = parse(page).tables[0]
    # Title and abstract first (the TSV is sorted by stage name), stages named.
    assert row[0] == "Title and abstract" and full[0] == "Full text"
    cells = dict(zip(header, row))
    assert cells["Raw agreement"] == "91.8%"
    assert cells["Cohen's kappa (95% CI)"] == "0.75 (0.60 to 0.91)"
    assert re.search(r"class='disclosure'>.*One person played both roles\.", page)


def test_conflicts_page_lists_title_abstract_first_with_named_stages():
    conflicts = pd.DataFrame({"record_id": ["r2", "r1"], "stage": ["full_text",
                                                                   "title_abstract"],
                              "decisions": ["R1=exclude; R2=include"] * 2,
                              "resolution": ["consensus", "rule"],
                              "final_decision": ["exclude", "include"]})
    rows = parse(conflicts_page(conflicts)).tables[0][1:]
    assert [r[:2] for r in rows] == [["r1", "Title and abstract"], ["r2", "Full text"]]


def test_sensitivity_pages_only_for_outcomes_with_two_or_more_studies(tmp_path):
    from sysrev.workflow.report import outcomes_with_sensitivity

    contrasts = tmp_path / "contrasts.tsv"
    pd.DataFrame({"outcome": ["sae", "sae", "sae", "hypo", "hypo", "bmd"],
                  "study_id": ["A", "B", "B", "A", "B", "A"],
                  "status": ["analysable", "analysable", "analysable", "analysable",
                             "not analysable", "not analysable"]}).to_csv(
        contrasts, sep="\t", index=False)
    assert outcomes_with_sensitivity(str(contrasts)) == ["sae"]


def test_summary_and_effects_pages_name_studies_by_label():
    """Issue 13: a reader sees "Cohen 2008", not COHEN2008; ids stay in the TSV."""
    summary = pd.DataFrame([_summary_row(
        outcome="erosion", label="Erosion", measure="MD", k="1", participants="100",
        status="single study", studies="DESIRABLE2019",
        study_labels="DESIRABLE (Takeuchi 2019)",
        not_analysable="COHEN2008: SD not reported",
        not_analysable_labels="Cohen 2008: SD not reported")])
    cells = by_first_column(parse(summary_page(summary, level=95)).tables)["Erosion"]
    assert cells["Studies analysed"] == "DESIRABLE (Takeuchi 2019)"
    assert cells["Not analysable (why)"] == "Cohen 2008: SD not reported"
    effects = pd.DataFrame(columns=["study_id", "label", "year", "yi", "vi", "ci_lower",
                                    "ci_upper", "weight_fixed", "weight_random",
                                    "n_treatment", "n_control", "mean_treatment",
                                    "sd_treatment", "mean_control", "sd_control",
                                    "events_treatment", "events_control", "conversions",
                                    "comparison", "data_level", "subgroup"])
    pooled = {"outcome": "erosion", "label": "Erosion", "measure": "MD",
              "not_analysable": [{"study_id": "COHEN2008", "label": "Cohen 2008",
                                  "reason": "SD not reported"}]}
    page = effects_page(effects, pooled, level=95)
    assert "Not analysable: Cohen 2008: SD not reported" in page
    assert "COHEN2008" not in page
