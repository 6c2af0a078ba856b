"""Endless shuffled batches of the train split: on the device for in-memory sets, a DataLoader for streamed ones."""

from __future__ import annotations

from typing import Any

import torch

from gentool.datasets.base import InMemorySplit
from gentool.protocols import Batch


class DeviceBatches:
    """Batches cut from tensors held on the device; rank r of w draws from items r, r+w, r+2w, ...

    Each epoch is a fresh seeded permutation of this rank's shard; a trailing partial batch is dropped.
    """

    def __init__(self, split: InMemorySplit, batch_size: int, device: torch.device, seed: int, rank: int, world: int):
        self.x = split.x.to(device)
        self.y = split.y.to(device) if split.y is not None else None
        self.shard = torch.arange(rank, len(split), world, device=device)
        self.batch_size = min(batch_size, len(self.shard))
        self.generator = torch.Generator().manual_seed(seed * 7919 + rank)
        self.order = self._new_order()
        self.position = 0

    def _new_order(self) -> torch.Tensor:
        perm = torch.randperm(len(self.shard), generator=self.generator)
        return self.shard[perm.to(self.shard.device)]

    def next(self) -> Batch:
        if self.position + self.batch_size > len(self.order):
            self.order, self.position = self._new_order(), 0
        index = self.order[self.position : self.position + self.batch_size]
        self.position += self.batch_size
        return Batch(self.x[index], self.y[index] if self.y is not None else None, index)

    def state_dict(self) -> dict[str, Any]:
        return {
            "generator": self.generator.get_state(),
            "order": self.order.cpu(),
            "position": torch.tensor(self.position),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.set_state(state["generator"])
        self.order = state["order"].to(self.shard.device)
        self.position = int(state["position"])


class _Indexed(torch.utils.data.Dataset):
    def __init__(self, dataset: Any, shard: list[int]):
        self.dataset, self.shard = dataset, shard

    def __len__(self) -> int:
        return len(self.shard)

    def __getitem__(self, i: int):
        x, y = self.dataset[self.shard[i]]
        return x, y, self.shard[i]


class StreamedBatches:
    """Batches from a map-style dataset of (x, label) read by DataLoader workers; the shard rule is as above."""

    def __init__(self, dataset: Any, batch_size: int, device: torch.device, seed: int, rank: int, world: int):
        self.device = device
        shard = list(range(rank, len(dataset), world))
        self.generator = torch.Generator().manual_seed(seed * 7919 + rank)
        self.loader = torch.utils.data.DataLoader(
            _Indexed(dataset, shard),
            batch_size=min(batch_size, len(shard)),
            shuffle=True,
            drop_last=True,
            num_workers=2,
            persistent_workers=True,
            generator=self.generator,
            pin_memory=device.type == "cuda",
        )
        self.iterator = iter(self.loader)

    def next(self) -> Batch:
        try:
            x, y, index = next(self.iterator)
        except StopIteration:
            self.iterator = iter(self.loader)
            x, y, index = next(self.iterator)
        y = y.to(self.device, non_blocking=True) if bool((y >= 0).all()) else None
        return Batch(x.to(self.device, non_blocking=True), y, index.to(self.device))

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.set_state(state["generator"])
        self.iterator = iter(self.loader)


def make_batches(split: Any, batch_size: int, device: torch.device, seed: int, rank: int = 0, world: int = 1):
    """DeviceBatches for an InMemorySplit, StreamedBatches for any other map-style dataset."""
    kind = DeviceBatches if isinstance(split, InMemorySplit) else StreamedBatches
    return kind(split, batch_size, device, seed, rank, world)
