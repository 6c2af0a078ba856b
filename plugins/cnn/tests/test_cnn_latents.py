"""GLO's latents: one per training image, moved by projected SGD, always on the unit sphere."""

from __future__ import annotations

import copy

import numpy as np
import torch

from gentool.api import Batch, DataInfo, StepContext
from gentool_cnn.config import CNNConfig
from gentool_cnn.latents import pixel_projection, project_pixels, sphere_step
from gentool_cnn.model import GLO

INFO = DataInfo("image", (1, 28, 28), num_classes=10, train_size=40)


def _numpy_unit_rows(a: np.ndarray) -> np.ndarray:
    return a / np.linalg.norm(a, axis=1, keepdims=True)


def test_sphere_step_is_an_sgd_step_then_a_projection():
    rng = np.random.default_rng(0)
    z, g = _numpy_unit_rows(rng.normal(size=(5, 4))), rng.normal(size=(5, 4))
    out = sphere_step(torch.tensor(z), torch.tensor(g), 0.3).numpy()
    np.testing.assert_allclose(out, _numpy_unit_rows(z - 0.3 * g), rtol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-12)


def test_projection_init_is_a_fixed_projection_of_centred_pixels():
    x = torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    p = pixel_projection(784, 8)
    assert torch.equal(p, pixel_projection(784, 8)), "the same matrix in every process"
    flat = x.reshape(6, -1).numpy()
    expected = _numpy_unit_rows((flat - flat.mean(axis=1, keepdims=True)) @ p.numpy())
    np.testing.assert_allclose(project_pixels(x, p).numpy(), expected, rtol=1e-5, atol=1e-6)
    assert torch.allclose(project_pixels(x + 0.2, p), project_pixels(x, p), atol=1e-5), "brightness does not move codes"


def _one_step(model: GLO, batch: Batch) -> None:
    ctx = StepContext(
        device=torch.device("cpu"), stage="fit", optimizers=model.optimizers("fit"), autocast_dtype=None, clip_norm=None
    )
    model.train_step(batch, ctx)


def test_a_step_moves_only_the_batch_latents_along_their_own_gradient_and_keeps_all_on_the_sphere():
    torch.manual_seed(0)
    model = GLO(CNNConfig(loss="l2", latent_dim=8, width=8, init="random", lr_latent=0.5), INFO)
    index = torch.tensor([3, 7, 11, 30])
    x = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    before = model.latents.clone()
    assert torch.allclose(before.norm(dim=1), torch.ones(40))

    # each image's own loss: squared error summed over pixels, divided by the number of pixels
    reference = copy.deepcopy(model.generator)
    z = before[index].clone().requires_grad_(True)
    own_losses = ((reference(z) - x) ** 2).flatten(1).sum(1) / 784
    (grad,) = torch.autograd.grad(own_losses.sum(), z)
    expected = _numpy_unit_rows((z.detach() - 0.5 * grad).numpy())

    _one_step(model, Batch(x, torch.tensor([1, 2, 3, 4]), index))
    after = model.latents
    np.testing.assert_allclose(after[index].numpy(), expected, rtol=1e-4, atol=1e-6)
    others = torch.ones(40, dtype=torch.bool)
    others[index] = False
    assert torch.equal(after[others], before[others]), "latents outside the batch are untouched"
    assert torch.allclose(after.norm(dim=1), torch.ones(40), atol=1e-6)
    assert model.trained.nonzero().squeeze(1).tolist() == index.tolist()


def test_projection_init_starts_each_new_row_from_its_pixels():
    torch.manual_seed(0)
    model = GLO(CNNConfig(latent_dim=8, width=8, init="projection", lr_latent=1e-6), INFO)
    x = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(2))
    index = torch.tensor([0, 5, 6, 9])
    _one_step(model, Batch(x, None, index))
    start = project_pixels(x, pixel_projection(784, 8))
    assert torch.allclose(model.latents[index], start, atol=1e-4), "a tiny step stays at the projected pixels"
