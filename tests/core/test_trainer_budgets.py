"""Budgets and data paths of the trainer: wall-clock budgets, stage splits, streamed folders."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from gentool.trainer.loop import train


def test_minutes_budget_stops_on_time(tmp_path):
    run = train({"model": {"name": "tiny"}, "minutes": 0.02, "out": str(tmp_path / "m"),
                 "trainer": {"log_every": 5, "sample_every": 10_000, "checkpoint_every": 10_000}})
    assert run.summary["steps"] > 5
    assert run.summary["train_seconds"] < 0.02 * 60 + 1.0  # 1.2 s budget, one slow step of slack


def test_stages_split_the_step_budget(tmp_path):
    run = train({"model": {"name": "tiny", "two_stages": True}, "steps": 10, "out": str(tmp_path / "s"),
                 "trainer": {"log_every": 1}})
    records = [json.loads(line) for line in (run.dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["stage"] for r in records] == ["fit"] * 5 + ["refine"] * 5
    assert [r["step"] for r in records] == list(range(1, 11))


def test_streamed_image_folder_trains(tmp_path):
    root = tmp_path / "images"
    rng = np.random.default_rng(0)
    for label in ("a", "b"):
        (root / label).mkdir(parents=True)
        for i in range(12):
            Image.fromarray(rng.integers(0, 255, (20, 24, 3), dtype=np.uint8)).save(root / label / f"{i}.png")
    run = train({"model": {"name": "tiny", "batch_size": 4}, "steps": 3, "out": str(tmp_path / "f"),
                 "dataset": {"name": "image-folder", "root": str(root), "size": 16, "in_memory": False}})
    assert run.summary["steps"] == 3
    assert run.model.info.shape == (3, 16, 16) and run.model.info.num_classes == 2
