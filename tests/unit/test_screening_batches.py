"""Screening in batches (issue 20): the rule reads the record, cluster and unique-record
tables a few rows at a time and writes its outputs batch by batch; what it writes must be
what the whole tables give at once. Tiny batches (one to four rows) cross every batch
boundary in a fast test; the reference is the in-memory composition of the screening
functions (final_decisions, to_screen, group_by_study, prioritise,
asreview_prior_knowledge) on the whole tables."""

import json

import numpy as np
import pandas as pd
import pytest

from sysrev.columns import FINAL_DECISION_COLUMNS
from sysrev.screening import RecordMatcher, ScreeningRules, final_decisions, load_generic
from sysrev.screening.living import (ASREVIEW_COLUMNS, STUDY_CANDIDATE_COLUMNS,
                                    TO_SCREEN_COLUMNS, asreview_prior_knowledge,
                                    group_by_study, new_since_last_search,
                                    new_since_previous_version, to_screen)
from sysrev.screening.matching import KeyRecorder
from sysrev.screening.streaming import KeySet, PendingRows, csv_lines
from sysrev.tables import read_tsv, write_tsv
from sysrev.workflow.screening import screen_records

RULES = ScreeningRules("any_include", "agreement", 2, "consensus", False)
ABSTRACT = "Denosumab {} in rheumatoid arthritis; erosion, joint space narrowing"


def _library():
    """Records (with copies in two sources), their clusters and the unique records."""
    records = [
        ("pubmed:1", "pubmed", "1", "1", "10.1/a", "Denosumab one", "Cohen, S", "2019"),
        ("embase:E1", "embase", "E1", "", "10.1/a", "Denosumab one.", "Cohen S", "2019"),
        ("pubmed:2", "pubmed", "2", "2", "", "Review of bone", "Smith, A", "2020"),
        ("pubmed:3", "pubmed", "3", "3", "10.1/c", "Erosion, \"quoted\"\nand new line",
         "Tanaka, Y", "2021"),
        ("europepmc:PPR1", "europepmc", "PPR1", "", "", "Erosion preprint", "Tanaka Y",
         "2021"),
    ]
    for n in range(4, 13):
        records.append((f"pubmed:{n}", "pubmed", str(n), str(n), "", f"Trial {n}",
                        "Takeuchi, T" if n % 2 else "Cohen, S", "2020"))
    records += [("pubmed:13", "pubmed", "13", "13", "", "Shared title", "Takeuchi, T", "2020"),
                ("pubmed:14", "pubmed", "14", "14", "", "Shared title", "Cohen, S", "2020"),
                ("ctgov:NCT00000009", "ctgov", "NCT00000009", "", "", "=Registered trial",
                 "", "2018")]
    rec = pd.DataFrame(records, columns=["record_id", "source", "source_id", "pmid", "doi",
                                         "title", "authors", "year"]).replace("", None)
    cluster_of = {r: r for r in rec["record_id"]}
    cluster_of["embase:E1"] = "pubmed:1"
    clusters = pd.DataFrame({"record_id": list(cluster_of), "cluster_id":
                             list(cluster_of.values())})
    unique = rec[rec["record_id"] != "embase:E1"].copy()
    unique["journal"] = "Ann Rheum Dis"
    unique["abstract"] = [ABSTRACT.format(i) if i % 3 else None
                          for i in range(len(unique))]
    unique.loc[unique["record_id"] == "pubmed:9", "abstract"] = "-5 mg, =formula-like"
    unique.loc[unique["record_id"] == "pubmed:10", "abstract"] = 'Line one, "two"\nline three'
    unique["retraction"] = None
    unique.loc[unique["record_id"] == "pubmed:1", "retraction"] = "retracted"
    unique["cluster_records"] = [
        "pubmed:1; embase:E1" if r == "pubmed:1" else r for r in unique["record_id"]]
    unique["cluster_sources"] = unique["source"]
    unique["mesh_terms"] = "not read"
    return rec, clusters, unique.sort_values("record_id").reset_index(drop=True)


DECISIONS = """record_id,reviewer,stage,decision,reason,note,pmid,doi
pubmed:1,R1,title_abstract,include,,,,
pubmed:1,R2,title_abstract,include,,,,
embase:E1,R1,full_text,include,,,,
pubmed:1,R2,full_text,include,,,,
,R1,title_abstract,exclude,,,2,
,R2,title_abstract,exclude,,,2,
,R1,title_abstract,include,,,,10.1/c
pubmed:4,R1,title_abstract,include,,,,
pubmed:4,R2,title_abstract,exclude,,,,
pubmed:5,R1,title_abstract,exclude,,,,
pubmed:5,R2,title_abstract,exclude,,,,
pubmed:6,R1,title_abstract,include,,,,
pubmed:6,R2,title_abstract,include,,,,
pubmed:6,R1,full_text,include,,,,
pubmed:6,R2,full_text,exclude,no outcome,,,
pubmed:7,R1,title_abstract,include,,,,
pubmed:7,R2,title_abstract,maybe,,,,
pubmed:8,R1,title_abstract,include,,,,
pubmed:8,R2,title_abstract,include,,,,
"""


@pytest.fixture
def library(tmp_path):
    rec, clusters, unique = _library()
    paths = {"records": tmp_path / "records.tsv", "clusters": tmp_path / "clusters.tsv",
             "unique": tmp_path / "unique.tsv", "decisions": tmp_path / "decisions.csv",
             "studies": tmp_path / "studies.csv", "related": tmp_path / "related.tsv",
             "previous": tmp_path / "previous_records.tsv"}
    write_tsv(rec, paths["records"], list(rec.columns))
    write_tsv(clusters, paths["clusters"], list(clusters.columns))
    write_tsv(unique, paths["unique"], list(unique.columns))
    paths["decisions"].write_text(DECISIONS, encoding="utf-8")
    paths["studies"].write_text("study_id,record_id,role\nS1,embase:E1,main\n",
                                encoding="utf-8")
    related = pd.DataFrame({
        "record_id": ["pubmed:9", "pubmed:3", "pubmed:10"],
        "related_record_id": ["ctgov:NCT00000009", "europepmc:PPR1", "pubmed:11"],
        "relation": ["registration_of", "preprint_of", "erratum"], "evidence": "test"})
    write_tsv(related, paths["related"], list(related.columns))
    previous = rec[rec["record_id"].isin(["embase:E1", "pubmed:2", "pubmed:9"])]
    write_tsv(previous, paths["previous"], list(previous.columns))
    return paths


def _run(paths, out, chunk_rows, *, related=False, prioritise=False, previous=False,
         rules=RULES):
    out.mkdir(exist_ok=True)
    screen_records(records=str(paths["records"]), unique=str(paths["unique"]),
                   clusters=str(paths["clusters"]),
                   sources=[{"file": str(paths["decisions"]), "format": "generic"}],
                   studies=str(paths["studies"]), previous_snapshot=[],
                   previous_records=str(paths["previous"]) if previous else None,
                   final=str(out / "final_decisions.tsv"), included=str(out / "included.tsv"),
                   to_screen_out=str(out / "to_screen.csv"),
                   to_screen_asreview=str(out / "to_screen_asreview.csv"),
                   agreement=str(out / "agreement.tsv"), conflicts=str(out / "conflicts.tsv"),
                   audit=str(out / "audit.json"), withdrawn_from=[],
                   related=str(paths["related"]) if related else None,
                   stopping=str(out / "stopping.json"), prioritise_records=prioritise,
                   rules=rules, chunk_rows=chunk_rows)
    return out


def _reference(paths, out, *, related=False, prioritise=False, previous=False):
    """The outputs as the whole tables give them (the rule before it read in batches)."""
    out.mkdir()
    records, clusters = read_tsv(paths["records"]), read_tsv(paths["clusters"])
    unique = read_tsv(paths["unique"])
    decisions = load_generic(paths["decisions"], RecordMatcher(records, clusters))
    finals = final_decisions(decisions, list(unique["record_id"]), RULES)
    newness = (new_since_previous_version(unique, clusters,
                                          set(read_tsv(paths["previous"])["record_id"]))
               if previous else new_since_last_search(unique, set(), None))
    pending, columns = to_screen(unique, finals, newness), TO_SCREEN_COLUMNS
    if related:
        from sysrev.related_reports import study_candidates
        pending = group_by_study(pending, study_candidates(read_tsv(paths["related"])))
        columns = columns + STUDY_CANDIDATE_COLUMNS
    if prioritise:
        from sysrev.screening.prioritise import PRIORITY_COLUMNS
        from sysrev.screening.prioritise import prioritise as rank
        pending = rank(pending, unique, finals)[0]
        columns = columns + PRIORITY_COLUMNS
    write_tsv(finals, out / "final_decisions.tsv", FINAL_DECISION_COLUMNS,
              sort_by=["record_id", "stage"])
    pending.loc[:, columns].to_csv(out / "to_screen.csv", index=False, lineterminator="\n")
    asreview_prior_knowledge(unique, finals).loc[:, ASREVIEW_COLUMNS].to_csv(
        out / "to_screen_asreview.csv", index=False, lineterminator="\n")
    return out


OUTPUTS = ["final_decisions.tsv", "to_screen.csv", "to_screen_asreview.csv"]
ALL_OUTPUTS = OUTPUTS + ["included.tsv", "agreement.tsv", "conflicts.tsv", "stopping.json"]


@pytest.mark.parametrize("options", [
    {}, {"previous": True}, {"related": True, "prioritise": True, "previous": True}],
    ids=["plain", "previous_version", "related_prioritised"])
def test_batches_give_the_whole_tables_outputs(library, tmp_path, options):
    expected = _reference(library, tmp_path / "reference", **options)
    got = _run(library, tmp_path / "by2", 2, **options)
    for name in OUTPUTS:
        assert (got / name).read_bytes() == (expected / name).read_bytes(), name
    if not options:
        # The outputs the reference does not make, and the audit's counts: the same from
        # one batch as from batches of two rows.
        whole = _run(library, tmp_path / "whole", 10_000)
        for name in ALL_OUTPUTS:
            assert (got / name).read_bytes() == (whole / name).read_bytes(), name
        assert json.loads((got / "audit.json").read_text())["counts"] == json.loads(
            (whole / "audit.json").read_text())["counts"]
    counts = json.loads((got / "audit.json").read_text())["counts"]
    assert counts["records_screened"] == 16
    assert counts["final_decisions"]["title_abstract"]["pending"] == 9
    pending = pd.read_csv(got / "to_screen.csv", dtype=str, keep_default_na=False)
    assert counts["pending"] == len(pending) == 13
    # Formula-like cells are neutralised, quotes and new lines survive the batches.
    assert "'=Registered trial" in set(pending["title"])
    assert "'-5 mg, =formula-like" in set(pending["abstract"])
    assert any('"quoted"' in t for t in pending["title"])
    assert 'Line one, "two"\nline three' in set(pending["abstract"])
    if options.get("prioritise"):
        assert counts["prioritised"]["applied"]
        ranks = pending.loc[pending["stage"] == "title_abstract", "priority_rank"]
        assert list(ranks) == [str(i) for i in range(1, len(ranks) + 1)]
    if options.get("related"):
        assert list(pending["record_id"]).index("ctgov:NCT00000009") + 1 == list(
            pending["record_id"]).index("pubmed:9")


def test_unsorted_unique_table_is_read_as_one_batch(library, tmp_path):
    unique = read_tsv(library["unique"])
    write_tsv(unique.iloc[::-1], library["unique"], list(unique.columns))
    expected = _reference(library, tmp_path / "reference")
    got = _run(library, tmp_path / "got", 2)
    for name in OUTPUTS:
        assert (got / name).read_bytes() == (expected / name).read_bytes(), name


def test_require_complete_lists_every_pending_decision_and_writes_nothing(library, tmp_path):
    strict = ScreeningRules("any_include", "agreement", 2, "consensus", True)
    records, clusters = read_tsv(library["records"]), read_tsv(library["clusters"])
    decisions = load_generic(library["decisions"], RecordMatcher(records, clusters))
    with pytest.raises(ValueError) as whole:
        final_decisions(decisions, list(read_tsv(library["unique"])["record_id"]), strict)
    with pytest.raises(ValueError) as batched:
        _run(library, tmp_path / "out", 2, rules=strict)
    assert str(batched.value) == str(whole.value)
    assert not list((tmp_path / "out").iterdir())


def test_matcher_for_recorded_keys_answers_as_the_whole_tables_do(library):
    records, clusters = read_tsv(library["records"]), read_tsv(library["clusters"])
    whole = RecordMatcher(records, clusters)
    lookups = [{"record_id": "embase:E1"}, {"record_id": "pubmed:99"}, {"pmid": "PMID: 2"},
               {"doi": "https://doi.org/10.1/A"}, {"accession": " PPR1 "},
               {"title": "DENOSUMAB ONE", "year": "2019"},
               {"title": "Shared title", "year": 2020, "authors": "Takeuchi T."},
               {"title": "Shared title", "authors": "Nobody"}, {"title": "Shared title"},
               {"pmid": "999", "title": "Trial 7", "year": "2020"}, {"doi": "10.9/none"}]
    recorder = KeyRecorder()
    for keys in lookups:
        recorder.match(**keys)
    for chunk_rows in (1, 4, 1000):
        small = RecordMatcher.for_keys(library["records"], library["clusters"], recorder,
                                       chunk_rows)
        for keys in lookups:
            assert small.match(**keys) == whole.match(**keys), keys
    # Only what the lookups can find is held.
    assert small._by_record == {"embase:E1": "pubmed:1"}
    assert set(small._by_pmid) == {"1", "2", "7", "13", "14"}  # found by PMID, DOI or title
    assert len(whole._by_pmid) == 14


def test_key_set_is_exact():
    keys = KeySet([["abc", "pubmed:1", None], ["ü-id"]])
    got = keys.isin(pd.Series(["abc", "abcd", "ab", "pubmed:1", float("nan"), "ü-id", "u"]))
    assert got.tolist() == [True, False, False, True, False, True, False]
    assert not KeySet([]).isin(["x"]).any()


def test_pending_rows_come_out_in_any_order(tmp_path):
    table = pd.DataFrame({"a": ["x", "y, z", 'q"uote', None], "b": ["1", "2\n3", "", "4"]})
    rows = PendingRows(tmp_path)
    rows.add(table.iloc[:2], ["a", "b"], [1, 0])
    rows.add(table.iloc[2:], ["a", "b"], [1, 0])
    assert rows.keys().tolist() == [1, 0, 1, 0]
    lines = csv_lines(table.itertuples(index=False, name=None))
    assert "".join(lines) == table.to_csv(index=False, header=False, lineterminator="\n")
    path = tmp_path / "out.csv"
    with path.open("wb") as handle:
        rows.write(handle, np.array([3, 1, 2, 0]))
        rows.write(handle, np.array([0, 1]), [",s0", ",s1"])
    rows.close()
    assert path.read_text() == "".join(lines[i] for i in (3, 1, 2, 0)) + \
        lines[0][:-1] + ",s0\n" + lines[1][:-1] + ",s1\n"
