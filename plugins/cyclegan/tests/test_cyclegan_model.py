"""The `cyclegan` model through the real trainer: two-domain batches, losses, the pool across resume, translation,
grids, save and reload, metrics, and the user's own folders (different sizes, grey and RGB)."""

from __future__ import annotations

import copy
import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from PIL import Image

import gentool.api as api
from gentool_cyclegan.config import CycleGANConfig
from gentool_cyclegan.maths import to_channels
from gentool_cyclegan.model import CycleGAN

TINY = {"width": 8, "blocks": 1, "disc_width": 8, "batch_size": 4}
PAIR = {"name": "digits-m-pair", "textures": 6}
FAST = {"log_every": 1, "sample_every": 1000, "checkpoint_every": 1000, "grid_size": 36}


def _info(ca=1, cb=3, size=28):
    a = api.DataInfo("image", (ca, size, size), 10, 40, tuple("0123456789"), "a")
    b = api.DataInfo("image", (cb, size, size), 10, 40, tuple("0123456789"), "b")
    return api.DataInfo("image", a.shape, 10, 40, a.class_names, "pair", domains=(a, b))


def _batch(n=4, ca=1, cb=3, size=28, seed=0):
    g = torch.Generator().manual_seed(seed)
    xa, xb = torch.rand(n, ca, size, size, generator=g), torch.rand(n, cb, size, size, generator=g)
    index = torch.arange(n)
    return api.Batch(xa, None, index, (api.Batch(xa, None, index), api.Batch(xb, None, index)))


def _ctx(model):
    return api.StepContext(device=torch.device("cpu"), stage="adversarial", optimizers=model.optimizers("adversarial"),
                           autocast_dtype=None, clip_norm=None)


def _train(tmp_path, name, steps, model=None, dataset=None, resume=False, trainer=None):
    raw = {"model": {"name": "cyclegan", **TINY, **(model or {})}, "dataset": dataset or PAIR, "steps": steps,
           "out": str(tmp_path / name), "trainer": {**FAST, **(trainer or {})}}
    return api.train(raw, resume=resume)


def test_every_component_is_registered():
    assert api.check_registered("model", "cyclegan").distribution == "gentool-cyclegan"
    for kind, name in [("dataset", "digits-m"), ("dataset", "digits-m-pair"), ("metric", "translation-fid"),
                       ("metric", "class-preservation"), ("metric", "cycle")]:
        api.check_registered(kind, name)
    assert "digits-m" in api.registered_names("features")


def test_one_domain_data_and_bad_sizes_are_refused_with_the_fix():
    single = api.DataInfo("image", (1, 28, 28), 10, 40, name="digits")
    with pytest.raises(api.GentoolError, match="two domains.*digits-m-pair"):
        CycleGAN(CycleGANConfig(), single)
    with pytest.raises(api.GentoolError, match="divisible by 2\\^downsamplings = 8"):
        CycleGAN(CycleGANConfig(downsamplings=3), _info(size=28))
    with pytest.raises(api.GentoolError, match="role"):
        CycleGAN(CycleGANConfig(loss="mse"), _info())


@pytest.mark.parametrize("jitter", [0, 2])
def test_jitter_gives_the_step_new_shifts_of_the_same_images(jitter):
    torch.manual_seed(0)
    model = CycleGAN(CycleGANConfig(width=8, blocks=1, disc_width=8, jitter=jitter), _info())
    cycles = []
    for seed in (1, 2):  # the same weights and images; only the global random stream differs
        trial = copy.deepcopy(model)
        torch.manual_seed(seed)
        cycles.append(trial.train_step(_batch(), _ctx(trial))["cycle"].item())
    assert (cycles[0] != cycles[1]) == (jitter > 0)


@pytest.mark.parametrize("lambda_b", [None, 2.0])
def test_cycle_and_identity_terms_follow_the_reference_convention_with_channels_converted(lambda_b):
    torch.manual_seed(0)
    config = CycleGANConfig(width=8, blocks=1, disc_width=8, cycle_weight=10, cycle_weight_b=lambda_b, identity=0.5)
    model = CycleGAN(config, _info())
    before = copy.deepcopy(model)
    batch = _batch()
    logs = model.train_step(batch, _ctx(model))
    a, b = batch.domains[0].x * 2 - 1, batch.domains[1].x * 2 - 1
    la, lb = 10.0, 10.0 if lambda_b is None else lambda_b
    with torch.no_grad():  # pixels in [-1, 1] as the networks see them; G's identity weighs 0.5 lambda_B, F's 0.5 lambda_A
        g_b = before.gen_ab(to_channels(b, 1))  # b to grey by luma, G must give b back
        f_a = before.gen_ba(a.repeat(1, 3, 1, 1))  # a repeated to RGB, F must give a back
        expected = 0.5 * lb * (g_b - b).abs().mean() + 0.5 * la * (f_a - a).abs().mean()
        cyc = la * (before.gen_ba(before.gen_ab(a)) - a).abs().mean() + lb * (before.gen_ab(before.gen_ba(b)) - b).abs().mean()
    assert logs["identity"].item() == pytest.approx(expected.item(), rel=1e-5)
    assert logs["cycle"].item() == pytest.approx(cyc.item(), rel=1e-5)
    off = CycleGAN(CycleGANConfig(width=8, blocks=1, disc_width=8, identity=0), _info())
    assert "identity" not in off.train_step(_batch(), _ctx(off))


@pytest.mark.parametrize("norm", ["instance", "none", "batch"])
def test_critics_score_real_and_fake_in_one_call_only_where_no_image_sees_another(norm):
    torch.manual_seed(0)
    model = CycleGAN(CycleGANConfig(width=8, blocks=1, disc_width=8, discriminator_norm=norm), _info()).train()
    critic = model._critic(model.disc_a)
    x = torch.rand(6, 1, 28, 28) * 2 - 1
    alone_equals_joined = torch.allclose(critic(x[:3]), critic(x)[: critic(x[:3]).numel()], atol=1e-5)
    assert getattr(critic, "batch_independent", False) is (norm != "batch")
    assert alone_equals_joined is (norm != "batch")  # the mark holds exactly where it is given


def test_cycle_noise_reaches_the_generator_that_translates_back():
    torch.manual_seed(0)
    model = CycleGAN(CycleGANConfig(width=8, blocks=1, disc_width=8, identity=0, cycle_noise=0.3), _info())
    before = copy.deepcopy(model)
    batch = _batch()
    torch.manual_seed(5)
    logs = model.train_step(batch, _ctx(model))
    a, b = batch.domains[0].x * 2 - 1, batch.domains[1].x * 2 - 1
    torch.manual_seed(5)  # the step draws the noise of G(a) first, then that of F(b)
    with torch.no_grad():
        fake_b, fake_a = before.gen_ab(a), before.gen_ba(b)
        noisy_b, noisy_a = fake_b + 0.3 * torch.randn_like(fake_b), fake_a + 0.3 * torch.randn_like(fake_a)
        cyc = 10 * (before.gen_ba(noisy_b) - a).abs().mean() + 1 * (before.gen_ab(noisy_a) - b).abs().mean()
        clean = 10 * (before.gen_ba(fake_b) - a).abs().mean() + 1 * (before.gen_ab(fake_a) - b).abs().mean()
    assert logs["cycle"].item() == pytest.approx(cyc.item(), rel=1e-5)
    assert logs["cycle"].item() != pytest.approx(clean.item(), rel=1e-5)


@pytest.mark.parametrize("own_weights", [False, True])
def test_semantic_term_keeps_the_class_in_the_directions_asked(own_weights, tmp_path):
    from safetensors.torch import load_file, save_file

    from gentool_cyclegan.classifier import WEIGHTS

    options: dict = {}
    if own_weights:  # domain A's network given weights of its own: the shipped ones with the class head negated
        state = load_file(str(WEIGHTS))
        state["head.weight"] = -state["head.weight"]
        save_file(state, str(tmp_path / "other.safetensors"))
        options = {"weights": str(tmp_path / "other.safetensors")}
    torch.manual_seed(0)
    config = CycleGANConfig(width=8, blocks=1, disc_width=8, semantic_weight=1, semantic_directions=["b2a"],
                            semantic_features=("digits-m", "digits-m"), semantic_features_options=(options, {}))
    model = CycleGAN(config, _info())
    before = copy.deepcopy(model)
    batch = _batch()
    logs = model.train_step(batch, _ctx(model))
    shipped, reader = api.build("features", "digits-m"), api.build("features", "digits-m", options)
    with torch.no_grad():  # F(b) must keep the class domain B's network sees in b, read by domain A's (grey as RGB)
        fake_a = ((before.gen_ba(batch.domains[1].x * 2 - 1) + 1) / 2).repeat(1, 3, 1, 1)
        label = shipped(batch.domains[1].x)["logits"].argmax(1)
        expected = torch.nn.functional.cross_entropy(reader(fake_a)["logits"], label)
        by_shipped = torch.nn.functional.cross_entropy(shipped(fake_a)["logits"], label)
    assert logs["semantic"].item() == pytest.approx(expected.item(), rel=1e-4)
    if own_weights:
        assert logs["semantic"].item() != pytest.approx(by_shipped.item(), rel=1e-2)


def test_a_step_moves_all_four_networks_and_feeds_the_pools():
    torch.manual_seed(0)
    model = CycleGAN(CycleGANConfig(width=8, blocks=1, disc_width=8, pool_size=6), _info())
    before = {k: v.clone() for k, v in model.state_dict().items()}
    ctx = _ctx(model)
    model.train_step(_batch(seed=1), ctx)
    moved = {k.split(".")[0] for k, v in model.state_dict().items() if v.is_floating_point() and not torch.equal(v, before[k])}
    assert {"gen_ab", "gen_ba", "disc_a", "disc_b"} <= moved
    assert [len(p) for p in model.pools] == [4, 4]
    model.train_step(_batch(seed=2), ctx)
    assert [len(p) for p in model.pools] == [6, 6]  # full at pool_size
    state = model.extra_state()
    assert state["pool_a.images"].shape == (6, 1, 28, 28) and state["pool_b.images"].shape == (6, 3, 28, 28)


def test_translate_checks_direction_and_shape():
    model = CycleGAN(CycleGANConfig(width=8, blocks=1, disc_width=8), _info()).eval().requires_grad_(False)
    out = model.translate(torch.rand(2, 1, 28, 28), "a2b")
    api.check_images(out, 2, (3, 28, 28))
    api.check_images(model.translate(torch.rand(2, 3, 28, 28), "b2a"), 2, (1, 28, 28))
    with pytest.raises(api.GentoolError, match='Unknown direction "a2c".*a2b, b2a'):
        model.translate(out, "a2c")
    with pytest.raises(api.GentoolError, match="takes images of shape \\(1, 28, 28\\)"):
        model.translate(out, "a2b")
    with pytest.raises(api.GentoolError, match="translate"):
        model.sample(4)


def test_translate_options_take_the_median_over_views_in_the_directions_asked():
    torch.manual_seed(0)
    model = CycleGAN(CycleGANConfig(width=8, blocks=1, disc_width=8), _info()).eval().requires_grad_(False)
    b, a = torch.rand(3, 3, 28, 28), torch.rand(3, 1, 28, 28)
    plain = model.translate(b, "b2a")
    assert torch.equal(model.translate(b, "b2a", {}), plain)
    orders = model.translate(b, "b2a", {"channel_orders": True})
    assert not torch.allclose(orders, plain, atol=1e-4)  # the generator does depend on the order...
    assert torch.allclose(model.translate(b[:, [2, 0, 1]], "b2a", {"channel_orders": True}), orders)  # ...the median not
    only_b2a = {"shift": 1, "view_directions": ["b2a"]}
    assert torch.equal(model.translate(a, "a2b", only_b2a), model.translate(a, "a2b"))
    assert not torch.allclose(model.translate(a, "a2b", {"shift": 1}), model.translate(a, "a2b"), atol=1e-4)
    with pytest.raises(api.GentoolError, match='"sample.shfit".*channel_orders, shift, view_directions'):
        model.translate(b, "b2a", {"shfit": 1})
    with pytest.raises(api.GentoolError, match="sample.shift"):
        model.translate(b, "b2a", {"shift": 9})


def test_trains_on_the_demo_pair_shows_the_grid_and_reloads_in_a_new_process(tmp_path):
    run = _train(tmp_path, "pair", 3, trainer={"sample_every": 3})
    grid = np.asarray(Image.open(run.dir / "samples" / "step_000003.png"))
    assert grid.shape == (6 * 30 + 2, 6 * 30 + 2, 3)  # 6 rows of a | G(a) | F(G(a)) | b | F(b) | G(F(b))
    summary = json.loads((run.dir / "summary.json").read_text())
    assert summary["steps"] == 3
    fid = api.evaluate(run.model, api.build("dataset", "digits-m-pair", {"textures": 6}), [("fid", {})])["fid"]
    assert fid["error"].startswith("not applicable: the cyclegan model translates images")
    x = run.model.grid_a[:2].cpu()
    code = (
        "import gentool.api as api, torch\n"
        f"m = api.load({str(run.dir)!r})\n"
        "x = torch.load(__import__('sys').argv[1])\n"
        "print(tuple(m.translate(x, 'a2b').shape), float((m.translate(x, 'a2b') - torch.load(__import__('sys').argv[2])).abs().max()))\n"
    )
    torch.save(x, tmp_path / "x.pt")
    with torch.no_grad():
        torch.save(run.model.eval().translate(x, "a2b").cpu(), tmp_path / "y.pt")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "x.pt"), str(tmp_path / "y.pt")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    shape, diff = proc.stdout.split(")")
    assert shape + ")" == "(2, 3, 28, 28)" and float(diff) == 0.0


def test_a_run_killed_mid_way_resumes_to_the_same_weights_and_pools(tmp_path):
    options, trainer, steps = {"pool_size": 6}, {"checkpoint_every": 3}, 24
    straight = _train(tmp_path, "straight", steps, options, trainer=trainer)
    raw = {"model": {"name": "cyclegan", **TINY, **options}, "dataset": PAIR, "steps": steps,
           "out": str(tmp_path / "killed"), "trainer": {**FAST, **trainer}}
    code = f"import gentool.api as api, torch; torch.set_num_threads(1); api.train({raw!r})"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    checkpoint = tmp_path / "killed" / "checkpoints" / "last.safetensors"
    deadline = time.monotonic() + 240
    while not checkpoint.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert checkpoint.exists(), proc.stderr.read().decode()[-2000:]
    assert not (tmp_path / "killed" / "summary.json").exists()  # killed before the end
    resumed = api.train(raw, resume=True)
    assert resumed.summary["steps"] == steps
    a, b = straight.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)  # the discriminators saw the same pooled fakes
    for key, value in straight.model.extra_state().items():
        assert torch.equal(value, resumed.model.extra_state()[key])


def _folders(tmp_path):
    rng = np.random.default_rng(0)
    grey, rgb = tmp_path / "grey", tmp_path / "rgb"
    grey.mkdir()
    rgb.mkdir()
    for i in range(12):  # 12 grey 20x24 PNGs: a bright bar on dark
        pixels = np.zeros((24, 20), np.uint8)
        pixels[:, 6 + i % 8 : 9 + i % 8] = 220
        Image.fromarray(pixels, "L").save(grey / f"g{i:02d}.png")
    for i in range(9):  # 9 RGB 40x32 JPEGs: coloured noise
        Image.fromarray(rng.integers(0, 256, (32, 40, 3), dtype=np.uint8), "RGB").save(rgb / f"c{i}.jpg")
    return {"name": "unpaired", "size": 16, "a": {"name": "image-folder", "root": str(grey), "channels": 1,
                                                  "test_fraction": 0.25},
            "b": {"name": "image-folder", "root": str(rgb), "channels": 3, "test_fraction": 0.25}}


def test_trains_and_translates_on_two_folders_of_the_users_own(tmp_path):
    dataset = _folders(tmp_path)
    run = _train(tmp_path, "folders", 3, {"disc_layers": 1}, dataset, trainer={"checkpoint_every": 2})
    model = run.model.eval()
    assert tuple(model.info.domains[0].shape) == (1, 16, 16) and tuple(model.info.domains[1].shape) == (3, 16, 16)
    with torch.no_grad():
        api.check_images(model.translate(torch.rand(5, 1, 16, 16), "a2b"), 5, (3, 16, 16))
        api.check_images(model.translate(torch.rand(5, 3, 16, 16), "b2a"), 5, (1, 16, 16))
    results = api.evaluate(model, api.build("dataset", "unpaired", {k: v for k, v in dataset.items() if k != "name"}),
                           [("cycle", {}), ("class-preservation", {})])
    assert set(results["cycle"]) == {"a2b", "b2a"}
    assert results["class-preservation"]["error"].startswith("not applicable")  # the folders are unlabelled


def test_class_planes_judge_each_image_with_its_source_class():
    torch.manual_seed(0)
    config = CycleGANConfig(width=8, blocks=1, disc_width=8, pool_size=6, class_planes=True,
                            semantic_features=("digits-m", "digits-m"))
    model = CycleGAN(config, _info())
    assert model.disc_a.body[0].in_channels == 1 + 10 and model.disc_b.body[0].in_channels == 3 + 10
    batch = _batch(seed=3)
    model.train_step(batch, _ctx(model))
    net = api.build("features", "digits-m")
    with torch.no_grad():  # F(b) goes to D_A with the class the network reads in b, one-hot in the extra planes
        label_b = net(batch.domains[1].x)["logits"].argmax(1)
    stored = model.extra_state()["pool_a.images"]
    assert stored.shape == (4, 11, 28, 28)
    planes = stored[:, 1:]
    assert torch.equal(planes.amax(dim=(2, 3)).argmax(1), label_b)
    assert torch.equal(planes.sum(1), torch.ones(4, 28, 28))
    unlabelled = api.DataInfo("image", (1, 28, 28), domains=(api.DataInfo("image", (1, 28, 28)),
                                                              api.DataInfo("image", (3, 28, 28), 10)))
    with pytest.raises(api.GentoolError, match="class_planes needs two labelled domains.*0 and 10 classes"):
        CycleGAN(config, unlabelled)
