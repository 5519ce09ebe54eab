"""The report's tables as HTML pages: escaping, captions with the configured level and the
outcome labels, PRISMA counts with their checks, study effects on the natural scale."""

import math
import re
from html.parser import HTMLParser

import pandas as pd
import pytest

from sysrev.htmltable import html_page, html_table, number, p_value, plural
from sysrev.report_tables import (agreement_page, effects_page, prisma_page,
                                  summary_page)


class _Tables(HTMLParser):
    """Cells of every table of a page (what a browser would show), and the captions."""

    def __init__(self):
        super().__init__()
        self.tables, self.captions, self._cell, self._in_caption = [], [], None, False

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = ""
        elif tag == "caption":
            self._in_caption = True
            self.captions.append("")

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1].append(self._cell)
            self._cell = None
        elif tag == "caption":
            self._in_caption = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        elif self._in_caption:
            self.captions[-1] += data


def parse(page):
    parser = _Tables()
    parser.feed(page)
    return parser


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
               "egger_p", "subgroup_test_p"]
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
    header, sae, jsn = tables.tables[0]
    assert "Random effects (90% CI)" in header and "Fixed effect (90% CI)" in header
    assert "95%" not in page
    assert "90% confidence intervals" in tables.captions[0]
    cells = dict(zip(header, sae))
    assert cells["Outcome"] == "Serious adverse events"
    assert cells["Random effects (90% CI)"] == "1.00 (0.54 to 1.86)"
    assert cells["I\u00b2"] == "29%" and cells["\u03c4\u00b2"] == "0.091"
    assert cells["Q (p)"] == "2.83 (p = 0.243)"
    assert dict(zip(header, jsn))["Not analysable (why)"] == \
        "S1: SD not reported;\nS2: mean not reported"


COUNTS = {
    "identification": {"database_names": {"pubmed": "PubMed", "embase": "Embase"},
                       "databases": {"pubmed": 29, "embase": 62}, "registers": {},
                       "records_identified": 91, "duplicates_removed": 20,
                       "removed_by_automation": 0, "removed_other_reasons": 0},
    "screening": {"records_screened": 71, "records_excluded": 50, "records_pending": 0},
    "retrieval": {"reports_sought": 21, "reports_not_retrieved": 3},
    "eligibility": {"reports_assessed": 18, "reports_excluded": 9, "reports_pending": 0,
                    "exclusion_reasons": {"Not randomised": 4, "Wrong population": 5}},
    "included": {"studies": 5, "reports": 9, "some_new_box": 7},
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
    assert "Updated review: ..." in page
    assert "Screened by one person in two roles." in page


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
    agreement = pd.DataFrame({"stage": ["title_abstract"], "reviewer_a": ["R1"],
                              "reviewer_b": ["R2"], "records": ["98"], "agreements": ["90"],
                              "raw_agreement": ["0.9183673469"], "kappa": ["0.750952986"],
                              "kappa_ci_lower": ["0.5966760468"],
                              "kappa_ci_upper": ["0.9052299252"],
                              "categories": ["exclude; include; maybe"]})
    page = agreement_page(agreement, disclosure="One person played both roles.")
    header, row = parse(page).tables[0]
    cells = dict(zip(header, row))
    assert cells["Raw agreement"] == "91.8%"
    assert cells["Cohen's kappa (95% CI)"] == "0.75 (0.60 to 0.91)"
    assert re.search(r"class='disclosure'>.*One person played both roles\.", page)
