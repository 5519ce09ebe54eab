"""The conda environment pins what pyproject.toml pins, so a conda run computes with the same
versions as a pip install (the environment cannot be built here: no conda channel)."""

import re
import tomllib

import yaml

from tests.conftest import REPO

#: conda-forge names of PyPI packages whose names differ there.
CONDA_NAMES = {"matplotlib": "matplotlib-base"}
#: Not needed inside a job's environment: Snakemake puts its own path on sys.path.
NOT_IN_JOBS = {"snakemake"}


def test_conda_environment_pins_the_versions_of_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    pins = dict(re.fullmatch(r"([A-Za-z0-9_.-]+)==(.+)", dep).groups()
                for dep in project["project"]["dependencies"])
    env = yaml.safe_load((REPO / "envs/sysrev.yaml").read_text(encoding="utf-8"))
    assert env["channels"][0] == "conda-forge"
    conda = dict(re.fullmatch(r"([A-Za-z0-9_.-]+)\s*=\s*(\S+)", dep).groups()
                 for dep in env["dependencies"] if isinstance(dep, str))
    assert conda.pop("python") == "3.11"
    expected = {CONDA_NAMES.get(name, name): version for name, version in pins.items()
                if name not in NOT_IN_JOBS}
    assert conda == expected
    # No pip section: sysrev comes from the workflow's src/, never from a relative path that
    # conda would resolve inside .snakemake/.
    assert not any(isinstance(dep, dict) for dep in env["dependencies"])


def test_every_rule_script_takes_sysrev_from_the_workflow_before_importing_it():
    for script in sorted((REPO / "scripts").glob("*.py")):
        text = script.read_text(encoding="utf-8")
        path_line = text.find('sys.path.insert(0, f"{snakemake.scriptdir}/../src")')
        assert path_line >= 0, script.name
        assert path_line < text.find("from sysrev"), script.name
