"""The maybe band (sysrev.dedup.band): settled pairs, ranking, the review cap, evidence."""

import pandas as pd

from sysrev.dedup import MAYBE_COLUMNS
from sysrev.dedup.band import (BAND_COLUMNS, SETTLED_VOLUME_PAGES, review_band,
                               review_cap)


def _pair(a, b, title, author, journal, year, volume, pages, reason=""):
    return dict(zip(MAYBE_COLUMNS, (a, b, reason, title, author, journal, year, volume,
                                    pages, "t", "t")))


def test_settle_rank_and_cap():
    maybe = pd.DataFrame([
        _pair("r1", "r2", 50, 100, 100, "same", "same", "same", "titles differ"),
        _pair("r3", "r4", 100, 100, 40, "same", "different", "different",
              "different volumes; different pages"),
        _pair("r5", "r6", 99, 100, None, "one apart", "", "", "years one apart"),
        _pair("r7", "r8", 95, 60, 30, "different", "", "different", "different pages"),
    ])
    band = review_band(maybe, records=100, per_100k=300, minimum=2)
    assert set(BAND_COLUMNS) <= set(band.columns)
    row = band.set_index("record_id_a")
    assert row.loc["r3", "settled"] == SETTLED_VOLUME_PAGES
    assert pd.isna(row.loc["r3", "review_rank"]) and row.loc["r3", "for_review"] == "no"
    # missing journal, volume and pages are left out of the mean: (0.99 + 1 + 0.5) / 3
    assert row.loc["r5", "likelihood"] == 0.83
    assert row.loc["r1", "likelihood"] == round((0.5 + 1 + 1 + 1 + 1 + 1) / 6, 3)
    assert list(band.sort_values("review_rank").dropna(subset=["review_rank"])
                ["record_id_a"]) == ["r1", "r5", "r7"]
    assert list(band["for_review"]) == ["yes", "no", "yes", "no"]
    assert row.loc["r1", "evidence_for"] == "authors 100; journal 100; year same; " \
        "volume same; pages same"
    assert row.loc["r7", "evidence_against"] == "different pages"


def test_a_conflicting_volume_or_first_page_ranks_after_pairs_without_one():
    maybe = pd.DataFrame([
        _pair("r1", "r2", 100, 100, 100, "same", "same", "different", "different pages"),
        _pair("r3", "r4", 50, 100, None, "one apart", "same", "same", "titles differ"),
        _pair("r5", "r6", 100, 100, 100, "same", "different", "", "different volumes"),
    ])
    band = review_band(maybe, records=100, per_100k=300, minimum=1)
    # r1 and r5 agree in more (likelihood 0.833 and 0.8 against 0.75), but in each one
    # field conflicts; between them, the likelihood decides
    assert list(band.sort_values("review_rank")["record_id_a"]) == ["r3", "r1", "r5"]
    assert list(band.set_index("record_id_a")["for_review"].sort_index()) == ["no", "yes", "no"]


def test_cap_scales_with_records():
    assert review_cap(151) == 100
    assert review_cap(100_000) == 300
    assert review_cap(1_000_000, per_100k=200) == 2000


def test_empty_and_text_input():
    band = review_band(pd.DataFrame(columns=MAYBE_COLUMNS), records=10)
    assert band.empty and set(BAND_COLUMNS) <= set(band.columns)
    text = pd.DataFrame([_pair("a", "b", "97.5", "100", "", "same", "", "", "x")])
    assert review_band(text, records=10)["likelihood"].tolist() == [0.992]
