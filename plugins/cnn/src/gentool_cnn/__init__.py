"""gentool-cnn: Generative Latent Optimization (Bojanowski et al. 2018), a CNN generator trained without a critic."""

__version__ = "0.1.0"
