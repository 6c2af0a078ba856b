"""Endless shuffled batches of the train split: on the device for in-memory sets, a DataLoader for streamed ones."""

from __future__ import annotations

import os
from typing import Any

import torch

from gentool.datasets.base import InMemorySplit, MultiDomainSplit
from gentool.protocols import Batch


class DeviceBatches:
    """Batches cut from tensors held on the device; rank r of w draws from items r, r+w, r+2w, ...

    Each epoch is a fresh seeded permutation of this rank's shard; a trailing partial batch is dropped.
    """

    def __init__(self, split: InMemorySplit, batch_size: int, device: torch.device, seed: int, rank: int, world: int):
        self.x = split.x.to(device)
        self.y = split.y.to(device) if split.y is not None else None
        self.shard = torch.arange(rank, len(split), world, device=device)
        self.set_batch_size(batch_size)
        self.generator = torch.Generator().manual_seed(seed * 7919 + rank)
        self.order = self._new_order()
        self.position = 0

    def set_batch_size(self, batch_size: int) -> None:
        """Cut the following batches `batch_size` items long (at most the shard); the order so far is kept."""
        self.batch_size = min(batch_size, len(self.shard))

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


def loader_workers(world: int) -> int:
    """DataLoader workers per rank: the CPUs this process may use, shared among the ranks, one left to the rank's
    own process; at least 1, at most 8."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(8, cpus // max(world, 1) - 1))


class _Indexed(torch.utils.data.Dataset):
    def __init__(self, dataset: Any, shard: list[int]):
        self.dataset, self.shard = dataset, shard

    def __len__(self) -> int:
        return len(self.shard)

    def __getitem__(self, i: int):
        x, y = self.dataset[self.shard[i]]
        return x, y, self.shard[i]


class StreamedBatches:
    """Batches from a map-style dataset of (x, label) read by persistent DataLoader workers (`loader_workers`); on
    CUDA into pinned memory, copied without blocking. The shard rule is as above."""

    def __init__(self, dataset: Any, batch_size: int, device: torch.device, seed: int, rank: int, world: int):
        self.device, self.workers = device, loader_workers(world)
        self.items = _Indexed(dataset, list(range(rank, len(dataset), world)))
        self.generator = torch.Generator().manual_seed(seed * 7919 + rank)
        self.set_batch_size(batch_size)

    def set_batch_size(self, batch_size: int) -> None:
        """Read the following batches `batch_size` items long (at most the shard), with fresh loader workers."""
        batch_size = min(batch_size, len(self.items))
        if getattr(self, "loader", None) is not None and self.loader.batch_size == batch_size:
            return
        self.loader = torch.utils.data.DataLoader(
            self.items,
            batch_size=batch_size,
            shuffle=True,
            drop_last=True,
            num_workers=self.workers,
            persistent_workers=True,
            generator=self.generator,
            pin_memory=self.device.type == "cuda",
        )
        self.iterator = iter(self.loader)

    def next(self) -> Batch:
        try:
            x, y, index = next(self.iterator)
        except StopIteration:
            self.iterator = iter(self.loader)
            x, y, index = next(self.iterator)
        y = y.to(self.device, non_blocking=True) if bool((y >= 0).all()) else None
        return Batch(x.to(self.device, non_blocking=True), y, index.to(self.device, non_blocking=True))

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.set_state(state["generator"])
        self.iterator = iter(self.loader)


class MultiDomainBatches:
    """One batcher per domain of a MultiDomainSplit, each shuffled on its own seed: `next()` gives domain 0's batch
    with every domain's batch in `Batch.domains` (unpaired: item i of one domain has nothing to do with item i of
    another)."""

    def __init__(self, split: MultiDomainSplit, batch_size: int, device: torch.device, seed: int, rank: int, world: int):
        self.parts = [
            make_batches(part, batch_size, device, seed + 104729 * d, rank, world) for d, part in enumerate(split.domains)
        ]
        self.set_batch_size(batch_size)

    def set_batch_size(self, batch_size: int) -> None:
        """The same batch size in every domain: the smallest domain's shard bounds it."""
        smallest = min(len(getattr(p, "shard", getattr(p, "items", ()))) for p in self.parts)
        for part in self.parts:
            part.set_batch_size(min(batch_size, smallest))

    def next(self) -> Batch:
        batches = tuple(part.next() for part in self.parts)
        first = batches[0]
        return Batch(first.x, first.y, first.index, batches)

    def state_dict(self) -> dict[str, Any]:
        return {str(d): part.state_dict() for d, part in enumerate(self.parts)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for d, part in enumerate(self.parts):
            part.load_state_dict(state[str(d)])


def make_batches(split: Any, batch_size: int, device: torch.device, seed: int, rank: int = 0, world: int = 1):
    """DeviceBatches for an InMemorySplit, MultiDomainBatches for a MultiDomainSplit, StreamedBatches for any other
    map-style dataset."""
    if isinstance(split, MultiDomainSplit):
        return MultiDomainBatches(split, batch_size, device, seed, rank, world)
    kind = DeviceBatches if isinstance(split, InMemorySplit) else StreamedBatches
    return kind(split, batch_size, device, seed, rank, world)
