"""Record-table steps rewritten without per-row loops (issue 20) give what the row-by-row
versions gave, cell for cell: the to-screen list, the ASReview file, the newness column, the
spreadsheet copies. The row-by-row versions are kept here as the reference."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from sysrev.imports.records import display_title
from sysrev.screening.living import (ASREVIEW_COLUMNS, TO_SCREEN_COLUMNS,
                                    asreview_prior_knowledge, neutralise,
                                    new_since_last_search, to_screen)
from sysrev.tables import (neutralise_cell, read_tsv, read_tsv_chunks,
                           spreadsheet_csv_batches, write_spreadsheet_csv, write_tsv)


# ---------------------------------------------------------------- the row-by-row reference

def _to_screen_rows(unique, finals, newness):
    pending = finals[finals["final_decision"] == "pending"]
    info = unique.set_index("record_id")
    new = dict(zip(unique["record_id"], newness))
    rows = []
    for record, stage, basis in zip(pending["record_id"], pending["stage"], pending["basis"]):
        rec = info.loc[record]
        doi = rec["doi"] if isinstance(rec["doi"], str) else ""
        pmid = rec["pmid"] if isinstance(rec["pmid"], str) else ""
        others = [r for r in str(rec["cluster_records"]).split("; ") if r and r != record]
        rows.append({"record_id": record, "stage": stage, "new_since_last_search":
                     new.get(record, "unknown"), "why": basis,
                     "title": display_title(rec["title"]),
                     "authors": rec["authors"], "year": rec["year"], "journal": rec["journal"],
                     "abstract": rec["abstract"], "doi": doi,
                     "doi_url": f"https://doi.org/{doi}" if doi else "", "pmid": pmid,
                     "pubmed_url": f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" if pmid else "",
                     "other_ids": "; ".join(others)})
    table = pd.DataFrame(rows, columns=TO_SCREEN_COLUMNS)
    order = {"yes": 0, "unknown": 1, "no": 2}
    stage_order = {"full_text": 0, "title_abstract": 1}
    table = table.assign(_new=table["new_since_last_search"].map(order),
                         _stage=table["stage"].map(stage_order)).sort_values(
        ["_new", "_stage", "record_id"], kind="mergesort").drop(columns=["_new", "_stage"])
    for column in TO_SCREEN_COLUMNS:
        table[column] = table[column].map(neutralise)
    return table.reset_index(drop=True)


def _asreview_rows(unique, finals):
    labels = {"include": "1", "exclude": "0"}
    ta = finals[finals["stage"] == "title_abstract"]
    label = dict(zip(ta["record_id"], ta["final_decision"].map(labels).fillna("")))

    def text(value):
        return value if isinstance(value, str) else ""

    rows = []
    for rec in unique.sort_values("record_id", kind="mergesort").itertuples(index=False):
        doi, pmid = text(rec.doi), text(rec.pmid)
        rows.append({"record_id": rec.record_id, "title": display_title(rec.title),
                     "abstract": text(rec.abstract), "authors": text(rec.authors),
                     "year": text(rec.year), "journal": text(rec.journal), "doi": doi,
                     "pubmed_id": pmid,
                     "url": (f"https://doi.org/{doi}" if doi else
                             f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" if pmid else ""),
                     "label_included": label.get(rec.record_id, "")})
    table = pd.DataFrame(rows, columns=ASREVIEW_COLUMNS)
    for column in ASREVIEW_COLUMNS:
        table[column] = table[column].map(neutralise)
    return table


def _newness_rows(unique, current, previous):
    def judge(pmid):
        if previous is None or not isinstance(pmid, str) or pmid not in current:
            return "unknown"
        return "no" if pmid in previous else "yes"
    return unique["pmid"].map(judge)


# ------------------------------------------------------------------------------ the data

def _tables(n=400, seed=3):
    """Unique records with the awkward cells (missing DOI/PMID/title, formula-like text,
    clusters of several records) and decisions pending at either stage, as read_tsv reads
    them back."""
    rng = np.random.default_rng(seed)
    ids = [f"s{k % 3}:{k:05d}" for k in range(n)]
    pick = lambda values: [values[i] for i in rng.integers(0, len(values), n)]  # noqa: E731
    unique = pd.DataFrame({
        "record_id": ids,
        "title": pick(["A title", "=HYPERLINK(x)", "-minus", "", "+1", "@at", "Tab\ttitle",
                        "<i>In</i> vivo &amp; =x"]),
        "authors": pick(["Smith J", "", "-Doe"]), "year": pick(["2001", "", "2020"]),
        "journal": pick(["J", "", "=J"]), "abstract": pick(["text", "", "\rcr"]),
        "doi": pick(["10.1/x", "", "10.2/=y"]), "pmid": pick(["123", "", "456", "789"]),
        "cluster_records": [f"{i}; other:{k}" if k % 4 == 0 else i for k, i in enumerate(ids)],
    })
    stages = pick(["title_abstract", "full_text"])
    finals = pd.DataFrame({"record_id": ids, "stage": stages,
                           "final_decision": pick(["pending", "include", "exclude", "pending"]),
                           "basis": pick(["no decision", "one reviewer", ""])})
    finals = pd.concat([finals, finals[finals["stage"] == "full_text"].assign(
        stage="title_abstract", final_decision="include")], ignore_index=True)
    buffer = io.StringIO()
    unique.to_csv(buffer, sep="\t", index=False)
    buffer.seek(0)
    unique = pd.read_csv(buffer, sep="\t", dtype=str, keep_default_na=False, na_values=[""])
    finals = finals.replace("", np.nan)
    return unique, finals


@pytest.mark.parametrize("previous", [None, {"456"}, {"123", "456", "789"}])
def test_newness_equals_the_row_by_row_version(previous):
    unique, _ = _tables()
    current = {"123", "456"}
    pd.testing.assert_series_equal(new_since_last_search(unique, current, previous),
                                   _newness_rows(unique, current, previous))


@pytest.mark.parametrize("seed", [1, 2])
def test_to_screen_equals_the_row_by_row_version(seed):
    unique, finals = _tables(seed=seed)
    newness = new_since_last_search(unique, {"123", "456"}, {"456"})
    expected = _to_screen_rows(unique, finals, newness)
    assert len(expected) > 50 and expected["title"].str.startswith("'").any()
    got = to_screen(unique, finals, newness)
    assert got.to_csv(index=False) == expected.to_csv(index=False)
    pd.testing.assert_frame_equal(got.astype(object), expected.astype(object))


def test_to_screen_with_nothing_pending():
    unique, finals = _tables()
    done = finals.assign(final_decision="include")
    newness = new_since_last_search(unique, set(), None)
    assert (to_screen(unique, done, newness).to_csv(index=False)
            == _to_screen_rows(unique, done, newness).to_csv(index=False))


def test_to_screen_record_missing_from_unique_is_an_error():
    unique, finals = _tables()
    finals.loc[0, ["record_id", "final_decision"]] = ["nowhere:1", "pending"]
    with pytest.raises(KeyError, match="nowhere:1"):
        to_screen(unique, finals, new_since_last_search(unique, set(), None))


@pytest.mark.parametrize("seed", [1, 2])
def test_asreview_file_equals_the_row_by_row_version(seed):
    unique, finals = _tables(seed=seed)
    got, expected = asreview_prior_knowledge(unique, finals), _asreview_rows(unique, finals)
    assert got.to_csv(index=False) == expected.to_csv(index=False)
    pd.testing.assert_frame_equal(got, expected)


def test_spreadsheet_copy_in_chunks_equals_the_cell_by_cell_copy(tmp_path):
    unique, _ = _tables()
    write_tsv(unique, tmp_path / "unique.tsv", list(unique.columns))
    table = read_tsv(tmp_path / "unique.tsv")
    reference = table.apply(lambda column: column.map(neutralise_cell))
    with open(tmp_path / "reference.csv", "w", encoding="utf-8", newline="\n") as handle:
        handle.write("\ufeff")
        reference.to_csv(handle, index=False, lineterminator="\r\n", float_format="%.10g",
                         na_rep="")
    changed = 0
    with spreadsheet_csv_batches(tmp_path / "chunks.csv", list(table.columns),
                                 bom=True) as write:
        for chunk in read_tsv_chunks(tmp_path / "unique.tsv", rows=37):
            changed += write(chunk)
    write_spreadsheet_csv(table, tmp_path / "whole.csv", list(table.columns), bom=True)
    expected = (tmp_path / "reference.csv").read_bytes()
    assert (tmp_path / "chunks.csv").read_bytes() == expected
    assert (tmp_path / "whole.csv").read_bytes() == expected
    assert changed == int(sum(table[c].map(lambda v: neutralise_cell(v) != v
                                           if isinstance(v, str) else False).sum()
                              for c in table.columns))
    assert changed > 0
