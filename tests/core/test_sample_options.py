"""Sample-time options: declared by a model's sample_config, set by `run`, `sample`, `eval` and Python, recorded."""

from __future__ import annotations

import json

import numpy as np
import pytest
from support import run_gentool

from gentool.api import GentoolError, load

FAST = ["--set", "trainer.sample_every=4", "--set", "trainer.checkpoint_every=4", "--set", "eval.samples=50"]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("runs") / "tiny"
    result = run_gentool("run", "--model", "tiny", "--steps", "4", "--out", str(run_dir), "--metric", "fid",
                         "--set", "sample.temperature=0.5", *FAST)
    assert result.code == 0, result.text
    return run_dir


def test_info_lists_the_sample_options(tmp_path):
    result = run_gentool("info", "tiny")
    assert result.code == 0, result.text
    assert "sample.temperature" in result.out and "gentool sample RUN --set KEY=VALUE" in result.out


def test_run_records_the_options_beside_the_metrics_they_produced(tiny_run):
    summary = json.loads((tiny_run / "summary.json").read_text())
    assert summary["sample_options"] == {"fid": {"temperature": 0.5}}
    assert json.loads((tiny_run / "config.json").read_text())["sample"] == {"temperature": 0.5}


def test_sample_command_applies_the_option(tiny_run, tmp_path):
    for value, name in (("0", "mean.npz"), ("1.0", "spread.npz")):
        result = run_gentool("sample", str(tiny_run), "-n", "6", "--format", "npz", "--out", str(tmp_path / name),
                             "--set", f"temperature={value}")
        assert result.code == 0, result.text
    mean = np.load(tmp_path / "mean.npz")["images"]
    spread = np.load(tmp_path / "spread.npz")["images"]
    assert np.allclose(mean, mean[:1], atol=1e-6), "temperature 0 draws the mean code every time"
    assert not np.allclose(spread, spread[:1], atol=1e-3)


def test_a_misspelt_option_names_the_valid_ones_and_writes_nothing(tiny_run, tmp_path):
    out = tmp_path / "x.png"
    result = run_gentool("sample", str(tiny_run), "--out", str(out), "--set", "temprature=0")
    assert result.code == 2 and "Traceback" not in result.text
    assert '"sample.temprature"' in result.err and "Valid keys here: temperature" in result.err
    assert not out.exists()


def test_eval_takes_options_and_records_them_per_metric(tiny_run):
    result = run_gentool("eval", str(tiny_run), "--metric", "kid", "--set", "sample.temperature=0",
                         "--set", "eval.samples=50", "--set", "metric.subsets=2", "--set", "metric.subset_size=20")
    assert result.code == 0, result.text
    summary = json.loads((tiny_run / "summary.json").read_text())
    assert summary["sample_options"] == {"fid": {"temperature": 0.5}, "kid": {"temperature": 0.0}}
    assert summary["metrics"]["kid"]["features"] == "digits"


def test_python_callers_pass_a_dict_and_bad_values_are_refused(tiny_run):
    import torch

    model = load(tiny_run)
    x = model.sample(3, options={"temperature": 0}, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(x, x[:1].expand_as(x), atol=1e-6)
    with pytest.raises(GentoolError, match='"sample.temperature": -1'):
        model.sample(3, options={"temperature": -1})


def test_a_model_without_sample_options_refuses_them():
    result = run_gentool("run", "--model", "gan", "--steps", "1", "--set", "sample.truncation=0.7")
    assert result.code == 2
    assert '"sample.truncation"' in result.err and "Valid keys here: (none)" in result.err
