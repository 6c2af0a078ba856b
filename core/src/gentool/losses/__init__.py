"""Core's generic losses: adversarial (GAN family) and reconstruction (autoencoders, GLO).

Importing this package costs nothing: the registrations are lazy `"module:attr"` targets.
"""

from __future__ import annotations

from typing import Any

ADVERSARIAL = "gentool.losses.adversarial"
RECONSTRUCTION = "gentool.losses.reconstruction"


def register_builtin(register: Any) -> None:
    """Register the built-in losses with a plugin-style `register` callable."""
    register("nonsaturating", f"{ADVERSARIAL}:NonSaturating", summary="GAN loss of Goodfellow et al., -log D(G(z)) for G")
    register("hinge", f"{ADVERSARIAL}:Hinge", summary="hinge GAN loss (Lim & Ye 2017; SAGAN, BigGAN)")
    register(
        "wasserstein-gp",
        f"{ADVERSARIAL}:WassersteinGP",
        config=f"{ADVERSARIAL}:WassersteinGPConfig",
        summary="Wasserstein critic with gradient penalty (Gulrajani et al. 2017)",
    )
    register("lsgan", f"{ADVERSARIAL}:LeastSquares", summary="least-squares GAN loss (Mao et al. 2017)")
    register(
        "forward-kl",
        f"{ADVERSARIAL}:ForwardKL",
        config=f"{ADVERSARIAL}:ForwardKLConfig",
        summary="KL(data || model) for G on a logistic D, each fake weighted by D's density ratio (f-GAN)",
    )
    register("bce", f"{RECONSTRUCTION}:BinaryCrossEntropy", summary="Bernoulli likelihood on pixels in [0, 1]")
    register("mse", f"{RECONSTRUCTION}:SquaredError", summary="squared error, summed per sample (Gaussian likelihood)")
    register("l2", f"{RECONSTRUCTION}:SquaredError", summary="squared error, summed per sample (same as mse)")
    register("l1", f"{RECONSTRUCTION}:AbsoluteError", summary="absolute error, summed per sample")
    register(
        "laplacian",
        f"{RECONSTRUCTION}:LaplacianPyramid",
        config=f"{RECONSTRUCTION}:LaplacianPyramidConfig",
        summary="Laplacian-pyramid L1 loss of GLO (Bojanowski et al. 2018)",
    )
