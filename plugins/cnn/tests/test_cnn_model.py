"""The `cnn` (GLO) model through the real trainer: training, sampling, the fitted Gaussian, save and load."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from gentool.api import (
    DataInfo,
    GentoolError,
    build,
    check_images,
    check_latents,
    check_model_trains,
    check_registered,
    train,
)
from gentool_cnn.config import CNNConfig
from gentool_cnn.gaussian import JITTER
from gentool_cnn.mixture import fit_mixture
from gentool_cnn.model import GLO

SMALL = {"width": 8, "latent_dim": 8, "batch_size": 16}


def _train(tmp_path, name="run", steps=3, **options):
    raw = {
        "model": {"name": "cnn", **SMALL, **options},
        "dataset": {"name": "digits"},
        "steps": steps,
        "out": str(tmp_path / name),
        "trainer": {"log_every": 1, "sample_every": steps, "checkpoint_every": steps, "grid_size": 16},
    }
    return train(raw)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One small run shared by the tests that only read it."""
    return _train(tmp_path_factory.mktemp("cnn"))


def test_registered_and_trains_samples_and_reloads(tmp_path):
    check_registered("model", "cnn")
    run = check_model_trains("cnn", tmp_path, steps=3, options={"width": 8, "latent_dim": 8})
    check_latents(run.model)


def test_one_component_is_glo_s_gaussian_fitted_to_the_trained_latents_only(tmp_path):
    model = _train(tmp_path, prior_components=1).model
    rows = model.trained.numpy()
    assert rows.sum() == 3 * 16, "three batches of 16 distinct images were trained"
    codes = model.latents.numpy()[rows].astype(np.float64)
    np.testing.assert_allclose(np.linalg.norm(codes, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(model.prior_means[0].numpy(), codes.mean(axis=0), atol=1e-6)
    cov = (model.prior_chols[0] @ model.prior_chols[0].T).double().numpy()
    np.testing.assert_allclose(cov, np.cov(codes, rowvar=False) + JITTER * np.eye(8), atol=1e-6)
    assert model.prior_weights.tolist() == [1.0]
    assert bool(model.prior_fitted)


def test_default_mixture_is_fitted_to_the_trained_latents(trained):
    model = trained.model
    codes = model.latents[model.trained]
    weights, means, chols = fit_mixture(codes, model.config.prior_components)
    assert len(model.prior_weights) == model.config.prior_components > 1
    k = len(weights)  # fewer components than asked for when there are fewer codes; the rest weigh nothing
    assert torch.allclose(model.prior_weights[:k], weights, atol=1e-6) and not model.prior_weights[k:].any()
    assert torch.allclose(model.prior_means[:k], means, atol=1e-6)
    assert torch.allclose(model.prior_chols[:k], chols, atol=1e-5)


def test_save_and_load_in_a_new_process_keeps_latents_mixture_and_samples(trained, tmp_path):
    run = trained
    model = run.model.eval()
    out = tmp_path / "reloaded.safetensors"
    code = (
        "import gentool, torch\n"
        "from safetensors.torch import save_file\n"
        f"m = gentool.load({str(run.dir)!r})\n"
        "with torch.no_grad():\n"
        "    s = m.sample(6, generator=torch.Generator().manual_seed(5))\n"
        "    r = m.reconstruct_index(torch.arange(10))\n"
        "save_file({'latents': m.latents, 'means': m.prior_means, 'chols': m.prior_chols, 'trained': m.trained,\n"
        f"           'samples': s, 'recon': r}}, {str(out)!r})\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    loaded = load_file(str(out))
    assert torch.equal(loaded["latents"], model.latents)
    assert torch.equal(loaded["trained"], model.trained)
    assert torch.equal(loaded["means"], model.prior_means)
    assert torch.equal(loaded["chols"], model.prior_chols)
    with torch.no_grad():
        assert torch.allclose(loaded["samples"], model.sample(6, generator=torch.Generator().manual_seed(5)), atol=1e-6)
        assert torch.allclose(loaded["recon"], model.reconstruct_index(torch.arange(10)), atol=1e-6)
    check_images(loaded["samples"], 6, (1, 28, 28))


def test_reconstruct_index_decodes_training_latents_and_there_is_no_encoder(trained):
    model = trained.model.eval()
    assert not hasattr(model, "reconstruct"), "GLO has no encoder, so it must not claim to reconstruct new images"
    with torch.no_grad():
        x = model.reconstruct_index(torch.tensor([0, 1, 2]))
        same = model.generator(model.latents[:3])
    check_images(x, 3, (1, 28, 28))
    assert torch.equal(x, same)


def test_sample_options_choose_the_prior_and_bandwidth_zero_draws_the_trained_latents(tmp_path):
    model = _train(tmp_path, prior_components=2).model.eval()  # 24 latents per component: a kernel of real width
    codes = model.latents[model.trained]

    def draw(**options):
        return model.draw_latents(200, generator=torch.Generator().manual_seed(1), options=options)

    assert torch.cdist(draw(bandwidth=0), codes).min(1).values.max() < 1e-3, "bandwidth 0: trained latents only"
    assert torch.cdist(draw(), codes).min(1).values.min() > 1e-2, "the default bandwidth moves them"
    assert not torch.allclose(draw(), draw(prior="mixture"))
    with torch.no_grad():
        images = model.sample(4, generator=torch.Generator().manual_seed(1), options={"bandwidth": 0})
        assert torch.equal(images, model.generate(model.draw_latents(4, generator=torch.Generator().manual_seed(1),
                                                                     options={"bandwidth": 0})))
    with pytest.raises(GentoolError, match="prior"):
        model.sample(2, options={"prior": "uniform"})


def test_conditional_model_takes_labels_and_remembers_each_rows_class(tmp_path):
    assert GLO.conditional is False
    model = _train(tmp_path, conditional=True).model.eval()
    assert model.conditional is True
    labels = torch.tensor([0, 3, 3, 9])
    with torch.no_grad():
        x = model.sample(4, labels=labels, generator=torch.Generator().manual_seed(0))
        again = model.sample(4, labels=labels, generator=torch.Generator().manual_seed(0))
        other = model.sample(4, labels=torch.tensor([1, 1, 1, 1]), generator=torch.Generator().manual_seed(0))
    check_images(x, 4, (1, 28, 28))
    assert torch.equal(x, again) and not torch.allclose(x, other), "the requested class changes the image"
    train_labels = build("dataset", "digits").split("train").y
    rows = model.trained
    assert torch.equal(model.labels[rows], train_labels[rows])
    wanted = model.labels[rows][:2].repeat(10)  # two classes that were trained
    z = model.draw_latents(20, generator=torch.Generator().manual_seed(0), options={"bandwidth": 0}, labels=wanted)
    nearest = torch.cdist(z, model.latents[rows]).argmin(1)
    assert torch.equal(model.labels[rows][nearest], wanted), "the kernel starts from latents of the requested class"


def test_unsupported_data_fails_with_a_clear_message():
    with pytest.raises(GentoolError, match="labelled"):
        GLO(CNNConfig(conditional=True), DataInfo("image", (1, 28, 28), num_classes=0, train_size=10))
    with pytest.raises(GentoolError, match="images"):
        GLO(CNNConfig(), DataInfo("points", (2,), train_size=10))
    with pytest.raises(GentoolError, match="30x30"):
        GLO(CNNConfig(), DataInfo("image", (3, 30, 30), train_size=10))
