"""What the contract lets a component declare instead of core knowing its name: loss roles and logits, a dataset's
feature network, two unaligned domains, a stage's batch size, extra training state, the learning-rate schedules."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image

from gentool.api import Batch, DataInfo, GentoolError, Stage, build, evaluate, train
from gentool.registry import Component, registry
from gentool.trainer.batches import make_batches
from gentool.trainer.schedule import lr_factor


@pytest.fixture
def registered():
    """Register test components for one test, through the same registry plugins fill."""
    added = []

    def add(kind, name, target, config=None):
        registry().add(Component(name, kind, target, config, distribution="test"))
        added.append((kind, name))

    yield add
    for key in added:
        registry().components.pop(key, None)


class LogitProbe:
    """A user's reconstruction loss that takes logits: records how it was called."""

    role = "reconstruction"
    accepts_logits = True
    calls: list[bool] = []

    def __init__(self, config):
        pass

    def __call__(self, pred, target, *, logits=False):
        LogitProbe.calls.append(logits)
        values = torch.nn.functional.binary_cross_entropy_with_logits(pred, target, reduction="none")
        return values.flatten(1).sum(1)


def test_a_registered_loss_that_accepts_logits_is_given_logits(registered):
    registered("loss", "logit-probe", LogitProbe)
    model = build("model", "vae", {"loss": "logit-probe", "latent_dim": 2, "width": 4, "hidden": 8}, prefix="model",
                  info=DataInfo("image", (1, 28, 28), 10, 100))
    LogitProbe.calls.clear()
    x = torch.rand(4, 1, 28, 28)
    model.reconstruction_loss(model.decoder(model.posterior(x)[0]), x)
    assert LogitProbe.calls == [True]


def test_a_loss_of_the_wrong_role_names_the_registered_ones_of_the_right_role():
    with pytest.raises(GentoolError) as caught:
        build("model", "gan", {"loss": "l1"}, prefix="model", info=DataInfo("image", (1, 28, 28)))
    message = str(caught.value)
    assert '"l1"' in message and "reconstruction" in message
    assert "hinge, lsgan, nonsaturating, wasserstein-gp" in message and "mse" not in message


def _evaluate_fid(dataset):
    model = build("model", "tiny", {}, prefix="model", info=dataset.info())
    return evaluate(model, dataset, [("fid", {})], samples=30)["fid"]


def test_the_feature_network_is_the_one_the_data_declares_and_is_named_in_results(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, size=(60, 28, 28), dtype=np.uint8)
    np.savez(tmp_path / "grey.npz", images=images)
    declared = build("dataset", "npz", {"root": str(tmp_path / "grey.npz"), "features": "raw"})
    assert _evaluate_fid(declared)["features"] == "raw"
    undeclared = build("dataset", "npz", {"root": str(tmp_path / "grey.npz")})
    assert _evaluate_fid(undeclared)["features"] == "digits", "28x28 grey falls back to the digits classifier"
    assert build("dataset", "digits").info().features == "digits"
    assert build("dataset", "fashion-mnist", {"root": "unused"}).__class__.features == ""


def _folder(root, count, size, mode):
    root.mkdir(parents=True)
    rng = np.random.default_rng(count)
    for i in range(count):
        shape = (size, size + 4, 3) if mode == "RGB" else (size, size + 4)
        Image.fromarray(rng.integers(0, 256, size=shape, dtype=np.uint8), mode).save(root / f"{i:03d}.png")
    return root


def test_two_unpaired_domains_batch_independently_at_one_size(tmp_path):
    photos = _folder(tmp_path / "photos", 30, 40, "RGB")
    data = build("dataset", "unpaired", {"a": {"name": "digits"}, "b": {"name": "image-folder", "root": str(photos),
                                         "size": 40}, "size": 32}, prefix="dataset")
    info = data.info()
    assert [d.shape for d in info.domains] == [(1, 32, 32), (3, 32, 32)]
    assert info.domains[0].num_classes == 10 and info.domains[1].num_classes == 0
    batches = make_batches(data.split("train"), 8, torch.device("cpu"), seed=0)
    first = batches.next()
    assert isinstance(first, Batch) and len(first.domains) == 2
    assert first.x.shape == (8, 1, 32, 32) and first.domains[1].x.shape == (8, 3, 32, 32)
    assert first.domains[1].y is None and first.y is not None
    assert not torch.equal(first.index, first.domains[1].index % len(first.index)), "domains are shuffled apart"
    state = batches.state_dict()
    again = make_batches(data.split("train"), 8, torch.device("cpu"), seed=0)
    again.load_state_dict(state)
    assert torch.equal(batches.next().domains[1].x, again.next().domains[1].x), "resume continues both orders"


def test_a_bad_key_inside_a_domain_is_named_with_its_path():
    with pytest.raises(GentoolError, match=r'"dataset\.b\.cout".*Did you mean "count"'):
        build("dataset", "unpaired", {"a": {"name": "digits"}, "b": {"name": "shapes", "cout": 10}}, prefix="dataset")


class Staged(torch.nn.Module):
    """A model with two stages of different batch sizes and a counter kept outside its state_dict."""

    conditional = False

    def __init__(self, config, info):
        super().__init__()
        self.config, self.info = config, info
        self.layer = torch.nn.Linear(784, 1)
        self.seen: list[int] = []
        self.pool = torch.zeros(0)

    def stages(self):
        return [Stage("small", 0.5, batch_size=4), Stage("large", 0.5, batch_size=16)]

    def optimizers(self, stage):
        return {"all": torch.optim.SGD(self.parameters(), lr=0.01)}

    def train_step(self, batch, ctx):
        self.seen.append(len(batch.x))
        self.pool = torch.cat([self.pool, batch.x[:1, 0, 0, 0]])
        loss = self.layer(batch.x.flatten(1)).pow(2).mean()
        ctx.step("all", loss)
        return {"loss": loss.detach()}

    def sample(self, n, *, labels=None, generator=None):
        return torch.rand(n, 1, 28, 28, generator=generator)

    def extra_state(self):
        return {"pool": self.pool}

    def load_extra_state(self, state):
        self.pool = state["pool"]


def test_stage_batch_sizes_and_extra_state_survive_a_resume(registered, tmp_path):
    registered("model", "staged", Staged)
    raw = {"model": {"name": "staged"}, "steps": 6, "out": str(tmp_path / "run"),
           "trainer": {"checkpoint_every": 3, "sample_every": 100}}
    run = train(raw)
    assert run.model.seen == [4, 4, 4, 16, 16, 16]
    assert len(run.model.pool) == 6
    resumed = train(raw | {"steps": 6}, resume=True)  # finished: restores the checkpoint of the last step
    assert torch.equal(resumed.model.pool, run.model.pool)


def test_a_model_declares_its_trainer_defaults_and_the_user_overrides_them(registered):
    from gentool.api import ModelConfig
    from gentool.resolve import resolve

    class DecayConfig(ModelConfig):
        trainer_defaults = {"schedule": "linear-decay", "decay_start": 0.25}

    registered("model", "decaying", Staged, DecayConfig)
    chosen = resolve({"model": {"name": "decaying"}}).trainer
    assert (chosen.schedule, chosen.decay_start) == ("linear-decay", 0.25)
    assert resolve({"model": {"name": "decaying"}, "trainer": {"schedule": "cosine"}}).trainer.schedule == "cosine"
    assert resolve({"model": {"name": "tiny"}}).trainer.schedule == "constant"
    with pytest.raises(GentoolError, match=r'"trainer.schedul".*Did you mean "schedule"'):
        resolve({"model": {"name": "decaying"}, "trainer": {"schedul": "cosine"}})


@pytest.mark.parametrize(
    ("schedule", "progress", "factor"),
    [("constant", 0.9, 1.0), ("cosine", 0.5, 0.5), ("linear-decay", 0.25, 1.0), ("linear-decay", 0.75, 0.5),
     ("linear-decay", 1.0, 0.0)],
)
def test_learning_rate_schedules(schedule, progress, factor):
    assert math.isclose(lr_factor(schedule, 0, 10, progress, decay_start=0.5), factor, abs_tol=1e-9)
