"""gentool-vae: the variational autoencoder `vae` and its `elbo` metric (importing this package imports no torch)."""

__version__ = "0.2.0"
