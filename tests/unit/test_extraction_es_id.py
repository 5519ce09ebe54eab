"""The optional es_id column of the arm and contrast sheets: several effect sizes of one
study, outcome and time point, validated, carried into the contrasts and effects, refused
for outcomes not analysed with the three-level model."""

import pandas as pd
import pytest

from sysrev.analysis import AnalysisSpec, analyse_outcome
from sysrev.analysis_models import effect_size_ids
from sysrev.errors import InputErrors
from sysrev.extraction import (CONTRAST_COLUMNS, VALIDATED_ARM_COLUMNS, OutcomeSpec,
                               several_effects, study_contrasts, validate_arms,
                               validate_contrast_sheet, with_es_id)

ARM_HEADER = ("study_id,arm,group,outcome,timepoint,n,mean,sd,se,ci_lower,ci_upper,ci_level,"
              "events,total,source,note,es_id\n")
CONTRAST_HEADER = ("study_id,outcome,timepoint,measure,estimate,se,ci_lower,ci_upper,ci_level,"
                   "n_treatment,n_control,source,note,es_id\n")
OUTCOMES = {"pain": OutcomeSpec("pain", "continuous", "12 months", "SMD")}
STUDIES = pd.DataFrame({"study_id": ["S1", "S2", "S3"], "label": ["A 2001", "B 2002", "C 2003"],
                        "year": ["2001", "2002", "2003"]})


def _write(tmp_path, name, header, rows):
    path = tmp_path / name
    path.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _arms(tmp_path, rows):
    return validate_arms(_write(tmp_path, "arms.csv", ARM_HEADER, rows), outcomes=OUTCOMES,
                         studies=STUDIES, included_studies=None)


ROWS = ["S1,t,treatment,pain,12 months,20,1.0,2.0,,,,,,,src,,VAS",
        "S1,c,control,pain,12 months,20,2.0,2.0,,,,,,,src,,VAS",
        "S1,t,treatment,pain,12 months,20,3.0,4.0,,,,,,,src,,WOMAC",
        "S1,c,control,pain,12 months,20,5.0,4.0,,,,,,,src,,WOMAC",
        "S2,t,treatment,pain,12 months,30,1.0,2.0,,,,,,,src,,",
        "S2,c,control,pain,12 months,30,1.5,2.0,,,,,,,src,,"]


def test_es_id_gives_one_contrast_per_effect_size(tmp_path):
    contrasts = study_contrasts(_arms(tmp_path, ROWS), OUTCOMES)
    assert list(zip(contrasts["study_id"], contrasts["es_id"])) == [
        ("S1", "VAS"), ("S1", "WOMAC"), ("S2", "")]
    assert (contrasts["status"] == "analysable").all()
    assert with_es_id(CONTRAST_COLUMNS, contrasts)[-1] == "es_id"
    # Several per study: refused unless the outcome is in analysis.multilevel.outcomes.
    problems = several_effects(contrasts)
    assert len(problems) == 1
    assert problems[0].startswith("outcome pain, study S1: 2 effect sizes (es_id VAS, WOMAC)")
    assert "analysis.multilevel.outcomes" in problems[0]
    assert several_effects(contrasts, {"pain"}) == []


def test_es_id_reaches_the_effects_and_the_three_level_model(tmp_path):
    contrasts = study_contrasts(_arms(tmp_path, ROWS), OUTCOMES)
    spec = AnalysisSpec(outcome="pain", label="Pain", type="continuous", measure="SMD",
                        timepoint="12 months", random_method="REML", test="z", level=95)
    effects, _ = analyse_outcome(contrasts, STUDIES, spec)
    assert list(effects["es_id"]) == ["VAS", "WOMAC", ""]
    assert list(effects["label"]) == ["A 2001: VAS", "A 2001: WOMAC", "B 2002"]
    assert effect_size_ids(effects) == ["VAS", "WOMAC", "#1"]


def test_repeated_es_id_names_line_and_field(tmp_path):
    rows = ROWS[:4] + ["S1,t,treatment,pain,12 months,20,3.0,4.0,,,,,,,src,,VAS"]
    with pytest.raises(InputErrors) as err:
        _arms(tmp_path, rows)
    message = str(err.value)
    assert "arms.csv" in message
    assert ("line 2, field 'es_id': 'VAS' repeated for study S1, arm t, outcome pain, "
            "12 months") in message
    assert "line 6, field 'es_id'" in message


def test_without_es_id_the_one_row_rule_and_message_stay(tmp_path):
    rows = ["S2,t,treatment,pain,12 months,30,1.0,2.0,,,,,,,src,,",
            "S2,t,treatment,pain,12 months,30,1.0,2.0,,,,,,,src,,"]
    with pytest.raises(InputErrors) as err:
        _arms(tmp_path, rows)
    assert "line 2: duplicate row for study S2, arm t, outcome pain, 12 months" \
        in str(err.value)
    # A sheet without the column: validated table and contrasts without es_id columns.
    header = ARM_HEADER.replace(",es_id", "")
    table = validate_arms(_write(tmp_path, "plain.csv", header,
                                 [r.rsplit(",", 1)[0] for r in ROWS[4:]]),
                          outcomes=OUTCOMES, studies=STUDIES, included_studies=None)
    assert with_es_id(VALIDATED_ARM_COLUMNS, table) == VALIDATED_ARM_COLUMNS
    contrasts = study_contrasts(table, OUTCOMES)
    assert with_es_id(CONTRAST_COLUMNS, contrasts) == CONTRAST_COLUMNS
    assert several_effects(contrasts) == []


def test_contrast_sheet_es_id(tmp_path):
    path = _write(tmp_path, "contrasts.csv", CONTRAST_HEADER, [
        "S3,pain,12 months,SMD,-0.5,0.1,,,,30,30,src,,sub1",
        "S3,pain,12 months,SMD,-0.3,0.1,,,,30,30,src,,sub2",
        "S3,pain,12 months,SMD,-0.2,0.1,,,,30,30,src,,sub2"])
    with pytest.raises(InputErrors) as err:
        validate_contrast_sheet(path, outcomes=OUTCOMES, studies=STUDIES,
                                included_studies=None)
    assert ("line 3, field 'es_id': 'sub2' repeated for study S3, outcome pain, 12 months"
            in str(err.value))
    path.write_text(path.read_text().rsplit("\n", 2)[0] + "\n", encoding="utf-8")
    sheet = validate_contrast_sheet(path, outcomes=OUTCOMES, studies=STUDIES,
                                    included_studies=None)
    contrasts = study_contrasts(pd.DataFrame(columns=VALIDATED_ARM_COLUMNS), OUTCOMES,
                                contrast_rows=sheet)
    assert list(contrasts["es_id"]) == ["sub1", "sub2"]
    assert list(contrasts["yi"]) == [-0.5, -0.3]
