"""Options of the plugin's components: the `cyclegan` model, the `digits-m` data, the metrics and the `digits-m`
feature network. No torch import, so `gentool info cyclegan` is fast."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from gentool.api import AdversarialConfig, ComponentConfig, ComponentName, SampleConfig


class CycleGANConfig(AdversarialConfig):
    """CycleGAN: two generators (A->B, B->A) and two PatchGAN discriminators, with cycle and identity L1 terms."""

    # the reference's schedule: the learning rate constant for half the run, then linear to zero
    trainer_defaults: ClassVar[dict[str, Any]] = {"schedule": "linear-decay", "decay_start": 0.5}

    steps: int = Field(5000, gt=0, description="default training budget in optimizer steps (--steps overrides)")
    batch_size: int = Field(8, gt=0, description="images of each domain per step")
    loss: ComponentName("loss") = Field(  # type: ignore[valid-type]
        "lsgan", description='adversarial loss by name: "lsgan" (the reference\'s least squares), "nonsaturating", '
        '"hinge", "wasserstein-gp", or any registered adversarial loss'
    )
    lr_generator: float = Field(2e-4, gt=0, description="Adam learning rate of both generators (the reference's)")
    lr_discriminator: float = Field(2e-4, gt=0, description="Adam learning rate of both discriminators")
    discriminator_norm: Literal["auto", "instance", "batch", "none"] = Field(  # type: ignore[assignment]
        "auto", description='normalisation in the PatchGAN after its first convolution; auto: instance (the '
        'reference\'s), none with "wasserstein-gp" or spectral_norm'
    )
    generator: Literal["resnet", "unet"] = Field(
        "resnet", description="resnet: residual blocks at 1/2^downsamplings of the size (the reference's); unet: an "
        "encoder-decoder with skip connections"
    )
    width: int = Field(16, gt=0, description="channels of the generators' first layer, doubled at each downsampling")
    blocks: int = Field(3, ge=0, description="residual blocks of the resnet generator (reference: 9 at 256 px, 6 at 128)")
    downsamplings: int = Field(
        2, ge=1, le=8, description="stride-2 steps of either generator; the image size must be divisible by 2^this"
    )
    upsample: Literal["transpose", "resize"] = Field(
        "transpose", description="transpose: transposed convolutions (the reference's); resize: nearest 2x resize then "
        "a 3x3 convolution, which avoids checkerboard artifacts"
    )
    disc_width: int = Field(32, gt=0, description="channels of the discriminators' first layer")
    disc_layers: int = Field(
        2, ge=1, le=5, description="stride-2 layers of the PatchGAN: 3 sees 70x70 patches (the reference's at 256 px), "
        "2 sees 34x34, 1 sees 16x16"
    )
    cycle_weight: float = Field(10.0, ge=0, description="lambda_A: weight of the cycle L1 term |F(G(a)) - a|")
    cycle_weight_b: float | None = Field(
        1.0, ge=0, description="lambda_B: weight of |G(F(b)) - b|; None: cycle_weight (the reference's 10). Low when B "
        "holds detail that A cannot carry back (the textures of digits-m behind grey digits), so F is not pushed to "
        "hide it in its output: 1 measured best of 1, 3 and 10 on the demo pair"
    )
    identity: float = Field(
        0.5, ge=0, description="identity L1 |G(b) - b| weighted identity * lambda_B and |F(a) - a| weighted identity * "
        "lambda_A (the reference's lambda_identity convention: 0.5 gives 5 with lambda 10); where channels differ, the "
        "input is converted to the generator's input channels; 0 turns it off"
    )
    cycle_noise: float = Field(
        0.0, ge=0, description="std (images in [-1, 1]) of Gaussian noise added to each translation before it is "
        "translated back in the cycle terms, so a generator cannot hide the source in faint patterns that only the "
        "other one reads (Bashkirova et al. 2019); 0 turns it off (the reference)"
    )
    jitter: int = Field(
        0, ge=0, description="move each real image by a random offset of up to this many pixels (edges replicated) "
        "before it enters the step, as the reference's random crop does at 256 px; 0 turns it off"
    )
    channel_shuffle: bool = Field(
        False, description="give each real RGB image its channels in a random order before it enters the step: a "
        "colour augmentation that keeps every shape, drawn from the same domain where colours are symmetric in the "
        "channels (as digits-m's textures); grey images are left as they are"
    )
    pool_size: int = Field(50, ge=0, description="past fakes each discriminator also sees (image pool); 0 turns it off")
    semantic_weight: float = Field(
        0.0, ge=0, description="CyCADA's semantic consistency: cross-entropy of a frozen classifier of each target "
        "domain on translations against the source's own predicted class; 0 (default) turns it off"
    )
    semantic_features: tuple[str, str] = Field(
        ("digits", "digits-m"), description="the registered classifier feature networks of domain A and of domain B "
        "used by semantic_weight"
    )
    semantic_features_options: tuple[dict[str, Any], dict[str, Any]] = Field(
        ({}, {}), description='options of the two semantic_features networks, e.g. [{weights = "a.safetensors"}, {}] '
        "for a classifier of domain A trained apart from the one that judges class preservation"
    )
    semantic_directions: list[Literal["a2b", "b2a"]] = Field(
        ["a2b", "b2a"], min_length=1, description="the translations the semantic term applies to: a2b (G's), b2a "
        "(F's) or both"
    )
    class_planes: bool = Field(
        False, description="class-conditional discriminators: each image reaches D_A and D_B with one-hot planes of "
        "the class that the semantic_features classifiers read in its source (a translation carries its source's), "
        "so each domain is judged class by class; needs labelled domains with the same classes"
    )
    grid_examples: int = Field(6, ge=1, le=64, description="source images of each domain kept from the first batches; the sample grids show up to 6")


class CycleGANSampleConfig(SampleConfig):
    """Chosen when translating with a trained run: `gentool translate RUN --set shift=1`, `gentool run|eval --set
    sample.KEY=VALUE` for the translation metrics, `model.translate(x, direction, {"shift": 1})` in Python."""

    channel_orders: bool = Field(
        False, description="translate each image in every order of its channels (6 for RGB, 1 for grey) and keep the "
        "per-pixel median: a translation that no longer depends on the order, for runs trained with channel_shuffle"
    )
    shift: int = Field(
        0, ge=0, le=4, description="also translate each image moved by every whole-pixel offset within +-shift on "
        "both axes (edges replicated), move each translation back and keep the per-pixel median over all the views: "
        "(2 shift + 1)^2 times the views, for runs trained with jitter"
    )
    view_directions: list[Literal["a2b", "b2a"]] = Field(
        default_factory=list, description="the directions channel_orders and shift apply to (empty: both)"
    )


class DigitsMConfig(ComponentConfig):
    """Core's digits blended onto crops of procedural colour textures, MNIST-M style."""

    seed: int = Field(0, description="seed of the textures and of the crops")
    textures: int = Field(200, gt=0, description="distinct 128x128 textures the crops are cut from")


class DigitsMPairConfig(DigitsMConfig):
    """The demo pair: domain A the grey digits, domain B digits-m."""

    disjoint: bool = Field(
        True, description="domain A trains on the even-numbered train digits and domain B on the odd-numbered ones, "
        "so no digit appears in both (the test splits hold all 1,000 test digits in each domain)"
    )


class TranslationMetricConfig(ComponentConfig):
    """Options shared by the translation metrics."""

    directions: list[str] = Field(
        default_factory=list, description="directions to measure, e.g. [\"a2b\"]; empty: every direction of the model"
    )
    features: list[str] = Field(
        default_factory=list, description="feature network of each domain by name; empty: each domain's own "
        "(`features` of its DataInfo, else core's rule)"
    )
    features_options: dict[str, Any] = Field(default_factory=dict, description="options of the feature networks")


class DigitsMNetConfig(ComponentConfig):
    """The shipped digits-m classifier."""

    weights: str | None = Field(None, description="a .safetensors file to load instead of the shipped weights")
