"""Exports users load elsewhere: RIS and BibTeX of included and excluded records (parsed back
with rispy, sysrev's own RIS reader and bibtexparser), and the metafor-ready CSV."""

import math

import numpy as np
import pandas as pd
import pytest
import rispy

from sysrev.columns import EFFECT_COLUMNS
from sysrev.errors import InputError
from sysrev.exports import (author_name, bibtex_text, doi_of, excluded_references,
                            included_references, metafor_table, ris_text, split_authors,
                            split_pages)
from sysrev.imports.sources import import_records
from sysrev.meta.escalc import escalc

UNIQUE = pd.DataFrame({
    "record_id": ["pubmed:18438830", "embase:E31", "wos:W1", "central:C8", "embase:E99"],
    "title": ["Denosumab treatment effects on structural damage",
              "Hand BMD & erosion: 50% {less} progression_in RA",
              "A review of RANKL", "Repair of bone erosion", "A pending record"],
    "authors": ["Cohen SB; Dore RK; Lane NE", "Deodhar A.; Dore R.K.", None,
                "Yue, J; Griffith, JF", None],
    "year": ["2008", None, "2020", None, None],
    "journal": ["Arthritis Rheum", "Arthritis Care Res", "Rheumatology", None, None],
    "volume": ["58", "62", None, None, None], "issue": ["5", None, None, None, None],
    "pages": ["1299-309", "569-574", "e12", None, None],
    "doi": ["10.1002/art.23417", None, "10.1/x", None, None],
    "pmid": ["18438830", None, None, None, None], "language": [None] * 5,
    "abstract": [None] * 5})
INCLUDED = pd.DataFrame({"study_id": ["COHEN2008", "COHEN2008"],
                         "record_id": ["embase:E31", "pubmed:18438830"],
                         "role": ["secondary", "main"]})
FINAL = pd.DataFrame({
    "record_id": ["pubmed:18438830", "pubmed:18438830", "embase:E31", "wos:W1", "central:C8",
                  "central:C8", "embase:E99"],
    "stage": ["title_abstract", "full_text", "full_text", "title_abstract", "title_abstract",
              "full_text", "title_abstract"],
    "final_decision": ["include", "include", "include", "exclude", "include", "exclude",
                       "pending"],
    "reason": [None, None, None, "Review", None, "Active comparator", None]})


def test_names_and_pages():
    assert author_name("Genant H.K.") == "Genant, H.K."
    assert author_name("Van Der Heijde D") == "Van Der Heijde, D"
    assert author_name("Yue, J") == "Yue, J"
    assert author_name("DRIVE Study Group") == "DRIVE Study Group"
    assert split_pages("1299-309") == ("1299", "1309")
    assert split_pages("569-574") == ("569", "574")
    assert split_pages("e12") == ("e12", "")
    assert split_pages(None) == ("", "")
    assert split_authors("Fawcett, M.J. and Lautenschlager, S.") == ["Fawcett, M.J.",
                                                                     "Lautenschlager, S."]
    assert split_authors("Cohen SB; Dore RK") == ["Cohen, SB", "Dore, RK"]
    assert doi_of("10.1002/ar.25299 lk - https://example.org/?id=doi:10.1002") == \
        "10.1002/ar.25299"


def test_ris_of_included_and_excluded_records_reads_back(tmp_path):
    included = included_references(UNIQUE, INCLUDED)
    excluded = excluded_references(UNIQUE, FINAL)
    assert list(included["record_id"]) == ["pubmed:18438830", "embase:E31"]  # main first
    # Full-text exclusions first; the pending record is in neither file.
    assert list(excluded["record_id"]) == ["central:C8", "wos:W1"]
    path = tmp_path / "excluded.ris"
    path.write_text(ris_text(excluded), encoding="utf-8")
    entries = rispy.loads(path.read_text(encoding="utf-8"))
    assert [e["notes"] for e in entries] == [
        ["Excluded at full-text assessment: Active comparator"],
        ["Excluded at title and abstract screening: Review"]]
    assert entries[0]["authors"] == ["Yue, J", "Griffith, JF"]
    assert entries[0]["type_of_reference"] == "GEN"  # no journal
    assert entries[1]["keywords"] == ["sysrev: excluded at title and abstract screening"]

    ris = tmp_path / "included.ris"
    ris.write_text(ris_text(included), encoding="utf-8")
    text = ris.read_text(encoding="utf-8")
    assert text.count("TY  - JOUR") == 2 and text.count("ER  - ") == 2
    assert "N1  - Included: study COHEN2008 (main report)" in text
    assert "SP  - 1299\nEP  - 1309\n" in text
    # sysrev's own importer reads it as it reads a database export.
    back = import_records(ris, source="export", fmt="ris")
    first = back.iloc[0]
    assert first["title"] == "Denosumab treatment effects on structural damage"
    assert first["authors"] == "Cohen, SB; Dore, RK; Lane, NE"
    assert first["doi"] == "10.1002/art.23417" and first["pmid"] == "18438830"
    assert first["pages"] == "1299-1309" and first["year"] == "2008"
    assert back.iloc[1]["journal"] == "Arthritis Care Res"


def test_bibtex_entries_parse_back():
    bibtexparser = pytest.importorskip("bibtexparser")
    text = bibtex_text(included_references(UNIQUE, INCLUDED))
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks
    entries = {e.key: e for e in library.entries}
    assert set(entries) == {"pubmed_18438830", "embase_E31"}
    main = entries["pubmed_18438830"]
    assert main.entry_type == "article"
    assert main["author"] == "Cohen, SB and Dore, RK and Lane, NE"
    assert main["pages"] == "1299--1309" and main["pmid"] == "18438830"
    assert main["note"] == "Included: study COHEN2008 (main report)"
    # LaTeX special characters are escaped, so the braces stay balanced.
    assert entries["embase_E31"]["title"] == \
        r"Hand BMD \& erosion: 50\% \{less\} progression\_in RA"
    excluded = bibtexparser.parse_string(bibtex_text(excluded_references(UNIQUE, FINAL)))
    notes = {e.key: e["note"] for e in excluded.entries}
    assert notes == {"central_C8": "Excluded at full-text assessment: Active comparator",
                     "wos_W1": "Excluded at title and abstract screening: Review"}
    assert {e.key: e.entry_type for e in excluded.entries} == {"central_C8": "misc",
                                                               "wos_W1": "article"}


def test_a_record_missing_from_the_deduplicated_table_is_an_error():
    with pytest.raises(InputError, match="included record embase:NOPE"):
        included_references(UNIQUE, pd.DataFrame({"study_id": ["S"], "record_id":
                                                  ["embase:NOPE"], "role": ["main"]}))


def _effects(**columns):
    frame = pd.DataFrame({c: [np.nan] * 2 for c in EFFECT_COLUMNS})
    frame["study_id"], frame["label"] = ["S1", "S2"], ["Smith 2020", "Jones 2021"]
    frame["year"] = [2020, 2021]
    frame["data_level"] = ["arms", "arms"]
    for key, value in columns.items():
        frame[key] = value
    return frame


def test_metafor_csv_has_the_raw_cells_and_recomputes_yi_vi(tmp_path):
    ai, n1, ci, n2 = np.array([38.0, 0.0]), np.array([443.0, 23.0]), np.array([13.0, 2.0]), \
        np.array([224.0, 23.0])
    es = escalc("RR", ai=ai, bi=n1 - ai, ci=ci, di=n2 - ci)
    effects = _effects(n_treatment=n1, n_control=n2, events_treatment=ai,
                       events_control=ci, yi=es.yi, vi=es.vi, sei=np.sqrt(es.vi),
                       subgroup=["a", "b"])
    path = tmp_path / "metafor.csv"
    metafor_table(effects, measure="RR", kind="binary").to_csv(path, index=False)
    back = pd.read_csv(path)
    assert list(back.columns) == ["study_id", "slab", "year", "comparison", "subgroup",
                                  "measure", "data_level", "ai", "bi", "ci", "di", "n1i",
                                  "n2i", "yi", "vi", "sei", "conversions"]
    assert back[["ai", "bi", "ci", "di"]].to_numpy().tolist() == [[38, 405, 13, 211],
                                                                  [0, 23, 2, 21]]
    assert set(back["measure"]) == {"RR"} and list(back["subgroup"]) == ["a", "b"]
    # escalc on the written cells gives the written yi/vi (zero cell: 1/2 added, as metafor).
    again = escalc("RR", ai=back["ai"].to_numpy(float), bi=back["bi"].to_numpy(float),
                   ci=back["ci"].to_numpy(float), di=back["di"].to_numpy(float))
    np.testing.assert_allclose(again.yi, back["yi"], rtol=1e-12)
    np.testing.assert_allclose(again.vi, back["vi"], rtol=1e-12)
    assert back.loc[0, "yi"] == pytest.approx(math.log((38 / 443) / (13 / 224)), rel=1e-12)


def test_metafor_csv_of_means():
    effects = _effects(n_treatment=[436.0, 10.0], n_control=[218.0, 12.0],
                       mean_treatment=[0.85, 1.0], sd_treatment=[3.13, 2.0],
                       mean_control=[1.49, 2.0], sd_control=[3.76, 2.5],
                       yi=[-0.64, -1.0], vi=[0.0873, 0.9208])
    table = metafor_table(effects, measure="MD", kind="continuous")
    assert list(table.columns[7:13]) == ["m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"]
    assert table.loc[0, ["m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"]].tolist() == \
        [0.85, 3.13, 436, 1.49, 3.76, 218]
    with pytest.raises(ValueError, match="unknown outcome type 'ordinal'"):
        metafor_table(effects, measure="MD", kind="ordinal")


def test_a_reference_missing_from_the_unique_table_is_an_error_naming_it():
    # One lookup for all ids (issue 20) still names the first id the table lacks.
    included = pd.DataFrame({"study_id": ["A", "A", "B"],
                             "record_id": ["pubmed:18438830", "wos:W404", "embase:E404"],
                             "role": ["main", "secondary", "main"]})
    with pytest.raises(InputError, match=r"unique\.tsv, field 'record_id': included record "
                                         r"wos:W404 is not a record of the deduplicated"):
        included_references(UNIQUE, included)


def test_export_references_reads_only_the_exported_records(tmp_path, monkeypatch):
    # unique.tsv read a chunk at a time (2 rows), keeping the exported records: the same
    # files as from the whole table.
    import sysrev.recordtable as recordtable
    from sysrev.tables import write_tsv
    from sysrev.workflow.report import export_references

    paths = {name: tmp_path / f"{name}.tsv" for name in ("unique", "final", "included")}
    write_tsv(UNIQUE, paths["unique"], list(UNIQUE.columns))
    write_tsv(FINAL, paths["final"], list(FINAL.columns))
    write_tsv(INCLUDED, paths["included"], list(INCLUDED.columns))
    outputs = {}
    for rows in (2, 100_000):
        monkeypatch.setattr(recordtable, "CHUNK_ROWS", rows)
        out = tmp_path / str(rows)
        export_references(unique=str(paths["unique"]), final=str(paths["final"]),
                          included=str(paths["included"]),
                          included_ris=str(out / "i.ris"), included_bib=str(out / "i.bib"),
                          excluded_ris=str(out / "e.ris"), excluded_bib=str(out / "e.bib"))
        outputs[rows] = [(out / name).read_bytes() for name in
                         ("i.ris", "i.bib", "e.ris", "e.bib")]
    assert outputs[2] == outputs[100_000]
    assert b"Denosumab treatment effects" in outputs[2][0]
