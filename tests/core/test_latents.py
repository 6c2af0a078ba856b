"""Latent walks and projection: `gentool interpolate` and `gentool project` on real runs of models with latents."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file
from support import run_gentool

from gentool.api import load
from gentool.latents import interpolate, lerp, slerp
from gentool.project import project


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Short real runs of an unconditional GAN, a VAE (it has an encoder) and a class-conditional GAN."""
    root = tmp_path_factory.mktemp("latent-runs")
    options = {"gan": ["--set", "model.width=8"],  # vae: no weight average, which 40 steps barely move (alike frames)
               "vae": ["--set", "model.width=8", "--set", "model.hidden=32", "--set", "model.ema=false"],
               "cgan": ["--set", "model.width=8"]}
    for name, extra in options.items():
        result = run_gentool("run", "--model", name, "--steps", "40", "--out", str(root / name),
                             "--set", "trainer.sample_every=40", *extra)
        assert result.code == 0, result.text
    return root


def test_slerp_keeps_the_norm_and_both_paths_hit_their_endpoints():
    a, b = torch.randn(5, 16), torch.randn(5, 16)
    b = b / b.norm(dim=1, keepdim=True) * a.norm(dim=1, keepdim=True)  # equal norms: the walk keeps them
    t = torch.linspace(0, 1, 7)
    for path in (slerp, lerp):
        walk = path(a, b, t)
        torch.testing.assert_close(walk[:, 0], a)
        torch.testing.assert_close(walk[:, -1], b, rtol=1e-5, atol=1e-5)
    norms = slerp(a, b, t).norm(dim=2)
    torch.testing.assert_close(norms, a.norm(dim=1, keepdim=True).expand_as(norms), rtol=1e-5, atol=1e-5)
    assert (lerp(a, b, t).norm(dim=2)[:, 3] < a.norm(dim=1) * 0.99).all(), "a straight line cuts inside the sphere"


def test_walk_endpoints_are_the_generations_of_the_endpoint_latents(runs):
    model = load(runs / "gan")
    walks = interpolate(model, n=3, frames=5, seed=4)
    generator = torch.Generator().manual_seed(4)
    a, b = model.draw_latents(3, generator=generator), model.draw_latents(3, generator=generator)
    with torch.no_grad():
        torch.testing.assert_close(walks.images[:, 0], model.generate(a))
        torch.testing.assert_close(walks.images[:, -1], model.generate(b), rtol=1e-4, atol=1e-4)
    assert walks.images.shape == (3, 5, 1, 28, 28) and walks.kinds == ["noise"] * 3


def test_a_conditional_model_walks_at_fixed_labels_and_between_labels(runs, tmp_path):
    model = load(runs / "cgan")
    walks = interpolate(model, n=4, frames=4, labels=[3, 7], seed=0)
    assert walks.kinds == ["noise", "noise", "label", "label"]
    generator = torch.Generator().manual_seed(0)
    a = model.draw_latents(4, generator=generator)
    with torch.no_grad():  # the label rows start at their row's label and end at the next given label
        torch.testing.assert_close(walks.images[2, 0], model.generate(a[2:3], labels=torch.tensor([3]))[0])
        torch.testing.assert_close(walks.images[2, -1], model.generate(a[2:3], labels=torch.tensor([7]))[0])


def test_png_grid_and_animations_with_one_frame_per_step(runs, tmp_path):
    for suffix in ("png", "gif", "webp"):
        out = tmp_path / f"walk.{suffix}"
        result = run_gentool("interpolate", str(runs / "vae"), "--n", "3", "--frames", "6", "--out", str(out))
        assert result.code == 0, result.text
        with Image.open(out) as image:
            if suffix == "png":
                assert image.size[0] > 6 * 28 and image.size[1] > 3 * 28
            else:
                assert image.n_frames == 6


def test_projection_lowers_its_loss_beats_random_latents_and_regenerates(runs, tmp_path):
    model = load(runs / "vae")
    test_x = torch.from_numpy(np.load(_digits_file())["images"][:8].astype(np.float32) / 255.0)[:, None]
    result = project(model, test_x, steps=60, feature_weight=0.0)
    assert result.start == "encoder" and result.losses[1] < result.losses[0]
    with torch.no_grad():
        random = model.generate(model.draw_latents(8, generator=torch.Generator().manual_seed(1)))
    random_psnr = 10 * torch.log10(1 / (random - test_x).pow(2).flatten(1).mean(1))
    assert all(p > r for p, r in zip(result.psnr, random_psnr.tolist())), "every image beats a random latent"

    out = tmp_path / "proj"
    run = run_gentool("project", str(runs / "gan"), "--dataset", "digits", "--count", "5", "--steps", "20",
                      "--out", str(out))
    assert run.code == 0, run.text
    table = json.loads((out / "projection.json").read_text())
    assert len(table["images"]) == 5 and table["images"][0]["start"] == "random"
    assert table["objective"][1] < table["objective"][0]
    saved = load_file(str(out / "latents.safetensors"))["latents"]
    with torch.no_grad():
        regenerated = load(runs / "gan").generate(saved)
    files = sorted((out / "projections").rglob("*.png"))
    assert len(files) == 5
    first = np.asarray(Image.open(out / "projections" / table["images"][0]["image"]).convert("L"), np.float32) / 255
    assert np.abs(first - regenerated[0, 0].numpy()).max() <= 1 / 255 + 1e-6
    walk = run_gentool("interpolate", str(runs / "gan"), "--latents", str(out / "latents.safetensors"),
                       "--frames", "4", "--out", str(tmp_path / "between.png"))
    assert walk.code == 0 and "4 walks" in walk.out, walk.text


def _digits_file():
    from gentool.datasets.digits import digits_file

    return digits_file()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["interpolate", "NOT_A_RUN", "--out", "x.png"], "No trained model"),
        (["interpolate", "TINY", "--out", "x.png"], "no continuous latent"),
        (["interpolate", "TINY", "--out", "x.png"], "Installed models with latents: cgan, cnn, ddpm, flow, gan"),
        (["interpolate", "GAN", "--out", "x.jpg"], 'Unknown output type ".jpg"'),
        (["project", "GAN", "--images", "EMPTY", "--out", "p"], "holds no .png"),
        (["project", "GAN", "--out", "p"], "Give exactly one input"),
    ],
)
def test_bad_input_exits_2_with_the_reason(runs, tmp_path, args, fragment):
    (tmp_path / "empty").mkdir()
    tiny = tmp_path / "tiny"
    if "TINY" in args:
        assert run_gentool("run", "--model", "tiny", "--steps", "2", "--out", str(tiny)).code == 0
    names = {"GAN": str(runs / "gan"), "TINY": str(tiny), "EMPTY": str(tmp_path / "empty"),
             "NOT_A_RUN": str(tmp_path / "nothing")}
    result = run_gentool(*[names.get(a, a) for a in args], cwd=tmp_path)
    assert result.code == 2 and "Traceback" not in result.text, result.text
    assert fragment in result.err
    assert not (tmp_path / "x.png").exists() and not (tmp_path / "p").exists()
