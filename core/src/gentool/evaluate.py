"""Evaluating a trained model: the Evaluator hands metrics cached real data, samples and features; `evaluate` runs them.

    results = evaluate(model, dataset, [("fid", {}), ("recon", {})], samples=1000)
    # {"fid": {"fid": 12.3, "fid_n": 1000.0, "rfid": 4.5}, "recon": {"mse": ..., "psnr": ...}}
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import torch

from gentool.errors import GentoolError, NotApplicable
from gentool.sampling import draw_samples, translate_images


def split_tensors(split: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(x, y) of a split: an in-memory split's `.x`/`.y`, else a map-style dataset of (x, label) items."""
    if hasattr(split, "x"):
        x, y = split.x, getattr(split, "y", None)
    else:
        items = [split[i] for i in range(len(split))]
        x = torch.stack([torch.as_tensor(item[0]) for item in items])
        y = torch.as_tensor([int(item[1]) for item in items], dtype=torch.long)
    x = torch.as_tensor(x).detach().to("cpu", torch.float32)
    if y is not None:
        y = torch.as_tensor(y).detach().to("cpu", torch.long)
        if (y < 0).all():
            y = None
    return x, y


class Evaluator:
    """Hands metrics the data they compare, computed once and cached.

    `model` is a trained gentool Model and `dataset` a built Dataset. Samples are drawn `batch_size` at a time in
    eval mode without gradients from a generator seeded with `seed`, and every tensor handed out lives on the CPU.
    """

    def __init__(
        self, model: Any, dataset: Any, *, samples: int = 1000, batch_size: int = 250, device: Any = "cpu", seed: int = 0,
        sample_options: Any = None,
    ) -> None:
        self.model, self.dataset = model, dataset
        self.info = dataset.info()
        self.n_samples, self.batch_size = int(samples), int(batch_size)
        self.device, self.seed = torch.device(device), int(seed)
        self.sample_options = sample_options
        self.networks_used: list[str] = []  # feature networks handed out, in order (evaluate() reports them)
        self._cache: dict[Any, Any] = {}

    def memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        """`compute()` the first time `key` is asked for, the cached value after (metrics share work this way)."""
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def share_data(self, other: Evaluator) -> None:
        """Reuse `other`'s loaded splits, built feature networks and computed features (never its samples or other
        results): for an evaluator of another model on the same data."""
        for key, value in other._cache.items():
            if key[0] in ("split", "network", "features"):
                self._cache.setdefault(key, value)

    def _split(self, split: str, domain: int | None) -> tuple[torch.Tensor, torch.Tensor | None]:
        def read() -> tuple[torch.Tensor, torch.Tensor | None]:
            data = self.dataset.split(split)
            parts = getattr(data, "domains", None)
            if parts is None:
                if domain not in (None, 0):
                    raise NotApplicable(f"the data has one domain, so there is no domain {domain}")
                return split_tensors(data)
            if not 0 <= (domain or 0) < len(parts):
                raise NotApplicable(f"the data has {len(parts)} domains, so there is no domain {domain}")
            return split_tensors(parts[domain or 0])

        return self.memo(("split", split, domain or 0), read)

    def domain_info(self, domain: int | None = None) -> Any:
        """The DataInfo of `domain` (multi-domain data), or of the data when None."""
        if domain is None:
            return self.info
        if not 0 <= domain < max(1, len(self.info.domains)):
            raise NotApplicable(f"the data has {max(1, len(self.info.domains))} domain(s), so there is no domain {domain}")
        return self.info.domains[domain] if self.info.domains else self.info

    def real(self, split: str = "test", domain: int | None = None) -> torch.Tensor:
        """Every item of `split` (of `domain` for multi-domain data; default domain 0) as a float CPU tensor: images
        (N, C, H, W) in [0, 1] or points (N, D)."""
        return self._split(split, domain)[0]

    def real_labels(self, split: str = "test", domain: int | None = None) -> torch.Tensor | None:
        """The int64 labels (N,) of `split` (of `domain`), or None when the data is unlabelled."""
        return self._split(split, domain)[1]

    def batches(self, x: torch.Tensor) -> Iterator[torch.Tensor]:
        """`x` in slices of `batch_size`, each moved to the evaluation device."""
        for start in range(0, len(x), self.batch_size):
            yield x[start : start + self.batch_size].to(self.device)

    @torch.no_grad()
    def run_model(self, fn: Callable[[], Any]) -> Any:
        """`fn()` with the model in eval mode and without gradients; the model's mode is restored after."""
        was_training = self.model.training
        self.model.eval()
        try:
            return fn()
        finally:
            self.model.train(was_training)

    def samples(self, n: int | None = None, labels: torch.Tensor | None = None) -> torch.Tensor:
        """n (default: the evaluator's `samples`) model samples on the CPU; `labels` (n,) asks a conditional model
        for those classes. The same request returns the same cached tensor."""
        n = self.n_samples if n is None else int(n)
        if labels is not None:
            labels = torch.as_tensor(labels, dtype=torch.long).cpu()
            if len(labels) != n:
                raise GentoolError(f"{len(labels)} labels were given for {n} samples.")
        key = ("samples", n, None if labels is None else tuple(labels.tolist()))

        def draw() -> torch.Tensor:
            generator = torch.Generator().manual_seed(self.seed)
            parts = []
            for start in range(0, n, self.batch_size):
                count = min(self.batch_size, n - start)
                part_labels = labels[start : start + count].to(self.device) if labels is not None else None
                images = draw_samples(
                    self.model, count, labels=part_labels, generator=generator, options=self.sample_options
                )
                parts.append(images.detach().to("cpu", torch.float32))
            return torch.cat(parts)

        return self.memo(key, lambda: self.run_model(draw))

    def translate(self, x: torch.Tensor, direction: str) -> torch.Tensor:
        """`model.translate(x, direction)` with the evaluator's sample options when there are some (a translation
        model that registers a `sample_config` takes them); not cached, the caller batches and caches."""
        return translate_images(self.model, x, direction, self.sample_options)

    def reconstructions(self, split: str = "test") -> torch.Tensor:
        """The model's reconstructions of `split` on the CPU; NotApplicable when the model has no `reconstruct`."""
        reconstruct = getattr(self.model, "reconstruct", None)
        if reconstruct is None:
            raise NotApplicable("the model does not reconstruct (it has no reconstruct(x))")
        x = self.real(split)

        def run() -> torch.Tensor:
            return torch.cat([reconstruct(batch).detach().to("cpu", torch.float32) for batch in self.batches(x)])

        return self.memo(("reconstructions", split), lambda: self.run_model(run))

    def network_name(self, network: str = "auto", domain: int | None = None) -> str:
        """The feature network `network` stands for; "auto" takes the one the data declares, else `fallback_network`."""
        from gentool.registry import registry

        names = registry().names("features")
        if network != "auto":
            if network not in names:
                from gentool.errors import unknown_choice

                raise unknown_choice("feature network", network, names)
            return network
        info = self.domain_info(domain)
        choice = info.features or fallback_network(info)
        if choice not in names:
            declared = f'declares the feature network "{info.features}", which is not installed' if info.features else (
                f"declares no feature network, and the fallback for {info.kind} data of shape {tuple(info.shape)} is "
                f'"{choice}", which is not installed')
            raise GentoolError(
                f'The dataset "{info.name}" {declared}. Registered feature networks: {", ".join(names) or "(none)"}; '
                "choose one with --set metric.features=NAME."
            )
        return choice

    def network(
        self, network: str = "auto", options: dict[str, Any] | None = None, domain: int | None = None
    ) -> torch.nn.Module:
        """The built feature network (in eval mode on the evaluation device), built once per name and options."""
        from gentool.registry import build, registry

        name = self.network_name(network, domain)
        if name not in self.networks_used:
            self.networks_used.append(name)
        options = dict(options or {})
        key = ("network", name, json.dumps(options, sort_keys=True, default=str))

        def make() -> torch.nn.Module:
            try:
                module = build("features", name, options, prefix="metric.features_options")
            except GentoolError as exc:
                if network != "auto":
                    raise
                raise GentoolError(
                    f'{exc} (The "{name}" network was chosen automatically for this data; choose another with '
                    f"--set metric.features=NAME: {', '.join(registry().names('features'))}.)"
                ) from exc
            return module.to(self.device).eval()

        return self.memo(key, make)

    def features(
        self, images: torch.Tensor, network: str = "auto", options: dict[str, Any] | None = None,
        domain: int | None = None,
    ) -> dict[str, torch.Tensor]:
        """The network's outputs for `images` in float64 on the CPU: {"features": (N, D), "logits": (N, K) for
        classifiers}; cached for as long as the evaluator holds the same `images` tensor. "auto" picks the network
        that suits `domain` (multi-domain data) or the data."""
        module = self.network(network, options, domain)
        name = self.network_name(network, domain)
        key = ("features", name, json.dumps(options or {}, sort_keys=True, default=str), id(images))

        @torch.no_grad()
        def run() -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
            outputs: dict[str, list[torch.Tensor]] = {}
            for batch in self.batches(images):
                for k, v in module(batch.float()).items():
                    outputs.setdefault(k, []).append(v.detach().to("cpu", torch.float64))
            return images, {k: torch.cat(v) for k, v in outputs.items()}

        return self.memo(key, run)[1]  # the cache holds `images` too, so its id cannot be reused meanwhile


def fallback_network(info: Any) -> str:
    """The feature network for data that declares none (the one documented rule): "raw" for points, "digits" for
    28x28 grey images (core's digits classifier: right for digits, only a rough judge of other 28 px data, which
    is why every result names its network), "inception" for everything else."""
    if info.kind == "points":
        return "raw"
    if tuple(info.shape) == (1, 28, 28):
        return "digits"
    return "inception"


def evaluate(
    model: Any,
    dataset: Any,
    metrics: list[tuple[str, dict[str, Any]]],
    *,
    samples: int = 1000,
    batch_size: int = 250,
    device: Any = "cpu",
    seed: int = 0,
    sample_options: Any = None,
    reference: bool = False,
) -> dict[str, dict[str, Any]]:
    """{metric: {key: value}} for each (name, options); values are floats, plus "features" naming the feature
    network(s) a metric used, and with `reference` (what `gentool run` and `gentool eval` ask for) a dict "reference"
    of the values real data gives (see gentool.reference) where the metric applies to real data. A metric that does not apply, or fails for a reason
    the user can fix, gives {"error": reason} and the others still run. `sample_options` go to every `model.sample`
    call."""
    from gentool.reference import Reference
    from gentool.registry import build

    evaluator = Evaluator(model, dataset, samples=samples, batch_size=batch_size, device=device, seed=seed,
                          sample_options=sample_options)
    real = Reference(evaluator) if reference else None
    results: dict[str, dict[str, Any]] = {}
    for name, options in metrics:
        evaluator.networks_used = []
        try:
            metric = build("metric", name, options, prefix=f"metric.{name}")
            results[name] = {key: float(value) for key, value in metric.compute(evaluator).items()}
            if evaluator.networks_used:
                results[name]["features"] = ", ".join(evaluator.networks_used)
            values = real.values(name, options) if real is not None else None
            if values:
                results[name]["reference"] = values
        except NotApplicable as exc:
            results[name] = {"error": f"not applicable: {exc}"}
        except GentoolError as exc:
            results[name] = {"error": str(exc)}
    return results


def format_value(value: Any) -> str:
    """A result as the table shows it: counts as integers, other numbers to 6 significant digits."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def results_table(results: dict[str, dict[str, Any]], title: str = "evaluation") -> Any:
    """A rich Table with one row per (metric, key, value), and the value real data gives beside it where known;
    errors are left to `result_errors`, which are printed whole below the table (a table cell would cut the paths
    and addresses they hold)."""
    from rich.table import Table

    shown = any("reference" in values for values in results.values())
    table = Table("metric", "key", "value", *(["real data"] if shown else []), title=title,
                  caption="real data: the same metric with real train items in place of samples" if shown else None)
    for name, values in results.items():
        reference = values.get("reference", {})
        for key, value in values.items():
            if key not in ("error", "reference"):
                extra = [format_value(reference[key]) if key in reference else ""] if shown else []
                table.add_row(name, key, format_value(value), *extra)
    return table


def result_errors(results: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    """(metric, message) for every metric that gave no values."""
    return [(name, values["error"]) for name, values in results.items() if "error" in values]
