"""Per-stage audit records: what went in, what came out, with which parameters and software.

Each stage writes ``results/audit/<stage>.json``. The audit has no timestamps, so it is as
deterministic as the tables it describes.
"""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path
from typing import Any, Mapping

from sysrev import __version__
from sysrev.paths import logical_path
from sysrev.tables import sha256_file, write_json

_PACKAGES = ("biopython", "pandas", "numpy", "scipy", "rapidfuzz", "matplotlib", "rispy",
             "snakemake")


def software_versions() -> dict[str, str]:
    """Versions of Python, sysrev and the libraries whose behaviour shapes results."""
    versions = {"python": platform.python_version(), "sysrev": __version__}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def describe_inputs(inputs: Mapping[str, str | Path | list]) -> dict[str, Any]:
    """Map each named input to its path(s) in the review and SHA-256."""
    described: dict[str, Any] = {}
    for name, value in inputs.items():
        paths = value if isinstance(value, (list, tuple)) else [value]
        entries = [{"path": logical_path(p), "sha256": sha256_file(p)} for p in paths]
        described[name] = entries if isinstance(value, (list, tuple)) else entries[0]
    return described


def write_audit(path: str | Path, *, stage: str, inputs: Mapping[str, Any],
                outputs: Mapping[str, Any], counts: Mapping[str, Any],
                parameters: Mapping[str, Any] | None = None,
                notes: list[str] | None = None) -> None:
    """Write one stage's audit record to ``path``."""
    write_json({
        "stage": stage,
        "inputs": describe_inputs(inputs),
        "outputs": {k: logical_path(v) for k, v in outputs.items()},
        "counts": dict(counts),
        "parameters": dict(parameters or {}),
        "notes": list(notes or []),
        "software": software_versions(),
    }, path)
