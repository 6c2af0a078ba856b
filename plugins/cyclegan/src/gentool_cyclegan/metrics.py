"""Metrics of translation models (any model with `translate(x, direction)` and `directions`), per direction.

Direction "a2b" translates domain 0's test split into domain 1 and "b2a" the reverse (a model naming other
directions uses "<i>2<j>" with the domain letters a, b, c, ...). Each domain's images are judged by its own
feature network, the one its DataInfo names unless the metric's `features` option names others. A model that
registers a `sample_config` translates with the run's sample options: `translate(x, direction, options)`.
"""

from __future__ import annotations

from typing import Any

import torch

from gentool.api import GentoolError, NotApplicable, frechet_distance

LETTERS = "abcdefgh"


def domains_of(direction: str) -> tuple[int, int]:
    """(source, target) domain indices of "a2b"-style direction names."""
    src, _, dst = direction.partition("2")
    return LETTERS.index(src), LETTERS.index(dst)


class _TranslationMetric:
    def __init__(self, config: Any) -> None:
        self.config = config

    def directions(self, evaluator: Any) -> list[str]:
        model = evaluator.model
        if getattr(model, "translate", None) is None:
            raise NotApplicable("the model does not translate (it has no translate(x, direction))")
        if len(evaluator.info.domains) < 2:
            raise NotApplicable("the data has one domain; translation metrics need two-domain data")
        known = list(getattr(model, "directions", ()))
        asked = self.config.directions or known
        for d in asked:
            if d not in known:
                raise GentoolError(f'Unknown direction "{d}" in metric directions. Valid: {", ".join(known)}.')
        return asked

    def network(self, domain: int) -> str:
        names = self.config.features
        return names[domain] if domain < len(names) else "auto"

    def features(self, evaluator: Any, images: torch.Tensor, domain: int) -> dict[str, torch.Tensor]:
        return evaluator.features(images, self.network(domain), self.config.features_options or None, domain=domain)

    def translated(self, evaluator: Any, direction: str, images: torch.Tensor | None = None) -> torch.Tensor:
        """The model's translation of the source domain's test split (or of `images`), on the CPU, cached; with the
        run's sample options when its model has them (`--set sample.KEY=VALUE`)."""
        source, _ = domains_of(direction)
        x = evaluator.real("test", domain=source) if images is None else images

        def run() -> torch.Tensor:
            return torch.cat([evaluator.translate(batch, direction).detach().to("cpu", torch.float32)
                              for batch in evaluator.batches(x)])

        return evaluator.memo(("translated", direction, id(x)), lambda: (x, evaluator.run_model(run)))[1]

    def untranslated(self, evaluator: Any, direction: str) -> torch.Tensor:
        """The source domain's test split as it is, with the target's channels (grey repeated, RGB to luma)."""
        source, target = domains_of(direction)

        def convert() -> torch.Tensor:
            channels = evaluator.real("test", domain=target).shape[1]
            return _as_channels(evaluator.real("test", domain=source), channels)

        return evaluator.memo(("untranslated", direction), convert)


def _as_channels(x: torch.Tensor, channels: int) -> torch.Tensor:
    if x.shape[1] == channels:
        return x
    if x.shape[1] == 1:
        return x.expand(-1, channels, -1, -1).contiguous()
    if channels == 1 and x.shape[1] == 3:
        return (x * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
    raise NotApplicable(f"cannot compare {x.shape[1]}-channel images with a {channels}-channel domain")


class TranslationFID(_TranslationMetric):
    """Per direction: `<d>` the FID of translated test images against the target's test split, `<d>_untranslated`
    the FID of the source images themselves (channels converted) against it, the number to beat, and their
    ratio `<d>_ratio`."""

    def compute(self, evaluator: Any) -> dict[str, float]:
        result = {}
        for d in self.directions(evaluator):
            source, target = domains_of(d)
            real = self.features(evaluator, evaluator.real("test", domain=target), target)["features"]
            fake = self.features(evaluator, self.translated(evaluator, d), target)["features"]
            base = self.features(evaluator, self.untranslated(evaluator, d), target)["features"]
            fid, fid0 = frechet_distance(fake, real), frechet_distance(base, real)
            result.update({d: fid, f"{d}_untranslated": fid0, f"{d}_ratio": fid / fid0 if fid0 > 0 else float("nan")})
        return result


class ClassPreservation(_TranslationMetric):
    """Per direction: `<d>` the share of translated test images that the target domain's classifier assigns their
    source label; `<d>_untranslated` the same for the untranslated images (what translation must improve on)."""

    def compute(self, evaluator: Any) -> dict[str, float]:
        result = {}
        for d in self.directions(evaluator):
            source, target = domains_of(d)
            labels = evaluator.real_labels("test", domain=source)
            infos = evaluator.info.domains
            if labels is None or not infos[target].num_classes:
                raise NotApplicable("class preservation needs labels in both domains")
            if infos[source].class_names != infos[target].class_names:
                raise NotApplicable("the two domains have different classes")
            logits = self.features(evaluator, self.translated(evaluator, d), target).get("logits")
            if logits is None:
                raise NotApplicable(f'the feature network of domain {LETTERS[target]} is not a classifier (no logits)')
            base = self.features(evaluator, self.untranslated(evaluator, d), target)["logits"]
            result[d] = float((logits.argmax(1) == labels).double().mean())
            result[f"{d}_untranslated"] = float((base.argmax(1) == labels).double().mean())
        return result


class Cycle(_TranslationMetric):
    """Per direction: `<d>` the mean absolute difference (pixels in [0, 1]) between the source domain's test images
    and their round trip, e.g. a2b: |F(G(a)) - a|."""

    def compute(self, evaluator: Any) -> dict[str, float]:
        result = {}
        known = list(getattr(evaluator.model, "directions", ()))
        for d in self.directions(evaluator):
            source, target = domains_of(d)
            back = f"{LETTERS[target]}2{LETTERS[source]}"
            if back not in known:
                raise NotApplicable(f"the model has no direction {back} to come back by")
            x = evaluator.real("test", domain=source)
            there = self.translated(evaluator, d)
            round_trip = self.translated(evaluator, back, there)
            result[d] = float((round_trip - x).abs().mean())
        return result
