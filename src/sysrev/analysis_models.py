"""Analyses beyond one pooled estimate, each configured per review and off by default:
meta-regression on study-level covariates (with an optional permutation test), the
three-level model for several effect sizes per study with cluster-robust (CR2) inference,
trim-and-fill, and the risk-of-bias sensitivity analysis.

Every function takes an outcome's ``effects.tsv`` rows (the per-study ``yi``/``vi`` of
:func:`sysrev.analysis.analyse_outcome`) and returns plain tables and JSON-ready dicts with
their methods stated.

References
----------
Cochrane Handbook v6.5: 10.11.4-10.11.5 (meta-regression; not with fewer than 10 studies per
covariate), 10.14 (sensitivity analyses, e.g. restricted to studies at low risk of bias),
13.3.5.4 (small-study effects, trim-and-fill), 6.2.3 and 23.3 (dependent effect sizes).
"""

from __future__ import annotations

import logging
import math
from typing import Mapping, Sequence

import numpy as np
import pandas as pd


log = logging.getLogger(__name__)

#: Below this many studies per covariate the Handbook advises against meta-regression.
MIN_STUDIES_PER_COVARIATE = 10

#: Columns of meta_regression.tsv.
META_REGRESSION_COLUMNS = ["outcome", "term", "moderator", "estimate", "se", "statistic", "df",
                           "pval", "ci_lower", "ci_upper", "permutation_p"]
#: Columns of multilevel.tsv.
MULTILEVEL_COLUMNS = ["outcome", "term", "inference", "estimate", "se", "statistic", "df",
                      "pval", "ci_lower", "ci_upper"]
#: Columns of rob_sensitivity.tsv.
ROB_SENSITIVITY_COLUMNS = ["outcome", "label", "measure", "restriction", "k_all",
                           "estimate_all", "ci_lower_all", "ci_upper_all", "k_restricted",
                           "estimate", "ci_lower", "ci_upper", "pval", "tau2", "i2",
                           "studies_left_out", "note"]
RATIO_MEASURES = ("RR", "OR")
ROB_RESTRICTIONS = {"low": "with only the studies at low risk of bias (overall)",
                    "not_high": "without the studies at high risk of bias (overall)"}
#: Judgements that count as high risk (RoB 2 and ROBINS-I).
HIGH_RISK = ("High", "Serious", "Critical")


def _handbook_caution(k: int, covariates: int) -> str | None:
    need = MIN_STUDIES_PER_COVARIATE * covariates
    if k < need:
        return (f"{k} studies for {covariates} covariate{'s' if covariates > 1 else ''}: "
                f"the Cochrane Handbook (10.11.5.1) advises against meta-regression with "
                f"fewer than {MIN_STUDIES_PER_COVARIATE} studies per covariate; read the "
                "result as exploratory")
    return None


def moderator_matrix(values: pd.DataFrame, moderators: Sequence[Mapping]):
    """The model matrix columns (without intercept) and their names for ``moderators``
    (``{"column", "type"}``): a continuous moderator is one column; a categorical one a
    dummy per level but the first (sorted), the reference."""
    columns, names, owners = [], [], []
    for mod in moderators:
        col, kind = mod["column"], mod.get("type", "continuous")
        series = values[col]
        if kind == "continuous":
            numbers = pd.to_numeric(series, errors="coerce")
            bad = series[numbers.isna() & series.notna() & (series.astype(str).str.strip()
                                                             != "")]
            if len(bad):
                sid = values.loc[bad.index[0], "study_id"]
                raise ValueError(f"moderator '{col}': study {sid} has '{bad.iloc[0]}', "
                                 "not a number (a continuous moderator)")
            columns.append(numbers.to_numpy(float))
            names.append(col)
            owners.append(col)
        elif kind == "categorical":
            text = series.astype("string").str.strip()
            levels = sorted(set(text.dropna()) - {""})
            for level in levels[1:]:
                columns.append(np.where(text.isna() | (text == ""), np.nan,
                                        (text == level).astype(float)))
                names.append(f"{col}: {level} (vs {levels[0]})")
                owners.append(col)
        else:
            raise ValueError(f"moderator '{col}': type must be continuous or categorical")
    matrix = np.column_stack(columns) if columns else np.empty((len(values), 0))
    return matrix, names, owners


def _study_moderators(effects: pd.DataFrame, studies: pd.DataFrame,
                      moderators: Sequence[Mapping]):
    """Each effect's study-level moderator values (from the studies sheet), the model
    matrix columns, their names and owners, and which effects have every moderator."""
    info = studies.set_index("study_id")
    values = pd.DataFrame({"study_id": effects["study_id"].to_numpy()})
    for mod in moderators:
        if mod["column"] not in info.columns:
            raise ValueError(f"moderator '{mod['column']}' is not a column of the studies "
                             "sheet")
        values[mod["column"]] = effects["study_id"].map(info[mod["column"]]).to_numpy()
    X, names, owners = moderator_matrix(values, moderators)
    keep = ~np.isnan(X).any(axis=1) if X.shape[1] else np.ones(len(values), bool)
    return values, X, names, owners, keep


def meta_regression(effects: pd.DataFrame, studies: pd.DataFrame,
                    moderators: Sequence[Mapping], *, outcome: str, measure: str,
                    method: str = "REML", test: str = "knha", level: float = 95,
                    permutations: int = 0, seed: int = 20250101
                    ) -> tuple[pd.DataFrame, dict]:
    """Meta-regression of one outcome's effects on study-level moderators (metafor's
    ``rma(yi, vi, mods = ...)``).

    Returns the coefficient table (:data:`META_REGRESSION_COLUMNS`) and a JSON-ready dict:
    the omnibus test (QM), residual heterogeneity (QE, τ², I²), metafor's pseudo-R², the
    studies left out for a missing moderator, the Handbook caution when there are fewer
    than 10 studies per covariate, what a bubble plot draws (``bubble``) and, with
    ``permutations`` > 0, the permutation test (exact when there are no more distinct
    permutations than that; otherwise ``permutations`` draws from NumPy's PCG64 seeded
    with ``seed``).
    """
    from sysrev.meta import permutest, rma_mods  # scipy: only where a model is fitted
    values, X, names, owners, keep = _study_moderators(effects, studies, moderators)
    yi = effects["yi"].to_numpy(float)[keep]
    vi = effects["vi"].to_numpy(float)[keep]
    X = X[keep]
    left_out = sorted(set(values["study_id"][~keep]))
    k, p = len(yi), X.shape[1] + 1
    covariates = len(moderators)
    summary: dict = {
        "outcome": outcome, "measure": measure,
        "scale": "log" if measure in RATIO_MEASURES else "raw",
        "moderators": [dict(m) for m in moderators], "k": k,
        "left_out": [{"study_id": s, "reason": "moderator missing"} for s in left_out],
        "methods": {"model": "mixed-effects meta-regression (metafor rma with mods)",
                    "tau2": method, "test": test, "level": level,
                    "r2": "pseudo-R2 = max(0, (tau2_RE - tau2) / tau2_RE), tau2_RE from the "
                          "model without moderators (metafor)",
                    "caution": f"Cochrane Handbook 10.11.5.1: at least "
                               f"{MIN_STUDIES_PER_COVARIATE} studies per covariate"},
        "warning": _handbook_caution(k, covariates),
    }
    if k <= p or X.shape[1] == 0 or np.linalg.matrix_rank(np.column_stack(
            [np.ones(k), X])) < p:
        why = ("no moderator varies" if X.shape[1] == 0 else
               f"{k} studies cannot estimate {p} coefficients" if k <= p else
               "the moderators are collinear in these studies")
        summary.update(status=f"not fitted: {why}")
        log.info("%s: meta-regression not fitted (%s)", outcome, why)
        return pd.DataFrame(columns=META_REGRESSION_COLUMNS), summary
    fit = rma_mods(yi, vi, X, method=method, test=test, level=level)
    perm = None
    if permutations:
        perm = permutest(yi, vi, X, method=method, test=test, level=level,
                         iterations=permutations, seed=seed)
    terms = ["intercept"] + names
    table = pd.DataFrame({
        "outcome": outcome, "term": terms, "moderator": [""] + owners,
        "estimate": fit.beta, "se": fit.se, "statistic": fit.zval,
        "df": [fit.dfs if math.isfinite(fit.dfs) else None] * p, "pval": fit.pval,
        "ci_lower": fit.ci_lb, "ci_upper": fit.ci_ub,
        "permutation_p": list(perm.pval) if perm else [None] * p,
    }, columns=META_REGRESSION_COLUMNS)
    summary.update(status="fitted", p=p, tau2=fit.tau2, i2=fit.i2, h2=fit.h2, r2=fit.r2,
                   qe=fit.qe, qe_df=fit.qe_df, qe_p=fit.qe_p, qm=fit.qm,
                   qm_df=list(fit.qm_df), qm_p=fit.qm_p,
                   permutation=perm.as_dict() if perm else None,
                   bubble=_bubble(fit, X, yi, vi, names, owners, moderators,
                                  effects["study_id"].to_numpy()[keep]))
    log.info("%s: meta-regression on %s, k=%d, QM p=%.3g", outcome,
             ", ".join(m["column"] for m in moderators), k, fit.qm_p)
    return table, summary


def _bubble(fit, X, yi, vi, names, owners, moderators, study_ids) -> dict | None:
    """metafor's ``regplot``: the first continuous moderator on x, the other columns held at
    their means; points sized by the model's weights, the fitted line and its CI band."""
    continuous = [m["column"] for m in moderators if m.get("type", "continuous")
                  == "continuous"]
    if not continuous:
        return None
    j = owners.index(continuous[0])
    x = X[:, j]
    grid = np.linspace(float(x.min()), float(x.max()), 101)
    means = X.mean(axis=0)
    X0 = np.column_stack([np.ones(len(grid))] + [grid if c == j else np.full(len(grid), m)
                                                  for c, m in enumerate(means)])
    pred = fit.predict(X0)
    w = 1 / (vi + fit.tau2)
    return {"moderator": names[j], "x": list(map(float, x)), "yi": list(map(float, yi)),
            "weight": list(map(float, 100 * w / w.sum())),
            "study_id": [str(s) for s in study_ids],
            "grid": list(map(float, grid)), "pred": list(map(float, pred["pred"])),
            "ci_lb": list(map(float, pred["ci_lb"])),
            "ci_ub": list(map(float, pred["ci_ub"])),
            "others_at_mean": [n for c, n in enumerate(names) if c != j]}


def effect_size_ids(effects: pd.DataFrame) -> list[str]:
    """The id of each effect size within its study: ``es_id`` where the sheets give one,
    else the comparison, else the row's position within the study."""
    es = (effects["es_id"].fillna("").astype(str) if "es_id" in effects.columns
          else pd.Series([""] * len(effects), index=effects.index))
    comparison = effects.get("comparison", pd.Series([""] * len(effects), index=effects.index))
    comparison = comparison.fillna("").astype(str)
    position = effects.groupby("study_id").cumcount() + 1
    return [e if e and not c else f"{e}: {c}" if e else c if c else f"#{n}"
            for e, c, n in zip(es, comparison, position)]


def multilevel_model(effects: pd.DataFrame, *, outcome: str, measure: str,
                     method: str = "REML", robust: bool = True, level: float = 95,
                     studies: pd.DataFrame | None = None,
                     moderators: Sequence[Mapping] = ()) -> tuple[pd.DataFrame, dict]:
    """The three-level model of one outcome's effect sizes (effect sizes within studies;
    metafor's ``rma.mv(yi, vi, mods, random = ~ 1 | study/es)``) with profile-likelihood
    CIs of both variance components, and, with ``robust``, clubSandwich's CR2 test clustered
    by study with Satterthwaite df.

    ``moderators`` (``{"column", "type"}``, study-level columns of ``studies``, as for
    :func:`meta_regression`) add a coefficient each (a dummy per level but the first for a
    categorical one); effects whose study lacks a moderator are left out and listed. When
    the moderators cannot be estimated (none varies, collinear, too few effect sizes) the
    model is fitted without them and the summary says why.

    Returns the coefficient table (:data:`MULTILEVEL_COLUMNS`; for each term one row for
    the model-based inference and one for CR2) and a JSON-ready dict.
    """
    from sysrev.meta import coef_test_cr2, rma_mv  # scipy: only where a model is fitted
    summary: dict = {
        "outcome": outcome, "measure": measure,
        "scale": "log" if measure in RATIO_MEASURES else "raw",
        "k": None, "n_studies": None,  # filled in below; here for the key order
        "methods": {"model": "three-level random-effects model: effect sizes within "
                             "studies (metafor rma.mv, random = ~ 1 | study/es)",
                    "estimation": method, "level": level,
                    "variance_component_ci": "profile likelihood",
                    "robust": ("CR2 cluster-robust variance, clustered by study, "
                               "Satterthwaite degrees of freedom (clubSandwich coef_test)"
                               if robust else None)},
    }
    names: list[str] = []
    X = None
    if moderators:
        if studies is None:
            raise ValueError("multilevel_model: moderators need the studies sheet")
        values, X, names, owners, keep = _study_moderators(effects, studies, moderators)
        summary["moderators"] = [dict(m) for m in moderators]
        summary["left_out"] = [{"study_id": s, "reason": "moderator missing"}
                               for s in sorted(set(values["study_id"][~keep]))]
        effects, X = effects[keep], X[keep]
    yi = effects["yi"].to_numpy(float)
    vi = effects["vi"].to_numpy(float)
    study = effects["study_id"].astype(str).to_numpy()
    es = effect_size_ids(effects)
    n_studies = len(set(study))
    summary.update(k=len(yi), n_studies=n_studies)
    if len(yi) < 3 or n_studies < 2:
        summary["status"] = (f"not fitted: {len(yi)} effect sizes in {n_studies} "
                             f"stud{'y' if n_studies == 1 else 'ies'}")
        return pd.DataFrame(columns=MULTILEVEL_COLUMNS), summary
    if X is not None:
        p = X.shape[1] + 1
        why = ("no moderator varies" if X.shape[1] == 0 else
               f"{len(yi)} effect sizes cannot estimate {p} coefficients"
               if len(yi) <= p else
               "the moderators are collinear in these studies"
               if np.linalg.matrix_rank(np.column_stack([np.ones(len(yi)), X])) < p else None)
        if why:
            summary["moderators_status"] = f"not used: {why}; model without moderators"
            log.info("%s: three-level model without moderators (%s)", outcome, why)
            X, names = None, []
    fit = rma_mv(yi, vi, study, es, mods=X, method=method, level=level)
    rob = coef_test_cr2(fit) if robust else None
    rows = []
    for j, term in enumerate(["intercept"] + names):
        rows.append({"outcome": outcome, "term": term, "inference": "model (z)",
                     "estimate": fit.beta[j], "se": fit.se[j], "statistic": fit.zval[j],
                     "df": None, "pval": fit.pval[j], "ci_lower": fit.ci_lb[j],
                     "ci_upper": fit.ci_ub[j]})
        if rob:
            rows.append({"outcome": outcome, "term": term, "inference": "CR2 (t)",
                         "estimate": rob.beta[j], "se": rob.se[j], "statistic": rob.tstat[j],
                         "df": rob.df[j], "pval": rob.pval[j], "ci_lower": rob.ci_lb[j],
                         "ci_upper": rob.ci_ub[j]})
    data = fit.as_dict()
    summary.update(status="fitted", sigma2_between_studies=fit.sigma2[0],
                   sigma2_within_studies=fit.sigma2[1],
                   sigma2_between_studies_ci=list(fit.sigma2_ci[0]),
                   sigma2_within_studies_ci=list(fit.sigma2_ci[1]),
                   qe=fit.qe, qe_df=fit.qe_df, qe_p=fit.qe_p, loglik=fit.loglik,
                   aic=fit.aic, bic=fit.bic, model={k: data[k] for k in (
                       "beta", "se", "zval", "pval", "ci_lb", "ci_ub")},
                   cr2=rob.as_dict() if rob else None)
    if names:
        summary.update(terms=["intercept"] + names, qm=fit.qm, qm_df=list(fit.qm_df),
                       qm_p=fit.qm_p)
    if n_studies == len(yi):
        summary["note"] = ("one effect size per study: the two variance components are not "
                           "separately identified (their sum is the usual tau2)")
    log.info("%s: three-level model, %d effect sizes in %d studies, sigma2 = %.4g, %.4g",
             outcome, len(yi), n_studies, *fit.sigma2)
    return pd.DataFrame(rows, columns=MULTILEVEL_COLUMNS), summary


def trim_and_fill(yi, vi, *, estimator: str, method: str, level: float, measure: str,
                  labels: Sequence[str]) -> dict:
    """Trim-and-fill for ``pooled.json`` (and the funnel plot): the filled studies and the
    adjusted estimate (:func:`sysrev.meta.trimfill`)."""
    from sysrev.meta import trimfill  # scipy: only where a model is fitted
    try:
        res = trimfill(yi, vi, method=method, estimator=estimator, level=level)
    except (ValueError, RuntimeError) as error:
        # E.g. equal sampling variances: no regression on the SE to tell the side from.
        return {"estimator": estimator, "status": f"not done: {error}"}
    k = len(labels)
    fit = res.fit
    out = {"estimator": res.estimator, "side": res.side, "k0": res.k0, "se_k0": res.se_k0,
           "method": fit.method,
           "filled": [{"label": f"Filled {i + 1}", "yi": res.yi[k + i],
                       "sei": math.sqrt(res.vi[k + i])} for i in range(res.k0)],
           "estimate": fit.estimate, "se": fit.se, "ci_lb": fit.ci_lb, "ci_ub": fit.ci_ub,
           "pval": fit.pval, "tau2": fit.tau2, "k": fit.k,
           "caution": "trim-and-fill assumes the asymmetry is due to unpublished small "
                      "studies; it is a sensitivity analysis, not a corrected estimate "
                      "(Cochrane Handbook 13.3.5.4)"}
    if measure in RATIO_MEASURES:
        for key in ("estimate", "ci_lb", "ci_ub"):
            out[f"exp_{key}"] = math.exp(out[key])
    return out


def rob_overall(judgements: pd.DataFrame) -> dict[str, str]:
    """Each study's overall risk-of-bias judgement from a loaded judgements table."""
    part = judgements[judgements["domain"] == "overall"]
    return dict(zip(part["study_id"], part["judgement"]))


def rob_sensitivity(effects: pd.DataFrame, pooled: Mapping, overall: Mapping[str, str], *,
                    restriction: str, method: str, test: str, level: float) -> dict:
    """One outcome re-pooled with only the studies at low risk of bias (``"low"``) or
    without those at high risk (``"not_high"``), as Cochrane reviews report it (Handbook
    10.14): a row of :data:`ROB_SENSITIVITY_COLUMNS`."""
    from sysrev.meta import rma  # scipy: only where a model is fitted
    if restriction not in ROB_RESTRICTIONS:
        raise ValueError(f"rob_sensitivity: restriction must be one of "
                         f"{', '.join(ROB_RESTRICTIONS)}")
    measure = pooled["measure"]
    ratio = measure in RATIO_MEASURES

    def shown(value):
        if value is None or not math.isfinite(value):
            return None
        return math.exp(value) if ratio else value

    random = pooled.get("random") or {}
    row = {"outcome": pooled["outcome"], "label": pooled["label"], "measure": measure,
           "restriction": ROB_RESTRICTIONS[restriction], "k_all": int(len(effects)),
           "estimate_all": shown(random.get("estimate")),
           "ci_lower_all": shown(random.get("ci_lb")),
           "ci_upper_all": shown(random.get("ci_ub"))}
    if restriction == "low":
        keep = effects["study_id"].map(lambda s: overall.get(s) == "Low")
    else:
        keep = effects["study_id"].map(lambda s: overall.get(s) is not None
                                       and overall.get(s) not in HIGH_RISK)
    keep = keep.to_numpy(bool)
    dropped = sorted(set(effects["study_id"][~keep]))
    row["studies_left_out"] = "; ".join(f"{s} ({overall.get(s, 'not assessed')})"
                                        for s in dropped)
    row["k_restricted"] = int(keep.sum())
    empty = {"estimate": None, "ci_lower": None, "ci_upper": None, "pval": None,
             "tau2": None, "i2": None}
    if len(effects) == 0:
        return row | empty | {"note": "no analysable study"}
    if not dropped:
        return row | {"estimate": row["estimate_all"], "ci_lower": row["ci_lower_all"],
                      "ci_upper": row["ci_upper_all"], "pval": random.get("pval"),
                      "tau2": random.get("tau2"), "i2": random.get("i2"),
                      "note": "no study left out: same as the main analysis"}
    if not keep.any():
        return row | empty | {"note": "no study left: no restricted analysis"}
    fit = rma(effects["yi"].to_numpy(float)[keep], effects["vi"].to_numpy(float)[keep],
              method=method, test=test, level=level, tau2_ci=False)
    note = "one study" if fit.k == 1 else ""
    return row | {"estimate": shown(fit.estimate), "ci_lower": shown(fit.ci_lb),
                  "ci_upper": shown(fit.ci_ub), "pval": fit.pval, "tau2": fit.tau2,
                  "i2": fit.i2, "note": note}


def methods_sentences(analyses: Mapping, labels: Mapping[str, str]) -> list[str]:
    """The methods text for the configured analyses beyond one pooled estimate (none when
    nothing is configured). ``analyses`` holds the configuration's ``trim_and_fill``,
    ``moderators``, ``meta_regression``, ``multilevel`` and ``rob_sensitivity``;
    ``labels`` maps outcome ids to labels."""
    out = []
    if analyses.get("trim_and_fill", "none") != "none":
        out.append(f"Trim-and-fill (Duval and Tweedie, {analyses['trim_and_fill']} estimator "
                   "of the number of missing studies, metafor's trimfill) for the outcomes "
                   "with a funnel plot, as a sensitivity analysis: it assumes the funnel "
                   "plot's asymmetry comes from unpublished small studies (Cochrane Handbook "
                   "13.3.5.4).")
    moderators = analyses.get("moderators") or []
    if moderators:
        reg = analyses.get("meta_regression") or {}
        names = []
        for mod in moderators:
            where = (" (" + ", ".join(labels.get(o, o) for o in mod["outcomes"]) + ")"
                     if mod.get("outcomes") else "")
            names.append(f"{mod['column']} ({mod.get('type', 'continuous')}){where}")
        test = ("Knapp-Hartung t and F tests" if reg.get("test", "knha") == "knha"
                else "Wald z and chi-squared tests")
        sentence = (f"Meta-regression (mixed-effects, {reg.get('method', 'REML')} estimator "
                    f"of the residual tau2, {test}) on {'; '.join(names)}, with the "
                    "pseudo-R2 of metafor; the Cochrane Handbook (10.11.5.1) advises at "
                    f"least {MIN_STUDIES_PER_COVARIATE} studies per covariate, and results "
                    "with fewer are marked as exploratory.")
        if reg.get("permutations"):
            sentence += (f" Permutation test with {reg['permutations']} permutations (exact "
                         f"when there are no more distinct ones; seed {reg.get('seed')}).")
        out.append(sentence)
    multilevel = (analyses.get("multilevel") or {})
    if multilevel.get("outcomes"):
        robust = (" and cluster-robust CR2 standard errors with Satterthwaite degrees of "
                  "freedom, clustered by study (clubSandwich)" if multilevel.get(
                      "robust", True) else "")
        sentence = ("Several effect sizes per study: three-level random-effects model "
                    f"(effect sizes within studies, {multilevel.get('method', 'REML')}, "
                    "metafor's rma.mv) with profile-likelihood CIs of the two variance "
                    f"components{robust}, for "
                    + ", ".join(labels.get(o, o) for o in multilevel["outcomes"]) + ".")
        moderated = [(o, [m["column"] for m in moderators
                          if not m.get("outcomes") or o in m["outcomes"]])
                     for o in multilevel["outcomes"]]
        moderated = [(o, cols) for o, cols in moderated if cols]
        if moderated:
            which = "both model-based and CR2 " if multilevel.get("robust", True) else ""
            sentence += (" The three-level model includes the study-level moderators of the "
                         "meta-regression as covariates (" + "; ".join(
                             f"{labels.get(o, o)}: {', '.join(cols)}" for o, cols in moderated)
                         + f"), with {which}tests of each coefficient.")
        out.append(sentence)
    restriction = analyses.get("rob_sensitivity", "none")
    if restriction != "none":
        out.append("Risk-of-bias sensitivity analysis: every outcome re-pooled "
                   f"{ROB_RESTRICTIONS[restriction]} (Cochrane Handbook 10.14).")
    return out


def rob_sensitivity_footnotes(sof: pd.DataFrame, sensitivity: pd.DataFrame) -> pd.DataFrame:
    """The summary-of-findings table with each outcome's risk-of-bias sensitivity result
    added to its footnotes (``rob_sensitivity.tsv`` rows, numbers as written there)."""
    from sysrev.grade import FOOTNOTE_SEPARATOR
    sof = sof.copy()
    by_outcome = {row["outcome"]: row for _, row in sensitivity.iterrows()}
    notes = []
    for outcome, existing in zip(sof["outcome"], sof["footnotes"].fillna("")):
        row = by_outcome.get(outcome)
        if row is None:
            notes.append(existing)
            continue
        restriction = row["restriction"]
        if pd.notna(row.get("estimate")) and str(row.get("estimate")) != "":
            est = (f"{row['measure']} {float(row['estimate']):.2f} "
                   f"({float(row['ci_lower']):.2f} to {float(row['ci_upper']):.2f})")
            text = (f"Sensitivity analysis {restriction}: {est} from {row['k_restricted']} "
                    f"stud{'y' if str(row['k_restricted']) == '1' else 'ies'}")
        else:
            note = row.get("note") if pd.notna(row.get("note")) else "not estimable"
            text = f"Sensitivity analysis {restriction}: {note}"
        notes.append(FOOTNOTE_SEPARATOR.join(filter(None, [existing, text + "."])))
    sof["footnotes"] = notes
    return sof
