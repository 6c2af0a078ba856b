"""Class-conditional DCGAN networks sized from the image shape; both work in the critic's pixel range [-1, 1].

G: z -> seed -> transposed convolutions, with conditional BatchNorm (a gain and bias per class) after each layer.
D: strided convolutions with LeakyReLU(0.2); the label enters by projection (Miyato & Koyama 2018) or as one-hot
input planes (concatenation).
"""

from __future__ import annotations

import torch
from torch import nn

from gentool.api import dcgan_init, doubling_steps, embed_labels, spectral_norm_if, strided_features


class ConditionalBatchNorm2d(nn.Module):
    """`forward(x, labels)`: BatchNorm without its own affine, then a per-class gain (init 1) and bias (init 0)."""

    def __init__(self, channels: int, num_classes: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.gain = nn.Embedding(num_classes, channels)
        self.bias = nn.Embedding(num_classes, channels)
        nn.init.ones_(self.gain.weight)
        nn.init.zeros_(self.bias.weight)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        gain, bias = embed_labels(self.gain, labels), embed_labels(self.bias, labels)
        return self.norm(x) * gain[:, :, None, None] + bias[:, :, None, None]


class UnconditionalBatchNorm2d(nn.BatchNorm2d):
    """`forward(x, labels)`: BatchNorm with one learned gain and bias for every class (the labels are ignored)."""

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:  # noqa: ARG002 - as ConditionalBatchNorm2d
        return super().forward(x)


class Generator(nn.Module):
    """`forward(z (N, latent_dim), labels (N,)) -> images (N, C, H, W)` in [-1, 1].

    Linear -> (width * 2^(k-1), H/2^k, W/2^k) seed; then k transposed convolutions (4x4, stride 2) doubling the
    size and halving the channels down to `width`; conditional BatchNorm and ReLU after the seed and after each of
    them (with `conditional_norms="coarse"`, plain BatchNorm after the last, full-size one); a 3x3 convolution at
    full size to C channels and tanh.
    """

    def __init__(self, shape: tuple[int, ...], latent_dim: int, num_classes: int, width: int,
                 conditional_norms: str = "coarse") -> None:
        super().__init__()
        channels, height, wide = shape
        k = doubling_steps(height, wide, "The cgan model")
        self.seed_shape = (width * 2 ** (k - 1), height // 2**k, wide // 2**k)
        self.project = nn.Linear(latent_dim, self.seed_shape[0] * self.seed_shape[1] * self.seed_shape[2], bias=False)
        self.ups = nn.ModuleList()
        self.norms = nn.ModuleList([ConditionalBatchNorm2d(self.seed_shape[0], num_classes)])
        c = self.seed_shape[0]
        for _ in range(k - 1):
            self.ups.append(nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False))
            self.norms.append(ConditionalBatchNorm2d(c // 2, num_classes))
            c //= 2
        self.ups.append(nn.ConvTranspose2d(c, c, 4, 2, 1, bias=False))
        self.norms.append(ConditionalBatchNorm2d(c, num_classes) if conditional_norms == "all"
                          else UnconditionalBatchNorm2d(c))
        self.out = nn.Conv2d(c, channels, 3, 1, 1)
        dcgan_init(self)

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        h = self.project(z).view(len(z), *self.seed_shape)
        h = torch.relu(self.norms[0](h, labels))
        for up, norm in zip(self.ups, self.norms[1:]):
            h = torch.relu(norm(up(h), labels))
        return torch.tanh(self.out(h))


class Discriminator(nn.Module):
    """`forward(x (N, C, H, W) in [-1, 1], labels (N,)) -> logits (N,)`.

    features(x): k strided 4x4 convolutions (width, 2 width, ...) with LeakyReLU(0.2), flattened to phi (N, F).
    "projection": logit = w . phi + <embed(y), phi>; "concat": one-hot label planes join the input channels and
    logit = w . phi. `batch_norm` adds BatchNorm after every convolution but the first (DCGAN's D).
    """

    def __init__(
        self, shape: tuple[int, ...], num_classes: int, width: int, conditioning: str, spectral_norm: bool = False,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        channels, height, wide = shape
        k = doubling_steps(height, wide, "The cgan model")
        norm = spectral_norm_if(spectral_norm)
        self.num_classes, self.conditioning = num_classes, conditioning
        c_in = channels + (num_classes if conditioning == "concat" else 0)
        self.features, c_last = strided_features(c_in, width, k, norm, batch_norm)
        size = c_last * (height // 2**k) * (wide // 2**k)
        self.head = norm(nn.Linear(size, 1))
        self.embed = norm(nn.Embedding(num_classes, size)) if conditioning == "projection" else None
        dcgan_init(self)
        if self.embed is not None:
            nn.init.normal_(self.embed.weight, 0.0, 0.02)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.conditioning == "concat":
            planes = nn.functional.one_hot(labels, self.num_classes).to(x.dtype)[:, :, None, None]
            x = torch.cat([x, planes.expand(-1, -1, *x.shape[2:])], dim=1)
        phi = self.features(x)
        logit = self.head(phi).squeeze(1)
        if self.embed is not None:
            logit = logit + (self.embed(labels) * phi).sum(dim=1)
        return logit
