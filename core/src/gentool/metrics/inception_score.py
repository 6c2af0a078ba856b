"""Inception Score (Salimans et al. 2016): exp E_x KL(p(y|x) || p(y)), here with any classifier's softmax."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from gentool.errors import NotApplicable
from gentool.metrics.frechet import as_float64


def inception_score(logits: Any, splits: int = 10, seed: int | None = 0) -> tuple[float, float]:
    """(mean, std) over `splits` parts of exp(mean KL(p(y|x) || p(y))) from logits (N, K). The items are shuffled
    with `seed` first (None: kept in order), so that inputs ordered by class do not give each part one class."""
    log_p = torch.log_softmax(as_float64(logits), dim=1)
    if seed is not None:
        log_p = log_p[torch.from_numpy(np.random.default_rng(seed).permutation(len(log_p)))]
    scores = []
    for part in torch.tensor_split(log_p, splits):
        log_marginal = torch.logsumexp(part, dim=0) - np.log(len(part))
        kl = (part.exp() * (part - log_marginal)).sum(1).mean()
        scores.append(float(kl.exp()))
    return float(np.mean(scores)), float(np.std(scores))


def classifier_logits(evaluator: Any, images: Any, config: Any) -> torch.Tensor:
    """The logits of the chosen feature network; NotApplicable when that network is not a classifier."""
    outputs = evaluator.features(images, config.features, config.features_options)
    if "logits" not in outputs:
        name = evaluator.network_name(config.features)
        raise NotApplicable(f'the feature network "{name}" is not a classifier (it gives no logits)')
    return outputs["logits"]


class InceptionScore:
    """Reports `is` and `is_std` of the model's samples."""

    def __init__(self, config: Any) -> None:
        self.config = config

    def compute(self, evaluator: Any) -> dict[str, float]:
        if evaluator.info.kind != "image":
            raise NotApplicable("the inception score needs image data")
        samples = evaluator.samples()
        if len(samples) < self.config.splits:
            raise NotApplicable(f"{len(samples)} samples cannot be cut into {self.config.splits} splits")
        logits = classifier_logits(evaluator, samples, self.config)
        mean, std = inception_score(logits, self.config.splits, seed=evaluator.seed)
        return {"is": mean, "is_std": std}
