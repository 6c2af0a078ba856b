"""The vae model: shapes, KL warm-up, the likelihood bounds on an analytic case, training, reloading, the metric."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from gentool.api import DataInfo, GentoolError, build, check_images, check_latents, check_model_trains, check_registered
from gentool_vae import bounds


def make_vae(shape=(1, 28, 28), **options):
    options = {"latent_dim": 4, "width": 8, "hidden": 32, **options}
    return build("model", "vae", options, prefix="model", info=DataInfo("image", shape, 10, 100))


@pytest.mark.parametrize(("shape", "prior"), [((1, 28, 28), "mixture"), ((3, 32, 32), "standard")])
def test_shapes_for_gray_digits_and_colour_images(shape, prior):
    model = make_vae(shape, prior=prior).eval()
    x = torch.rand(5, *shape)
    mean, log_var = model.posterior(x)
    assert mean.shape == log_var.shape == (5, 4)
    with torch.no_grad():
        check_images(model.reconstruct(x), 5, shape)
        check_images(model.sample(6, generator=torch.Generator().manual_seed(0)), 6, shape)
        assert model.elbo(x).shape == model.iw_bound(x, 3).shape == (5,)


def test_samples_are_decoded_draws_of_the_prior():
    model = make_vae().eval()
    with torch.no_grad():
        drawn = model.decode(model.prior.sample(4, torch.Generator().manual_seed(5)))
        torch.testing.assert_close(model.sample(4, generator=torch.Generator().manual_seed(5)), drawn)
        standard = model.decode(torch.randn(4, 4, generator=torch.Generator().manual_seed(5)))
        assert not torch.allclose(drawn, standard)


def test_samples_follow_the_generator():
    model = make_vae().eval()
    with torch.no_grad():
        a = model.sample(4, generator=torch.Generator().manual_seed(3))
        b = model.sample(4, generator=torch.Generator().manual_seed(3))
        c = model.sample(4, generator=torch.Generator().manual_seed(4))
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, c)


def test_kl_weight_ramps_from_zero_to_beta_over_the_warmup():
    model = make_vae(beta=2.0, kl_warmup=0.2)
    assert [model.kl_weight(p) for p in (0.0, 0.05, 0.1, 0.2, 0.7)] == pytest.approx([0.0, 0.5, 1.0, 2.0, 2.0])
    assert make_vae(beta=0.5, kl_warmup=0.0).kl_weight(0.0) == 0.5


def test_unknown_likelihood_is_reported_with_the_choices():
    with pytest.raises(GentoolError, match="bce"):
        make_vae(loss="bernoulli")


def test_unknown_prior_is_reported_with_the_choices():
    with pytest.raises(GentoolError, match="mixture.*standard"):
        make_vae(prior="vamp")


# --- the bounds on a model whose likelihood is known: z ~ N(0, 1), x | z ~ N(z, 1), so x ~ N(0, 2) ----------------
def gaussian_log_likelihood(z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return torch.tensor(stats.norm.logpdf(x.numpy(), loc=z.numpy(), scale=1.0).sum(axis=1))


X = torch.tensor([[0.3], [-1.2], [2.0]], dtype=torch.float64)
LOG_PX = stats.norm.logpdf(X.numpy()[:, 0], scale=math.sqrt(2.0))


def test_bounds_are_exact_with_the_true_posterior():
    # the posterior is N(x / 2, 1 / 2): every importance weight equals p(x), so both bounds are log p(x)
    posterior = (X / 2, torch.full_like(X, math.log(0.5)))
    g = torch.Generator().manual_seed(0)
    elbo = bounds.elbo(X, posterior, gaussian_log_likelihood, g)
    iwae = bounds.iw_bound(X, posterior, gaussian_log_likelihood, 7, g)
    np.testing.assert_allclose(iwae.numpy(), LOG_PX, rtol=1e-9)
    # the one-sample ELBO is exact only on average (its reconstruction term is a one-sample estimate)
    many = torch.stack([bounds.elbo(X, posterior, gaussian_log_likelihood, g) for _ in range(4000)]).mean(0)
    np.testing.assert_allclose(many.numpy(), LOG_PX, atol=0.05)
    assert elbo.shape == (3,)


def test_importance_weighting_tightens_the_bound_towards_log_px():
    posterior = (X * 0.0 + 0.5, torch.full_like(X, math.log(2.0)))  # a poor q
    g = torch.Generator().manual_seed(1)
    mean, log_var = posterior
    # analytic ELBO: E_q log N(x; z, 1) - KL(q || p)
    var = log_var.exp()
    analytic = -0.5 * math.log(2 * math.pi) - 0.5 * ((X - mean) ** 2 + var) - 0.5 * (mean**2 + var - 1 - log_var)
    elbo = torch.stack([bounds.elbo(X, posterior, gaussian_log_likelihood, g) for _ in range(4000)]).mean(0)
    np.testing.assert_allclose(elbo.numpy(), analytic.numpy()[:, 0], atol=0.06)
    iw = {
        k: torch.stack([bounds.iw_bound(X, posterior, gaussian_log_likelihood, k, g) for _ in range(200)]).mean(0)
        for k in (1, 10, 1000)
    }
    np.testing.assert_allclose(iw[1].numpy(), analytic.numpy()[:, 0], atol=0.25)
    assert bool((iw[1] < iw[10]).all()) and bool((iw[10] < iw[1000] + 1e-3).all())
    assert bool((iw[1000].numpy() <= LOG_PX + 0.01).all())
    np.testing.assert_allclose(iw[1000].numpy(), LOG_PX, atol=0.05)


def test_bce_likelihood_of_the_model_is_the_bernoulli_log_probability():
    model = make_vae().eval()
    x = (torch.rand(2, 1, 28, 28) > 0.5).float()
    z = torch.randn(2, 4)
    with torch.no_grad():
        p = torch.sigmoid(model.decoder(z)).double().numpy()
        expected = (x.numpy() * np.log(p) + (1 - x.numpy()) * np.log1p(-p)).reshape(2, -1).sum(1)
        np.testing.assert_allclose(model.log_likelihood(z, x).numpy(), expected, rtol=1e-4)


def test_mse_likelihood_adds_the_gaussian_normaliser():
    model = make_vae(loss="mse").eval()
    x, z = torch.rand(2, 1, 28, 28), torch.randn(2, 4)
    with torch.no_grad():
        mean = model.decoder(z).double().numpy()
    # variance 1/2: log N(x; m, 1/2) = -(x - m)^2 - log(pi) / 2 per pixel
    expected = stats.norm.logpdf(x.numpy(), loc=mean, scale=math.sqrt(0.5)).reshape(2, -1).sum(1)
    with torch.no_grad():
        np.testing.assert_allclose(model.log_likelihood(z, x).numpy(), expected, rtol=1e-4)


# --- through the trainer --------------------------------------------------------------------------------------------
def test_registered_trains_and_reloads_in_a_new_process(tmp_path):
    check_registered("model", "vae")
    check_registered("metric", "elbo")
    run = check_model_trains("vae", tmp_path, steps=4, options={"width": 8, "hidden": 32})
    check_latents(run.model)
    records = (run.dir / "metrics.jsonl").read_text().splitlines()
    assert len(records) == 4 and '"kl"' in records[-1] and '"elbo"' in records[-1]
    assert float(run.model.prior.logits.detach().abs().max()) > 0  # the mixture prior trains with the ELBO (starts at 0)


def test_trains_on_colour_images(tmp_path):
    check_model_trains(
        "vae", tmp_path, dataset="shapes", steps=3, options={"width": 8, "hidden": 32}, dataset_options={"count": 60}
    )


def test_elbo_metric_reports_both_bounds(tmp_path):
    from gentool.api import evaluate

    data = build("dataset", "digits")
    model = make_vae()
    results = evaluate(model, data, [("elbo", {"k": 8, "images": 40})], samples=10)["elbo"]
    assert set(results) >= {"elbo", "iwae", "iwae_k"} and results["iwae_k"] == 8
    assert math.isfinite(results["elbo"]) and results["elbo"] < 0
    assert results["iwae"] > results["elbo"]  # the k-sample bound is tighter
    only = evaluate(model, data, [("elbo", {"images": 40})], samples=10)["elbo"]
    assert set(only) == {"elbo"}
