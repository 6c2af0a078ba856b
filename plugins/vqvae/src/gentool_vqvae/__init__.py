"""gentool-vqvae: the `vqvae` model and the `vq`, `vq-ema` and `fsq` quantizers (importing this imports no torch)."""

__version__ = "0.1.0"
