"""Every file of a run directory that gentool reads gets a clear error when damaged, and nothing is changed."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from support import run_gentool

FAST = ["--set", "trainer.sample_every=4", "--set", "trainer.checkpoint_every=2"]


def _fingerprint(run_dir):
    return {p.relative_to(run_dir): hashlib.sha256(p.read_bytes()).hexdigest() for p in run_dir.rglob("*") if p.is_file()}


@pytest.fixture
def tiny_run(tmp_path):
    run_dir = tmp_path / "tiny"
    result = run_gentool("run", "--model", "tiny", "--steps", "4", "--out", str(run_dir), *FAST)
    assert result.code == 0, result.text
    return run_dir


@pytest.mark.parametrize(
    ("damaged", "content", "command", "fragment"),
    [
        ("config.json", b"{not json", ["run", "--resume"], "is not valid JSON"),
        ("checkpoints/last.safetensors", b"12345", ["run", "--resume"], "header too small"),
        ("summary.json", b"[1, 2", ["eval", "--metric", "fid"], "is not valid JSON"),
        ("model.safetensors", b"\x08\x00\x00\x00\x00\x00\x00\x00{}", ["sample"], "is not a gentool model file"),
    ],
)
def test_a_damaged_file_is_named_with_what_to_do_and_nothing_changes(tiny_run, damaged, content, command, fragment):
    (tiny_run / damaged).write_bytes(content)
    before = _fingerprint(tiny_run)
    result = run_gentool(*command[:-1], command[-1], str(tiny_run), cwd=tiny_run.parent)
    assert result.code == 2, result.text
    assert "Traceback" not in result.text and "Unexpected error" not in result.text
    assert damaged.split("/")[-1] in result.err and fragment in result.err
    assert _fingerprint(tiny_run) == before


def test_a_metric_error_is_printed_whole_below_the_table(tmp_path):
    from gentool.metrics.inception import ENV_VAR, WEIGHTS_URL

    images = np.random.default_rng(0).integers(0, 256, size=(40, 16, 16, 3), dtype=np.uint8)
    np.savez(tmp_path / "rgb.npz", images=images)
    weights = tmp_path / "a" / "long" / "folder" / "that" / "holds" / "no" / "inception" / "weights.pth"
    result = run_gentool(
        "run", "--model", "tiny", "--steps", "2", "--out", str(tmp_path / "run"), "--dataset", "npz",
        "--set", f"dataset.root={tmp_path / 'rgb.npz'}", "--metric", "fid", "--metric", "recon",
        "--set", "eval.samples=20", env={ENV_VAR: str(weights), "COLUMNS": "80"},
    )
    assert result.code == 0, result.text
    table, _, below = result.out.partition("fid: ")
    assert "recon" in table and "mse" in table and "…" not in result.out
    assert str(weights) in below and WEIGHTS_URL in below, "the path and the address are printed uncut"
