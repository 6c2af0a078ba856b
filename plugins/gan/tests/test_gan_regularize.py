"""The `gan` model's regularisers (core's R1 penalty and DiffAugment for D, the coverage term for G) in training, and
their options."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gentool.api import DataInfo, GentoolError, train
from gentool_gan.config import GANConfig
from gentool_gan.model import GAN

FAST = {"log_every": 1, "sample_every": 1000, "checkpoint_every": 1000, "grid_size": 16}


@pytest.mark.parametrize("dataset, model", [
    ({"name": "digits"}, {"augment": ["translation", "cutout"], "r1_gamma": 1.0, "r1_every": 2}),
    ({"name": "gaussians", "count": 200}, {"r1_gamma": 0.1}),
])
def test_regularised_runs_train(tmp_path, dataset, model):
    raw = {"model": {"name": "gan", "batch_size": 8, "width": 8, "mlp_width": 16, **model}, "dataset": dataset,
           "steps": 2, "out": str(tmp_path / "run"), "trainer": FAST}
    run = train(raw)
    records = [json.loads(line) for line in (run.dir / "metrics.jsonl").read_text().splitlines()]
    assert all(np.isfinite(r["d_loss"]) for r in records)


def test_lazy_r1_penalises_every_r1_every_th_step_only(tmp_path):
    raw = {"model": {"name": "gan", "batch_size": 8, "width": 8, "r1_gamma": 1.0, "r1_every": 3},
           "dataset": {"name": "digits"}, "steps": 7, "out": str(tmp_path / "run"), "trainer": FAST}
    records = [json.loads(line) for line in (train(raw).dir / "metrics.jsonl").read_text().splitlines()]
    penalised = [r["step"] for r in records if "r1" in r]
    assert len(records) == 7 and penalised == [r["step"] for r in records][::3]  # steps 0, 3 and 6 of 7
    assert all(r["r1"] > 0 for r in records if "r1" in r)


def test_augmenting_points_is_refused_by_name():
    with pytest.raises(GentoolError, match=r"augment=\['translation'\].*points"):
        GAN(GANConfig(augment=["translation"]), DataInfo("points", (2,)))


def test_an_unknown_policy_is_refused_with_the_choices():
    with pytest.raises(Exception, match="translation.*cutout"):
        GANConfig(augment=["flip"])


def test_the_coverage_term_is_on_for_images_off_for_points_and_logged(tmp_path):
    assert GANConfig().coverage_for("image") == 3.0 and GANConfig().coverage_for("points") == 0.0
    assert GANConfig(coverage_weight=0.5).coverage_for("points") == 0.5
    runs = {}
    for name, dataset in (("images", {"name": "digits"}), ("points", {"name": "gaussians", "count": 200})):
        raw = {"model": {"name": "gan", "batch_size": 8, "width": 8, "mlp_width": 16}, "dataset": dataset,
               "steps": 3, "out": str(tmp_path / name), "trainer": FAST}
        runs[name] = [json.loads(line) for line in (train(raw).dir / "metrics.jsonl").read_text().splitlines()]
    assert all(r["coverage"] > 0 for r in runs["images"])  # the reals' distance to their nearest fakes
    assert not any("coverage" in r for r in runs["points"])


def test_the_coverage_term_moves_the_generator(tmp_path):
    def first_g_loss(weight):
        raw = {"model": {"name": "gan", "batch_size": 8, "width": 8, "coverage_weight": weight},
               "dataset": {"name": "digits"}, "steps": 2, "seed": 3, "out": str(tmp_path / f"w{weight}"),
               "trainer": FAST}
        run = train(raw)
        return [json.loads(line) for line in (run.dir / "metrics.jsonl").read_text().splitlines()]

    off, on = first_g_loss(0.0), first_g_loss(3.0)
    assert off[0]["d_loss"] == pytest.approx(on[0]["d_loss"])  # the same first step for D...
    assert off[1]["d_fake"] != pytest.approx(on[1]["d_fake"])  # ...but G's first update differed
