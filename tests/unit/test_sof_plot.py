"""The summary-of-findings PNG in GRADE's layout: what was drawn, read from the Figure."""

import html
import math
from html.parser import HTMLParser

import pandas as pd
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font

from sysrev.grade import absolute_risks, summary_of_findings
from sysrev.plots.sof import (CERTAINTY_SYMBOLS, sentence_case, sof_context, sof_html, sof_png,
                              sof_title)

NO_OVERRIDES = pd.DataFrame(columns=["outcome", "domain", "downgrade", "reason"])


def _pooled(outcome, k, est, lb, ub, *, measure="RR", kind="binary", i2=0.0,
            participants=1059):
    return {"outcome": outcome, "label": outcome.title(), "measure": measure, "type": kind,
            "k": k, "participants": participants, "not_analysable": [], "egger": None,
            "random": {"estimate": est, "ci_lb": lb, "ci_ub": ub, "i2": i2}}


def _effects(k, events_c=(1, 2), n_c=(23, 23), events_t=(4, 1)):
    return pd.DataFrame({"study_id": [f"S{i}" for i in range(k)],
                         "weight_random": [100.0 / k] * k,
                         "events_treatment": list(events_t[:k]),
                         "events_control": list(events_c[:k]), "n_control": list(n_c[:k]),
                         "mean_control": [0.98] * k})


def _table(comments=None):
    results = [
        _pooled("sae", 2, math.log(1.0), math.log(0.54), math.log(1.86), i2=92.0,
                participants=1059),
        _pooled("hypo", 1, math.log(4.0), math.log(0.48), math.log(33.12), participants=46),
        _pooled("erosion", 1, -0.62, -0.98, -0.25, measure="MD", kind="continuous",
                participants=654),
        {"outcome": "jsn", "label": "Joint space narrowing", "measure": "MD",
         "type": "continuous", "k": 0, "participants": 0, "random": None,
         "not_analysable": [{"study_id": "S0"}, {"study_id": "S1"}]},
    ]
    effects = {"sae": _effects(2), "hypo": _effects(1), "erosion": _effects(1)}
    return summary_of_findings(results, effects, {"S0": "Low", "S1": "Low"}, NO_OVERRIDES,
                               labels={"S0": "Cohen 2008", "S1": "So 2021"},
                               comments=comments)


def test_capped_risk_is_shown_as_1000_with_a_footnote():
    table = _table().set_index("outcome")
    assert table.loc["hypo", "risk_control"] == "43 per 1,000"
    assert table.loc["hypo", "risk_intervention"] == "174 per 1,000 (21 to 1,000)"
    assert "capped at 1,000 per 1,000 (the RR's bounds give 21 to 1,440 per 1,000)" in \
        table.loc["hypo", "footnotes"]
    assert table.loc["sae", "participants_studies"] == "1,059 (2 studies)"
    assert table.loc["erosion", "risk_intervention"] == \
        "MD 0.62 lower (0.98 lower to 0.25 lower)"
    assert table.loc["erosion", "risk_control"] == "The mean was 0.98"


def test_odds_ratio_risk_never_exceeds_1000():
    pooled = _pooled("o", 1, math.log(50), math.log(5), math.log(500), measure="OR")
    risks = absolute_risks(pooled, _effects(1, events_c=(10,), n_c=(20,)))
    assert risks["control"] == "500 per 1,000"
    assert risks["intervention"] == "980 per 1,000 (833 to 998)" and not risks["capped"]


def test_png_layout_symbols_footnotes_and_one_line_rows(tmp_path):
    table = _table()
    drawn = sof_png(table, "T", tmp_path / "sof.png", dpi=80, intervention="denosumab")
    fig = drawn["figure"]
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "\u2116 of participants\n(studies)" in texts
    assert "Risk with denosumab" in texts and "Risk with control" in texts
    assert "Anticipated absolute effects* (95% CI)" in texts
    cells = drawn["cells"]
    # Inconsistency -2 for I2 92% and imprecision: each downgrade a lettered footnote.
    assert cells[("sae", "certainty")] == f"{CERTAINTY_SYMBOLS['Very low']}\nVery low"
    sae = [t for t in texts if t.startswith(CERTAINTY_SYMBOLS["Very low"])]
    assert any(t.endswith("$^{a,b}$") for t in sae)
    assert drawn["footnotes"][0] == "Inconsistency \u22122: I\u00b2 = 92%"
    assert drawn["footnotes"][1].startswith("Imprecision \u22122: 95% CI 0.54 to 1.86")
    legend = [t for t in fig.axes[0].texts if t.get_gid() == "footnotes"][0].get_text()
    assert "a. Inconsistency \u22122: I\u00b2 = 92%" in legend
    assert cells[("sae", "participants_studies")] == "1,059\n(2 studies)"
    assert cells[("hypo", "risk_intervention")] == "174 per 1,000\n(21 to 1,000)"
    cap = [n for n in drawn["footnotes"] if "capped" in n]
    assert len(cap) == 1
    # An outcome without studies: one line across the table.
    merged = cells[("jsn", "merged")]
    assert "\n" not in merged
    assert merged == ("No study reported usable data (not analysable: Cohen 2008, So 2021; "
                      "reasons in pooled.json)")
    assert ("jsn", "certainty") not in cells


def test_the_certainty_symbols_are_in_the_font_drawn():
    font = FT2Font(font_manager.findfont("DejaVu Sans"))
    for char in set("".join(CERTAINTY_SYMBOLS.values())) | {"\u2116"}:
        assert font.get_char_index(ord(char)) != 0, hex(ord(char))


class _Cells(HTMLParser):
    """The rows of the first table of an HTML page, each a list of cell texts."""

    def __init__(self):
        super().__init__()
        self.rows, self.cell, self.footnotes, self._in = [], None, [], None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.cell = ""
        elif tag == "sup" and self.cell is not None:
            self.cell += "^"
        elif tag == "br" and self.cell is not None:
            self.cell += "\n"

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.rows[-1].append(self.cell)
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


CONTEXT = [("Patient or population", "adults with rheumatoid arthritis"),
           ("Intervention", "denosumab"), ("Comparison", "placebo")]


def test_html_matches_the_png(tmp_path):
    """Issue 13: the HTML has the PNG's layout, letters, footnotes, separators and title."""
    table = _table()
    title = sof_title("denosumab", "Placebo", "rheumatoid arthritis")
    assert title == "Denosumab compared with placebo for rheumatoid arthritis"
    page = sof_html(table, title, intervention="Denosumab", comparison="Control",
                    context=CONTEXT)
    drawn = sof_png(table, title, tmp_path / "sof.png", dpi=80, intervention="Denosumab",
                    comparison="Control", context=CONTEXT)
    parser = _Cells()
    parser.feed(page)
    header1, header2, *rows = parser.rows
    assert header1 == ["Outcomes", "Anticipated absolute effects* (95% CI)",
                       "Relative effect (95% CI)", "\u2116 of participants (studies)",
                       "Certainty of the evidence (GRADE)", "Comments"]
    assert header2 == ["Risk with control", "Risk with denosumab"]
    cells = {r[0]: r for r in rows}
    sae, hypo, jsn = cells["Sae"], cells["Hypo"], cells["Joint space narrowing"]
    assert sae[4] == "1,059 (2 studies)"
    assert sae[5] == f"{CERTAINTY_SYMBOLS['Very low']}\nVery low^a,b"
    assert hypo[1] == "43 per 1,000"
    # The capped risk carries the letter of its footnote, as in the PNG.
    cap = next(i for i, n in enumerate(drawn["footnotes"]) if "capped" in n)
    assert hypo[2] == f"174 per 1,000 (21 to 1,000)^{'abcdefgh'[cap]}"
    assert jsn[1:] == ["No study reported usable data (not analysable: Cohen 2008, So 2021; "
                       "reasons in pooled.json)", ""]
    assert 'colspan=\'5\'' in page
    # Every footnote of the PNG, with its letter and reason, in the same order.
    for i, note in enumerate(drawn["footnotes"]):
        assert f"<p>{'abcdefgh'[i]}. {html.escape(note)}</p>" in page
    assert "a. Inconsistency \u22122: I\u00b2 = 92%" in page
    assert "capped at 1,000 per 1,000 (the RR&#x27;s bounds give 21 to 1,440 per 1,000)" in page
    assert f"<h2>{title}</h2>" in page
    assert "<b>Patient or population:</b> adults with rheumatoid arthritis" in page
    assert "Setting" not in page  # not configured, not printed
    assert "Risk with Control" not in page and "Reasons" not in page


def test_png_title_context_and_sentence_case_headers(tmp_path):
    title = sof_title("denosumab", "placebo", "rheumatoid arthritis")
    drawn = sof_png(_table(), title, tmp_path / "sof.png", dpi=80, intervention="Denosumab",
                    comparison="Control", context=CONTEXT)
    texts = {t.get_gid(): t.get_text() for t in drawn["figure"].axes[0].texts if t.get_gid()}
    assert texts["title"] == "Denosumab compared with placebo for rheumatoid arthritis"
    context = [t for t in drawn["figure"].axes[0].texts if t.get_gid() == "context"]
    assert [t.get_text() for t in context] == [
        "Patient or population: adults with rheumatoid arthritis", "Intervention: denosumab",
        "Comparison: placebo"]
    # Evenly spaced, under the title and above the table's header.
    ys = [t.get_position()[1] for t in context]
    assert abs((ys[0] - ys[1]) - (ys[1] - ys[2])) < 1e-9
    title = next(t for t in drawn["figure"].axes[0].texts if t.get_gid() == "title")
    assert title.get_position()[1] > ys[0]
    all_texts = [t.get_text() for t in drawn["figure"].axes[0].texts]
    assert "Risk with control" in all_texts and "Risk with denosumab" in all_texts
    assert "Risk with Control" not in all_texts
    assert "*The risk with denosumab" in texts["footnotes"]


def test_sentence_case_keeps_acronyms_and_the_context_keeps_what_is_given():
    assert sentence_case("Control") == "control"
    assert sentence_case("Denosumab") == "denosumab"
    assert sentence_case("TNF inhibitors") == "TNF inhibitors"
    assert sentence_case("DMARDs") == "DMARDs"
    assert sof_title("Denosumab", "Control") == "Denosumab compared with control"
    assert sof_context(population="adults", setting="", intervention="denosumab") == [
        ("Patient or population", "adults"), ("Intervention", "denosumab")]


def test_the_comments_column_holds_the_configured_comment(tmp_path):
    """Issue 17: GRADE's tables have a Comments column; sysrev's had none."""
    table = _table(comments={"sae": "Denosumab probably makes little difference to SAEs."})
    assert table.set_index("outcome").loc["sae", "comments"].startswith("Denosumab probably")
    page = sof_html(table, "T", intervention="Denosumab", comparison="Control")
    assert "<td>Denosumab probably makes little difference to SAEs.</td>" in page
    drawn = sof_png(table, "T", tmp_path / "sof.png", dpi=80, intervention="Denosumab",
                    comparison="Control")
    assert drawn["cells"][("sae", "comments")].replace("\n", " ") == \
        "Denosumab probably makes little difference to SAEs."
