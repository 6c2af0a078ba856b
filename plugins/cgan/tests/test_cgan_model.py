"""The `cgan` model: refusal of unlabelled data, labels honoured, training through the real trainer, save and reload."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

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
    train,
)
from gentool_cgan.config import CGANConfig
from gentool_cgan.model import CGAN
from gentool_cgan.networks import ConditionalBatchNorm2d

DIGITS = DataInfo("image", (1, 28, 28), 10, name="digits")



def test_registered_as_conditional():
    component = check_registered("model", "cgan")
    assert component.distribution == "gentool-cgan" and component.load().conditional is True


def test_unlabelled_data_is_refused_naming_the_dataset_and_the_labelled_ones(tmp_path):
    with pytest.raises(GentoolError) as error:
        CGAN(CGANConfig(), DataInfo("image", (1, 28, 28), 0, name="npz"))
    message = str(error.value)
    assert '"npz" has none' in message and "digits" in message and "shapes" in message
    # the same refusal through the trainer, on an .npz of images without a labels array
    np.savez(tmp_path / "plain.npz", images=np.zeros((20, 28, 28), np.uint8))
    with pytest.raises(GentoolError, match='"npz" has none'):
        train({"model": {"name": "cgan"}, "dataset": {"name": "npz", "root": str(tmp_path / "plain.npz")},
               "steps": 1, "out": str(tmp_path / "refused")})


def test_points_are_refused():
    with pytest.raises(GentoolError, match="needs labelled images"):
        CGAN(CGANConfig(), DataInfo("points", (2,), 8, name="gaussians"))


@pytest.mark.parametrize("conditioning", ["projection", "concat"])
@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32)])
def test_samples_follow_the_labels_argument(conditioning, shape):
    model = CGAN(CGANConfig(width=8, conditioning=conditioning), DataInfo("image", shape, 6, name="t")).eval()
    labels = torch.tensor([0, 5, 5, 2, 1])
    with torch.no_grad():
        x = model.sample(5, labels=labels, generator=torch.Generator().manual_seed(0))
        check_images(x, 5, shape)
        assert model.discriminator(x * 2 - 1, labels).shape == (5,)
        check_images(model.sample(7, generator=torch.Generator().manual_seed(0)), 7, shape)  # labels drawn uniformly
    with pytest.raises(GentoolError, match="given 5 labels"):
        model.sample(4, labels=labels)
    with pytest.raises(GentoolError, match="outside 0..5"):
        model.sample(1, labels=torch.tensor([6]))


def test_the_label_changes_the_image_and_the_noise_is_shared():
    model = CGAN(CGANConfig(width=8), DIGITS).eval()
    with torch.no_grad():  # give each class its own BatchNorm gains so the label visibly matters
        for norm in model.generator.norms:
            if isinstance(norm, ConditionalBatchNorm2d):
                norm.gain.weight.normal_(1.0, 0.5)
    same_noise = [model.sample(2, labels=torch.tensor([c, c]), generator=torch.Generator().manual_seed(1)) for c in (3, 7)]
    assert not torch.allclose(same_noise[0], same_noise[1])
    again = model.sample(2, labels=torch.tensor([3, 3]), generator=torch.Generator().manual_seed(1))
    assert torch.equal(again, same_noise[0])


@pytest.mark.parametrize("conditional_norms", ["coarse", "all"])
def test_conditional_norms_choose_which_layers_take_the_label(conditional_norms):
    """coarse: the full-size layer's BatchNorm has one gain and bias for every class, the coarser ones one per class;
    all: every layer's is per class. Either way the label alone changes the image."""
    model = CGAN(CGANConfig(width=8, conditional_norms=conditional_norms), DIGITS).eval()
    *coarse, full_size = model.generator.norms
    assert all(isinstance(norm, ConditionalBatchNorm2d) for norm in coarse)
    per_class = {name for name, _ in full_size.named_parameters()} == {"gain.weight", "bias.weight"}
    assert per_class == (conditional_norms == "all")
    if not per_class:
        assert full_size.weight.shape == full_size.bias.shape == (8,)
    with torch.no_grad():
        for norm in coarse:
            norm.bias.weight.normal_(0.0, 1.0)
    z = model.draw_latents(1, generator=torch.Generator().manual_seed(0)).repeat(2, 1)
    with torch.no_grad():
        three, seven = model.generate(z, labels=torch.tensor([3, 7]))
    assert (three - seven).abs().max() > 1e-3  # exactly 0 if no layer took the label


def test_projection_adds_the_class_embedding_times_the_features():
    model = CGAN(CGANConfig(width=8), DIGITS).eval()
    d = model.discriminator
    x = torch.rand(3, 1, 28, 28) * 2 - 1
    labels = torch.tensor([0, 4, 9])
    with torch.no_grad():
        phi = d.features(x)
        expected = phi @ d.head.weight[0] + d.head.bias[0] + (d.embed.weight[labels] * phi).sum(1)
        assert torch.allclose(d(x, labels), expected, atol=1e-5)


@pytest.mark.parametrize("conditioning", ["projection", "concat"])
@pytest.mark.parametrize("norm", ["batch", "none"])
def test_the_discriminator_loss_is_that_of_real_and_fake_scored_apart(conditioning, norm):
    """Without BatchNorm in D the step scores real and fake images in one call; each image keeps its own label."""
    torch.manual_seed(0)
    model = CGAN(CGANConfig(width=8, conditioning=conditioning, discriminator_norm=norm), DIGITS).train()
    before = copy.deepcopy(model)
    real, labels = torch.rand(6, 1, 28, 28), torch.tensor([0, 1, 2, 3, 4, 9])
    ctx = StepContext(device=torch.device("cpu"), stage="adversarial", optimizers=model.optimizers("adversarial"),
                      autocast_dtype=None, clip_norm=None)
    torch.manual_seed(5)
    logs = model.train_step(Batch(real, labels, torch.arange(6)), ctx)
    torch.manual_seed(5)  # the step's noise for its fakes
    with torch.no_grad():
        fake = before.generator(torch.randn(6, model.config.latent_dim), labels)
        expected = before.loss.discriminator(lambda x: before.discriminator(x, labels), real * 2 - 1, fake)
    assert float(logs["d_loss"]) == pytest.approx(float(expected), rel=1e-5)


def test_trains_on_digits_and_reloads_in_a_new_process(tmp_path):
    run = check_model_trains("cgan", tmp_path, dataset="digits", steps=3, options={"width": 8})
    check_latents(run.model)
    with torch.no_grad():  # class weights walk between labels: the endpoints are the classes themselves
        z = run.model.draw_latents(2, generator=torch.Generator().manual_seed(0))
        soft = torch.tensor([[0.0, 0.0, 0.0, 1.0] + [0.0] * 6, [0.0] * 7 + [1.0, 0.0, 0.0]])
        torch.testing.assert_close(run.model.generate(z, labels=soft), run.model.generate(z, labels=torch.tensor([3, 7])))
    code = (
        "import gentool, torch\n"
        f"m = gentool.load({str(run.dir)!r})\n"
        "x = m.sample(4, labels=torch.tensor([9, 0, 3, 3]), generator=torch.Generator().manual_seed(0))\n"
        "print(tuple(x.shape), m.conditional)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.stdout.strip() == "(4, 1, 28, 28) True", proc.stderr[-2000:]


def test_trains_on_32x32_rgb_with_concat_and_every_loss(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "rgb.npz", images=rng.integers(0, 256, (40, 32, 32, 3), dtype=np.uint8),
             labels=np.arange(40) % 4)
    data = {"root": str(tmp_path / "rgb.npz")}
    run = check_model_trains("cgan", tmp_path, dataset="npz", steps=2, options={"width": 8, "conditioning": "concat"},
                             dataset_options=data)
    assert tuple(run.model.info.shape) == (3, 32, 32) and run.model.info.num_classes == 4
    for loss, extra in [("hinge", {"spectral_norm": True}), ("lsgan", {}), ("wasserstein-gp", {"n_critic": 2})]:
        out = tmp_path / loss
        train({"model": {"name": "cgan", "batch_size": 8, "width": 8, "loss": loss, **extra},
               "dataset": {"name": "npz", **data}, "steps": 2, "out": str(out),
               "trainer": {"log_every": 1, "sample_every": 1000, "checkpoint_every": 1000, "grid_size": 8}})
        records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
        assert [r["step"] for r in records] == [1, 2]
        assert all(np.isfinite(r[k]) for r in records for k in ("d_loss", "g_loss"))


def test_the_training_grid_shows_one_row_per_class(tmp_path):
    from PIL import Image

    out = tmp_path / "grid"
    train({"model": {"name": "cgan", "batch_size": 8, "width": 8}, "dataset": {"name": "digits"}, "steps": 1,
           "out": str(out), "trainer": {"log_every": 1, "sample_every": 1000, "checkpoint_every": 1000, "grid_size": 30}})
    grid = np.asarray(Image.open(out / "samples" / "step_000001.png").convert("L"), dtype=np.float32)
    assert grid.shape == (10 * 30 + 2, 3 * 30 + 2)  # 10 rows (classes) of 3 digits, 28 px with 2 px borders


def test_sample_command_repeats_the_labels_on_every_row(tmp_path):
    from PIL import Image
    from support import run_gentool

    run = check_model_trains("cgan", tmp_path, dataset="digits", steps=1, options={"width": 8})
    result = run_gentool("sample", str(run.dir), "-n", "12", "--labels", "3,7,1", "--out", str(tmp_path / "s.png"))
    assert result.code == 0, result.text
    assert Image.open(tmp_path / "s.png").size == (3 * 30 + 2, 4 * 30 + 2)  # 4 rows of the 3 requested labels
