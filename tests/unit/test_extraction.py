"""Extraction sheets: validation messages, SD conversions, combined arms."""

import math

import pandas as pd
import pytest
from scipy import stats

from sysrev.errors import InputErrors
from sysrev.extraction import (OutcomeSpec, ci_to_sd, combine_continuous, study_contrasts,
                               validate_arms)

HEADER = ("study_id,arm,group,outcome,timepoint,n,mean,sd,se,ci_lower,ci_upper,ci_level,"
          "events,total,source,note\n")
OUTCOMES = {"mtss": OutcomeSpec("mtss", "continuous", "12 months"),
            "sae": OutcomeSpec("sae", "binary", "12 months")}
STUDIES = pd.DataFrame({"study_id": ["S1", "S2", "S3"]})


def _arms(tmp_path, rows):
    path = tmp_path / "arms.csv"
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_invalid_rows_are_all_reported(tmp_path):
    path = _arms(tmp_path, [
        "S1,a,treatment,mtss,12 months,0,1.0,2.0,,,,,,,src,",
        "S1,b,control,mtss,12 months,10,1.0,-2.0,,,,,,,src,",
        "S1,a,treatment,sae,12 months,,,,,,,,12,10,src,",
        "S2,a,treatment,mtss,12 months,10,5.0,,,0.1,1.0,95,,,src,",
        "S3,a,treatment,mtss,12 months,10,1.0,1.0,,,,,,,src,",
        "S9,a,placebo,bmd,12 months,10,abc,1.0,,,,,,,,",
        "S1,b,control,mtss,12 months,10,1.0,2.0,,,,,,,src,",
    ])
    with pytest.raises(InputErrors) as err:
        validate_arms(path, outcomes=OUTCOMES, studies=STUDIES, included_studies={"S1", "S2"})
    message = str(err.value)
    assert "line 2 (study S1, arm a), field 'n': 0 is below 1" in message
    assert "line 3 (study S1, arm b), field 'sd': -2.0 must be positive" in message
    assert "line 4 (study S1, arm a), field 'events': 12 events out of 10" in message
    assert "line 5 (study S2, arm a), field 'mean': 5.0 lies outside its CI [0.1, 1.0]" \
        in message
    assert "line 6 (study S3, arm a), field 'study_id': 'S3' was not included" in message
    assert "line 7 (study S9, arm a), field 'study_id': 'S9' is not in studies.csv" in message
    assert "field 'group': 'placebo'" in message
    assert "field 'outcome': 'bmd' is not an outcome" in message
    assert "field 'source': empty" in message
    assert "duplicate row for study S1, arm b, outcome mtss" in message


def test_ci_to_sd_follows_the_handbook():
    # Cochrane Handbook 6.5.2.3: n >= 60 uses 3.92 (2 x 1.96) for a 95% CI.
    sd, how = ci_to_sd(218, 0.65, 1.31)
    assert sd == pytest.approx(math.sqrt(218) * 0.66 / (2 * stats.norm.ppf(0.975)),
                               rel=1e-12)
    assert "normal" in how
    # Small arms use t with n - 1 df: for n = 25, 2 x t(0.975, 24) = 4.128 (Handbook).
    sd_small, how_small = ci_to_sd(25, -1.0, 1.0)
    assert sd_small == pytest.approx(5 * 2 / (2 * 2.063898561628021), rel=1e-9)
    assert "t(24)" in how_small


def test_combine_arms_matches_handbook_formula():
    # DESIRABLE mTSS Q6M + Q3M; reference from tests/reference (metafor script, R).
    n, mean, sd = combine_continuous([(217, 0.99, 3.77), (219, 0.72, 2.32)])
    assert n == 436
    assert mean == pytest.approx(0.8543807339449541, rel=1e-14)
    assert sd == pytest.approx(3.1261946802536715, rel=1e-12)


def test_contrasts_flag_missing_sd_and_combine_binary(tmp_path):
    path = _arms(tmp_path, [
        "S1,a,treatment,mtss,12 months,10,1.0,NR,NR,NR,NR,,,,src,",
        "S1,p,control,mtss,12 months,10,2.0,1.0,,,,,,,src,",
        "S2,a,treatment,sae,12 months,,,,,,,,1,20,src,",
        "S2,b,treatment,sae,12 months,,,,,,,,2,20,src,",
        "S2,p,control,sae,12 months,,,,,,,,0,20,src,",
    ])
    arms = validate_arms(path, outcomes=OUTCOMES, studies=STUDIES, included_studies=None)
    contrasts = study_contrasts(arms, OUTCOMES)
    mtss = contrasts[contrasts["outcome"] == "mtss"].iloc[0]
    assert mtss["status"] == "not_analysable"
    assert "SD not reported and not derivable (no SE, CI or quartiles) for a" in mtss["reason"]
    sae = contrasts[contrasts["outcome"] == "sae"].iloc[0]
    assert sae["status"] == "analysable"
    assert (sae["events_treatment"], sae["n_treatment"]) == (3, 40)
    assert "arms a + b combined" in sae["conversions"]


# --- issue 6: medians, contrast-level rows, split controls, imputed SDs -------------------

import json  # noqa: E402
from pathlib import Path  # noqa: E402

from sysrev.extraction import (VALIDATED_ARM_COLUMNS, impute_missing_sd,  # noqa: E402
                               median_to_mean, quantiles_to_sd, validate_contrast_sheet)

REFERENCE = {c["id"]: c for c in json.loads(
    (Path(__file__).parents[1] / "reference" / "metafor_reference.json").read_text())["cases"]}
HEADER_Q = HEADER.rstrip("\n") + ",median,q1,q3,min,max\n"
CONTRAST_HEADER = ("study_id,outcome,timepoint,measure,estimate,se,ci_lower,ci_upper,ci_level,"
                   "n_treatment,n_control,source,note\n")
OUTCOMES_M = {"mtss": OutcomeSpec("mtss", "continuous", "12 months", "MD"),
              "sae": OutcomeSpec("sae", "binary", "12 months", "RR")}


@pytest.mark.parametrize("case_id", [c for c in REFERENCE if c.startswith("fivenum_")])
def test_median_conversions_match_the_published_equations(case_id):
    # Closed forms: R transcription of Luo 2018 / Wan 2014 / Shi 2020, held to 1e-12.
    case = REFERENCE[case_id]
    inp, ref = case["input"], case["result"]
    quart = {"q1": inp.get("q1"), "q3": inp.get("q3"), "minimum": inp.get("min"),
             "maximum": inp.get("max")}
    assert median_to_mean(inp["n"], inp["median"], **quart) == pytest.approx(
        ref["mean_luo2018"], rel=1e-12)
    assert quantiles_to_sd(inp["n"], method="wan2014", **quart) == pytest.approx(
        ref["sd_wan2014"], rel=1e-12)
    if "sd_shi2020" in ref:
        assert quantiles_to_sd(inp["n"], method="shi2020", **quart) == pytest.approx(
            ref["sd_shi2020"], rel=1e-12)


def test_median_iqr_by_hand():
    # Wan 2014 eq. 16 with n = 100: eta = 2 * qnorm((75 - 0.125) / 100.25).
    eta = 2 * stats.norm.ppf(74.875 / 100.25)
    assert quantiles_to_sd(100, q1=2.0, q3=6.0) == pytest.approx(4 / eta, rel=1e-14)
    # Luo 2018 eq. 11: w = 0.7 + 0.39 / n.
    w = 0.7 + 0.39 / 100
    assert median_to_mean(100, 3.0, q1=2.0, q3=6.0) == pytest.approx(w * 4 + (1 - w) * 3, rel=1e-12)


def _arms_q(tmp_path, rows):
    path = tmp_path / "arms.csv"
    path.write_text(HEADER_Q + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_median_rows_are_converted_and_flagged(tmp_path):
    path = _arms_q(tmp_path, [
        "S1,a,treatment,mtss,12 months,100,NR,NR,NR,NR,NR,,,,src,,3.0,2.0,6.0,,",
        "S1,p,control,mtss,12 months,20,NR,NR,NR,NR,NR,,,,src,,4.8,3,6,1,9",
    ])
    arms = validate_arms(path, outcomes=OUTCOMES, studies=STUDIES, included_studies=None)
    a = arms[arms["arm"] == "a"].iloc[0]
    assert a["mean_used"] == pytest.approx(median_to_mean(100, 3.0, q1=2.0, q3=6.0), rel=1e-12)
    assert a["conversion"] == "mean from median and IQR (Luo 2018); SD from IQR (Wan 2014)"
    p = arms[arms["arm"] == "p"].iloc[0]
    ref = REFERENCE["fivenum_S3_n20"]["result"]
    assert p["sd_used"] == pytest.approx(ref["sd_shi2020"], rel=1e-12)
    assert "SD from IQR and range (Shi 2020)" in p["conversion"]
    contrasts = study_contrasts(arms, OUTCOMES)
    row = contrasts[contrasts["outcome"] == "mtss"].iloc[0]
    assert row["status"] == "analysable"
    assert "Luo 2018" in row["conversions"] and "Shi 2020" in row["conversions"]


def test_bad_quantiles_are_rejected(tmp_path):
    path = _arms_q(tmp_path, [
        "S1,a,treatment,mtss,12 months,100,NR,NR,NR,NR,NR,,,,src,,3.0,4.0,6.0,,",
        "S1,p,control,mtss,12 months,20,NR,NR,NR,NR,NR,,,,src,,4.8,3,,,",
        "S2,p,control,mtss,12 months,20,NR,NR,NR,NR,NR,,,,src,,,3,5,,",
    ])
    with pytest.raises(InputErrors) as err:
        validate_arms(path, outcomes=OUTCOMES, studies=STUDIES, included_studies=None)
    message = str(err.value)
    assert "line 2 (study S1, arm a), field 'q1': q1 = 4.0 is above median = 3.0" in message
    assert "line 3 (study S1, arm p), field 'q3': 'q1' and 'q3' go together" in message
    assert "line 4 (study S2, arm p), field 'median': quartiles or a range need the median" \
        in message


def test_split_shared_control(tmp_path):
    path = _arms(tmp_path, [
        "S1,a,treatment,mtss,12 months,100,1.0,2.0,,,,,,,src,",
        "S1,b,treatment,mtss,12 months,100,1.5,2.0,,,,,,,src,",
        "S1,p,control,mtss,12 months,90,2.0,2.5,,,,,,,src,",
        "S2,a,treatment,sae,12 months,,,,,,,,4,40,src,",
        "S2,b,treatment,sae,12 months,,,,,,,,6,40,src,",
        "S2,p,control,sae,12 months,,,,,,,,9,40,src,",
    ])
    arms = validate_arms(path, outcomes=OUTCOMES, studies=STUDIES, included_studies=None)
    split = study_contrasts(arms, OUTCOMES, multi_arm="split")
    mtss = split[split["outcome"] == "mtss"]
    assert list(mtss["comparison"]) == ["a vs p", "b vs p"]
    assert list(mtss["n_control"]) == [45, 45]
    assert list(mtss["mean_control"]) == [2.0, 2.0]
    assert "shared control split into 2 (n divided; Cochrane Handbook 23.3.4)" \
        in mtss.iloc[0]["conversions"]
    sae = split[split["outcome"] == "sae"]
    assert list(sae["events_control"]) == [4.5, 4.5]
    assert list(sae["n_control"]) == [20, 20]
    combined = study_contrasts(arms, OUTCOMES)
    assert len(combined[combined["outcome"] == "mtss"]) == 1


def test_sd_imputation_is_off_by_default_and_flagged_when_on(tmp_path):
    path = _arms(tmp_path, [
        "S1,a,treatment,mtss,12 months,10,1.0,NR,NR,NR,NR,,,,src,",
        "S1,p,control,mtss,12 months,10,2.0,NR,NR,NR,NR,,,,src,",
        "S2,a,treatment,mtss,12 months,21,1.0,2.0,,,,,,,src,",
        "S2,p,control,mtss,12 months,11,2.0,4.0,,,,,,,src,",
    ])
    arms = validate_arms(path, outcomes=OUTCOMES, studies=STUDIES, included_studies=None)
    default = study_contrasts(arms, OUTCOMES)
    assert default.set_index("study_id").loc["S1", "status"] == "not_analysable"
    imputed = impute_missing_sd(arms, OUTCOMES, "pooled")
    s1 = imputed[imputed["study_id"] == "S1"]
    pooled_sd = math.sqrt((20 * 4 + 10 * 16) / 30)
    assert list(s1["sd_used"]) == pytest.approx([pooled_sd, pooled_sd], rel=1e-12)
    assert "SD imputed: pooled SD of 2 arms in other studies" in s1.iloc[0]["conversion"]
    largest = impute_missing_sd(arms, OUTCOMES, "max")
    assert list(largest[largest["study_id"] == "S1"]["sd_used"]) == [4.0, 4.0]
    contrasts = study_contrasts(arms, OUTCOMES, impute_sd="pooled")
    assert (contrasts["status"] == "analysable").all()


def _contrast_sheet(tmp_path, rows):
    path = tmp_path / "contrasts.csv"
    path.write_text(CONTRAST_HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_contrast_sheet_gives_yi_vi_and_flags(tmp_path):
    path = _contrast_sheet(tmp_path, [
        "S1,mtss,12 months,MD,-0.5,,-1.0,0.0,95,30,30,Table 2,",
        "S2,sae,12 months,RR,0.8,,0.5,1.28,95,100,100,Table 3,",
        "S3,mtss,12 months,MD,-0.2,0.1,,,,200,200,text,",
    ])
    sheet = validate_contrast_sheet(path, outcomes=OUTCOMES_M, studies=STUDIES,
                                    included_studies=None)
    s1 = sheet.set_index("study_id").loc["S1"]
    q = stats.t.ppf(0.975, 58)
    assert s1["yi"] == -0.5 and s1["vi"] == pytest.approx((1.0 / (2 * q)) ** 2, rel=1e-12)
    assert s1["conversion"] == "SE from 95% CI (t(58) quantile)"
    s2 = sheet.set_index("study_id").loc["S2"]
    assert s2["yi"] == pytest.approx(math.log(0.8), rel=1e-12)
    assert s2["vi"] == pytest.approx(((math.log(1.28) - math.log(0.5))
                                      / (2 * stats.norm.ppf(0.975))) ** 2, rel=1e-12)
    assert "log of the reported RR" in s2["conversion"]
    assert sheet.set_index("study_id").loc["S3", "vi"] == pytest.approx(0.01, rel=1e-12)
    contrasts = study_contrasts(pd.DataFrame(columns=VALIDATED_ARM_COLUMNS), OUTCOMES_M,
                                contrast_rows=sheet)
    assert list(contrasts["data_level"]) == ["contrast"] * 3
    assert (contrasts["status"] == "analysable").all()


def test_contrast_sheet_rejections(tmp_path):
    path = _contrast_sheet(tmp_path, [
        "S1,mtss,12 months,SMD,-0.5,0.1,,,,30,30,src,",
        "S2,sae,12 months,RR,2.0,,0.5,1.28,95,100,100,src,",
        "S3,mtss,12 months,MD,-0.2,,,,,0,20,src,",
        "S9,mtss,12 months,MD,-0.2,0.1,,,,20,20,src,",
        "S2,sae,12 months,RR,1.0,0.2,,,,100,100,src,",
    ])
    with pytest.raises(InputErrors) as err:
        validate_contrast_sheet(path, outcomes=OUTCOMES_M, studies=STUDIES,
                                included_studies={"S1", "S2", "S3"})
    message = str(err.value)
    assert "line 2 (study S1), field 'measure': 'SMD' is not the outcome's measure 'MD'" \
        in message
    assert "line 3 (study S2), field 'estimate': 2.0 lies outside its CI [0.5, 1.28]" in message
    assert "line 4 (study S3), field 'n_treatment'" in message
    assert "line 4 (study S3), field 'se': give the SE or both CI bounds" in message
    assert "line 5 (study S9), field 'study_id': 'S9' is not in studies.csv" in message
    assert "duplicate row for study S2, outcome sae" in message


def test_contrast_row_and_analysable_arms_conflict(tmp_path):
    arms = validate_arms(_arms(tmp_path, [
        "S1,a,treatment,mtss,12 months,10,1.0,2.0,,,,,,,src,",
        "S1,p,control,mtss,12 months,10,2.0,2.0,,,,,,,src,",
    ]), outcomes=OUTCOMES, studies=STUDIES, included_studies=None)
    sheet = validate_contrast_sheet(_contrast_sheet(tmp_path, [
        "S1,mtss,12 months,MD,-0.5,0.2,,,,10,10,src,"]), outcomes=OUTCOMES_M,
        studies=STUDIES, included_studies=None)
    with pytest.raises(ValueError, match="both analysable arm-level rows and a contrast"):
        study_contrasts(arms, OUTCOMES_M, contrast_rows=sheet)
