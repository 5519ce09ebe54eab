"""Checks on the configuration that its JSON Schema cannot express."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

MEASURES_BY_TYPE = {"continuous": ("MD", "SMD"), "binary": ("RR", "OR", "RD")}


class ConfigError(ValueError):
    """The configuration is inconsistent; the message names the key."""


def check_config(config: Mapping) -> None:
    """Fail with the offending key when the configuration does not hold together."""
    outcomes = config["analysis"]["outcomes"]
    seen = set()
    for index, outcome in enumerate(outcomes):
        key = f"analysis.outcomes[{index}]"
        if outcome["id"] in seen:
            raise ConfigError(f"{key}.id: outcome '{outcome['id']}' is listed twice")
        seen.add(outcome["id"])
        allowed = MEASURES_BY_TYPE[outcome["type"]]
        if outcome["measure"] not in allowed:
            raise ConfigError(f"{key}.measure: {outcome['measure']} does not fit a "
                              f"{outcome['type']} outcome (use one of {list(allowed)})")
    sources = [e["source"] for e in config["search"]["exports"]]
    for index, source in enumerate(sources):
        if source == "pubmed":
            raise ConfigError(f"search.exports[{index}].source: 'pubmed' is the Entrez "
                              "search; name the export after its database")
        if sources.count(source) > 1:
            raise ConfigError(f"search.exports[{index}].source: '{source}' is listed twice")
    data_dir = Path(config["data_dir"])
    if not data_dir.is_dir():
        raise ConfigError(f"data_dir: folder '{data_dir}' does not exist")
