"""Codebook usage of a quantized model over the test split: share of codes used and perplexity."""

from __future__ import annotations

from typing import Any

import torch

from gentool.errors import NotApplicable


def usage_and_perplexity(counts: torch.Tensor) -> tuple[float, float]:
    """(share of codes with a non-zero count, exp of the entropy of the code frequencies) from counts (K,)."""
    counts = counts.double()
    p = counts / counts.sum()
    entropy = -(p[p > 0] * p[p > 0].log()).sum()
    return float((counts > 0).double().mean()), float(entropy.exp())


class Codebook:
    """Reports `usage`, `perplexity`, `codes_used` and `codebook_size` from `model.encode_indices(x)` (int64 code
    indices of any shape (N, ...)) over the test split."""

    def __init__(self, config: Any) -> None:
        self.config = config

    def compute(self, evaluator: Any) -> dict[str, float]:
        model = evaluator.model
        encode = getattr(model, "encode_indices", None)
        if encode is None:
            raise NotApplicable("the model has no encode_indices(x), so it has no codebook")
        size = getattr(model, "codebook_size", None)
        if size is None:
            raise NotApplicable("the model has encode_indices(x) but no codebook_size, so usage cannot be counted")
        size = int(size)
        x = evaluator.real("test")

        def count() -> torch.Tensor:
            counts = torch.zeros(size, dtype=torch.long)
            for batch in evaluator.batches(x):
                counts += torch.bincount(encode(batch).flatten().long().cpu(), minlength=size)[:size]
            return counts

        counts = evaluator.run_model(count)
        usage, perplexity = usage_and_perplexity(counts)
        return {"usage": usage, "perplexity": perplexity, "codes_used": float((counts > 0).sum()),
                "codebook_size": float(size)}
