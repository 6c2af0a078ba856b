"""The trainer's speed options give the same training as eager, and no step waits on the device to check losses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support import run_gentool

ONE = ["--set", "trainer.log_every=1", "--set", "trainer.sample_every=1000", "--set", "trainer.checkpoint_every=1000"]


def _first_losses(run_dir, steps=2):
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k not in ("step", "stage", "time")} for r in records[:steps]]


def _close(a, b, rtol):
    assert [sorted(x) for x in a] == [sorted(y) for y in b]
    for x, y in zip(a, b):
        for k in x:
            assert x[k] == pytest.approx(y[k], rel=rtol, abs=1e-5), (k, x[k], y[k])


def test_divergence_between_checks_names_its_step_and_writes_no_bad_checkpoint(tmp_path):
    out = tmp_path / "diverged"
    result = run_gentool("run", "--model", "tiny", "--dataset", "gaussians", "--steps", "200", "--out", str(out),
                         "--set", "model.lr=1e30", "--set", "trainer.log_every=10", "--set", "trainer.checkpoint_every=10")
    assert result.code == 1 and "Traceback" not in result.text
    stopped = int(result.err.split("Training stopped at step ")[1].split()[0])
    diverged = int(result.err.split(" at step ")[2].split(".")[0].split()[0])
    assert stopped % 10 == 0 and stopped - 10 < diverged <= stopped  # the first check after the step it diverged
    assert not (out / "checkpoints" / "last.safetensors").exists()  # checked before it would have been written
    assert not (out / "metrics.jsonl").exists()  # no line of NaN means was logged


def _gan_runs(tmp_path, option: str, values: tuple[str, ...], *extra: str) -> dict[str, Path]:
    """Two-step gan runs, one per value of `trainer.<option>`, keyed by the value."""
    runs = {}
    for value in values:
        runs[value] = tmp_path / f"{option}-{value}"
        result = run_gentool("run", "--model", "gan", "--steps", "2", "--out", str(runs[value]), *ONE,
                             "--set", f"trainer.{option}={value}", *extra)
        assert result.code == 0, result.text
    return runs


def test_channels_last_trains_like_eager_and_its_weights_load_eager(tmp_path):
    runs = _gan_runs(tmp_path, "channels_last", ("false", "true"))
    _close(_first_losses(runs["false"]), _first_losses(runs["true"]), rtol=1e-3)
    assert json.loads((runs["true"] / "summary.json").read_text())["channels_last"] is True
    code = (
        "import sys, torch, gentool\n"
        f"model = gentool.load({str(runs['true'])!r})\n"
        "w = [p for p in model.parameters() if p.dim() == 4]\n"
        "assert w and all(p.is_contiguous() for p in w)\n"
        "x = model.sample(4, generator=torch.Generator().manual_seed(0))\n"
        "print(tuple(x.shape), bool(torch.isfinite(x).all()))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert loaded.stdout.split("\n")[0].endswith("True")


def test_auto_channels_last_follows_the_model_on_images_only():
    from torch import nn

    from gentool.protocols import DataInfo
    from gentool.trainer.speed import wants_channels_last

    class Prefers(nn.Module):
        prefers_channels_last = True

    images, points = DataInfo("image", (1, 28, 28)), DataInfo("points", (2,))
    assert wants_channels_last("auto", Prefers(), images)
    assert not wants_channels_last("auto", Prefers(), points)
    assert not wants_channels_last("auto", nn.Module(), images)
    assert not wants_channels_last(False, Prefers(), images) and wants_channels_last(True, nn.Module(), images)


def test_compiled_run_matches_eager_and_reports_its_compile_time(tmp_path):
    runs = _gan_runs(tmp_path, "compile", ("off", "default"))
    _close(_first_losses(runs["off"]), _first_losses(runs["default"]), rtol=1e-3)
    assert json.loads((runs["off"] / "summary.json").read_text())["channels_last"] is True  # gan's default
    summary = json.loads((runs["default"] / "summary.json").read_text())
    assert summary["compile"]["modules"] == ["generator", "discriminator"] and summary["compile"]["fallback"] is None
    assert 0 < summary["compile"]["seconds"] <= summary["train_seconds"]


def test_compiled_critic_takes_penalties_that_differentiate_twice(tmp_path):
    # R1 and the WGAN gradient penalty back-propagate through D's input gradient, which compiled graphs cannot
    penalties = ("--set", "model.r1_gamma=1", "--set", "model.loss=wasserstein-gp")
    runs = _gan_runs(tmp_path, "compile", ("off", "default"), *penalties)
    _close(_first_losses(runs["off"]), _first_losses(runs["default"]), rtol=1e-3)
    assert "r1" in _first_losses(runs["default"])[0]


def test_compile_without_a_compiler_trains_eager_and_says_why(tmp_path):
    out = tmp_path / "no-compiler"
    result = run_gentool("run", "--model", "tiny", "--steps", "2", "--out", str(out), "--set", "trainer.compile=default",
                         env={"CXX": "/nonexistent/c++"})
    assert result.code == 0, result.text
    assert "C++ compiler" in result.err and "trainer.compile=off" in result.err
    compile_ = json.loads((out / "summary.json").read_text())["compile"]
    assert compile_["modules"] == [] and "C++ compiler" in compile_["fallback"]


def test_compile_says_so_when_a_model_has_nothing_it_can_compile(tmp_path):
    out = tmp_path / "builtin-layers"  # tiny's encoder and decoder are torch's own nn.Linear
    result = run_gentool("run", "--model", "tiny", "--steps", "2", "--out", str(out), "--set", "trainer.compile=default")
    assert result.code == 0, result.text
    assert "training runs eager" in result.err
    assert json.loads((out / "summary.json").read_text())["compile"]["modules"] == []


def test_a_key_logged_on_some_steps_is_averaged_over_those_steps_only():
    import torch

    from gentool.trainer.observe import StepLogs

    logs = StepLogs()
    for step in range(4):
        logs.add(step, {"loss": torch.tensor(float(step))} | ({"r1": torch.tensor(2.0 * step)} if step % 2 else {}))
    assert logs.means() == {"loss": 1.5, "r1": 4.0}  # r1 from steps 1 and 3: (2 + 6) / 2, not (2 + 6) / 4
    assert logs.means() == {}  # a new window


def test_fused_optimizers_keep_the_update_and_what_the_model_asked_for():
    import torch

    from gentool.errors import GentoolError
    from gentool.trainer.speed import fuse_optimizers

    torch.manual_seed(0)
    net = torch.nn.Linear(8, 4)
    params = list(net.parameters())
    asked = {
        "adam": torch.optim.Adam([{"params": params[:1], "lr": 1e-2}, {"params": params[1:]}], lr=3e-3, betas=(0.0, 0.99)),
        "adamw": torch.optim.AdamW(params, lr=1e-3, weight_decay=0.1),
        "foreach": torch.optim.Adam(params, foreach=True),
        "unfused": torch.optim.Adam(params, fused=False),
        "sgd": torch.optim.SGD(params, lr=0.1),
    }
    cpu = torch.device("cpu")
    fused = fuse_optimizers(asked, "auto", cpu)
    assert [k for k in fused if fused[k] is not asked[k]] == ["adam", "adamw"]
    assert all(g["fused"] for k in ("adam", "adamw") for g in fused[k].param_groups)
    assert [g["lr"] for g in fused["adam"].param_groups] == [1e-2, 3e-3]
    assert fused["adam"].param_groups[1]["betas"] == (0.0, 0.99) and fused["adamw"].param_groups[0]["weight_decay"] == 0.1
    assert fuse_optimizers(asked, False, cpu) == asked
    assert fuse_optimizers(asked, "auto", torch.device("meta")) == asked  # auto: only where the kernel is measured
    on_meta = {"adam": torch.optim.Adam([torch.nn.Parameter(torch.zeros(3, device="meta"))])}
    assert fuse_optimizers(on_meta, "auto", cpu) == on_meta  # auto keeps what torch cannot fuse
    with pytest.raises(GentoolError, match="cannot fuse Adam here.*torch.float32 on meta.*auto or false"):
        fuse_optimizers(on_meta, True, cpu)

    # the same three AdamW updates, fused or not, from the same start and gradients
    start = [p.detach().clone() for p in params]
    results = []
    for choice in (False, True):
        with torch.no_grad():
            for p, s in zip(params, start):
                p.copy_(s)
        opt = fuse_optimizers({"o": torch.optim.AdamW(params, lr=1e-2, weight_decay=0.1)}, choice, cpu)["o"]
        for step in range(3):
            opt.zero_grad()
            net(torch.full((2, 8), float(step + 1))).square().sum().backward()
            opt.step()
        results.append([p.detach().clone() for p in params])
    assert not torch.equal(results[0][0], start[0])
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_a_run_reports_its_fused_optimizers_and_trains_like_an_unfused_one(tmp_path):
    runs = _gan_runs(tmp_path, "fused_optimizers", ("false", "auto"))
    _close(_first_losses(runs["false"]), _first_losses(runs["auto"]), rtol=1e-3)
    assert json.loads((runs["false"] / "summary.json").read_text())["fused_optimizers"] == []
    summary = json.loads((runs["auto"] / "summary.json").read_text())
    assert summary["fused_optimizers"] == ["adversarial/disc", "adversarial/gen"]


def test_a_resumed_fused_optimizer_continues_channels_last_weights_exactly(tmp_path):
    import torch

    from gentool.checkpoint import load_state, save_state
    from gentool.trainer.resume import match_state_layout

    torch.manual_seed(0)
    conv = torch.nn.Conv2d(3, 8, 3).to(memory_format=torch.channels_last)
    x = torch.randn(4, 3, 9, 9).contiguous(memory_format=torch.channels_last)

    def step(net, opt):
        opt.zero_grad()
        net(x).square().mean().backward()
        opt.step()

    opt = torch.optim.Adam(conv.parameters(), lr=1e-2, fused=True)
    for _ in range(2):
        step(conv, opt)
    save_state(tmp_path / "c.safetensors", {"model": conv.state_dict(), "opt": opt.state_dict()}, {})
    state, _ = load_state(tmp_path / "c.safetensors")
    resumed = torch.nn.Conv2d(3, 8, 3).to(memory_format=torch.channels_last)
    resumed.load_state_dict(state["model"])
    opt2 = torch.optim.Adam(resumed.parameters(), lr=1e-2, fused=True)
    opt2.load_state_dict(state["opt"])
    match_state_layout(opt2)
    assert all(v.stride() == p.stride() for p, s in opt2.state.items() for v in s.values() if v.dim())
    step(conv, opt)
    step(resumed, opt2)
    assert all(torch.equal(a, b) for a, b in zip(conv.parameters(), resumed.parameters()))
