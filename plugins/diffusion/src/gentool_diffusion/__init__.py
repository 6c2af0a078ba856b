"""gentool-diffusion: the `flow` (flow matching) and `ddpm` (DDPM/DDIM) models, sharing one small U-Net."""

__version__ = "0.1.0"
