"""The `elbo` metric: log-likelihood bounds on the test split, for any model with `elbo(x)` (and `iw_bound(x, k)`)."""

from __future__ import annotations

from typing import Any

import torch

from gentool.api import NotApplicable
from gentool_vae.config import ElboConfig


class Elbo:
    """Reports `elbo` (nats per image, higher is better) and, with k > 1, `iwae` (the k-sample bound, tighter) and
    `iwae_k`; averaged over the first `images` test images with noise seeded by the evaluation seed."""

    def __init__(self, config: ElboConfig) -> None:
        self.config = config

    def compute(self, evaluator: Any) -> dict[str, float]:
        model, k = evaluator.model, self.config.k
        if not callable(getattr(model, "elbo", None)) or (k > 1 and not callable(getattr(model, "iw_bound", None))):
            raise NotApplicable("the model has no elbo(x) / iw_bound(x, k) (a VAE-style likelihood bound)")
        x = evaluator.real("test")[: self.config.images]
        generator = torch.Generator().manual_seed(evaluator.seed)

        def total(bound: Any, size: int) -> float:
            parts = (bound(x[i : i + size].to(evaluator.device)).double().sum() for i in range(0, len(x), size))
            return float(sum(parts))

        def bounds() -> dict[str, float]:
            result = {"elbo": total(lambda b: model.elbo(b, generator=generator), self.config.batch_size) / len(x)}
            if k > 1:  # batch_size decoder passes at a time: batch_size // k images with k samples each
                size = max(1, self.config.batch_size // k)
                iwae = total(lambda b: model.iw_bound(b, k, generator=generator), size) / len(x)
                result |= {"iwae": iwae, "iwae_k": float(k)}
            return result

        return evaluator.run_model(bounds)
