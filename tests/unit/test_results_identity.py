"""Issue 17: two configs with the same `review:` name must not share results/<review>/."""

import json

import pytest

from sysrev.workflow.identity import IDENTITY_FILE, check_results_identity, config_identity


def test_another_config_with_the_same_review_name_is_stopped(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    results = tmp_path / "results/mine"
    first = config_identity(["config/config.yaml"], "mine")
    assert first == {"review": "mine", "config_files": ["config/config.yaml"]}
    check_results_identity(results, first, write=False)  # a dry run writes nothing
    assert not (results / IDENTITY_FILE).exists()
    check_results_identity(results, first, write=True)
    assert json.loads((results / IDENTITY_FILE).read_text())["config_files"] == \
        ["config/config.yaml"]
    check_results_identity(results, first, write=True)  # the same config: fine
    copied = config_identity(["config/copy.yaml"], "mine")
    with pytest.raises(ValueError) as err:
        check_results_identity(results, copied, write=False)
    message = str(err.value)
    assert "config/config.yaml" in message and "config/copy.yaml" in message
    assert "same review name 'mine'" in message and IDENTITY_FILE in message
