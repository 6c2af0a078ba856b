"""The `stylegan` model through the real trainer: registration, save and reload, lazy R1, progressive growth with
fade-in and an exact resume in the middle of a fade, sample-time truncation and mixing, RGB at 64 px."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from gentool.api import (
    Batch,
    DataInfo,
    GentoolError,
    StepContext,
    check_images,
    check_latents,
    check_model_trains,
    check_registered,
    load,
    train,
)
from gentool_stylegan.config import StyleGANConfig
from gentool_stylegan.model import StyleGAN

TINY = {"latent_dim": 16, "channel_base": 64, "channel_max": 16, "batch_size": 8}
FAST = {"log_every": 1, "sample_every": 1000, "checkpoint_every": 1000, "grid_size": 16}
DIGITS = DataInfo("image", (1, 28, 28), 10, name="digits")


def _records(out):
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def test_registered_with_its_protocol():
    assert check_registered("model", "stylegan").distribution == "gentool-stylegan"


def test_trains_on_digits_and_reloads_in_a_new_process(tmp_path):
    run = check_model_trains("stylegan", tmp_path, dataset="digits", steps=3, options=TINY)
    assert run.summary["steps"] == 3
    assert run.model.canvas == 32  # 28 px digits padded to 32 inside the model, cropped back on output
    check_latents(run.model)  # the style space W+: interpolate and project walk it


def test_rgb_folder_at_64_px_trains_a_few_steps(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    root = tmp_path / "photos"
    root.mkdir()
    for i in range(12):  # smooth random colour gradients, made here
        ramp = np.linspace(0, 1, 80)[None, :, None] * rng.random(3) + np.linspace(0, 1, 80)[:, None, None] * rng.random(3)
        Image.fromarray((np.clip(ramp / 2, 0, 1) * 255).astype(np.uint8)).save(root / f"{i}.png")
    run = check_model_trains("stylegan", tmp_path, dataset="image-folder", steps=2, options=TINY,
                             dataset_options={"root": str(root), "size": 64})
    assert tuple(run.model.info.shape) == (3, 64, 64) and run.model.levels == 5


def _step_context(model):
    optimizers = model.optimizers(model.stages()[0].name)
    return StepContext(device=torch.device("cpu"), stage=model.stages()[0].name, optimizers=optimizers,
                       autocast_dtype=None, clip_norm=None)


def test_lazy_r1_runs_on_its_interval_and_changes_the_discriminator_update():
    batch = Batch(torch.rand(8, 1, 28, 28), None, torch.arange(8))

    def one_step(gamma, global_step):
        torch.manual_seed(0)
        model = StyleGAN(StyleGANConfig(**TINY, r1_gamma=gamma, r1_interval=4), DIGITS)
        ctx = _step_context(model)
        ctx.global_step = global_step
        torch.manual_seed(1)
        logs = model.train_step(batch, ctx)
        return logs, torch.cat([p.detach().flatten() for p in model.discriminator.parameters()])

    logs_on, d_on = one_step(10.0, 8)
    _, d_weak = one_step(0.1, 8)
    logs_off, d_off = one_step(10.0, 9)
    _, d_weak_off = one_step(0.1, 9)
    assert "r1" in logs_on and float(logs_on["r1"]) > 0 and "r1" not in logs_off
    assert not torch.allclose(d_on, d_weak)  # on its interval the penalty's weight changes D's update
    assert torch.equal(d_off, d_weak_off)  # between intervals D's update is the plain loss's alone
    lazy = StyleGAN(StyleGANConfig(**TINY, r1_interval=4, lr_discriminator=0.002), DIGITS)
    lr = _step_context(lazy).optimizers["disc"].param_groups[0]["lr"]
    assert lr == pytest.approx(0.002 * 4 / 5)  # the lazy-regularisation correction


def test_progressive_stages_grow_and_fade_in(tmp_path):
    model = StyleGAN(StyleGANConfig(**TINY, growing=True), DIGITS)
    assert [(s.name, s.batch_size) for s in model.stages()] == [("res4", 32), ("res8", 32), ("res16", 16), ("res32", 8)]
    out = tmp_path / "grow"
    run = train({"model": {"name": "stylegan", **TINY, "growing": True, "fade": 0.5}, "steps": 16, "out": str(out),
                 "trainer": {**FAST, "sample_every": 4}})
    records = _records(out)
    assert [r["stage"] for r in records[::4]] == ["res4", "res8", "res16", "res32"]
    assert [r["resolution"] for r in records[::4]] == [4, 8, 16, 32]
    for stage in ("res8", "res16", "res32"):  # each new level fades in over the first half of its stage
        alphas = [r["alpha"] for r in records if r["stage"] == stage]
        assert alphas == [0.0, 0.5, 1.0, 1.0]
    assert sorted(p.name for p in (out / "samples").glob("step_*.png"))[:4] == [
        "step_000004.png", "step_000008.png", "step_000012.png", "step_000016.png"]
    check_images(run.model.sample(4), 4, (1, 28, 28))


def _gentool(*args, **kw):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GENTOOL_STRICT_PLUGINS": "1"}
    return subprocess.Popen([sys.executable, "-m", "gentool", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env=env, **kw)


def test_resume_in_the_middle_of_a_fade_after_sigkill_is_exact(tmp_path):
    options = [f"model.{k}={v}" for k, v in {**TINY, "growing": "true", "fade": 1.0, "style_mixing": 0.5,
                                             "augment": '["translation"]', "r1_interval": 2}.items()]
    args = ["run", "--model", "stylegan", "--steps", "40", "--set", "trainer.checkpoint_every=7",
            "--set", "trainer.log_every=1", "--set", "trainer.sample_every=1000"]
    for option in options:
        args += ["--set", option]
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    reference = _gentool(*args, "--out", str(whole))
    proc = _gentool(*args, "--out", str(killed))
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:  # stop it once step 15 is logged: the last checkpoint
        lines = (killed / "metrics.jsonl").read_text().splitlines() if (killed / "metrics.jsonl").exists() else []
        if len(lines) >= 15:  # is then step 14, 4 steps into the 10-step res8 stage: alpha 0.4, fading in
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.005)
    proc.wait()
    assert not (killed / "summary.json").exists(), "the run ended before it could be killed"
    resumed = _gentool("run", "--resume", str(killed))
    assert resumed.wait() == 0, resumed.stderr.read()
    assert reference.wait() == 0, reference.stderr.read()
    steps = [r["step"] for r in _records(killed)]
    assert steps == list(range(1, 41))  # the curve continues: no gap, no repeat
    assert [r["alpha"] for r in _records(killed)] == [r["alpha"] for r in _records(whole)]
    a, b = load(whole).state_dict(), load(killed).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)  # the same weights as a run that was never interrupted


def test_truncation_zero_samples_the_mean_style_and_mixing_grids_are_square():
    torch.manual_seed(0)
    model = StyleGAN(StyleGANConfig(**TINY), DIGITS).eval()
    model.generator.mapping(torch.randn(64, 16), track=True)
    g = torch.Generator().manual_seed(0)
    mean = model.sample(4, generator=g, options={"truncation": 0.0, "noise": "none"})
    free = model.sample(4, generator=g, options={"noise": "none"})
    assert torch.allclose(mean, mean[:1].expand_as(mean))  # every sample is the one image of the mean style
    assert not torch.allclose(free, free[:1].expand_as(free))
    grid = model.sample(9, generator=g, options={"mixing_grid": True, "truncation": 0.7})
    check_images(grid, 9, (1, 28, 28))
    assert torch.equal(grid[0], torch.ones(1, 28, 28))  # the empty corner
    with pytest.raises(GentoolError, match="square number"):
        model.sample(10, options={"mixing_grid": True})
    with pytest.raises(GentoolError, match="truncation"):
        model.sample(4, options={"truncation": -1})


def test_conditional_model_follows_labels_and_needs_labelled_data(tmp_path):
    run = check_model_trains("stylegan", tmp_path, dataset="digits", steps=2, options={**TINY, "conditional": True})
    assert run.model.conditional and run.model.generator.mapping.w_avg.shape == (10, 16)
    x = run.model.sample(3, labels=torch.tensor([1, 2, 3]))
    check_images(x, 3, (1, 28, 28))
    check_latents(run.model)
    with pytest.raises(GentoolError, match="needs labelled data"):
        StyleGAN(StyleGANConfig(conditional=True), DataInfo("image", (3, 32, 32), 0, name="photos"))


def test_bad_options_are_refused_with_the_valid_choices():
    with pytest.raises(GentoolError, match="needs 4 values"):
        StyleGAN(StyleGANConfig(growing=True, stage_shares=[1, 2]), DIGITS)
    with pytest.raises(GentoolError, match="growing=true"):
        StyleGANConfig(stage_batch_sizes=[8, 8, 8, 8])
    with pytest.raises(GentoolError, match="not .*adversarial|adversarial"):
        StyleGAN(StyleGANConfig(loss="mse"), DIGITS)
