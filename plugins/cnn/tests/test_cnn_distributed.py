"""GLO under torchrun: each rank trains its shard's latents; the mixture is fitted over every rank's trained rows."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from gentool.api import load
from gentool_cnn.mixture import fit_mixture

SCRIPT = """
import sys, torch
from gentool.api import train
torch.set_num_threads(1)
train({"model": {"name": "cnn", "steps": 3, "batch_size": 8, "width": 8, "latent_dim": 4},
               "out": sys.argv[1], "trainer": {"log_every": 1, "sample_every": 3, "checkpoint_every": 3}})
"""


@pytest.mark.slow
def test_two_ranks_train_their_own_shards_and_share_one_mixture(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    out = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", str(script), str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    model = load(out)
    rows = model.trained.nonzero().squeeze(1)
    assert len(rows) == 2 * 3 * 8, "each of 2 ranks trained 3 batches of 8 distinct images"
    assert set((rows % 2).tolist()) == {0, 1}, "rank r trains items r, r+2, ...: both shards are in the saved table"
    assert torch.allclose(model.latents[rows].norm(dim=1), torch.ones(len(rows)), atol=1e-5)
    weights, means, chols = fit_mixture(model.latents[rows], model.config.prior_components)
    k = len(weights)  # fewer components than asked for when there are fewer codes; the rest weigh nothing
    assert torch.allclose(model.prior_weights[:k], weights, atol=1e-6) and not model.prior_weights[k:].any()
    assert torch.allclose(model.prior_means[:k], means, atol=1e-6)
    assert torch.allclose(model.prior_chols[:k], chols, atol=1e-5)
