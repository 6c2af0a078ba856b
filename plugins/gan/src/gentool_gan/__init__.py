"""gentool-gan: DCGAN (Radford et al. 2016), and an MLP pair for 2-D point sets."""

__version__ = "0.2.0"
