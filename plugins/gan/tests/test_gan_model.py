"""The `gan` model: sizing from the data, training through the real trainer, every loss, points, save and reload."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from gentool.api import DataInfo, GentoolError, check_images, check_latents, check_model_trains, check_registered, train
from gentool_gan.config import GANConfig
from gentool_gan.model import GAN

FAST = {"log_every": 1, "sample_every": 1000, "checkpoint_every": 1000, "grid_size": 16}



def _run(tmp_path, name, model, dataset=None, steps=2):
    raw = {"model": {"name": "gan", "batch_size": 8, "width": 8, "mlp_width": 16, **model}, "dataset": dataset or {"name": "digits"},
           "steps": steps, "out": str(tmp_path / name), "trainer": FAST}
    return train(raw)


def test_registered_with_its_protocol():
    component = check_registered("model", "gan")
    assert component.distribution == "gentool-gan"


@pytest.mark.parametrize("shape, seed", [((1, 28, 28), 7), ((3, 32, 32), 4), ((3, 64, 64), 4), ((1, 48, 48), 6)])
def test_networks_are_sized_from_the_image_shape(shape, seed):
    model = GAN(GANConfig(width=8, latent_dim=16, pack=1), DataInfo("image", shape, name="test")).eval()
    with torch.no_grad():
        x = model.sample(3, generator=torch.Generator().manual_seed(0))
    check_images(x, 3, shape)
    assert model.critic(model.to_critic(x)).shape == (3,)
    assert model.generator.seed_shape[1:] == (seed, seed)  # a 3..7 pixel seed, doubled to the full size


def test_packing_judges_consecutive_samples_side_by_side():
    model = GAN(GANConfig(width=8, pack=2), DataInfo("image", (1, 28, 28))).eval()
    x = torch.rand(5, 1, 28, 28) * 2 - 1
    logits = model.critic(x)
    assert logits.shape == (2,)  # the fifth sample is left out
    pairs = torch.stack([torch.cat([x[0], x[1]]), torch.cat([x[2], x[3]])])  # channels of a pair side by side
    assert torch.allclose(logits, model.discriminator(pairs))
    points = GAN(GANConfig(mlp_width=8, pack=4), DataInfo("points", (2,)))
    assert points.critic(torch.rand(8, 2)).shape == (2,)


def test_discriminator_batch_norm_follows_the_loss():
    def has_batch_norm(**options):
        model = GAN(GANConfig(width=8, **options), DataInfo("image", (1, 28, 28)))
        return any(isinstance(m, torch.nn.BatchNorm2d) for m in model.discriminator.modules())

    assert has_batch_norm() and has_batch_norm(loss="hinge")
    assert not has_batch_norm(loss="wasserstein-gp") and not has_batch_norm(spectral_norm=True)
    assert has_batch_norm(loss="wasserstein-gp", discriminator_norm="batch") and not has_batch_norm(discriminator_norm="none")


def test_unsizable_images_are_refused_with_a_reason():
    with pytest.raises(GentoolError, match="30x30"):
        GAN(GANConfig(), DataInfo("image", (1, 30, 30)))


def test_a_reconstruction_loss_is_refused():
    with pytest.raises(GentoolError, match='"mse".*role .reconstruction.*Valid adversarial loss names: forward-kl, hinge, lsgan'):
        GAN(GANConfig(loss="mse"), DataInfo("image", (1, 28, 28)))


def test_trains_on_digits_and_reloads_in_a_new_process(tmp_path):
    run = check_model_trains("gan", tmp_path, dataset="digits", steps=3, options={"width": 8})
    assert run.summary["steps"] == 3
    check_latents(run.model)


def test_trains_on_32x32_rgb_and_reloads_in_a_new_process(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, size=(40, 32, 32, 3), dtype=np.uint8)
    np.savez(tmp_path / "rgb.npz", images=images)
    run = check_model_trains("gan", tmp_path, dataset="npz", steps=2, options={"width": 8},
                             dataset_options={"root": str(tmp_path / "rgb.npz")})
    assert tuple(run.model.info.shape) == (3, 32, 32)


def test_trains_on_points_and_reloads_in_a_new_process(tmp_path):
    run = check_model_trains("gan", tmp_path, dataset="gaussians", steps=3, options={"mlp_width": 16},
                             dataset_options={"count": 200})
    assert run.model.info.kind == "points"


@pytest.mark.parametrize(
    "loss, extra",
    [("hinge", {"spectral_norm": True}), ("lsgan", {}), ("wasserstein-gp", {"n_critic": 2, "loss_options": {"gp_weight": 5}})],
)
def test_every_adversarial_loss_trains(tmp_path, loss, extra):
    run = _run(tmp_path, loss, {"loss": loss, **extra}, steps=2)
    records = [json.loads(line) for line in (run.dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2]
    assert all(np.isfinite(r[k]) for r in records for k in ("d_loss", "g_loss", "d_fake"))


def test_one_step_moves_both_networks_by_their_own_optimizer(tmp_path):
    torch.manual_seed(0)
    before = GAN(GANConfig(width=8, ema=False), DataInfo("image", (1, 28, 28), 10, name="digits"))
    run = _run(tmp_path, "one", {"ema": False}, steps=1)
    after = run.model.cpu().state_dict()
    moved = {k for k, v in before.state_dict().items() if v.is_floating_point() and not torch.equal(v, after[k])}
    assert any(k.startswith("generator.") for k in moved) and any(k.startswith("discriminator.") for k in moved)


def test_samples_repeat_with_the_same_generator():
    model = GAN(GANConfig(width=8), DataInfo("image", (1, 28, 28))).eval()
    a = model.sample(4, generator=torch.Generator().manual_seed(3))
    b = model.sample(4, generator=torch.Generator().manual_seed(3))
    c = model.sample(4, generator=torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_points_move_onto_the_ring_of_gaussians(tmp_path):
    from gentool.api import build

    centres = build("dataset", "gaussians", {}).mode_centers()

    def median_distance_to_a_mode(model):
        with torch.no_grad():
            points = model.eval().sample(500, generator=torch.Generator().manual_seed(0)).cpu()
        return float(torch.cdist(points, centres).min(dim=1).values.median())

    untrained = GAN(GANConfig(mlp_width=64), DataInfo("points", (2,)))
    run = _run(tmp_path, "ring", {"mlp_width": 64, "ema": False, "batch_size": 32}, {"name": "gaussians", "count": 2000},
               steps=2000)
    # the untrained generator puts its points near the origin, about 2 from every mode of the radius-2 ring
    assert median_distance_to_a_mode(untrained) > 1.5
    assert median_distance_to_a_mode(run.model) < 0.5 * median_distance_to_a_mode(untrained)
