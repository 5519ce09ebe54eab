"""A sheet the configuration names that does not exist is an error naming the key (else
Snakemake keeps the old outputs of the job that would read it, with exit code 0)."""

import copy
import re
from pathlib import Path

import pytest
import yaml

from sysrev.config import ConfigError, check_config, check_config_paths

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def bundled(monkeypatch):
    monkeypatch.chdir(REPO)
    return yaml.safe_load((REPO / "config/config.yaml").read_text(encoding="utf-8"))


def test_the_bundled_config_names_existing_files(bundled):
    check_config(bundled)
    check_config_paths(bundled)


def test_a_missing_sheet_does_not_stop_the_config_check(bundled):
    """Issue 17: search and deduplication run before the screening sheets exist; the rules
    that read a sheet check it (sysrev.config.configured_sheet)."""
    config = copy.deepcopy(bundled)
    config["screening"]["decisions"][0]["file"] = "data/denosumab_ra/screening/later.csv"
    check_config(config)


@pytest.mark.parametrize("key", ["screening.decisions[0].file", "screening.studies",
                                 "extraction.studies", "extraction.arms",
                                 "report.risk_of_bias", "extraction.contrasts",
                                 "report.grade_overrides"])
def test_a_configured_sheet_that_does_not_exist_names_its_key(bundled, key):
    config = copy.deepcopy(bundled)
    section, name = key.split(".", 1)
    typo = "data/denosumab_ra/screening/decisons.csv"
    if name == "decisions[0].file":
        config[section]["decisions"][0]["file"] = typo
    else:
        config[section][name] = typo
    with pytest.raises(ConfigError) as err:
        check_config_paths(config)
    assert str(err.value).startswith(f"{key}: file '{typo}' does not exist")


def test_a_previous_version_folder_that_does_not_exist_names_its_key(bundled):
    config = copy.deepcopy(bundled)
    config["prisma"]["previous_version"] = "data/denosumab_ra/versions/2024-13-01"
    with pytest.raises(ConfigError, match=r"^prisma.previous_version: folder"):
        check_config_paths(config)


@pytest.mark.parametrize("key", ["analysis.moderators[0].outcomes",
                                 "analysis.multilevel.outcomes"])
def test_an_analysis_naming_an_unknown_outcome_names_its_key(bundled, key):
    config = copy.deepcopy(bundled)
    if "moderators" in key:
        config["analysis"]["moderators"] = [{"column": "year", "outcomes": ["sea"]}]
    else:
        config["analysis"]["multilevel"]["outcomes"] = ["sea"]
    with pytest.raises(ConfigError, match="^" + re.escape(key) + ": 'sea' is not a "
                                          "configured outcome id"):
        check_config(config)


@pytest.fixture
def demo(monkeypatch):
    monkeypatch.chdir(REPO)
    return yaml.safe_load((REPO / ".test/config/sources_demo.yaml").read_text("utf-8"))


def test_the_sources_demo_config_holds_together(demo):
    check_config(demo)
    check_config_paths(demo)


@pytest.mark.parametrize("source", ["ctgov", "europepmc", "citations"])
def test_a_source_searched_in_the_future_names_its_key(demo, source):
    config = copy.deepcopy(demo)
    config["search"][source]["date"] = "2999-01-01"
    with pytest.raises(ConfigError, match=rf"search\.{source}\.date: 2999-01-01 is in the "
                                          "future"):
        check_config(config)


def test_missing_citation_seeds_name_their_key(demo):
    config = copy.deepcopy(demo)
    config["search"]["citations"]["seeds"] = "no/such/seeds.tsv"
    with pytest.raises(ConfigError, match=r"search\.citations\.seeds: file 'no/such/seeds.tsv'"):
        check_config_paths(config)
