"""Procedural colour textures that stand in for crops of photographs (no photograph ships with gentool's
dependencies, and nothing may be downloaded).

Each texture is a "dead leaves" image (Lee, Mumford & Huang 2001: occluding discs with power-law radii, a
standard model of natural-image statistics) whose discs carry their own colour and shading, multiplied by
coloured 1/f^beta noise (the spectrum of natural photographs). Deterministic for a seed; numpy only.
"""

from __future__ import annotations

import numpy as np


def fractal_noise(rng: np.random.Generator, size: int, beta: float) -> np.ndarray:
    """(size, size) noise with power spectrum 1/f^beta, scaled to zero mean and unit std."""
    f = np.fft.fftfreq(size)
    radius = np.sqrt(f[:, None] ** 2 + f[None, :] ** 2)
    radius[0, 0] = 1.0
    spectrum = (rng.standard_normal((size, size)) + 1j * rng.standard_normal((size, size))) / radius ** (beta / 2)
    spectrum[0, 0] = 0.0
    noise = np.fft.ifft2(spectrum).real
    return (noise - noise.mean()) / (noise.std() + 1e-8)


def dead_leaves(rng: np.random.Generator, size: int, discs: int = 250) -> np.ndarray:
    """(size, size, 3) in [0, 1]: `discs` coloured discs dropped front to back, radii ~ r^-3 between 2 and size/3."""
    image = np.full((size, size, 3), np.nan)
    r_min, r_max = 2.0, size / 3
    u = rng.random(discs)
    radii = (r_min**-2 - u * (r_min**-2 - r_max**-2)) ** -0.5  # inverse CDF of the density ~ r^-3
    palette = rng.random((3, 3))  # a few base hues per texture make it look like one scene
    for r in radii:
        cx, cy = rng.random(2) * size
        colour = np.clip(palette[rng.integers(3)] + rng.normal(0, 0.15, 3), 0, 1)
        tilt = rng.normal(size=2) * 0.25 / size
        y0, y1 = max(0, int(cy - r)), min(size, int(cy + r) + 1)
        x0, x1 = max(0, int(cx - r)), min(size, int(cx + r) + 1)
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float64)
        window = image[y0:y1, x0:x1]
        inside = ((xx - cx) ** 2 + (yy - cy) ** 2 <= r * r) & np.isnan(window[..., 0])
        shade = 1 + (xx - cx) * tilt[0] + (yy - cy) * tilt[1]
        window[inside] = np.clip(colour * shade[inside, None], 0, 1)
    holes = np.isnan(image[..., 0])
    image[holes] = palette[0]
    return image


def texture(seed: int, size: int = 128) -> np.ndarray:
    """One (size, size, 3) float texture in [0, 1] for `seed`."""
    rng = np.random.default_rng(seed)
    base = dead_leaves(rng, size)
    beta = rng.uniform(1.6, 2.4)
    grain = np.stack([fractal_noise(rng, size, beta) for _ in range(3)], -1)
    mix = 0.1 + 0.1 * rng.random()
    return np.clip(base * (1 + mix * grain), 0, 1)


def random_crops(rng: np.random.Generator, textures: np.ndarray, n: int, side: int) -> np.ndarray:
    """n crops (n, side, side, 3) from random textures at random positions, each flipped at random."""
    t, size = len(textures), textures.shape[1]
    which = rng.integers(t, size=n)
    top = rng.integers(size - side + 1, size=n)
    left = rng.integers(size - side + 1, size=n)
    rows = top[:, None] + np.arange(side)[None, :]
    cols = left[:, None] + np.arange(side)[None, :]
    crops = textures[which[:, None, None], rows[:, :, None], cols[:, None, :]]
    flip = rng.random(n) < 0.5
    crops[flip] = crops[flip, :, ::-1]
    return crops


def blend(digits: np.ndarray, crops: np.ndarray) -> np.ndarray:
    """MNIST-M's blend (Ganin et al. 2016): |crop - digit| per channel, so strokes invert the background's colour.
    `digits` (n, H, W) in [0, 1], `crops` (n, H, W, 3); returns (n, 3, H, W) float32."""
    out = np.abs(crops - digits[..., None])
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2), dtype=np.float32)
