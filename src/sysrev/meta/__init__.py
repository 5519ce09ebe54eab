"""Effect sizes and pooling, in metafor's vocabulary.

- :func:`escalc`: per-study effect sizes ``yi`` and sampling variances ``vi`` (MD, SMD,
  RR, OR, RD, PETO).
- :func:`rma`: equal-effects (``"EE"``/``"FE"``) or random-effects pooling (DL, REML, PM,
  SJ, HE, ML, EB) with Wald, Hartung-Knapp-Sidik-Jonkman or ad hoc intervals, prediction
  interval, Q, I², H² and the Q-profile CI of τ².
- :func:`rma_mh`, :func:`rma_peto`: Mantel-Haenszel (RR, OR, RD) and Peto OR pooling of 2x2
  tables.
- :func:`rma_mods`: meta-regression (moderators), :func:`subgroup_analysis` with the test for
  subgroup differences.
- :func:`leave1out`, :func:`cumul`: leave-one-out and cumulative meta-analysis.
- :func:`permutest`: permutation test of a meta-regression.
- :func:`rma_mv`, :func:`coef_test_cr2`: three-level models (effect sizes within studies)
  and their cluster-robust CR2 tests with Satterthwaite df.
- :func:`trimfill`: Duval and Tweedie's trim-and-fill (L0, R0).
- :func:`regtest`, :func:`funnel_data`: Egger's test and funnel-plot data.
- :data:`PRESETS`: ``revman5`` and ``cochrane2025``.

Every function is checked against R's metafor (and clubSandwich for CR2) in
``tests/unit/meta``.
"""

from sysrev.meta.bias import RegTestResult, funnel_data, regtest
from sysrev.meta.escalc import EffectSizes, escalc
from sysrev.meta.mh import FixedTableResult, rma_mh, rma_peto
from sysrev.meta.presets import PRESETS, Preset, resolve_preset
from sysrev.meta.multilevel import MultilevelResult, RobustResult, coef_test_cr2, rma_mv
from sysrev.meta.regression import MetaRegResult, PermutationResult, permutest, rma_mods
from sysrev.meta.rma import RMAResult, rma
from sysrev.meta.sensitivity import cumul, leave1out
from sysrev.meta.subgroup import SubgroupResult, subgroup_analysis
from sysrev.meta.trimfill import TrimFillResult, trimfill

__all__ = ["EffectSizes", "escalc", "RMAResult", "rma", "FixedTableResult", "rma_mh",
           "rma_peto", "MetaRegResult", "rma_mods", "SubgroupResult", "subgroup_analysis",
           "leave1out", "cumul", "RegTestResult", "regtest", "funnel_data", "PRESETS",
           "Preset", "resolve_preset", "MultilevelResult", "RobustResult", "coef_test_cr2",
           "rma_mv", "PermutationResult", "permutest", "TrimFillResult", "trimfill"]
