"""Modules imported when first used, not when the importing module is."""

from __future__ import annotations

import importlib
from typing import Any


class LazyModule:
    """Stands for the module ``name`` and imports it on the first attribute looked up
    (``pd.DataFrame``): a job that never needs the module does not pay for importing it.
    pandas costs about 0.35 s of CPU and 40 MB in a fresh interpreter; the import rule's
    RIS reader writes its table without it (BENCHMARKS.md, RIS import, third pass), and
    the importers and table helpers it loads use pandas only inside functions."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)

    def __repr__(self) -> str:
        return f"<lazily imported module {self._name!r}>"


#: ``from sysrev.lazy import pandas as pd``: pandas, imported on first use.
pandas = LazyModule("pandas")

#: ``from sysrev.lazy import numpy as np``: numpy, imported on first use.
numpy = LazyModule("numpy")
