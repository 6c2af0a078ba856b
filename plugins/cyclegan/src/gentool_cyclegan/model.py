"""The `cyclegan` model: two generators and two PatchGAN discriminators trained on unpaired two-domain data."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from gentool.api import (
    Batch,
    DataInfo,
    GentoolError,
    NotApplicable,
    Stage,
    batch_independent_critic,
    build,
    frozen,
    sample_options,
    spectral_norm_if,
)
from gentool_cyclegan.config import CycleGANConfig, CycleGANSampleConfig
from gentool_cyclegan.maths import (
    cycle_loss,
    identity_loss,
    median_over_views,
    network_channels,
    random_shift,
    shuffle_channels,
    to_channels,
)
from gentool_cyclegan.networks import PatchDiscriminator, ResnetGenerator, UnetGenerator, patch_grid
from gentool_cyclegan.pool import ImagePool

DIRECTIONS = ("a2b", "b2a")
GRID_ROWS = 6


class NoSamples(GentoolError, NotApplicable):
    """sample() of a translation model: a user error on the command line, "not applicable" to sample metrics."""


def _domain_shapes(info: DataInfo) -> tuple[tuple[int, ...], tuple[int, ...]]:
    if len(info.domains) != 2:
        raise GentoolError(
            f'The cyclegan model translates between two domains, but the dataset "{info.name}" has '
            f"{len(info.domains) or 'one'}. Use two-domain data: --dataset digits-m-pair, or the unpaired dataset "
            'with two sections, e.g. dataset = {name = "unpaired", a = {name = "image-folder", root = "A"}, '
            'b = {name = "image-folder", root = "B"}, size = 32}.'
        )
    shapes = tuple(tuple(d.shape) for d in info.domains)
    for key, shape in zip("ab", shapes):
        if len(shape) != 3 or shape[0] not in (1, 3):
            raise GentoolError(f"cyclegan: domain {key} must hold grey or RGB images (C, H, W); it holds {shape}.")
    if shapes[0][1:] != shapes[1][1:]:
        raise GentoolError(f"cyclegan: both domains must have one image size; got {shapes[0]} and {shapes[1]}.")
    return shapes[0], shapes[1]


def _shared_classes(info: DataInfo) -> int:
    """The class count both domains share (for model.class_planes), or a GentoolError saying why there is none."""
    counts = [d.num_classes for d in info.domains]
    if not counts[0] or counts[0] != counts[1]:
        raise GentoolError(
            f"cyclegan: model.class_planes needs two labelled domains with the same classes; this data has "
            f"{counts[0]} and {counts[1]} classes. Set model.class_planes=false."
        )
    return counts[0]


def _in_one_call(generator: nn.Module, x: Tensor, extra: Tensor | None) -> tuple[Tensor, Tensor | None]:
    """generator(x), and generator(extra) when given, from one call on both (for networks without batch statistics)."""
    if extra is None:
        return generator(x), None
    out = generator(torch.cat([x, extra]))
    return out[: len(x)], out[len(x) :]


class CycleGAN(nn.Module):
    """CycleGAN (Zhu et al. 2017): G = `gen_ab` maps domain A to B, F = `gen_ba` maps B to A; `disc_a` and `disc_b`
    judge each domain patch by patch. `translate(x, "a2b" | "b2a")` maps images in [0, 1]; `grid(n)` shows
    source | translation | round trip for both directions on source images kept from the first training batches."""

    conditional = False
    directions = DIRECTIONS
    ema_modules = ("gen_ab", "gen_ba")  # averaged when model.ema = true; translations then use the average

    def __init__(self, config: CycleGANConfig, info: DataInfo) -> None:
        super().__init__()
        self.config, self.info = config, info
        shape_a, shape_b = _domain_shapes(info)
        self.channels = (shape_a[0], shape_b[0])
        size = shape_a[1:]
        c = config
        if any(s % 2**c.downsamplings for s in size):
            raise GentoolError(
                f"cyclegan: the image size {size[0]}x{size[1]} must be divisible by 2^downsamplings = "
                f"{2**c.downsamplings}; set model.downsamplings lower or the dataset's size to a multiple of it."
            )
        if min(patch_grid(s, c.disc_layers) for s in size) < 1:
            raise GentoolError(f"cyclegan: {size[0]}x{size[1]} images are too small for disc_layers = {c.disc_layers}.")
        self.loss = build("loss", c.loss, c.loss_options, prefix="model.loss_options", role="adversarial")
        self.gen_ab, self.gen_ba = self._generator(*self.channels), self._generator(*self.channels[::-1])
        self.classes = _shared_classes(info) if c.class_planes else 0
        self.disc_a = self._discriminator(self.channels[0] + self.classes)
        self.disc_b = self._discriminator(self.channels[1] + self.classes)
        k = c.grid_examples
        self.register_buffer("grid_a", torch.zeros(k, *shape_a))
        self.register_buffer("grid_b", torch.zeros(k, *shape_b))
        self.register_buffer("grid_count", torch.zeros((), dtype=torch.long))
        seeds = torch.randint(2**62, (2,)).tolist()  # from the run's seeded global generator
        self.pools = (ImagePool(c.pool_size, seeds[0]), ImagePool(c.pool_size, seeds[1]))
        self._classifiers: tuple[nn.Module, nn.Module] | None = None

    def _generator(self, c_in: int, c_out: int) -> nn.Module:
        c = self.config
        if c.generator == "unet":
            return UnetGenerator(c_in, c_out, c.width, c.downsamplings, "instance", c.upsample)
        return ResnetGenerator(c_in, c_out, c.width, c.blocks, c.downsamplings, "instance", c.upsample)

    def _discriminator(self, channels: int) -> nn.Module:
        c = self.config
        norm = c.discriminator_norm
        if norm == "auto":
            norm = "none" if c.loss == "wasserstein-gp" or c.spectral_norm else "instance"
        return PatchDiscriminator(channels, c.disc_width, c.disc_layers, norm, spectral_norm_if(c.spectral_norm))

    # -- the networks' range and the critics ---------------------------------------------------------------------
    def _critic(self, disc: nn.Module):
        """disc's logits, one per patch, flattened (the reference averages its patch losses); without batch norm
        the losses may score real and fake images in one call."""

        def critic(x: Tensor) -> Tensor:
            return disc(x).reshape(-1)

        return critic if self.config.discriminator_norm == "batch" else batch_independent_critic(critic)

    def _check(self, x: Tensor, direction: str) -> int:
        if direction not in DIRECTIONS:
            raise GentoolError(f'Unknown direction "{direction}". Valid directions: {", ".join(DIRECTIONS)}.')
        source = DIRECTIONS.index(direction)
        shape = tuple(self.info.domains[source].shape)
        if x.dim() != 4 or tuple(x.shape[1:]) != shape:
            raise GentoolError(
                f"cyclegan {direction} takes images of shape {shape} (domain {'ab'[source]}); got {tuple(x.shape)[1:]}."
            )
        return source

    def translate(self, x: Tensor, direction: str, options: Any = None) -> Tensor:
        """Images of the source domain (N, C, H, W) in [0, 1] translated to the other domain, in [0, 1]; `options`
        (a CycleGANSampleConfig, a dict of its fields or None) may ask for the median over several views of x."""
        source = self._check(x, direction)
        views = sample_options(CycleGANSampleConfig, options)
        generator = self.gen_ab if source == 0 else self.gen_ba
        device = next(self.parameters()).device

        def once(images: Tensor) -> Tensor:
            return ((generator(images.to(device) * 2 - 1).float() + 1) / 2).clamp(0, 1)

        if views.view_directions and direction not in views.view_directions:
            return once(x)
        return median_over_views(once, x.to(device), views.channel_orders, views.shift)

    # -- the trainer's protocol ----------------------------------------------------------------------------------
    def stages(self) -> list[Stage]:
        return [Stage("adversarial")]

    def optimizers(self, stage: str) -> dict[str, torch.optim.Optimizer]:
        c = self.config
        betas = (c.beta1, c.beta2)
        gens = [*self.gen_ab.parameters(), *self.gen_ba.parameters()]
        discs = [*self.disc_a.parameters(), *self.disc_b.parameters()]
        return {
            "gen": torch.optim.Adam(gens, lr=c.lr_generator, betas=betas),
            "disc": torch.optim.Adam(discs, lr=c.lr_discriminator, betas=betas),
        }

    def train_step(self, batch: Batch, ctx: Any) -> dict[str, Any]:
        if len(batch.domains) != 2:
            raise GentoolError("cyclegan needs batches of two domains (Batch.domains); the dataset gave one.")
        self._keep_for_grid(batch.domains[0].x, batch.domains[1].x)
        c = self.config
        a, b = (random_shift(d.x, c.jitter) for d in batch.domains)
        if c.channel_shuffle:
            a, b = shuffle_channels(a), shuffle_channels(b)
        a, b = a * 2 - 1, b * 2 - 1
        ca, cb = self.channels
        critic_a, critic_b = self._critic(self.disc_a), self._critic(self.disc_b)
        with ctx.autocast():
            # A generator treats every image alone (instance norm), so its translation and its identity input go
            # through it as one batch: the same numbers, and convolutions at twice the batch run nearer the peak.
            fake_b, same_b = _in_one_call(self.gen_ab, a, to_channels(b, ca) if c.identity > 0 else None)
            fake_a, same_a = _in_one_call(self.gen_ba, b, to_channels(a, cb) if c.identity > 0 else None)
            rec_a, rec_b = self.gen_ba(self._noisy(fake_b)), self.gen_ab(self._noisy(fake_a))
        logs: dict[str, Any] = {}
        labels = self._source_classes(a, b) if c.semantic_weight > 0 or self.classes else None
        lambda_a, lambda_b = c.cycle_weight, c.cycle_weight if c.cycle_weight_b is None else c.cycle_weight_b
        cyc = cycle_loss(a, rec_a, lambda_a) + cycle_loss(b, rec_b, lambda_b)
        g_loss = cyc
        if same_a is not None and same_b is not None:  # as the reference: G's identity term weighs lambda_B, F's lambda_A
            idt = identity_loss(b, same_b, c.identity * lambda_b) + identity_loss(a, same_a, c.identity * lambda_a)
            g_loss = g_loss + idt
            logs["identity"] = idt.detach()
        if c.semantic_weight > 0:
            sem = self._semantic(labels, fake_a, fake_b)
            g_loss = g_loss + c.semantic_weight * sem
            logs["semantic"] = sem.detach()
        if self.classes:  # every image D sees carries its source's class: a and F(a') keep a's, b and G(b') b's
            ya, yb = labels
            a, b = self._planes(a, ya), self._planes(b, yb)
            fake_a, fake_b = self._planes(fake_a, yb), self._planes(fake_b, ya)
        with frozen(self.disc_a), frozen(self.disc_b), ctx.autocast():
            adv = self.loss.generator(critic_b(fake_b)) + self.loss.generator(critic_a(fake_a))
        g_loss = g_loss + adv
        ctx.step("gen", g_loss)
        old_a, old_b = self.pools[0].query(fake_a), self.pools[1].query(fake_b)
        for _ in range(c.n_critic):
            with ctx.autocast():
                d_loss = self.loss.discriminator(critic_a, a, old_a) + self.loss.discriminator(critic_b, b, old_b)
            ctx.step("disc", d_loss)
        return {"d_loss": d_loss.detach(), "g_adv": adv.detach(), "cycle": cyc.detach(), **logs}

    def _noisy(self, x: Tensor) -> Tensor:
        """A translation on its way back in the cycle terms, with Gaussian noise of std `cycle_noise` added."""
        sigma = self.config.cycle_noise
        return x + sigma * torch.randn_like(x) if sigma > 0 else x

    def _networks(self, device: torch.device) -> tuple[nn.Module, nn.Module]:
        """The frozen classifiers of `semantic_features` (domain A's, domain B's), built on first use."""
        if self._classifiers is None:
            nets = []
            c = self.config
            for name, options in zip(c.semantic_features, c.semantic_features_options, strict=True):
                net = build("features", name, options, prefix="model.semantic_features_options").to(device).eval()
                net.requires_grad_(False)
                nets.append(net)
            self._classifiers = (nets[0], nets[1])
        return self._classifiers

    @staticmethod
    def _logits(net: nn.Module, x: Tensor) -> Tensor:
        """A classifier's logits of images in [-1, 1], brought to the network's channels."""
        return net(to_channels((x.float() + 1) / 2, network_channels(net, x.shape[1])))["logits"]

    @torch.no_grad()
    def _source_classes(self, a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
        """The classes the `semantic_features` classifiers read in a batch of each domain (int64 (N,) each)."""
        net_a, net_b = self._networks(a.device)
        return self._logits(net_a, a).argmax(1), self._logits(net_b, b).argmax(1)

    def _semantic(self, labels: tuple[Tensor, Tensor], fake_a: Tensor, fake_b: Tensor) -> Tensor:
        """CyCADA's semantic consistency: each translation (of `semantic_directions`) keeps the class a frozen
        classifier sees in its source (`labels`, from `_source_classes`); a translation is read by the network of
        its target domain."""
        net_a, net_b = self._networks(fake_a.device)
        terms = {"a2b": (labels[0], net_b, fake_b), "b2a": (labels[1], net_a, fake_a)}
        loss = fake_a.new_zeros((), dtype=torch.float32)
        for direction in self.config.semantic_directions:
            label, target_net, translated = terms[direction]
            loss = loss + nn.functional.cross_entropy(self._logits(target_net, translated), label)
        return loss

    def _planes(self, x: Tensor, labels: Tensor) -> Tensor:
        """x with one-hot planes of `labels` appended to its channels (what a class-conditional D reads)."""
        planes = nn.functional.one_hot(labels, self.classes).to(x.dtype)[:, :, None, None]
        return torch.cat([x, planes.expand(-1, -1, *x.shape[2:])], 1)

    # -- state that must survive a resume ------------------------------------------------------------------------
    def extra_state(self) -> dict[str, Tensor]:
        """The two image pools: their stored fakes and random generators."""
        return {**self.pools[0].state("pool_a."), **self.pools[1].state("pool_b.")}

    def load_extra_state(self, state: dict[str, Tensor]) -> None:
        device = self.grid_a.device
        self.pools[0].load_state(state, "pool_a.", device)
        self.pools[1].load_state(state, "pool_b.", device)

    # -- what users see ------------------------------------------------------------------------------------------
    @torch.no_grad()
    def _keep_for_grid(self, a: Tensor, b: Tensor) -> None:
        """The first `grid_examples` training images of each domain become the fixed sources of the sample grids."""
        have, k = int(self.grid_count), len(self.grid_a)
        if have < k:
            take = min(k - have, len(a), len(b))
            self.grid_a[have : have + take] = a[:take]
            self.grid_b[have : have + take] = b[:take]
            self.grid_count += take

    @torch.no_grad()
    def grid(self, n: int = 36, generator: torch.Generator | None = None) -> Tensor:
        """A square of 6 x 6 RGB images, one row per kept source pair: a | G(a) | F(G(a)) | b | F(b) | G(F(b)), so
        a square layout shows the six columns (rows past the kept pairs are blank; `n` and `generator` are unused:
        the grid is the same fixed sources at every step)."""
        have = int(self.grid_count)
        if have == 0:
            raise GentoolError("cyclegan: no source images are kept yet (the grid shows them after a training step).")
        k = min(have, GRID_ROWS)
        a, b = self.grid_a[:k], self.grid_b[:k]
        fake_b, fake_a = self.translate(a, "a2b"), self.translate(b, "b2a")
        columns = [a, fake_b, self.translate(fake_b, "b2a"), b, fake_a, self.translate(fake_a, "a2b")]
        images = torch.stack([to_channels(x, 3) for x in columns], 1).reshape(k * 6, 3, *a.shape[2:])
        blank = torch.ones((GRID_ROWS - k) * 6, *images.shape[1:], device=images.device)
        return torch.cat([images, blank])

    def sample(self, n: int, *, labels: Tensor | None = None, generator: torch.Generator | None = None,
               options: Any = None) -> Tensor:
        raise NoSamples(
            "the cyclegan model translates images and draws no samples from noise: use translate(x, direction), "
            "`gentool translate`, or the metrics translation-fid, class-preservation and cycle."
        )
