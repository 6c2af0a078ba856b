"""Class metrics judged by a classifier feature network: accuracy of conditional samples, coverage of classes."""

from __future__ import annotations

from typing import Any

import torch

from gentool.errors import NotApplicable
from gentool.metrics.inception_score import classifier_logits


def _num_classes(evaluator: Any) -> int:
    if evaluator.info.kind != "image" or not evaluator.info.num_classes:
        raise NotApplicable("class metrics need labelled image data")
    return evaluator.info.num_classes


def _predict(evaluator: Any, images: torch.Tensor, config: Any, classes: int) -> torch.Tensor:
    logits = classifier_logits(evaluator, images, config)
    if logits.shape[1] != classes:
        name = evaluator.network_name(config.features)
        raise NotApplicable(f'the classifier "{name}" knows {logits.shape[1]} classes but the data has {classes}')
    return logits.argmax(1)


class ClassAccuracy:
    """Reports `accuracy` (classifier agrees with the requested label) and `worst_class_accuracy` over an equal
    number of samples per class; NotApplicable for a model that is not class-conditional."""

    def __init__(self, config: Any) -> None:
        self.config = config

    def compute(self, evaluator: Any) -> dict[str, float]:
        if not getattr(evaluator.model, "conditional", False):
            raise NotApplicable("the model is not class-conditional")
        classes = _num_classes(evaluator)
        per_class = self.config.per_class or max(1, evaluator.n_samples // classes)
        labels = torch.arange(classes).repeat_interleave(per_class)
        predicted = _predict(evaluator, evaluator.samples(len(labels), labels=labels), self.config, classes)
        hits = (predicted == labels).double().view(classes, per_class).mean(1)
        return {"accuracy": float(hits.mean()), "worst_class_accuracy": float(hits.min()),
                "per_class": float(per_class)}


class ClassCoverage:
    """Reports the share of samples per predicted class: `min_share`, `max_share`, and `classes_covered`, the number
    of classes holding at least `threshold` of the samples (of `num_classes`)."""

    def __init__(self, config: Any) -> None:
        self.config = config

    def compute(self, evaluator: Any) -> dict[str, float]:
        classes = _num_classes(evaluator)
        predicted = _predict(evaluator, evaluator.samples(), self.config, classes)
        share = torch.bincount(predicted, minlength=classes).double() / len(predicted)
        return {"min_share": float(share.min()), "max_share": float(share.max()),
                "classes_covered": float((share >= self.config.threshold).sum()), "num_classes": float(classes)}
