"""Report tables that grow with the library (issue 20): a large duplicates, maybe or related
table shows its first rows, says how many it has and links the whole TSV; a small one is
shown whole, as before."""

from __future__ import annotations

import os

import pandas as pd

from sysrev.columns import DUPLICATE_COLUMNS
from sysrev.dedup import MAYBE_COLUMNS
from sysrev.dedup.related import RELATED_COLUMNS
from sysrev.report.tables import (INLINE_ROWS, duplicates_page, maybe_page, related_page,
                                  table_head)
from sysrev.tables import read_tsv, write_tsv
from sysrev.workflow.report import unique_titles


def _table(columns, n):
    return pd.DataFrame({c: [f"{c}-{k:06d}" for k in range(n)] for c in columns})


def _body_rows(page: str) -> int:
    return page.count("<tr><td")


def test_large_table_shows_its_first_rows_and_links_the_whole(tmp_path):
    n = INLINE_ROWS * 5 + 3
    path = tmp_path / "dedup" / "duplicates.tsv"
    write_tsv(_table(DUPLICATE_COLUMNS, n), path, DUPLICATE_COLUMNS)
    page_path = tmp_path / "report" / "tables" / "duplicates.html"
    page_path.parent.mkdir(parents=True)
    head = table_head(str(path), str(page_path))
    assert head.total == n and len(head.rows) == INLINE_ROWS
    pd.testing.assert_frame_equal(head.rows, read_tsv(path).iloc[:INLINE_ROWS])
    page = duplicates_page(head)
    assert _body_rows(page) == INLINE_ROWS
    assert f"{n:,} rows; the first {INLINE_ROWS:,} are shown" in page
    assert f"{n} records removed as duplicates" in page
    assert "removed_record_id-000999" in page and "removed_record_id-001000" not in page
    # The link, relative to the page, leads to the whole table.
    assert head.link == "../../dedup/duplicates.tsv"
    assert f"href='{head.link}'" in page
    assert os.path.isfile(os.path.join(page_path.parent, head.link))
    # A page of a thousand rows, however long the table.
    assert len(page) < 400 * INLINE_ROWS


def test_small_table_is_shown_whole_without_a_note(tmp_path):
    path = tmp_path / "maybe.tsv"
    table = _table(MAYBE_COLUMNS, 12)
    write_tsv(table, path, MAYBE_COLUMNS)
    head = table_head(str(path), str(tmp_path / "maybe.html"))
    assert head.total == 12
    page = maybe_page(head)
    assert page == maybe_page(read_tsv(path))
    assert _body_rows(page) == 12 and "are shown" not in page


def test_empty_table(tmp_path):
    path = tmp_path / "maybe.tsv"
    write_tsv(pd.DataFrame(columns=MAYBE_COLUMNS), path, MAYBE_COLUMNS)
    head = table_head(str(path), str(tmp_path / "maybe.html"))
    assert head.total == 0 and head.rows.empty
    assert maybe_page(head) == maybe_page(read_tsv(path))


def test_related_page_of_a_large_table_reads_only_the_titles_it_shows(tmp_path):
    n = INLINE_ROWS + 10
    related = pd.DataFrame({"record_id": [f"e:{k}" for k in range(n)],
                            "related_record_id": [f"a:{k}" for k in range(n)],
                            "relation": "erratum", "evidence": "same DOI"})
    for column in set(RELATED_COLUMNS) - set(related.columns):
        related[column] = ""
    path = tmp_path / "related.tsv"
    write_tsv(related, path, RELATED_COLUMNS)
    unique = pd.DataFrame({"record_id": [f"a:{k}" for k in range(n)] + [f"e:{k}" for k in range(n)],
                           "title": [f"Article {k}" for k in range(n)]
                           + [f"Erratum {k}" for k in range(n)]})
    unique_path = tmp_path / "unique.tsv"
    write_tsv(unique, unique_path, ["record_id", "title"])
    head = table_head(str(path), str(tmp_path / "related.html"))
    shown = set(head.rows["record_id"]) | set(head.rows["related_record_id"])
    titles, records = unique_titles(str(unique_path), shown)
    assert len(titles) == 2 * INLINE_ROWS and records == 2 * n
    page = related_page(head, titles, with_titles=True)
    assert "Article 999" in page and "Erratum 999" in page and "Article 1000" not in page
    assert f"{n:,} rows; the first {INLINE_ROWS:,} are shown" in page


def test_empty_related_table_keeps_the_title_columns(tmp_path):
    """No related reports but unique records: the page has the title columns, as when the
    whole unique table was read."""
    path = tmp_path / "related.tsv"
    write_tsv(pd.DataFrame(columns=RELATED_COLUMNS), path, RELATED_COLUMNS)
    unique = pd.DataFrame({"record_id": ["a:1"], "title": ["Article"]})
    unique_path = tmp_path / "unique.tsv"
    write_tsv(unique, unique_path, ["record_id", "title"])
    titles, records = unique_titles(str(unique_path), set())
    page = related_page(table_head(str(path), str(tmp_path / "related.html")), titles,
                        with_titles=records > 0)
    assert page == related_page(read_tsv(path), read_tsv(unique_path))
    assert "Its title" in page


def test_update_changes_page_caps_a_long_section():
    """A living update that adds a large library: the new-records section shows its first
    rows and links changes.tsv; the short sections stay whole."""
    from sysrev.update.text import changes_page
    n = INLINE_ROWS + 5
    changes = pd.DataFrame({"section": ["record"] * n + ["study"],
                            "item": [f"r:{k:05d}" for k in range(n)] + ["Study A"],
                            "field": "record", "previous": "", "current": "new",
                            "changed": "yes"})
    page = changes_page(changes, previous_date="2024-12-31", paragraph="p",
                        link="../../update/changes.tsv")
    assert f"{n:,} rows; the first {INLINE_ROWS:,} are shown" in page
    assert "href='../../update/changes.tsv'" in page
    assert "r:00999" in page and "r:01000" not in page and "Study A" in page
    small = changes.iloc[-3:]
    assert "are shown" not in changes_page(small, previous_date="2024-12-31", paragraph="p")


def _band(n, marked):
    """A maybe.tsv of ``n`` pairs with the review band: ranks n..1 in row order, the
    ``marked`` best-ranked pairs for review."""
    from sysrev.dedup.band import BAND_COLUMNS

    table = _table(MAYBE_COLUMNS, n)
    table["review_rank"] = [str(n - k) for k in range(n)]
    table["for_review"] = ["yes" if n - k <= marked else "no" for k in range(n)]
    table["likelihood"] = [f"{(n - k) / n:.3f}" for k in range(n)]
    table["settled"] = ""
    table["evidence_for"] = "title 95"
    table["evidence_against"] = "authors differ"
    return table, MAYBE_COLUMNS + BAND_COLUMNS


def test_maybe_page_shows_the_pairs_marked_for_review_with_the_total_and_a_link(tmp_path):
    from sysrev.report.tables import maybe_head

    n, marked = INLINE_ROWS + 500, 300
    table, columns = _band(n, marked)
    path = tmp_path / "dedup" / "maybe.tsv"
    write_tsv(table, path, columns)
    page_path = tmp_path / "report" / "tables" / "maybe.html"
    page_path.parent.mkdir(parents=True)
    head = maybe_head(str(path), str(page_path))
    assert head.total == n and len(head.rows) == marked
    # By review rank, the best first.
    assert head.rows["review_rank"].tolist() == [str(r) for r in range(1, marked + 1)]
    page = maybe_page(head)
    assert _body_rows(page) == marked
    assert f"{n:,} pairs look alike but were not merged; the {marked:,} marked for review " \
        "are shown" in page
    assert head.link == "../../dedup/maybe.tsv" and f"href='{head.link}'" in page
    assert "Evidence for" in page and "Evidence against" in page
    # A pair below the cut is not on the page; the best one is.
    best = table[table["review_rank"] == "1"]["record_id_a"].iloc[0]
    below = table[table["review_rank"] == str(marked + 1)]["record_id_a"].iloc[0]
    assert best in page and below not in page
    # The whole table as a DataFrame is cut to the same pairs (without a link).
    whole = read_tsv(path)
    whole_page = maybe_page(whole)
    assert _body_rows(whole_page) == marked and best in whole_page


def test_maybe_page_with_every_pair_marked_has_no_note(tmp_path):
    from sysrev.report.tables import maybe_head

    table, columns = _band(12, 12)
    path = tmp_path / "maybe.tsv"
    write_tsv(table, path, columns)
    page = maybe_page(maybe_head(str(path), str(tmp_path / "maybe.html")))
    assert _body_rows(page) == 12 and "are shown" not in page


def test_maybe_head_of_a_table_without_the_band_is_its_first_rows(tmp_path):
    from sysrev.report.tables import maybe_head

    path = tmp_path / "maybe.tsv"
    write_tsv(_table(MAYBE_COLUMNS, INLINE_ROWS + 5), path, MAYBE_COLUMNS)
    head = maybe_head(str(path), str(tmp_path / "maybe.html"))
    expected = table_head(str(path), str(tmp_path / "maybe.html"))
    assert head.total == expected.total == INLINE_ROWS + 5
    pd.testing.assert_frame_equal(head.rows, expected.rows)
