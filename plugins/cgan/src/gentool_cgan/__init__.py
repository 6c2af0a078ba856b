"""gentool-cgan: a class-conditional DCGAN with a projection (Miyato & Koyama 2018) or concatenation discriminator."""

__version__ = "0.2.0"
