"""The image pool of Shrivastava et al. (2017) as CycleGAN uses it: the discriminator sees past fakes too.

Until the pool holds `size` images every fake is stored and passed on. After that each fake, with probability
1/2, is swapped for a randomly chosen stored one (which is passed on instead); otherwise it is passed on as is.
So about half of what the discriminator sees comes from earlier generators, which damps oscillation.
"""

from __future__ import annotations

import torch


class ImagePool:
    """`query(images) -> images` of the same shape (see the module docstring); `state()` / `load_state(d)` hold the
    stored images and the pool's own random generator, so a resumed run draws exactly what it would have drawn."""

    def __init__(self, size: int = 50, seed: int = 0) -> None:
        self.size = size
        self.images: torch.Tensor | None = None  # (stored, C, H, W), detached
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return 0 if self.images is None else len(self.images)

    @torch.no_grad()
    def query(self, images: torch.Tensor) -> torch.Tensor:
        if self.size == 0:
            return images
        images = images.detach()
        out = []
        for image in images:
            image = image.unsqueeze(0)
            if len(self) < self.size:
                self.images = image.clone() if self.images is None else torch.cat([self.images, image])
                out.append(image)
            elif torch.rand((), generator=self.generator) < 0.5:
                k = int(torch.randint(self.size, (), generator=self.generator))
                out.append(self.images[k : k + 1].clone())
                self.images[k] = image[0]
            else:
                out.append(image)
        return torch.cat(out)

    def state(self, prefix: str) -> dict[str, torch.Tensor]:
        state = {f"{prefix}generator": self.generator.get_state()}
        if self.images is not None:
            state[f"{prefix}images"] = self.images.detach().cpu().clone()
        return state

    def load_state(self, state: dict[str, torch.Tensor], prefix: str, device: torch.device | str = "cpu") -> None:
        self.generator.set_state(state[f"{prefix}generator"].to(torch.uint8).cpu())
        images = state.get(f"{prefix}images")
        self.images = None if images is None else images.to(device).clone()
