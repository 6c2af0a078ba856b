"""The trainer end to end through the real command line, with the tiny fixture plugin on the embedded digits."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image
from support import run_gentool

FAST = ["--set", "trainer.log_every=2", "--set", "trainer.sample_every=4", "--set", "trainer.checkpoint_every=4"]


def _records(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("runs") / "tiny"
    result = run_gentool("run", "--model", "tiny", "--steps", "8", "--out", str(run_dir), *FAST)
    assert result.code == 0, result.text
    return run_dir


def test_run_directory_contents(finished_run):
    names = {p.name for p in finished_run.iterdir()}
    assert {"config.json", "metrics.jsonl", "samples", "checkpoints", "model.safetensors", "summary.json", "curves.png"} <= names
    config = json.loads((finished_run / "config.json").read_text())
    assert config["model"]["name"] == "tiny" and config["dataset"]["name"] == "digits" and config["steps"] == 8
    summary = json.loads((finished_run / "summary.json").read_text())
    assert summary["steps"] == 8 and summary["images_per_second"] > 0
    assert {"torch", "gentool-core", "gentool-tiny"} <= set(summary["versions"])
    records = _records(finished_run)
    assert [r["step"] for r in records] == [2, 4, 6, 8]
    assert all(r["stage"] == "fit" and np.isfinite(r["loss"]) for r in records)
    assert (finished_run / "checkpoints" / "last.safetensors").is_file()


def test_sample_grids_are_real_pngs(finished_run):
    grids = sorted((finished_run / "samples").glob("*.png"))
    assert [g.name for g in grids] == ["step_000004.png", "step_000008.png"]
    with Image.open(grids[-1]) as image:
        image.load()
        assert image.format == "PNG" and image.size[0] > 8 * 28  # an 8x8 grid of 28 px digits
        assert len(set(np.asarray(image).ravel().tolist())) > 10  # not a blank canvas
    with Image.open(finished_run / "curves.png") as curves:
        assert curves.format == "PNG"


def test_model_loads_in_a_new_process_and_samples(finished_run):
    code = (
        "import sys, gentool, torch\n"
        f"model = gentool.load({str(finished_run)!r})\n"
        "x = model.sample(5, generator=torch.Generator().manual_seed(0))\n"
        "assert x.shape == (5, 1, 28, 28), x.shape\n"
        "assert 0 <= float(x.min()) and float(x.max()) <= 1\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip() == "ok", proc.stderr


def test_weights_that_no_longer_fit_the_model_are_a_clear_error(finished_run, tmp_path):
    """A model file whose tensors disagree with what its saved options build (a plugin changed its model since)."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(finished_run / "model.safetensors"), framework="pt") as fh:
        metadata, tensors = fh.metadata(), {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118
    dropped = sorted(tensors)[0]
    del tensors[dropped]
    tensors["extra.weight"] = tensors[sorted(tensors)[0]].clone()
    stale = tmp_path / "stale"
    stale.mkdir()
    save_file(tensors, str(stale / "model.safetensors"), metadata=metadata)
    result = run_gentool("sample", str(stale), "-n", "4", "--out", str(tmp_path / "x.png"))
    assert result.code == 2, result.text
    assert f"missing: {dropped}" in result.text and "unexpected: extra.weight" in result.text
    assert "gentool-tiny" in result.text and "Traceback" not in result.text
    assert not (tmp_path / "x.png").exists()


def test_sample_command_png_and_npz(finished_run, tmp_path):
    png = tmp_path / "grid.png"
    assert run_gentool("sample", str(finished_run), "-n", "10", "--out", str(png)).code == 0
    with Image.open(png) as image:
        assert image.format == "PNG"
    npz = tmp_path / "s.npz"
    result = run_gentool("sample", str(finished_run), "-n", "7", "--format", "npz", "--out", str(npz))
    assert result.code == 0, result.text
    arrays = np.load(npz)
    assert arrays["images"].shape == (7, 1, 28, 28) and arrays["images"].dtype == np.float32
    refused = run_gentool("sample", str(finished_run), "--labels", "1,2", "--out", str(tmp_path / "x.png"))
    assert refused.code == 2 and "not class-conditional" in refused.err


def test_existing_directory_is_refused_then_overwritten(finished_run, tmp_path):
    before = (finished_run / "metrics.jsonl").read_bytes()
    refused = run_gentool("run", "--model", "tiny", "--steps", "2", "--out", str(finished_run))
    assert refused.code == 2 and "--resume" in refused.err and "--overwrite" in refused.err
    assert (finished_run / "metrics.jsonl").read_bytes() == before  # nothing written was touched
    copy = tmp_path / "copy"
    assert run_gentool("run", "--model", "tiny", "--steps", "2", "--out", str(copy)).code == 0
    again = run_gentool("run", "--model", "tiny", "--steps", "4", "--out", str(copy), "--overwrite", *FAST)
    assert again.code == 0 and json.loads((copy / "summary.json").read_text())["steps"] == 4


def test_seeded_runs_repeat_their_losses(tmp_path):
    runs = []
    for name in ("a", "b"):
        out = tmp_path / name
        assert run_gentool("run", "--model", "tiny", "--steps", "6", "--seed", "3", "--out", str(out), *FAST).code == 0
        runs.append([(r["step"], r["loss"]) for r in _records(out)])
    assert runs[0] == runs[1]


def test_resume_refuses_a_changed_config(finished_run):
    result = run_gentool("run", "--resume", str(finished_run), "--set", "model.lr=0.5")
    assert result.code == 2 and "model.lr" in result.err and "Traceback" not in result.text


def test_resume_after_sigkill_reaches_the_same_final_step(tmp_path):
    out = tmp_path / "killed"
    args = [sys.executable, "-m", "gentool", "run", "--model", "tiny", "--steps", "1000", "--out", str(out),
            "--set", "trainer.checkpoint_every=50", "--set", "trainer.log_every=50", "--set", "trainer.sample_every=1000"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ})
    checkpoint = out / "checkpoints" / "last.safetensors"
    deadline = time.time() + 120
    while time.time() < deadline and not checkpoint.exists():
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert checkpoint.exists() and not (out / "summary.json").exists()
    result = run_gentool("run", "--resume", str(out))
    assert result.code == 0, result.text
    assert json.loads((out / "summary.json").read_text())["steps"] == 1000
    steps = [r["step"] for r in _records(out)]
    assert steps == list(range(50, 1001, 50))  # the curve continues: no gap, no repeat


def test_non_finite_loss_stops_with_a_clear_message(tmp_path):
    out = tmp_path / "diverged"
    result = run_gentool("run", "--model", "tiny", "--dataset", "gaussians", "--steps", "200", "--out", str(out),
                         "--set", "model.lr=1e30", "--set", "trainer.checkpoint_every=1")
    assert result.code == 1
    assert "Training stopped at step" in result.err and '"loss"' in result.err and "Traceback" not in result.text
    from pathlib import Path

    import gentool.checkpoint as ck

    state, meta = ck.load_state(Path(out / "checkpoints" / "last.safetensors"))
    assert all(np.isfinite(v.numpy()).all() for v in state["model"].values())  # the kept checkpoint is good


def test_two_process_torchrun(tmp_path):
    out = tmp_path / "ddp"
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         "-m", "gentool", "run", "--model", "tiny", "--steps", "6", "--out", str(out), *FAST],
        capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["steps"] == 6
    assert [r["step"] for r in _records(out)] == [2, 4, 6]  # rank 0 alone logs


def test_torchrun_ranks_agree_on_the_end_of_a_time_budget(tmp_path):
    # each rank times its own steps; without agreement one rank would stop first and leave the other waiting forever
    out = tmp_path / "ddp-minutes"
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         "-m", "gentool", "run", "--model", "tiny", "--minutes", "0.05", "--device", "cpu", "--out", str(out),
         "--set", "trainer.sample_every=100000", "--set", "trainer.checkpoint_every=100000"],
        capture_output=True, text=True, timeout=240, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["steps"] > 10
    # rank 0 reports its own step time; the slower rank's clock (the maximum) is what ended the 3-second budget
    assert 0 < summary["train_seconds"] < 60
