"""The update stage: archived versions, the changes table, the paragraph, the version plot."""

import json

import pandas as pd
import pytest

from sysrev.errors import InputError
from sysrev.update.archive import ARCHIVE_FILES, VERSION_FILE, archive_version, load_version
from sysrev.update.changes import changes_table, summary_numbers, verdict
from sysrev.update.text import changes_page, update_paragraph


def _tsv(path, frame):
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, sep="\t", index=False)


SUMMARY = ["outcome", "label", "measure", "status", "k", "participants", "estimate",
           "ci_lower", "ci_upper", "prediction_lower", "prediction_upper", "tau2", "i2"]


def _version_tables(*, records, included, finals, arms, summary, sof):
    return {"records.tsv": pd.DataFrame(records, columns=["record_id", "source"]),
            "included.tsv": pd.DataFrame(included, columns=["study_id", "record_id", "role",
                                                             "pmid", "doi"]),
            "final_decisions.tsv": pd.DataFrame(finals, columns=["record_id", "stage",
                                                                 "final_decision"]),
            "arms.tsv": pd.DataFrame(arms, columns=["study_id", "arm", "outcome",
                                                    "timepoint", "n", "events"]),
            "summary.tsv": pd.DataFrame(summary, columns=SUMMARY),
            "summary_of_findings.tsv": pd.DataFrame(sof, columns=["outcome", "certainty"])}


PREVIOUS = _version_tables(
    records=[("pubmed:1", "pubmed"), ("embase:E1", "embase"), ("embase:E2", "embase")],
    included=[("A", "pubmed:1", "main", "1", "")],
    finals=[("pubmed:1", "title_abstract", "include"), ("pubmed:1", "full_text", "include"),
            ("embase:E2", "title_abstract", "exclude"), ("embase:E1", "title_abstract", "maybe")],
    arms=[("A", "dmab", "sae", "12 months", 100, 5), ("A", "pbo", "sae", "12 months", 100, 7)],
    summary=[("sae", "SAE", "RR", "single study", 1, 200, 0.71, 0.23, 2.2, None, None, 0, 0)],
    sof=[("sae", "Low")])
CURRENT = _version_tables(
    records=[("pubmed:1", "pubmed"), ("pubmed:2", "pubmed"), ("embase:E1", "embase"),
             ("ctgov:NCT1", "ctgov")],
    included=[("A", "pubmed:1", "main", "1", ""), ("B", "pubmed:2", "main", "2", "")],
    finals=[("pubmed:1", "title_abstract", "include"), ("pubmed:1", "full_text", "include"),
            ("pubmed:2", "title_abstract", "include"), ("pubmed:2", "full_text", "include"),
            ("embase:E1", "title_abstract", "exclude")],
    arms=[("A", "dmab", "sae", "12 months", 100, 6), ("A", "pbo", "sae", "12 months", 100, 7),
          ("B", "dmab", "sae", "12 months", 50, 1), ("B", "pbo", "sae", "12 months", 50, 4)],
    summary=[("sae", "SAE", "RR", "pooled", 2, 300, 0.5, 0.26, 0.96, None, None, 0.0, 0.0)],
    sof=[("sae", "Moderate")])


def _archive(folder, tables=PREVIOUS, date="2020-12-31"):
    for name, frame in tables.items():
        _tsv(folder / name, frame)
    (folder / VERSION_FILE).write_text(json.dumps({"search_date": date}))
    return folder


def _changes(tmp_path):
    previous = load_version(_archive(tmp_path / "v"))
    clusters = pd.DataFrame({"record_id": ["pubmed:1", "pubmed:2", "embase:E1", "ctgov:NCT1"],
                             "cluster_id": ["pubmed:1", "pubmed:2", "embase:E1",
                                            "ctgov:NCT1"]})
    return changes_table(previous, records=CURRENT["records.tsv"], clusters=clusters,
                         final_decisions=CURRENT["final_decisions.tsv"],
                         included=CURRENT["included.tsv"], arms=CURRENT["arms.tsv"],
                         summary=CURRENT["summary.tsv"],
                         summary_of_findings=CURRENT["summary_of_findings.tsv"])


def test_incomplete_archive_names_the_missing_file(tmp_path):
    folder = _archive(tmp_path / "v")
    (folder / "arms.tsv").unlink()
    with pytest.raises(InputError, match=r"arms\.tsv: missing"):
        load_version(folder)


def test_archive_version_copies_read_only_and_never_overwrites(tmp_path):
    results = tmp_path / "results"
    for name, src in ARCHIVE_FILES.items():
        _tsv(results / src, PREVIOUS[name])
    written = archive_version(results, tmp_path / "a", "2020-12-31")
    assert len(written) == len(ARCHIVE_FILES) + 1
    assert load_version(tmp_path / "a").search_date == "2020-12-31"
    assert not (tmp_path / "a" / "records.tsv").stat().st_mode & 0o222
    with pytest.raises(FileExistsError):
        archive_version(results, tmp_path / "a", "2020-12-31")


def test_archive_version_takes_the_search_date_of_the_results(tmp_path):
    """Issue 17: the README's update steps said `<date>` without saying which date; a version
    archived under another date than its searches' would be compared wrongly."""
    results = tmp_path / "results"
    for name, src in ARCHIVE_FILES.items():
        _tsv(results / src, PREVIOUS[name])
    (results / "audit").mkdir()
    (results / "audit/search.json").write_text(json.dumps({"parameters": {
        "pubmed_search_date": "2025-06-30",
        "sources": [{"source": "pubmed", "search_date": "2025-06-30"},
                    {"source": "embase", "search_date": "2025-06-28"}]}}))
    for wrong in ("2026-01-31", "2025-06-28"):
        with pytest.raises(ValueError, match=rf"{wrong}: not the search date of .*"
                                             r"\(2025-06-30\)"):
            archive_version(results, tmp_path / "a", wrong)
    assert not (tmp_path / "a").exists()
    archive_version(results, tmp_path / "a", "2025-06-30")
    assert load_version(tmp_path / "a").search_date == "2025-06-30"


def test_changes_table(tmp_path):
    changes = _changes(tmp_path)
    rows = {(r.section, r.item, r.field): (r.previous, r.current, r.changed)
            for r in changes.itertuples()}
    # Any source of the record table is counted, also one the previous version lacked.
    assert rows[("records_per_source", "pubmed", "new")] == ("", "1", "yes")
    assert rows[("records_per_source", "ctgov", "records")] == ("0", "1", "yes")
    assert rows[("records_per_source", "embase", "withdrawn")] == ("", "1", "yes")
    assert rows[("record", "embase:E2", "withdrawn")] == ("embase", "", "yes")
    assert rows[("study", "B", "new_study")][1] == "1 report"
    assert rows[("report", "pubmed:2", "new_report")][2] == "yes"
    assert rows[("extraction", "A", "dmab/sae/12 months: events")] == ("5", "6", "yes")
    assert ("extraction", "B", "dmab/sae/12 months: row") not in rows  # a new study
    assert ("decision", "embase:E2", "title_abstract") not in rows  # withdrawn, listed above
    assert rows[("decision", "embase:E1", "title_abstract")] == ("maybe", "exclude", "yes")
    assert rows[("outcome", "sae", "k")] == ("1", "2", "yes")
    assert rows[("outcome", "sae", "certainty")] == ("Low", "Moderate", "yes")
    assert rows[("outcome", "sae", "significance")] == ("CI includes null",
                                                        "CI excludes null", "yes")
    assert rows[("outcome", "sae", "direction")] == ("below null", "below null", "no")
    numbers = summary_numbers(changes)
    assert numbers["new_studies"] == ["B"] and numbers["outcomes_with_changed_conclusion"] \
        == ["sae"]
    assert list(changes["section"].drop_duplicates()) == [
        "records_per_source", "record", "study", "report", "extraction", "decision", "outcome"]


def test_paragraph_and_page(tmp_path):
    changes = _changes(tmp_path)
    text = update_paragraph(changes, previous_date="2020-12-31", current_date="2025-06-30",
                            labels={"sae": "Serious adverse events", "B": "Study <B>"},
                            stopping="Screening stopped without a statistical criterion.")
    assert text.startswith("This update extends the search from 2020-12-31 to 2025-06-30.")
    assert "2 new records (1 from ctgov, 1 from pubmed)" in text
    assert "1 new study (Study <B>) was included, with 1 new report in all" in text
    assert "Serious adverse events (k 1 to 2)" in text
    assert "changed for Serious adverse events" in text
    assert text.endswith("without a statistical criterion.")
    page = changes_page(changes, previous_date="2020-12-31", paragraph=text)
    assert "<h3>Changes since 2020-12-31</h3>" in page and "Study &lt;B&gt;" in page


def test_verdict():
    assert verdict({"measure": "MD", "estimate": -1, "ci_lower": -2, "ci_upper": -0.1}) == (
        "below null", "CI excludes null")
    assert verdict({"measure": "RR", "estimate": 1.2, "ci_lower": 0.9, "ci_upper": 1.5}) == (
        "above null", "CI includes null")
    assert verdict(None) == ("", "")


def test_versions_forest_plot(tmp_path):
    from sysrev.plots.versions import versions_forest_plot

    rows = [{"version": "2020-12-31", "k": 1, "participants": 200, "estimate": 0.71,
             "ci_lower": 0.23, "ci_upper": 2.2},
            {"version": "2025-06-30", "k": 2, "participants": 300, "estimate": 0.5,
             "ci_lower": 0.26, "ci_upper": 0.96},
            {"version": "2026-01-31", "k": 0, "participants": None, "estimate": None,
             "ci_lower": None, "ci_upper": None}]
    drawn = versions_forest_plot(rows, tmp_path / "v.png", tmp_path / "v.svg", label="SAE",
                                 measure="RR")
    assert drawn["versions"] == ["2020-12-31", "2025-06-30", "2026-01-31"]
    assert [d[0] for d in drawn["diamonds"]] == ["2020-12-31", "2025-06-30"]
    assert drawn["xlim"][0] < -1.0  # a log axis wide enough for 0.23 to 2.2
    svg = (tmp_path / "v.svg").read_text()
    assert "Not estimable" in svg or "Not" in svg
    first = (tmp_path / "v.svg").read_bytes()
    versions_forest_plot(rows, tmp_path / "v.png", tmp_path / "v.svg", label="SAE",
                         measure="RR")
    assert (tmp_path / "v.svg").read_bytes() == first


def test_staged_archive_folder():
    from sysrev.workflow.update import staged_archive

    staged = ["/tmp/stage/fs/x/data/r/versions/2020-12-31/records.tsv",
              "/tmp/stage/fs/x/data/r/versions/2020-12-310/records.tsv"]
    assert staged_archive("data/r/versions/2020-12-31", staged) == \
        "/tmp/stage/fs/x/data/r/versions/2020-12-31"
    assert staged_archive("data/r/versions/2020-12-31",
                          ["data/r/versions/2020-12-31/arms.tsv"]) == "data/r/versions/2020-12-31"
    assert staged_archive("data/r/versions/2021", []) == "data/r/versions/2021"


def _old_decisions(previous, current, clusters):
    """The per-row loop _decisions replaced (issue 20), as the reference."""
    from sysrev.update.changes import _row
    to_unique = dict(zip(clusters["record_id"], clusters["cluster_id"]))
    now = {(r, s): d for r, s, d in zip(current["record_id"], current["stage"],
                                        current["final_decision"])}
    rows = []
    for record, stage, decision in sorted(zip(previous["record_id"], previous["stage"],
                                              previous["final_decision"])):
        unique = to_unique.get(record, record)
        later = now.get((unique, stage))
        if later is not None and later != decision:
            item = record if unique == record else f"{record} (now {unique})"
            rows.append(_row("decision", item, stage, decision, later))
    return pd.DataFrame(rows, columns=["section", "item", "field", "previous", "current",
                                       "changed"])


def test_decisions_are_merged_as_the_loop_compared_them():
    from sysrev.update.changes import _decisions
    previous = pd.DataFrame([("r3", "title_abstract", "include"), ("r1", "title_abstract",
                                                                    "maybe"),
                             ("r2", "title_abstract", "exclude"), ("r1", "full_text",
                                                                   "include"),
                             ("r9", "title_abstract", "include"),
                             ("r4", "title_abstract", "pending")],
                            columns=["record_id", "stage", "final_decision"])
    current = pd.DataFrame([("r1", "title_abstract", "include"), ("r1", "full_text", "include"),
                            ("k2", "title_abstract", "include"), ("r3", "title_abstract",
                                                                  "include"),
                            ("r4", "title_abstract", "exclude")],
                           columns=["record_id", "stage", "final_decision"])
    clusters = pd.DataFrame({"record_id": ["r1", "r2", "k2", "r3", "r4"],
                             "cluster_id": ["r1", "k2", "k2", "r3", "r4"]})
    got = _decisions(previous, current, clusters)
    expected = _old_decisions(previous, current, clusters)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected)
    assert list(got["item"]) == ["r1", "r2 (now k2)", "r4"]


@pytest.mark.parametrize("rows", [1, 2, 3, 1000])
def test_record_changes_read_a_chunk_at_a_time_as_the_sets_compared_them(tmp_path, rows):
    # The previous record table read 1, 2, 3 rows at a time: the same per-source and record
    # rows as the set comparison over the whole tables, also for a source that is new, one
    # that is gone, and an id that moved to another source.
    from sysrev.update.changes import CHANGES_COLUMNS, _per_source, _records, record_changes
    from sysrev.recordtable import tsv_chunks
    previous = pd.DataFrame([("a:1", "a"), ("a:2", "a"), ("b:1", "b"), ("b:2", "b"),
                             ("c:1", "c"), ("x:1", "a"), ("a:5", "a")],
                            columns=["record_id", "source"])
    current = pd.DataFrame([("a:1", "a"), ("a:3", "a"), ("b:2", "b"), ("d:1", "d"),
                            ("x:1", "b"), ("a:0", "a")], columns=["record_id", "source"])
    path = tmp_path / "records.tsv"
    previous.to_csv(path, sep="\t", index=False)
    got = record_changes(tsv_chunks(path, rows, ["record_id", "source"]), current)
    expected = pd.DataFrame(_per_source(previous, current) + _records(previous, current),
                            columns=CHANGES_COLUMNS)
    pd.testing.assert_frame_equal(got, expected)


def test_record_changes_leave_repeated_or_empty_ids_to_the_set_comparison(tmp_path):
    from sysrev.update.changes import record_changes
    table = pd.DataFrame([("a:1", "a"), ("a:1", "a")], columns=["record_id", "source"])
    assert record_changes([table.iloc[:1], table.iloc[1:]], table.iloc[:1]) is None
    assert record_changes([table.iloc[:1]], table) is None
    empty = pd.DataFrame([("a:1", None)], columns=["record_id", "source"])
    assert record_changes([empty], table.iloc[:1]) is None


def test_changes_table_reads_the_archived_records_in_chunks(tmp_path):
    whole = _changes(tmp_path)
    previous = load_version(_archive(tmp_path / "w"), records=False)
    assert list(previous.records.columns) == ["record_id", "source"] and previous.records.empty
    clusters = pd.DataFrame({"record_id": ["pubmed:1", "pubmed:2", "embase:E1", "ctgov:NCT1"],
                             "cluster_id": ["pubmed:1", "pubmed:2", "embase:E1",
                                            "ctgov:NCT1"]})
    chunked = changes_table(previous, records=CURRENT["records.tsv"], clusters=clusters,
                            final_decisions=CURRENT["final_decisions.tsv"],
                            included=CURRENT["included.tsv"], arms=CURRENT["arms.tsv"],
                            summary=CURRENT["summary.tsv"],
                            summary_of_findings=CURRENT["summary_of_findings.tsv"],
                            previous_records=str(tmp_path / "w/records.tsv"), rows=1)
    pd.testing.assert_frame_equal(chunked, whole)


def test_an_archived_record_table_without_sources_is_an_error_naming_it(tmp_path):
    from sysrev.errors import InputError
    folder = _archive(tmp_path / "v")
    (folder / "records.tsv").write_text("record_id\npubmed:1\n", encoding="utf-8")
    previous = load_version(folder, records=False)
    with pytest.raises(InputError, match=r"v/records\.tsv.*line 1.*missing column \['source'\]"):
        changes_table(previous, records=CURRENT["records.tsv"],
                      clusters=pd.DataFrame(columns=["record_id", "cluster_id"]),
                      final_decisions=CURRENT["final_decisions.tsv"],
                      included=CURRENT["included.tsv"], arms=CURRENT["arms.tsv"],
                      summary=CURRENT["summary.tsv"],
                      summary_of_findings=CURRENT["summary_of_findings.tsv"],
                      previous_records=str(folder / "records.tsv"))


def test_rows_with_reads_the_matching_rows_a_chunk_at_a_time(tmp_path, monkeypatch):
    import sysrev.recordtable as recordtable
    from sysrev.workflow.update import _rows_with
    monkeypatch.setattr(recordtable, "CHUNK_ROWS", 2)
    path = tmp_path / "clusters.tsv"
    pd.DataFrame({"record_id": ["a", "b", "c", "d", "e"], "cluster_id": ["a", "a", "c", "c", "e"],
                  "kept": ["yes", "no", "yes", "no", "yes"]}).to_csv(path, sep="\t",
                                                                      index=False)
    got = _rows_with(str(path), ["record_id", "cluster_id"], "record_id", {"b", "e", "z"})
    assert got.to_dict("list") == {"record_id": ["b", "e"], "cluster_id": ["a", "e"]}
