"""Config layering (defaults < file < flags < --set) and the errors a user sees for bad input."""

from __future__ import annotations

import pytest
from support import run_gentool

from gentool.errors import GentoolError
from gentool.resolve import gather, resolve


def test_layers_apply_in_order(tmp_path):
    file = tmp_path / "run.toml"
    file.write_text('steps = 5\nseed = 1\n[model]\nname = "tiny"\ncode_dim = 4\nlr = 0.5\n[trainer]\nclip_norm = 2.0\n')
    raw = gather(str(file), {"seed": 9, "model": None}, ["model.lr=0.25", "trainer.schedule=\"cosine\""])
    run = resolve(raw)
    assert run.model.name == "tiny" and run.model_config.code_dim == 4
    assert run.model_config.lr == 0.25 and run.seed == 9 and run.steps == 5
    assert run.trainer.clip_norm == 2.0 and run.trainer.schedule == "cosine"
    assert run.dataset.name == "digits"  # the embedded default
    assert run.as_json()["model"] == {"name": "tiny", **run.model_config.model_dump()}


@pytest.mark.parametrize(
    ("sets", "fragments"),
    [
        (["model.code_dm=3"], ['"model.code_dm"', "code_dim", "Did you mean"]),
        (["model.code_dim=abc"], ['"model.code_dim"', "'abc'", "integer"]),
        (["trainer.precision=fp8"], ['"trainer.precision"', "'fp8'", "'bf16'"]),
        (["trainer.log_every=0"], ['"trainer.log_every"', "greater than 0"]),
        (["nonsense"], ["KEY=VALUE"]),
    ],
)
def test_bad_values_name_key_value_and_choices(sets, fragments):
    with pytest.raises(GentoolError) as info:
        resolve(gather(None, {"model": "tiny"}, sets))
    for fragment in fragments:
        assert fragment in str(info.value)


def test_cli_errors_exit_2_without_traceback(tmp_path):
    cases = [
        (["run", "--model", "tny"], 'Did you mean "tiny"'),
        (["run", "--model", "tiny", "--dataset", "digitz"], 'Unknown dataset "digitz"'),
        (["run", "--model", "tiny", "--metric", "fidd"], 'Unknown metric "fidd"'),
        (["run", "--model", "tiny", "--config", str(tmp_path / "missing.toml")], "does not exist"),
        (["run", "--model", "tiny", "--set", "model.steps=-3"], '"model.steps"'),
        (["run"], "No model given"),
        (["list", "modle"], 'Did you mean "model"'),
        (["info", "vqvea-nothing"], 'Unknown component "vqvea-nothing"'),
    ]
    for args, fragment in cases:
        result = run_gentool(*args, "--out", str(tmp_path / "never")) if args[0] == "run" else run_gentool(*args)
        assert result.code == 2, (args, result.text)
        assert fragment in result.err, (args, result.err)
        assert "Traceback" not in result.text
    assert not (tmp_path / "never").exists()  # nothing was written for bad input


def test_info_shows_options_with_defaults():
    result = run_gentool("info", "tiny")
    assert result.code == 0
    for fragment in ("code_dim", "8", "size of the linear code", "--set model.KEY=VALUE"):
        assert fragment in result.out
