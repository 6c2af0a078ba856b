"""gentool-cyclegan: unpaired image-to-image translation (CycleGAN, Zhu et al. 2017), its metrics and a demo pair."""

__version__ = "0.1.0"
