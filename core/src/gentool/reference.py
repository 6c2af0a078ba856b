"""What a number means: the value each metric gives real data, computed by running the metric with items of the
train split in place of a model's samples, on the same test split, feature network and sample count.

A distribution metric of a perfect model is not 0: real train digits score FID 0.6 against the test digits on core's
digits network with 1,000 samples. `evaluate` records that value beside the model's as `"reference"`. The same
metric code computes it (no metric is named here): the stand-in model `RealData` samples real items and has no
reconstruction, encoder or translation, so metrics that need those do not apply and get no reference.

Values are cached on disk, one JSON file per (data, metric and options, sample count, versions), under
$GENTOOL_CACHE/reference/ (default ~/.cache/gentool/reference/), written atomically; a damaged file is recomputed.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch

from gentool.errors import GentoolError, NotApplicable
from gentool.rundir import write_atomically

SEED = 0  # one reference per data, whatever the run's seed
FORMAT = 1  # bump when the cached values would change meaning


def cache_root() -> Path:
    """$GENTOOL_CACHE, else ~/.cache/gentool."""
    return Path(os.environ.get("GENTOOL_CACHE") or Path.home() / ".cache" / "gentool")


class RealData(torch.nn.Module):
    """A stand-in model whose samples are real items `x` (with labels `y`, or None): each request (one `generator`,
    as `Evaluator.samples` passes one per request) takes the next items of one permutation drawn with it, without
    repeats; with `labels`, the next items of each requested class."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor | None) -> None:
        super().__init__()
        self.x, self.y = x, y
        self.conditional = y is not None
        self._draws: dict[Any, dict[Any, Any]] = {}  # generator -> {"order": permutation, class or None: taken}

    def sample(self, n: int, *, labels: torch.Tensor | None = None, generator: torch.Generator | None = None):
        draw = self._draws.setdefault(generator, {})
        if "order" not in draw:
            seeded = generator if generator is not None else torch.Generator().manual_seed(SEED)
            draw["order"] = torch.randperm(len(self.x), generator=seeded)
        order = draw["order"]
        if labels is None:
            picks = self._take(draw, None, order, n)
        else:
            if self.y is None:
                raise NotApplicable("the real data has no labels")
            labels = labels.cpu()
            picks = torch.empty(len(labels), dtype=torch.long)
            for c in labels.unique().tolist():
                where = labels == c
                picks[where] = self._take(draw, c, order[self.y[order] == c], int(where.sum()))
        return self.x[picks]

    @staticmethod
    def _take(draw: dict[Any, Any], key: Any, order: torch.Tensor, n: int) -> torch.Tensor:
        start = draw.get(key, 0)
        if start + n > len(order):
            what = "items" if key is None else f"items of class {key}"
            raise NotApplicable(f"the train split holds {len(order)} {what}, fewer than the {start + n} samples asked for")
        draw[key] = start + n
        return order[start : start + n]


def _digest(*tensors: torch.Tensor | None) -> str:
    h = hashlib.sha256()
    for t in tensors:
        if t is None:
            h.update(b"none")
        else:
            t = t.detach().cpu().contiguous()
            h.update(f"{t.dtype}{tuple(t.shape)}".encode())
            h.update(t.numpy().tobytes())
    return h.hexdigest()


class Reference:
    """The reference values of one evaluation: `values(name, options)` for each metric the model's run computed."""

    def __init__(self, evaluator: Any) -> None:
        self.evaluator = evaluator
        self._real: Any = None
        self._data = ""

    def _real_evaluator(self) -> Any:
        if self._real is None:
            from gentool.evaluate import Evaluator

            run = self.evaluator
            self._real = Evaluator(None, run.dataset, samples=run.n_samples, batch_size=run.batch_size,
                                   device=run.device, seed=SEED)
            self._real.share_data(run)
            x, y = self._real.real("train"), self._real.real_labels("train")
            self._real.model = RealData(x, y)
            info = json.dumps(run.info.to_json(), sort_keys=True)
            test = _digest(self._real.real("test"), self._real.real_labels("test"))
            self._data = hashlib.sha256(f"{info}|{test}|{_digest(x, y)}".encode()).hexdigest()
        self._real.share_data(self.evaluator)
        return self._real

    def key(self, name: str, options: dict[str, Any]) -> dict[str, Any]:
        """What the value depends on: the data, the metric and its options, the sample count, the versions of core,
        of the metric's distribution and of every feature network's."""
        from gentool import __version__
        from gentool.registry import registry

        reg = registry()
        metric = reg.get("metric", name)
        networks = sorted({f"{c.distribution} {c.version}" for c in reg.of_kind("features")})
        return {"format": FORMAT, "data": self._data, "metric": name, "options": options,
                "samples": self.evaluator.n_samples, "seed": SEED, "core": __version__,
                "metric_version": f"{metric.distribution} {metric.version}", "networks": networks}

    def values(self, name: str, options: dict[str, Any]) -> dict[str, Any] | None:
        """The metric's values for real train items in place of samples (cached), or None when it does not apply."""
        from gentool.registry import build

        try:
            real = self._real_evaluator()
            key = self.key(name, json.loads(json.dumps(options, default=str)))
            text = json.dumps(key, sort_keys=True)
            path = cache_root() / "reference" / f"{name}-{hashlib.sha256(text.encode()).hexdigest()[:24]}.json"
            cached = _read(path, key)
            if cached is not None:
                return cached
            real.networks_used = []
            metric = build("metric", name, options, prefix=f"metric.{name}")
            values: dict[str, Any] = {k: float(v) for k, v in metric.compute(real).items()}
        except (NotApplicable, GentoolError, AttributeError):
            return None  # AttributeError: the metric reads a model member that real data does not have
        if real.networks_used:
            values["features"] = ", ".join(real.networks_used)
        write_atomically(path, (json.dumps({"key": key, "values": values}, indent=1) + "\n").encode())
        return values


def _read(path: Path, key: dict[str, Any]) -> dict[str, Any] | None:
    """The cached values at `path` when the file holds them for `key`; None when absent, damaged or stale."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("key") != key or not isinstance(data.get("values"), dict):
        return None
    return data["values"]
