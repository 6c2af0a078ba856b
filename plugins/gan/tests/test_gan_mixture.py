"""The mixture of generators: z picks a member with equal odds, a training batch splits evenly, each latent goes
through its own member, and a mixture trains, saves and reloads in a new process."""

from __future__ import annotations

import pytest
import torch

from gentool.api import DataInfo, check_latents, check_model_trains
from gentool_gan.config import GANConfig
from gentool_gan.dcgan import Generator
from gentool_gan.mixture import GeneratorMixture, member_of, stratified_latents
from gentool_gan.model import GAN

DIGITS = DataInfo("image", (1, 28, 28), 10, name="digits")



@pytest.mark.parametrize("members", [2, 3, 5])
def test_normal_latents_pick_each_member_equally_often(members):
    z = torch.randn(200_000, 4, generator=torch.Generator().manual_seed(0))
    shares = torch.bincount(member_of(z, members), minlength=members) / len(z)
    assert torch.allclose(shares, torch.full((members,), 1 / members), atol=0.005)


def test_stratified_latents_split_a_batch_evenly_and_stay_normal():
    torch.manual_seed(0)
    for n, members in [(64, 2), (64, 3), (10, 4)]:
        counts = torch.bincount(member_of(stratified_latents(n, 8, members, torch.device("cpu")), members),
                                minlength=members)
        assert counts.max() - counts.min() <= 1 and counts.sum() == n
    z = torch.cat([stratified_latents(64, 8, 3, torch.device("cpu")) for _ in range(2000)])
    for column in (z[:, 0], z[:, 5]):  # the stratified coordinate and a plain one
        assert abs(column.mean()) < 0.01 and abs(column.std() - 1) < 0.01
        assert abs((column < -1).float().mean() - 0.1587) < 0.005  # the normal's tail below one standard deviation


def test_a_batch_of_fewer_than_two_per_member_goes_to_fewer_members_in_turn():
    def used(n, members, step, seed):
        torch.manual_seed(seed)
        counts = torch.bincount(member_of(stratified_latents(n, 8, members, torch.device("cpu"), step), members),
                                minlength=members)
        assert counts[counts > 0].min() >= min(n, 2)
        return set(torch.nonzero(counts).flatten().tolist())

    for n, members, active in [(3, 2, 1), (5, 4, 2), (1, 3, 1)]:
        turns = [used(n, members, step, seed=step) for step in range(members)]
        assert all(len(t) == active for t in turns)
        assert set().union(*turns) == set(range(members))  # every member trains in turn
        # torchrun ranks draw other random numbers but must pick the same members, whose gradients they average
        assert all(used(n, members, step, seed=100 + step) == t for step, t in enumerate(turns))


def test_each_latent_goes_through_its_own_member_in_order():
    torch.manual_seed(2)
    model = GAN(GANConfig(width=8, generators=3), DIGITS).eval()
    mixture = model.generator
    assert isinstance(mixture, GeneratorMixture) and len(mixture.members) == 3
    z = torch.randn(12, model.config.latent_dim)
    with torch.no_grad():
        out = mixture(z)
        expected = torch.cat([mixture.members[int(k)](z[i : i + 1]) for i, k in enumerate(member_of(z, 3))])
    torch.testing.assert_close(out, expected)
    assert len(set(member_of(z, 3).tolist())) == 3  # the 12 latents reached every member
    single = GAN(GANConfig(width=8, generators=1), DIGITS)
    assert isinstance(single.generator, Generator)  # one generator keeps DCGAN's weights' names


def test_a_mixture_trains_on_batches_of_four_and_reloads_in_a_new_process(tmp_path):
    # 4 latents drawn without stratifying give a member none or a single one (which BatchNorm refuses) on 5 steps of 8
    run = check_model_trains("gan", tmp_path, steps=3, options={"width": 8, "generators": 2, "batch_size": 4})
    assert isinstance(run.model.generator, GeneratorMixture)
    assert len(run.model.generator.members) == 2
    check_latents(run.model)  # seeded draws, deterministic generate and walks through the mixture
