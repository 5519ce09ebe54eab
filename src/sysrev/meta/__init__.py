"""Effect sizes and pooling, in metafor's vocabulary.

:func:`escalc` computes per-study effect sizes ``yi`` and sampling variances ``vi``;
:func:`rma` pools them with a fixed-effect (``"EE"``/``"FE"``) or random-effects model.
Results are checked against R's metafor in ``tests/unit/meta``.
"""

from sysrev.meta.escalc import EffectSizes, escalc
from sysrev.meta.rma import RMAResult, rma

__all__ = ["EffectSizes", "escalc", "RMAResult", "rma"]
