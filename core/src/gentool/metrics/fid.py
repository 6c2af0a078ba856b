"""FID: the Fréchet distance between feature statistics of generated samples and of the test split."""

from __future__ import annotations

from typing import Any

from gentool.errors import NotApplicable
from gentool.metrics.frechet import frechet_distance


class FID:
    """Reports `fid` (samples vs test split), `fid_n` (the sample count) and, for a model that reconstructs,
    `rfid` (reconstructions of the test split vs the test split)."""

    def __init__(self, config: Any) -> None:
        self.config = config

    def _features(self, evaluator: Any, images: Any) -> Any:
        return evaluator.features(images, self.config.features, self.config.features_options)["features"]

    def compute(self, evaluator: Any) -> dict[str, float]:
        real = self._features(evaluator, evaluator.real("test"))
        samples = evaluator.samples()
        result = {"fid": frechet_distance(self._features(evaluator, samples), real), "fid_n": float(len(samples))}
        if self.config.reconstructions:
            try:
                recon = evaluator.reconstructions("test")
            except NotApplicable:
                return result
            result["rfid"] = frechet_distance(self._features(evaluator, recon), real)
        return result
