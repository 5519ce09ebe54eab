"""Named analysis presets: a set of statistical choices under one name, so a review states
"RevMan 5 defaults" or "Cochrane 2025 defaults" and gets exactly those.

``revman5``
    DerSimonian–Laird τ², Wald (z) confidence interval, I² from Q (I² = (Q − df)/Q), no
    prediction interval, no CI for τ²: what RevMan 5 reported.
``cochrane2025``
    REML τ², Hartung–Knapp–Sidik–Jonkman interval (t with k − 1 df), τ² with its Q-profile
    CI, and a prediction interval (shown from three studies on): the defaults of RevMan and
    the Cochrane Handbook v6.5 (2024-2025) for random-effects meta-analysis.
``custom``
    The configuration's own ``random_method``, ``test`` and ``prediction_interval``; I² is
    metafor's τ²-based definition (equal to the Q-based one for DL).

References
----------
Cochrane Handbook v6.5, sections 10.10.4 (random effects, HKSJ, prediction intervals) and
10.10.2 (I²). Veroniki AA et al. Methods to estimate the between-study variance and its
uncertainty in meta-analysis. Res Synth Methods 2016;7:55-79.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Smallest number of studies with which a prediction interval is shown.
MIN_STUDIES_PI = 3


@dataclass(frozen=True)
class Preset:
    """Statistical choices of a random-effects analysis."""

    name: str
    method: str
    test: str
    prediction_interval: bool
    tau2_ci: bool
    i2: str  # "q": (Q - df)/Q; "tau2": tau2 / (tau2 + s2)

    def describe(self) -> dict:
        return {"preset": self.name, "method": self.method, "test": self.test,
                "prediction_interval": self.prediction_interval,
                "tau2_ci": "Q-profile" if self.tau2_ci else None,
                "i2_definition": ("I2 = max(0, (Q - df) / Q)" if self.i2 == "q" else
                                  "I2 = tau2 / (tau2 + s2), s2 the typical within-study "
                                  "variance (Higgins & Thompson 2002; metafor)")}


PRESETS = {
    "revman5": Preset("revman5", "DL", "z", False, False, "q"),
    "cochrane2025": Preset("cochrane2025", "REML", "knha", True, True, "tau2"),
}


def resolve_preset(name: str, *, method: str = "DL", test: str = "z",
                   prediction_interval: bool = False) -> Preset:
    """The preset ``name``, or for ``"custom"`` one built from the other arguments."""
    if name == "custom":
        return Preset("custom", method.upper(), test, prediction_interval, True, "tau2")
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset '{name}' (known: custom, "
                         f"{', '.join(PRESETS)})") from None
