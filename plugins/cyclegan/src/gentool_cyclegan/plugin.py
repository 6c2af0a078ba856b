"""Registration of the plugin's components (no torch import here, so `gentool list` stays fast)."""

from __future__ import annotations

from typing import Any

from gentool.api import hookimpl

CONFIG = "gentool_cyclegan.config"


@hookimpl
def register_models(register: Any) -> None:
    register("cyclegan", "gentool_cyclegan.model:CycleGAN", config=f"{CONFIG}:CycleGANConfig",
             sample_config=f"{CONFIG}:CycleGANSampleConfig",
             summary="CycleGAN: unpaired translation between two domains (ResNet or U-Net generators, PatchGAN)")


@hookimpl
def register_datasets(register: Any) -> None:
    register("digits-m", "gentool_cyclegan.digits_m:DigitsM", config=f"{CONFIG}:DigitsMConfig",
             summary="digits blended onto procedural colour textures, MNIST-M style (RGB 28x28, 10 classes)")
    register("digits-m-pair", "gentool_cyclegan.digits_m:DigitsMPair", config=f"{CONFIG}:DigitsMPairConfig",
             summary="two unpaired domains: grey digits (A) and digits-m (B), the cyclegan demo")


@hookimpl
def register_metrics(register: Any) -> None:
    register("translation-fid", "gentool_cyclegan.metrics:TranslationFID", config=f"{CONFIG}:TranslationMetricConfig",
             summary="FID of translated test images against the target domain, next to the untranslated FID")
    register("class-preservation", "gentool_cyclegan.metrics:ClassPreservation",
             config=f"{CONFIG}:TranslationMetricConfig",
             summary="share of translations the target domain's classifier assigns the source's label")
    register("cycle", "gentool_cyclegan.metrics:Cycle", config=f"{CONFIG}:TranslationMetricConfig",
             summary="mean L1 between test images and their round trip through both generators")


@hookimpl
def register_features(register: Any) -> None:
    register("digits-m", "gentool_cyclegan.classifier:load_digits_m_classifier", config=f"{CONFIG}:DigitsMNetConfig",
             summary="CNN classifier of digits-m shipped with gentool-cyclegan: 128-d features, 10 logits")
