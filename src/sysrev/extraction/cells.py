"""What the extraction modules share: the configured outcomes and how a sheet's cell is read."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sysrev.columns import NOT_REPORTED

GROUPS = ("treatment", "control")
NUMERIC = ("n", "mean", "sd", "se", "ci_lower", "ci_upper", "ci_level", "events", "total",
           "median", "q1", "q3", "min", "max")
INTEGER = ("n", "events", "total")


@dataclass(frozen=True)
class OutcomeSpec:
    """What the configuration says about one outcome."""

    id: str
    type: str  # "continuous" or "binary"
    timepoint: str
    measure: str | None = None


def _number(value) -> float | None:
    """A cell as a float; ``None`` for empty or NR (callers tell the two apart)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if value in ("", NOT_REPORTED):
        return None
    return float(value)
