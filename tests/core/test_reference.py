"""What a number means: each metric's value for real data, recorded beside the model's and cached on disk."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from gentool.datasets.digits import Digits
from gentool.evaluate import evaluate
from gentool.reference import RealData

METRICS = [("fid", {"features": "auto", "features_options": {}, "reconstructions": True}), ("recon", {})]


class Noise(nn.Module):
    """A model whose samples are uniform noise: far from the digits on every metric."""

    conditional = False

    def sample(self, n, *, labels=None, generator=None):
        return torch.rand(n, 1, 28, 28, generator=generator)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GENTOOL_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "reference"


def test_real_data_samples_train_items_without_repeats_and_by_class():
    x = torch.arange(100, dtype=torch.float32).view(100, 1)
    y = torch.arange(100) % 10
    real = RealData(x, y)
    generator = torch.Generator().manual_seed(0)
    first, second = real.sample(30, generator=generator), real.sample(30, generator=generator)
    drawn = torch.cat([first, second]).flatten().tolist()
    assert len(set(drawn)) == 60  # one request (one generator) never repeats an item across its batches
    again = RealData(x, y).sample(30, generator=torch.Generator().manual_seed(0))
    assert torch.equal(again, first)  # the same seed draws the same items
    labels = torch.tensor([3, 3, 7, 3, 7])
    picked = real.sample(5, labels=labels, generator=torch.Generator().manual_seed(1))
    assert (y[picked.flatten().long()] == labels).all()
    with pytest.raises(Exception, match="fewer than"):
        real.sample(11, labels=torch.full((11,), 2), generator=torch.Generator())  # 10 items of class 2 exist


def test_reference_is_recorded_where_the_metric_applies_to_real_data(cache):
    results = evaluate(Noise(), Digits(), METRICS, samples=500, reference=True)
    fid, reference = results["fid"]["fid"], results["fid"]["reference"]
    assert 0 < reference["fid"] < 5 < fid  # real train digits against test digits: close, but not 0
    assert reference["fid_n"] == 500 and reference["features"] == "digits"
    assert "reference" not in results["recon"]  # real data has no reconstructions: no reference, no error
    assert [p.name.split("-")[0] for p in cache.glob("*.json")] == ["fid"]


def test_reference_is_read_from_the_cache_and_a_damaged_file_is_recomputed(cache):
    first = evaluate(Noise(), Digits(), METRICS[:1], samples=300, reference=True)["fid"]["reference"]["fid"]
    (path,) = cache.glob("fid-*.json")
    data = json.loads(path.read_text())
    data["values"]["fid"] = 123.0
    path.write_text(json.dumps(data))
    assert evaluate(Noise(), Digits(), METRICS[:1], samples=300, reference=True)["fid"]["reference"]["fid"] == 123.0
    path.write_text("{not json")
    assert evaluate(Noise(), Digits(), METRICS[:1], samples=300, reference=True)["fid"]["reference"]["fid"] == pytest.approx(first)
    evaluate(Noise(), Digits(), METRICS[:1], samples=200, reference=True)  # another sample count is another reference
    assert len(list(cache.glob("fid-*.json"))) == 2


def test_reference_can_be_turned_off(cache):
    results = evaluate(Noise(), Digits(), METRICS[:1], samples=200, reference=False)
    assert "reference" not in results["fid"] and not cache.exists()
