"""One study order for every figure: by year then label, by label, or as entered."""

import pandas as pd
import pytest

from sysrev.study_order import entered_order, ordered_ids, sort_studies, study_order

STUDIES = pd.DataFrame({"study_id": ["COHEN2008", "DESIRABLE2019", "DRIVE2016", "SO2021",
                                     "NOYEAR", "IWAMOTO2022"],
                        "label": ["Cohen 2008", "DESIRABLE (Takeuchi 2019)",
                                  "DRIVE (Takeuchi 2016)", "So 2021", "abstract only",
                                  "Iwamoto 2022"],
                        "year": ["2008", "2019", "2016", "2021", "", "2022"]})


def test_year_then_label_with_missing_years_last():
    assert study_order(STUDIES, "year") == ["COHEN2008", "DRIVE2016", "DESIRABLE2019",
                                            "SO2021", "IWAMOTO2022", "NOYEAR"]


def test_same_year_is_ordered_by_label_case_insensitively():
    ids = ordered_ids(["b", "a", "c"], "year", labels={"a": "zeta", "b": "Alpha", "c": "beta"},
                      years={"a": 2010, "b": 2010, "c": 2010})
    assert ids == ["b", "c", "a"]


def test_missing_years_as_nan_sort_last():
    ids = ordered_ids(["a", "b", "c"], "year", labels={"a": "A", "b": "B", "c": "C"},
                      years={"a": float("nan"), "b": 2012.0, "c": 2001})
    assert ids == ["c", "b", "a"]


def test_label_then_year():
    assert study_order(STUDIES, "label") == ["NOYEAR", "COHEN2008", "DESIRABLE2019",
                                             "DRIVE2016", "IWAMOTO2022", "SO2021"]


def test_as_entered_follows_the_extraction_sheet(tmp_path):
    sheet = tmp_path / "studies.csv"
    sheet.write_text("study_id,label,year\nSO2021,So 2021,2021\nCOHEN2008,Cohen 2008,2008\n"
                     "DRIVE2016,x,2016\n", encoding="utf-8")
    assert entered_order(sheet) == ["SO2021", "COHEN2008", "DRIVE2016"]
    # Studies the sheet does not list come last, by id.
    assert study_order(STUDIES, "as_entered", sheet) == [
        "SO2021", "COHEN2008", "DRIVE2016", "DESIRABLE2019", "IWAMOTO2022", "NOYEAR"]


def test_sort_studies_keeps_groups_and_rows_of_one_study_together():
    table = pd.DataFrame({"study_id": ["B", "A", "B", "C"], "label": ["Bee", "Ay", "Bee", "Cee"],
                          "year": [2001, 2005, 2001, 2001], "comparison": ["2", "1", "1", "1"],
                          "subgroup": ["x", "x", "x", ""]})
    out = sort_studies(table, "year", group="subgroup")
    assert list(zip(out["study_id"], out["comparison"])) == [("C", "1"), ("B", "2"),
                                                               ("B", "1"), ("A", "1")]


def test_unknown_order_is_an_error():
    with pytest.raises(ValueError, match="not one of"):
        ordered_ids(["a"], "random")


def test_every_figure_uses_the_same_order(tmp_path):
    """Forest plot rows, traffic-light rows and the SoF's study names follow one order."""
    import numpy as np

    from sysrev.grade import summary_of_findings
    from sysrev.plots.forest import forest_plot
    from sysrev.plots.rob import traffic_light
    from sysrev.rob import TOOLS
    from tests.unit.test_forest_plot import _binary

    effects, pooled = _binary([4, 10, 6], [50, 100, 80], [8, 12, 9], [50, 100, 80],
                              ["Zeta 2010", "Alpha 2012", "Alpha 2009"], [2010, 2012, 2009])
    ids = list(effects["study_id"])
    studies = pd.DataFrame({"study_id": ids, "label": effects["label"],
                            "year": effects["year"].astype(str)})
    for order in ("year", "label"):
        expected = study_order(studies, order)
        drawn = forest_plot(effects, pooled, tmp_path / "f.png", tmp_path / "f.svg", dpi=40,
                            order=order)
        assert drawn["rows"] == expected
        tool = TOOLS["rob2"]
        rob = pd.DataFrame([{"study_id": s, "domain": d, "judgement": "Low"}
                            for s in ids for d in list(tool.domains) + ["overall"]])
        drew = traffic_light(rob, dict(zip(ids, effects["label"])), tool, tmp_path / "t.png",
                             tmp_path / "t.svg", order=expected)
        assert drew["studies"] == expected
        ticks = [t.get_text() for t in drew["figure"].axes[0].get_yticklabels()]
        assert ticks == [dict(zip(ids, effects["label"]))[s] for s in reversed(expected)]
        empty = {"outcome": "x", "label": "X", "measure": "RR", "k": 0, "participants": 0,
                 "random": None, "not_analysable": [{"study_id": s} for s in ids]}
        sof = summary_of_findings([empty], {}, {}, pd.DataFrame(
            columns=["outcome", "domain", "downgrade", "reason"]),
            labels=dict(zip(ids, effects["label"])), order=expected)
        names = ", ".join(dict(zip(ids, effects["label"]))[s] for s in expected)
        assert names in sof.loc[0, "reasons"]
    assert np.isfinite(pooled["random"]["estimate"])
