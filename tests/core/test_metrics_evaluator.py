"""The Evaluator and `evaluate`: what each metric reports for models whose right answers are known."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from rich.console import Console
from torch import nn

from gentool.datasets.digits import Digits
from gentool.datasets.gaussians import Gaussians
from gentool.evaluate import Evaluator, evaluate, result_errors, results_table
from gentool.protocols import DataInfo

ALL = ["fid", "kid", "is", "precision", "recall", "recon", "codebook", "class-accuracy", "class-coverage", "modes"]


class Replay(nn.Module):
    """A stand-in model whose samples are items of a split, drawn at random (of the requested classes)."""

    conditional = False

    def __init__(self, x: torch.Tensor, y: torch.Tensor | None = None, shift_labels: int = 0) -> None:
        super().__init__()
        self.x, self.y, self.shift = x, y, shift_labels
        self.calls: list[bool] = []

    def sample(self, n, *, labels=None, generator=None):
        self.calls.append(torch.is_grad_enabled() or self.training)
        if labels is None:
            return self.x[torch.randint(len(self.x), (n,), generator=generator)]
        pools = [torch.nonzero(self.y == (c + self.shift) % 10).flatten() for c in labels.tolist()]
        return self.x[torch.stack([p[torch.randint(len(p), (1,), generator=generator)] for p in pools]).flatten()]


class Autoencoder(Replay):
    """Reconstructs x as `scale`·x and gives every image the code 3 of 8."""

    def __init__(self, x, scale: float) -> None:
        super().__init__(x)
        self.scale = scale
        self.codebook_size = 8

    def reconstruct(self, x):
        return x * self.scale

    def encode_indices(self, x):
        return torch.full((len(x), 2, 2), 3, dtype=torch.long)


@pytest.fixture(scope="module")
def digits():
    return Digits()


def test_every_metric_reports_or_says_why_not(digits):
    model = Replay(digits.split("train").x)
    results = evaluate(model, digits, [(name, {}) for name in ALL], samples=500, batch_size=200)
    assert set(results) == set(ALL)
    assert results["fid"]["fid_n"] == 500 and results["fid"]["fid"] >= 0 and "rfid" not in results["fid"]
    assert results["kid"]["kid_subset_size"] == 500  # fewer samples than the default 1000: announced
    for name, reason in [("recon", "reconstruct"), ("codebook", "encode_indices"),
                         ("class-accuracy", "class-conditional"), ("modes", "mode_centers")]:
        assert results[name]["error"].startswith("not applicable:") and reason in results[name]["error"]
    assert 0.5 < results["precision"]["precision"] <= 1 and 0.5 < results["recall"]["recall"] <= 1
    assert results["class-coverage"]["classes_covered"] == 10
    assert not any(model.calls), "samples must be drawn in eval mode without gradients"
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(results_table(results))
    text = console.export_text()
    assert "fid_n" in text and "500" in text and "not applicable" not in text, "errors are printed below the table"
    assert ("recon", results["recon"]["error"]) in result_errors(results)


def test_reconstructions_give_rfid_recon_and_codebook(digits):
    test = digits.split("test").x
    exact = evaluate(Autoencoder(digits.split("train").x, 1.0), digits, [("fid", {}), ("recon", {}), ("codebook", {})],
                     samples=300)
    assert exact["fid"]["rfid"] == pytest.approx(0.0, abs=1e-6)
    assert exact["recon"] == {"mse": 0.0, "psnr": pytest.approx(100.0)}
    assert exact["codebook"] == {"usage": 1 / 8, "perplexity": pytest.approx(1.0), "codes_used": 1.0,
                                 "codebook_size": 8.0}
    half = evaluate(Autoencoder(digits.split("train").x, 0.5), digits, [("recon", {})])
    per_image = ((test.double() * 0.5) ** 2).flatten(1).mean(1).numpy()
    assert half["recon"]["mse"] == pytest.approx(per_image.mean(), rel=1e-9)
    assert half["recon"]["psnr"] == pytest.approx(np.mean(-10 * np.log10(per_image)), rel=1e-9)


def test_class_accuracy_of_right_and_wrong_conditional_models(digits):
    train = digits.split("train")
    right, wrong = Replay(train.x, train.y), Replay(train.x, train.y, shift_labels=1)
    right.conditional = wrong.conditional = True
    good = evaluate(right, digits, [("class-accuracy", {"per_class": 20})])["class-accuracy"]
    bad = evaluate(wrong, digits, [("class-accuracy", {})], samples=200)["class-accuracy"]
    assert good["per_class"] == 20 and good["accuracy"] >= 0.97
    assert bad["per_class"] == 20 and bad["accuracy"] <= 0.05


def test_class_coverage_of_a_model_that_draws_half_the_classes(digits):
    train = digits.split("train")
    keep = train.y < 5
    result = evaluate(Replay(train.x[keep]), digits, [("class-coverage", {})], samples=400)["class-coverage"]
    assert result["classes_covered"] == 5 and result["min_share"] == 0.0 and result["num_classes"] == 10


def test_modes_and_raw_features_on_gaussian_points():
    data = Gaussians()
    points, labels = data.split("train").x, data.split("train").y
    whole = evaluate(Replay(points), data, [("modes", {}), ("fid", {})], samples=800)
    half = evaluate(Replay(points[labels < 4]), data, [("modes", {})], samples=800)["modes"]
    assert whole["modes"]["modes_covered"] == whole["modes"]["modes_total"] == 8
    assert whole["modes"]["high_quality_share"] > 0.97  # P(|z| <= 3) in 2-D is 1 - exp(-4.5) = 0.989
    assert whole["fid"]["fid"] < 0.05
    assert half["modes_covered"] == 4


def test_samples_are_seeded_cached_and_leave_the_model_mode_alone(digits):
    model = Replay(digits.split("train").x).train()
    first = Evaluator(model, digits, samples=64, batch_size=10, seed=5)
    again = Evaluator(model, digits, samples=64, batch_size=10, seed=5)
    assert first.samples() is first.samples()
    assert torch.equal(first.samples(), again.samples())
    assert not torch.equal(first.samples(), Evaluator(model, digits, samples=64, seed=6).samples())
    assert model.training and not any(model.calls)


class Pictures:
    """RGB 16x16 images under a name no feature network carries."""

    def info(self):
        return DataInfo("image", (3, 16, 16), 0, 8, (), "pictures")

    def split(self, name):
        from gentool.datasets.base import InMemorySplit

        return InMemorySplit(torch.rand(8, 3, 16, 16, generator=torch.Generator().manual_seed(0)))


def test_other_images_use_inception_and_say_how_to_choose_when_its_weights_are_absent(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.delenv("GENTOOL_INCEPTION_WEIGHTS", raising=False)
    data = Pictures()
    assert Evaluator(Replay(data.split("train").x), data).network_name() == "inception"
    results = evaluate(Replay(data.split("train").x), data, [("fid", {}), ("kid", {"features": "raw"})], samples=8)
    message = results["fid"]["error"]
    assert "GENTOOL_INCEPTION_WEIGHTS" in message and "--set metric.features=NAME" in message and "digits" in message
    assert results["kid"]["kid_subset_size"] == 8  # the other metric still ran, on the network it named
