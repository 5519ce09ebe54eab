"""Decisions exported by Rayyan, ASReview and Covidence, and the to-screen list."""

import pandas as pd
import pytest

from sysrev.errors import InputError
from sysrev.screening import RecordMatcher
from sysrev.screening.formats import read_asreview, read_covidence, read_rayyan
from sysrev.screening.living import neutralise, new_since_last_search, to_screen


@pytest.fixture
def dino(testdata):
    """Records and clusters built from the Covidence export of the same ten records."""
    cov = pd.read_csv(testdata / "screening/cff___baseline_covidence.csv", dtype=str,
                      keep_default_na=False)
    ids = [f"embase:{i}" for i in range(len(cov))]
    records = pd.DataFrame({"record_id": ids, "source": "embase",
                            "source_id": [str(i) for i in range(len(cov))], "pmid": None,
                            "doi": cov["DOI"].str.lower().replace("", None),
                            "title": cov["Title"], "year": cov["Published Year"]})
    clusters = pd.DataFrame({"record_id": ids, "cluster_id": ids, "kept": True})
    return RecordMatcher(records, clusters), testdata / "screening"


def test_rayyan_decisions_and_reviewers(dino):
    matcher, folder = dino
    table = read_rayyan(folder / "cff___baseline_rayyan.csv", matcher, stage="title_abstract")
    assert len(table) == 6
    assert set(table["reviewer"]) == {"Emily"}
    assert table["decision"].value_counts().to_dict() == {"include": 2, "maybe": 2,
                                                          "exclude": 2}
    # Two of Rayyan's decided records are not in this record set: they stay unmatched,
    # with the keys that were tried, for check_decisions to report.
    matched = table[table["unique_record_id"].astype(bool)]
    assert len(matched) == 4 and matched["match"].str.startswith("DOI ").all()
    unmatched = table[~table["unique_record_id"].astype(bool)]
    assert set(unmatched["match"].str.extract(r"DOI (\S+)")[0]) == {
        "10.1111/cla.12583", "10.1002/ar.25299"}


def test_covidence_list_export(dino):
    matcher, folder = dino
    table = read_covidence(folder / "cff___baseline_covidence.csv", matcher,
                           stage="full_text", decision="include", reviewer="R1")
    assert len(table) == 10
    assert (table["decision"] == "include").all()
    assert table["unique_record_id"].astype(bool).all()


def test_asreview_labels(tmp_path, testdata):
    records = pd.DataFrame({"record_id": ["x:1", "x:2", "x:3"], "source": "x",
                            "source_id": ["1", "2", "3"], "pmid": ["11", None, None],
                            "doi": [None, "10.5/b", None],
                            "title": ["One study", "Two study", "Three study"],
                            "year": ["2020", "2021", "2022"]})
    clusters = pd.DataFrame({"record_id": ["x:1", "x:2", "x:3"],
                             "cluster_id": ["x:1", "x:2", "x:3"], "kept": True})
    matcher = RecordMatcher(records, clusters)
    path = tmp_path / "asreview.csv"
    path.write_text("record_id,title,doi,pubmed_id,asreview_label\n"
                    ",Anything,,11,1\n,Anything,10.5/B,,0\n,Three study,,,\n",
                    encoding="utf-8")
    table = read_asreview(path, matcher, stage="title_abstract", reviewer="ASReview-R1")
    assert list(table["unique_record_id"]) == ["x:1", "x:2"]
    assert list(table["decision"]) == ["include", "exclude"]
    bad = tmp_path / "bad.csv"
    bad.write_text("title,asreview_label\nOne study,yes\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.csv, line 2, field 'asreview_label'"):
        read_asreview(bad, matcher, stage="title_abstract", reviewer="R")
    # The shared ASReview export is read through its label_included column.
    shared = read_asreview(testdata / "screening/asreview__generic_labels.csv", matcher,
                           stage="title_abstract", reviewer="R")
    assert len(shared) == 6 and shared["decision"].value_counts().to_dict() == {
        "include": 3, "exclude": 3}


def test_neutralise_formula_cells():
    assert neutralise("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    for start in ("+1", "-2", "@SUM(A1)", "\tx"):
        assert neutralise(start).startswith("'")
    assert neutralise("Denosumab") == "Denosumab"
    assert neutralise(12) == 12


def test_to_screen_lists_pending_new_first():
    unique = pd.DataFrame({
        "record_id": ["pubmed:1", "pubmed:2", "embase:E9"],
        "pmid": ["1", "2", None], "doi": ["10.1/a", None, None],
        "title": ["=cmd|' /C calc'!A0", "Old", "Export only"], "authors": ["A", "B", "C"],
        "year": ["2025", "2020", "2024"], "journal": ["J", "J", "J"],
        "abstract": [None, None, None],
        "cluster_records": ["pubmed:1; embase:E1", "pubmed:2", "embase:E9"]})
    finals = pd.DataFrame({"record_id": ["pubmed:1", "pubmed:2", "embase:E9"],
                           "stage": ["title_abstract"] * 3,
                           "final_decision": ["pending"] * 3,
                           "basis": ["not screened"] * 3})
    newness = new_since_last_search(unique, {"1", "2"}, {"2"})
    table = to_screen(unique, finals, newness)
    assert list(table["record_id"]) == ["pubmed:1", "embase:E9", "pubmed:2"]
    assert list(table["new_since_last_search"]) == ["yes", "unknown", "no"]
    assert table.iloc[0]["title"].startswith("'=")
    assert table.iloc[0]["doi_url"] == "https://doi.org/10.1/a"
    assert table.iloc[0]["other_ids"] == "embase:E1"


def test_new_since_previous_version_covers_every_source():
    from sysrev.screening.living import new_since_previous_version

    unique = pd.DataFrame({"record_id": ["pubmed:1", "embase:E9", "wos:W3"]})
    clusters = pd.DataFrame({"record_id": ["pubmed:1", "embase:E1", "embase:E9", "wos:W3"],
                             "cluster_id": ["pubmed:1", "pubmed:1", "embase:E9", "wos:W3"]})
    newness = new_since_previous_version(unique, clusters, {"embase:E1", "wos:W3"})
    assert list(newness) == ["no", "yes", "no"]


# --------------------------------------------------------------------------- ASReview projects
# Minimal project files in the three layouts of ASReview's own migration code
# (asreview/project/migration): 1.x reviews/<id>/results.sql with query_strategy 'prior';
# 2.0 data_store.db + reviews/<id>/results.db; 2.x results.db holding both tables.

PROJECT_RECORDS = pd.DataFrame({
    "record_id": ["pubmed:11", "pubmed:12", "embase:E3", "embase:E4", "embase:E5"],
    "source": ["pubmed", "pubmed", "embase", "embase", "embase"],
    "source_id": ["11", "12", "E3", "E4", "E5"], "pmid": ["11", "12", None, None, None],
    "doi": [None, None, "10.5/c", None, None],
    "title": ["Denosumab in erosive arthritis", "Zoledronate and bone loss",
              "A third trial", "Fourth résumé", "Never labelled"],
    "authors": ["Takeuchi T; Tanaka Y", "Smith J", "Cohen S", "Müller K", "Li X"],
    "year": ["2019", "2020", "2021", "2022", "2023"]})
PROJECT_MATCHER = RecordMatcher(PROJECT_RECORDS, pd.DataFrame({
    "record_id": PROJECT_RECORDS["record_id"], "cluster_id": PROJECT_RECORDS["record_id"],
    "kept": True}))
# The dataset as uploaded: sysrev ids for two rows, a PMID, a DOI, a Latin-1 title only,
# and the dataset's own labels (row 0 prior knowledge, row 3 a label nobody gave in ASReview).
DATASET = ("record_id,title,authors,year,pubmed_id,doi,label_included\n"
           "pubmed:11,Denosumab in erosive arthritis,Takeuchi T,2019,11,,1\n"
           ",Something else,Smith J,2020,12,,\n"
           ",A third trial,Cohen S,2021,,10.5/C,\n"
           ",Fourth r\xe9sum\xe9,M\xfcller K,2022,,,0\n"
           "embase:E5,Never labelled,Li X,2023,,,\n").encode("latin-1")
# (ASReview record id, label, prior?) : 0 prior from the dataset (skipped), 1 include,
# 2 exclude, 3 prior relabelled against the dataset (read), 4 on screen without a label.
LABELS = [(0, 1, True), (1, 1, False), (2, 0, False), (3, 1, True), (4, None, False)]


def _sqlite(path, statements, rows):
    import sqlite3

    with sqlite3.connect(path) as conn:
        for sql in statements:
            conn.execute(sql)
        for table, values in rows:
            marks = ",".join("?" * len(values[0]))
            conn.executemany(f"INSERT INTO {table} VALUES ({marks})", values)


def _store_rows():
    return [(i, "d1", t, "", "[]", "[]", None, None, None, None, i) for i, t in enumerate(
        ["Denosumab in erosive arthritis", "Something else", "A third trial",
         "Fourth résumé", "Never labelled"])]


def write_project(folder, layout):
    """An ASReview project file of ``layout`` 1, 2 or 3 holding DATASET and LABELS."""
    import json
    import zipfile

    work = folder / f"v{layout}"
    work.mkdir()
    store = ("CREATE TABLE record (dataset_row INTEGER, dataset_id VARCHAR, title VARCHAR, "
             "abstract VARCHAR, authors JSON, keywords JSON, year INTEGER, doi VARCHAR, "
             "url VARCHAR, included INTEGER, record_id INTEGER PRIMARY KEY)")
    members = {"data/dataset.csv": DATASET}
    if layout == 1:
        config = {"version": "1.5", "id": "p", "dataset_path": "dataset.csv",
                  "reviews": [{"id": "r1", "status": "review"}]}
        _sqlite(work / "results.sql", [
            "CREATE TABLE results (record_id INTEGER, label INTEGER, classifier TEXT, "
            "query_strategy TEXT, balance_strategy TEXT, feature_extraction TEXT, "
            "training_set INTEGER, labeling_time INTEGER, notes TEXT, "
            "custom_metadata_json TEXT)"],
            [("results", [(r, lab, None, "prior" if p else "max", None, None, None, None,
                           "checked twice" if r == 2 else None, None)
                          for r, lab, p in LABELS])])
        members["reviews/r1/results.sql"] = (work / "results.sql").read_bytes()
    else:
        results = ("CREATE TABLE results (record_id INTEGER UNIQUE, label INTEGER, "
                   "classifier TEXT, querier TEXT, balancer TEXT, feature_extractor TEXT, "
                   "training_set INTEGER, time FLOAT, note TEXT, tags JSON, user_id INTEGER)")
        result_rows = [(r, lab, None, None if p else "max", None, None, None, None,
                        "checked twice" if r == 2 else None, "[]", None)
                       for r, lab, p in LABELS]
        store_rows = [row[:9] + (1 if row[0] == 0 else 0 if row[0] == 3 else None, row[10])
                      for row in _store_rows()]
        config = {"version": "2.0", "id": "p", "project_file_version": layout,
                  "datasets": [{"id": "d1", "name": "dataset.csv"}]}
        if layout == 2:
            config["reviews"] = [{"id": "r1", "status": "review"}]
            _sqlite(work / "data_store.db", [store], [("record", store_rows)])
            _sqlite(work / "results.db", [results], [("results", result_rows)])
            members["data_store.db"] = (work / "data_store.db").read_bytes()
            members["reviews/r1/results.db"] = (work / "results.db").read_bytes()
        else:
            config["review"] = {"status": "review"}
            _sqlite(work / "results.db", [results, store], [("results", result_rows),
                                                            ("record", store_rows)])
            members["results.db"] = (work / "results.db").read_bytes()
    members["project.json"] = json.dumps(config).encode()
    path = folder / f"review_v{layout}.asreview"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        archive.writestr("__MACOSX/._project.json", b"\x00\x05\x16\x07junk")
    return path


@pytest.mark.parametrize("layout", [1, 2, 3])
def test_asreview_project_reads_the_reviewers_labels(tmp_path, layout):
    from sysrev.screening.formats import read_tool_export

    path = write_project(tmp_path, layout)
    table = read_tool_export("asreview", path, PROJECT_MATCHER, stage="title_abstract",
                             reviewer="ASReview-R1")
    # Row 0 is the dataset's own label taken as prior knowledge: not a new decision.
    # Row 4 has no label: no decision.
    assert list(table["unique_record_id"]) == ["pubmed:12", "embase:E3", "embase:E4"]
    assert list(table["decision"]) == ["include", "exclude", "include"]
    assert list(table["match"]) == ["PMID 12", "DOI 10.5/c",
                                    "title 'fourth resume' + year 2022"]
    assert list(table["line"]) == [3, 4, 5]
    assert table["file"].str.endswith(f"review_v{layout}.asreview:data/dataset.csv").all()
    assert table.loc[table["unique_record_id"] == "embase:E3", "note"].item() == \
        "checked twice"
    assert set(table["reviewer"]) == {"ASReview-R1"}


def test_asreview_project_errors(tmp_path):
    import zipfile

    from sysrev.screening.formats import read_tool_export

    old = tmp_path / "old.asreview"
    with zipfile.ZipFile(old, "w") as archive:
        archive.writestr("project.json", '{"version": "0.19"}')
        archive.writestr("result.json", "{}")
    with pytest.raises(InputError, match=r"old.asreview: an ASReview 0.x project"):
        read_tool_export("asreview", old, PROJECT_MATCHER, stage="title_abstract",
                         reviewer="R")
    csv_file = tmp_path / "labels.csv"
    csv_file.write_text("title,asreview_label\nA third trial,1\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"expects a zip archive .* looks like a CSV"):
        read_tool_export("asreview_project", csv_file, PROJECT_MATCHER,
                         stage="title_abstract", reviewer="R")
    with pytest.raises(InputError, match=r"needs 'reviewer'"):
        read_tool_export("asreview", csv_file, PROJECT_MATCHER, stage="title_abstract")


# --------------------------------------------------------------------------- RIS decisions

def _ris(records):
    """RIS text of ``records`` (lists of (tag, value) pairs; tag "" continues the line
    before), as the tools write it."""
    return "".join("TY  - JOUR\n" + "".join(f"{t}  - {v}\n" if t else f"   {v}\n"
                                            for t, v in rec) + "ER  - \n\n"
                   for rec in records)


def test_rayyan_ris_gives_the_decisions_of_the_rayyan_csv(dino, tmp_path):
    """Rayyan's RIS export of the shared Rayyan project (the same records and notes as its
    CSV export, as in asreview/citation-file-formatting's _baseline_rayyan.ris) gives the
    same decisions as the CSV."""
    matcher, folder = dino
    csv_path = folder / "cff___baseline_rayyan.csv"
    rows = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    records = []
    for row in rows.itertuples(index=False):
        rec = [("AN", row.key), ("TI", row.title), ("Y1", row.year)]
        rec += [("AU", a.strip()) for a in row.authors.split(" and ") if a.strip()]
        if row.notes:
            rec.append(("N1", row.notes))
        rec.append(("DO", row.doi))
        records.append(rec)
    ris_path = tmp_path / "rayyan.ris"
    ris_path.write_text(_ris(records), encoding="utf-8")
    from_csv = read_rayyan(csv_path, matcher, stage="title_abstract")
    from_ris = read_rayyan(ris_path, matcher, stage="title_abstract")
    columns = ["record_id", "unique_record_id", "reviewer", "decision", "reason"]
    assert len(from_ris) == 6
    pd.testing.assert_frame_equal(from_ris[columns], from_csv[columns])


def test_ris_decisions_round_trip(tmp_path):
    """Labels written in each tool's RIS layout are read back unchanged."""
    from sysrev.screening.formats import file_kind, read_tool_export

    keys = {  # sysrev record -> RIS keys of it
        "pubmed:11": [("TI", "Denosumab in erosive arthritis"), ("PY", "2019"),
                      ("AU", "Takeuchi, T."), ("DO", "https://doi.org/10.9/xyz")],
        "pubmed:12": [("TI", "Zoledronate and bone loss"), ("PY", "2020///"),
                      ("AN", "PMID: 12")],
        "embase:E3": [("T1", "A third trial"), ("Y1", "2021"), ("DO", "10.5/C")],
        "embase:E4": [("TI", "Fourth"), ("", "résumé"), ("PY", "2022"), ("AU", "Müller, K.")],
    }
    records = PROJECT_RECORDS.assign(doi=["10.9/xyz", None, "10.5/c", None, None])
    matcher = RecordMatcher(records, pd.DataFrame({
        "record_id": records["record_id"], "cluster_id": records["record_id"]}))

    def ris_file(name, notes):
        recs = [pairs + notes.get(record, []) for record, pairs in keys.items()]
        path = tmp_path / name
        path.write_text("\ufeff" + _ris(recs), encoding="utf-8")
        return path

    # Rayyan: two reviewers, reasons for exclusions.
    rayyan = {"pubmed:11": {"Alice": "include", "Bob": "exclude"},
              "pubmed:12": {"Alice": "maybe"},
              "embase:E4": {"Bob": "exclude"}}
    words = {"include": "Included", "exclude": "Excluded", "maybe": "Maybe"}
    notes = {r: [("N1", "RAYYAN-INCLUSION: {" + ", ".join(
        f'"{who}"=>"{words[d]}"' for who, d in labels.items()) + "}"
        + (" | RAYYAN-EXCLUSION-REASONS: wrong population,wrong design"
           if "exclude" in labels.values() else "") + " | RAYYAN-LABELS: batch 1")]
        for r, labels in rayyan.items()}
    path = ris_file("rayyan.ris", notes)
    assert file_kind(path) == "ris"
    table = read_tool_export("rayyan", path, matcher, stage="title_abstract")
    back = {}
    for row in table.itertuples():
        back.setdefault(row.unique_record_id, {})[row.reviewer] = row.decision
    assert back == rayyan
    assert set(table.loc[table["decision"] == "exclude", "reason"]) == {
        "wrong population; wrong design"}
    assert table.loc[table["decision"] != "exclude", "reason"].eq("").all()

    # ASReview: labels in N1 (or LB), not_seen is no decision.
    asreview = {"pubmed:11": "include", "pubmed:12": "exclude", "embase:E3": "include"}
    tokens = {"include": "ASReview_relevant", "exclude": "ASReview_irrelevant"}
    notes = {r: [("N1" if r != "embase:E3" else "LB", tokens[d]),
                 ("N1", 'asreview_ranking: 3')] for r, d in asreview.items()}
    notes["embase:E4"] = [("N1", "ASReview_not_seen")]
    path = ris_file("asreview.ris", notes)
    table = read_tool_export("asreview_ris", path, matcher, stage="title_abstract",
                             reviewer="R1")
    assert dict(zip(table["unique_record_id"], table["decision"])) == asreview
    assert list(table["match"]) == ["DOI 10.9/xyz", "PMID 12", "DOI 10.5/c"]

    # Covidence: a list export, every record gets the configured decision; N1 the reason.
    notes = {r: [("N1", "Wrong comparator")] for r in keys}
    path = ris_file("covidence.ris", notes)
    table = read_tool_export("covidence", path, matcher, stage="full_text",
                             decision="exclude", reviewer="consensus")
    assert list(table["unique_record_id"]) == list(keys)
    assert set(table["decision"]) == {"exclude"}
    assert set(table["reason"]) == {"Wrong comparator"}
    assert list(table["line"]) == [1, 9, 16, 23]


def test_ris_decision_errors(tmp_path):
    from sysrev.screening.formats import read_tool_export

    two = tmp_path / "two.ris"
    two.write_text(_ris([[("TI", "A third trial"), ("N1", "ASReview_relevant"),
                          ("N1", "ASReview_irrelevant")]]), encoding="utf-8")
    with pytest.raises(InputError, match=r"two.ris, line 1, field 'N1': the record has "
                                         r"several ASReview labels"):
        read_tool_export("asreview", two, PROJECT_MATCHER, stage="title_abstract",
                         reviewer="R")
    cut = tmp_path / "cut.ris"
    cut.write_text("TY  - JOUR\nTI  - A third trial\nN1  - ASReview_relevant\n",
                   encoding="utf-8")
    with pytest.raises(InputError, match=r"cut.ris, line 1: the last record has no ER"):
        read_tool_export("asreview", cut, PROJECT_MATCHER, stage="title_abstract",
                         reviewer="R")
    csv_file = tmp_path / "rayyan.csv"
    csv_file.write_text("title,notes\nx,\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"format 'rayyan_ris' expects a RIS file, but the "
                                         r"file looks like a CSV/TSV table"):
        read_tool_export("rayyan_ris", csv_file, PROJECT_MATCHER, stage="title_abstract")


# --------------------------------------------------------------------------- ASReview file

def test_asreview_prior_knowledge_round_trip(tmp_path):
    """to_screen_asreview.csv labels the screened records; screened in ASReview (the
    labels taken as prior knowledge, the new records labelled by a reviewer) and read back
    from the project file, only the new labels come back, matched by sysrev's record_id."""
    import json
    import zipfile

    from sysrev.screening.formats import read_tool_export
    from sysrev.screening.living import ASREVIEW_COLUMNS, asreview_prior_knowledge

    unique = PROJECT_RECORDS.assign(
        abstract=["Background.", None, "=1+1", None, None], journal="J",
        title=["Denosumab in erosive arthritis", "Zoledronate and bone loss",
               "A third trial", "+Fourth résumé", "Never labelled"])
    finals = pd.DataFrame({
        "record_id": ["pubmed:11", "pubmed:11", "pubmed:12", "embase:E3", "embase:E4",
                      "embase:E5"],
        "stage": ["title_abstract", "full_text", "title_abstract", "title_abstract",
                  "title_abstract", "title_abstract"],
        "final_decision": ["include", "exclude", "exclude", "pending", "pending",
                           "pending"]})
    table = asreview_prior_knowledge(unique, finals)
    assert list(table.columns) == ASREVIEW_COLUMNS
    assert list(table["record_id"]) == sorted(unique["record_id"])
    labels = dict(zip(table["record_id"], table["label_included"]))
    # Included at title/abstract (later excluded at full text) is 1; pending is empty.
    assert labels == {"embase:E3": "", "embase:E4": "", "embase:E5": "",
                      "pubmed:11": "1", "pubmed:12": "0"}
    assert table.loc[table["record_id"] == "pubmed:11", "url"].item() == \
        "https://pubmed.ncbi.nlm.nih.gov/11/"
    assert table.loc[table["record_id"] == "embase:E3", "url"].item() == \
        "https://doi.org/10.5/c"
    assert table.loc[table["record_id"] == "embase:E4", "title"].item() == "'+Fourth résumé"
    dataset = tmp_path / "to_screen_asreview.csv"
    table.to_csv(dataset, index=False, lineterminator="\n")

    # ASReview 2.x: the dataset's labels become priors (no querier), a reviewer labels
    # two of the three new records; one prior is relabelled.
    import sqlite3

    read = pd.read_csv(dataset, dtype=str, keep_default_na=False)
    db = tmp_path / "results.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE record (dataset_row INTEGER, dataset_id VARCHAR, "
                     "title VARCHAR, abstract VARCHAR, authors JSON, keywords JSON, "
                     "year INTEGER, doi VARCHAR, url VARCHAR, included INTEGER, "
                     "record_id INTEGER PRIMARY KEY)")
        conn.execute("CREATE TABLE results (record_id INTEGER UNIQUE, label INTEGER, "
                     "querier TEXT, note TEXT)")
        for row, rec in read.iterrows():
            included = int(rec["label_included"]) if rec["label_included"] else None
            conn.execute("INSERT INTO record VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                         (row, "d", rec["title"], rec["abstract"], "[]", "[]",
                          int(rec["year"]), rec["doi"] or None, rec["url"], included,
                          row + 1))
            if included is not None:
                conn.execute("INSERT INTO results VALUES (?,?,?,?)",
                             (row + 1, included, None, None))
        new = {"embase:E3": 1, "embase:E4": 0}
        for row, rec in read.iterrows():
            if rec["record_id"] in new:
                conn.execute("INSERT INTO results VALUES (?,?,?,?)",
                             (row + 1, new[rec["record_id"]], "max", None))
        conn.execute("INSERT INTO results VALUES (?,?,?,?)",
                     (int(read.index[read["record_id"] == "embase:E5"][0]) + 1, None,
                      "max", None))
        conn.execute("UPDATE results SET label = 1 WHERE record_id = ?",
                     (int(read.index[read["record_id"] == "pubmed:12"][0]) + 1,))
    project = tmp_path / "update.asreview"
    with zipfile.ZipFile(project, "w") as archive:
        archive.writestr("project.json", json.dumps({
            "version": "2.1", "project_file_version": 3,
            "datasets": [{"id": "d", "name": "to_screen_asreview.csv"}]}))
        archive.write(dataset, "data/to_screen_asreview.csv")
        archive.write(db, "results.db")
    back = read_tool_export("asreview", project, PROJECT_MATCHER, stage="title_abstract",
                            reviewer="R1")
    assert dict(zip(back["unique_record_id"], back["decision"])) == {
        "embase:E3": "include", "embase:E4": "exclude", "pubmed:12": "include"}
    assert set(back["match"]) == {"record_id embase:E3", "record_id embase:E4",
                                  "record_id pubmed:12"}


def test_asreview_csv_export_skips_the_datasets_own_labels(tmp_path):
    """An ASReview CSV export of a project started from to_screen_asreview.csv: the
    dataset's label_included labels (prior knowledge) are not read again."""
    path = tmp_path / "asreview_export.csv"
    path.write_text("record_id,title,label_included,asreview_label\n"
                    "pubmed:11,Denosumab in erosive arthritis,1,1\n"
                    "pubmed:12,Zoledronate and bone loss,0,1\n"
                    "embase:E3,A third trial,,0\n"
                    "embase:E5,Never labelled,,\n", encoding="utf-8")
    table = read_asreview(path, PROJECT_MATCHER, stage="title_abstract", reviewer="R1")
    assert dict(zip(table["unique_record_id"], table["decision"])) == {
        "pubmed:12": "include", "embase:E3": "exclude"}
    assert list(table["line"]) == [3, 4]
