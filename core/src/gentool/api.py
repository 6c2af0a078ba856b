"""The plugin API: everything a gentool plugin may import, and nothing else.

A plugin (its code, its tests, the templates of `gentool new plugin`) imports from gentool only through this
module; every other module of core is internal and may change. Importing it costs neither torch nor pydantic: the
members that need them are imported on first use. docs/plugins.md documents each name.

    from gentool.api import hookimpl, ModelConfig, Stage, build

    @hookimpl
    def register_models(register):
        register("mymodel", "my_plugin.model:MyModel", config="my_plugin.config:MyConfig", summary="...")
"""

from __future__ import annotations

import importlib
from typing import Any

from gentool.errors import GentoolError, NotApplicable
from gentool.hookspecs import hookimpl
from gentool.protocols import (
    Batch,
    DataInfo,
    Dataset,
    Loss,
    Metric,
    Model,
    Quantizer,
    QuantizerOutput,
    Stage,
)
from gentool.registry import build, registered_names

# Members loaded on first access (pydantic, torch), so that `gentool list` stays fast: name -> "module:attribute".
_LAZY = {
    "ComponentConfig": "gentool.config:ComponentConfig",
    "ModelConfig": "gentool.config:ModelConfig",
    "AdversarialConfig": "gentool.config:AdversarialConfig",
    "SampleConfig": "gentool.config:SampleConfig",
    "ComponentName": "gentool.config:ComponentName",
    "AugmentPolicy": "gentool.config:AugmentPolicy",
    "sample_options": "gentool.config:sample_options",
    "InMemorySplit": "gentool.datasets.base:InMemorySplit",
    "MultiDomainSplit": "gentool.datasets.base:MultiDomainSplit",
    "images_to_tensor": "gentool.datasets.base:images_to_tensor",
    "StepContext": "gentool.trainer.context:StepContext",
    "Evaluator": "gentool.evaluate:Evaluator",
    "frozen": "gentool.layers:frozen",
    "eager": "gentool.layers:eager",
    "embed_labels": "gentool.layers:embed_labels",
    "dcgan_init": "gentool.layers:dcgan_init",
    "dropout": "gentool.layers:dropout",
    "Dropout": "gentool.layers:Dropout",
    "NarrowConv2d": "gentool.narrow_conv:NarrowConv2d",
    "NarrowConvTranspose2d": "gentool.narrow_conv:NarrowConvTranspose2d",
    "dropout_rate": "gentool.layers:dropout_rate",
    "doubling_steps": "gentool.layers:doubling_steps",
    "spectral_norm_if": "gentool.layers:spectral_norm_if",
    "strided_features": "gentool.layers:strided_features",
    "load_network_weights": "gentool.metrics.network_weights:load_network_weights",
    "all_reduce_sum": "gentool.distributed:all_reduce_sum",
    "all_reduce_mean": "gentool.distributed:all_reduce_mean",
    "all_gather_cat": "gentool.distributed:all_gather_cat",
    "check_split": "gentool.datasets.base:check_split",
    "frechet_distance": "gentool.metrics.frechet:frechet_distance",
    "r1_penalty": "gentool.regularizers:r1_penalty",
    "nearest_fake_pull": "gentool.regularizers:nearest_fake_pull",
    "batch_independent_critic": "gentool.losses.adversarial:batch_independent_critic",
    "diff_augment": "gentool.regularizers:diff_augment",
    "AUGMENT_POLICIES": "gentool.regularizers:AUGMENT_POLICIES",
    "save_image_grid": "gentool.images:save_samples",
    "check_plugins_healthy": "gentool.testing:check_plugins_healthy",
    "check_registered": "gentool.testing:check_registered",
    "check_model_trains": "gentool.testing:check_model_trains",
    "check_images": "gentool.testing:check_images",
    "check_latents": "gentool.testing:check_latents",
    "one_torch_thread": "gentool.testing:one_torch_thread",
    "train": "gentool.trainer.loop:train",
    "load": "gentool.checkpoint:load",
    "evaluate": "gentool.evaluate:evaluate",
}

__all__ = [
    # registration
    "hookimpl",
    "build",
    "registered_names",
    # records and contracts
    "DataInfo",
    "Batch",
    "Stage",
    "QuantizerOutput",
    "Model",
    "Loss",
    "Quantizer",
    "Dataset",
    "Metric",
    # errors
    "GentoolError",
    "NotApplicable",
    # imported on first use: options (pydantic), then torch helpers, testing and the user API
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'gentool.api' has no attribute {name!r}; the plugin API is gentool.api.__all__")
    module, _, attribute = target.partition(":")
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
