"""The `flow` and `ddpm` models: registration, options, sampling behaviour, training through the real trainer,
reloading in a new process, sample options on the command line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from gentool.api import (
    DataInfo,
    GentoolError,
    check_images,
    check_latents,
    check_model_trains,
    check_registered,
    train,
)
from gentool_diffusion.config import DDPMConfig, FlowConfig
from gentool_diffusion.model import DDPM, Flow

TINY = {"widths": [8, 16], "heads": 2}
DIGITS = DataInfo("image", (1, 28, 28), 10, 100, tuple("0123456789"), "digits")
MODELS = {"flow": (Flow, FlowConfig), "ddpm": (DDPM, DDPMConfig)}


def make(name, info=DIGITS, **options):
    cls, config = MODELS[name]
    model = cls(config(**{**TINY, **options}), info).eval()
    for p in model.parameters():  # a random network instead of the zero-initialised one, so samples differ
        torch.nn.init.normal_(p, std=0.05)
    return model


def test_both_models_are_registered_with_their_sample_options():
    for name in MODELS:
        component = check_registered("model", name)
        assert component.distribution == "gentool-diffusion"
        assert component.sample_config is not None


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32)])
def test_samples_have_the_datas_shape_and_range_and_follow_the_generator(name, shape):
    model = make(name, DataInfo("image", shape, 0, 10))
    a = model.sample(3, generator=torch.Generator().manual_seed(0), options={"sample_steps": 3})
    b = model.sample(3, generator=torch.Generator().manual_seed(0), options={"sample_steps": 3})
    c = model.sample(3, generator=torch.Generator().manual_seed(1), options={"sample_steps": 3})
    check_images(a, 3, shape)
    assert torch.equal(a, b) and not torch.allclose(a, c)
    assert not a.requires_grad  # sampling runs without gradients


@pytest.mark.parametrize(("name", "samplers"), [("flow", ["euler", "heun"]), ("ddpm", ["ddim", "ancestral"])])
def test_every_sampler_runs_and_the_step_count_counts_network_calls(name, samplers):
    model = make(name)
    calls = []
    model.net.register_forward_hook(lambda *_: calls.append(1))
    for sampler in samplers:
        calls.clear()
        check_images(model.sample(2, options={"sampler": sampler, "sample_steps": 4}), 2, (1, 28, 28))
        assert len(calls) == (7 if sampler == "heun" else 4)


def test_ddim_eta_zero_samples_depend_only_on_the_starting_noise():
    model = make("ddpm")
    options = {"sampler": "ddim", "sample_steps": 5, "eta": 0.0}
    a = model.sample(2, generator=torch.Generator().manual_seed(3), options=options)
    noisy = {**options, "eta": 1.0}
    b = model.sample(2, generator=torch.Generator().manual_seed(3), options=noisy)
    again = model.sample(2, generator=torch.Generator().manual_seed(3), options=noisy)
    assert torch.equal(b, again) and not torch.allclose(a, b)


def test_guided_sampling_runs_both_halves_in_one_batch_and_follows_the_labels():
    model = make("flow", class_conditional=True)
    assert model.conditional
    batches = []
    model.net.register_forward_hook(lambda module, args, out: batches.append(len(args[0])))
    seven = torch.full((3,), 7)
    g = lambda: torch.Generator().manual_seed(4)  # noqa: E731
    euler = {"sampler": "euler", "sample_steps": 2}  # one network evaluation per step
    guided = model.sample(3, labels=seven, generator=g(), options={**euler, "guidance": 3.0})
    assert batches == [6, 6]
    batches.clear()
    cond = model.sample(3, labels=seven, generator=g(), options={**euler, "guidance": 1.0})
    assert batches == [3, 3] and not torch.allclose(guided, cond)
    batches.clear()
    model.sample(3, labels=seven, generator=g(), options={"sample_steps": 2, "guidance": 3.0})
    assert batches == [6, 6, 6], "the default Heun makes 2 * steps - 1 guided evaluations"
    other = model.sample(3, labels=torch.full((3,), 2), generator=g(), options={"sample_steps": 2})
    assert not torch.allclose(cond, other)
    check_images(model.sample(5, generator=g()), 5, (1, 28, 28))  # labels drawn when absent


def test_unconditional_model_ignores_labels_and_guidance():
    model = make("flow")
    assert not model.conditional and model.net.label is None
    a = model.sample(2, generator=torch.Generator().manual_seed(5), options={"sample_steps": 2})
    b = model.sample(2, labels=torch.tensor([1, 2]), generator=torch.Generator().manual_seed(5),
                     options={"sample_steps": 2, "guidance": 4.0})
    assert torch.equal(a, b)


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("conditional", [False, True])
def test_latents_are_the_starting_noise_of_the_deterministic_sampler(name, conditional):
    model = make(name, class_conditional=conditional)
    check_latents(model)
    options = {"sample_steps": 3}
    z = model.draw_latents(2, generator=torch.Generator().manual_seed(6))
    labels = torch.tensor([1, 8]) if conditional else None
    sampled = model.sample(2, labels=labels, generator=torch.Generator().manual_seed(6), options=options)
    torch.testing.assert_close(model.generate(z, labels=labels, options=options), sampled)
    if name == "ddpm":  # generate turns the ancestral sampler's noise off
        noisy = {"sampler": "ancestral", "sample_steps": 3}
        assert torch.equal(model.generate(z, options=noisy), model.generate(z, options=noisy))


def test_class_weights_mix_the_label_embeddings():
    model = make("flow", class_conditional=True)
    z = model.draw_latents(2, generator=torch.Generator().manual_seed(7))
    options = {"sample_steps": 2, "guidance": 2.0}
    one_hot = torch.nn.functional.one_hot(torch.tensor([3, 5]), 10).float()
    torch.testing.assert_close(model.generate(z, labels=one_hot, options=options),
                               model.generate(z, labels=torch.tensor([3, 5]), options=options))
    halfway = model.generate(z, labels=(one_hot + one_hot.flip(0)) / 2, options=options)
    assert not torch.allclose(halfway, model.generate(z, labels=torch.tensor([3, 5]), options=options))


def test_bad_options_and_data_are_reported_with_the_choices():
    with pytest.raises(GentoolError, match="euler.*heun"):
        make("flow").sample(1, options={"sampler": "ddim"})
    with pytest.raises(GentoolError, match="ddim.*ancestral"):
        make("ddpm").sample(1, options={"sampler": "heun"})
    with pytest.raises(GentoolError, match="sample_step"):
        make("ddpm").sample(1, options={"steps": 3})
    with pytest.raises(GentoolError, match="labelled data"):
        make("flow", DataInfo("image", (1, 8, 8), 0, 10, name="shapes"), class_conditional=True)
    with pytest.raises(GentoolError, match="image data"):
        make("ddpm", DataInfo("points", (2,), 0, 10))


# --- through the trainer --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(MODELS))
def test_trains_samples_and_reloads_in_a_new_process(name, tmp_path):
    run = check_model_trains(name, tmp_path, steps=3, options=TINY)
    records = (run.dir / "metrics.jsonl").read_text().splitlines()
    assert len(records) == 3 and '"loss"' in records[-1]
    assert (run.dir / "samples" / "step_000003.png").is_file()


def test_conditional_model_trains_and_samples_chosen_classes_after_reloading(tmp_path):
    run = check_model_trains("ddpm", tmp_path, steps=2, options={**TINY, "class_conditional": True})
    assert run.model.conditional
    code = (
        "import gentool, torch\n"
        f"m = gentool.load({str(run.dir)!r})\n"
        "x = m.sample(2, labels=torch.tensor([3, 4]), options={'sample_steps': 2, 'guidance': 2.0})\n"
        "print(m.conditional, tuple(x.shape))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "True (2, 1, 28, 28)"


def test_sample_options_of_a_run_are_validated_and_recorded(tmp_path):
    out = tmp_path / "flow"
    raw = {"model": {"name": "flow", "batch_size": 4, **TINY}, "steps": 1, "out": str(out),
           "sample": {"sampler": "heun", "sample_steps": 2},
           "trainer": {"sample_every": 1, "checkpoint_every": 1, "grid_size": 4}}
    train(raw)
    assert json.loads((out / "config.json").read_text())["sample"]["sampler"] == "heun"
    with pytest.raises(GentoolError, match="sample.sampler"):
        train({**raw, "out": str(tmp_path / "bad"), "sample": {"sampler": "rk4"}})
