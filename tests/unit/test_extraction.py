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
    assert "SD not reported and not derivable (no SE or CI) for a" in mtss["reason"]
    sae = contrasts[contrasts["outcome"] == "sae"].iloc[0]
    assert sae["status"] == "analysable"
    assert (sae["events_treatment"], sae["n_treatment"]) == (3, 40)
    assert "arms a + b combined" in sae["conversions"]
