"""gentool-stylegan: a StyleGAN2-style generator and residual discriminator, with optional progressive growing."""

__version__ = "0.1.0"
