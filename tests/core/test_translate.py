"""`gentool.translate.translate_run`: a translation model's run maps a folder or a dataset split to the other domain,
one file per input under the same relative name plus a grid, and refuses bad input before writing anything."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from gentool.api import GentoolError, load, train
from gentool.translate import translate_run

pytest.importorskip("gentool_cyclegan", reason="the translation model of these tests is gentool-cyclegan's")


def _grey(path, i, size=(20, 24)):
    pixels = np.zeros(size[::-1], np.uint8)
    pixels[:, 4 + i % 8 : 8 + i % 8] = 230
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels, "L").save(path)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("translate")
    for i in range(8):
        _grey(root / "a" / f"{i}.png", i)
        rgb = np.random.default_rng(i).integers(0, 256, (30, 36, 3), dtype=np.uint8)
        Image.fromarray(rgb, "RGB").save((root / "b").mkdir(exist_ok=True) or root / "b" / f"{i}.jpg")
    torch.set_num_threads(1)
    raw = {"model": {"name": "cyclegan", "width": 4, "blocks": 1, "disc_width": 4, "disc_layers": 1, "batch_size": 2},
           "dataset": {"name": "unpaired", "size": 16, "a": {"name": "image-folder", "root": str(root / "a"),
                                                               "channels": 1, "test_fraction": 0.25},
                       "b": {"name": "image-folder", "root": str(root / "b"), "channels": 3, "test_fraction": 0.25}},
           "steps": 2, "out": str(root / "run"), "trainer": {"sample_every": 100, "checkpoint_every": 100}}
    train(raw)
    return root / "run"


def test_a_folder_is_translated_file_by_file_under_the_same_relative_names(run_dir, tmp_path):
    source = tmp_path / "in"
    _grey(source / "x.png", 1)
    _grey(source / "nested" / "deeper" / "y.png", 2, size=(40, 50))  # another size: resized like the training data
    Image.open(source / "x.png").save(source / "z.jpg")
    result = translate_run(run_dir, "a2b", tmp_path / "out", images=source)
    names = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.*"))
    assert names == ["grid.png", "nested/deeper/y.png", "x.png", "z.jpg"]
    out = Image.open(tmp_path / "out" / "x.png")
    assert out.size == (16, 16) and out.mode == "RGB"  # domain b's channels and size
    expected = load(run_dir).translate(torch.from_numpy(np.asarray(Image.open(source / "x.png").resize((16, 16)),
                                                                 np.float32)[None, None] / 255), "a2b")
    got = torch.from_numpy(np.asarray(out, np.float32) / 255).permute(2, 0, 1)
    assert (got - expected[0].detach()).abs().max() < 0.02  # the model's own translation, 8-bit rounded
    grid = Image.open(result.grid)
    assert grid.size == (3 * 18 + 2, 3 * 18 + 2)  # 3 inputs: source | translated | translated back


def test_existing_files_are_kept_unless_overwrite(run_dir, tmp_path):
    _grey(tmp_path / "in" / "x.png", 0)
    translate_run(run_dir, "a2b", tmp_path / "out", images=tmp_path / "in")
    before = (tmp_path / "out" / "x.png").read_bytes()
    with pytest.raises(GentoolError, match="already exist.*--overwrite"):
        translate_run(run_dir, "a2b", tmp_path / "out", images=tmp_path / "in")
    assert (tmp_path / "out" / "x.png").read_bytes() == before
    translate_run(run_dir, "a2b", tmp_path / "out", images=tmp_path / "in", overwrite=True)


def test_bad_input_is_refused_before_writing(run_dir, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(GentoolError, match="is not a folder"):
        translate_run(run_dir, "a2b", out, images=tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(GentoolError, match="holds no .png"):
        translate_run(run_dir, "a2b", out, images=tmp_path / "empty")
    _grey(tmp_path / "in" / "x.png", 0)
    with pytest.raises(GentoolError, match='Unknown direction "a2c".*a2b, b2a'):
        translate_run(run_dir, "a2c", out, images=tmp_path / "in")
    with pytest.raises(GentoolError, match="x.png \\(grey image, the domain takes 3-channel images\\)"):
        translate_run(run_dir, "b2a", out, images=tmp_path / "in")
    with pytest.raises(GentoolError, match="exactly one input"):
        translate_run(run_dir, "a2b", out)
    assert not out.exists()
    translate_run(run_dir, "b2a", out, images=tmp_path / "in", convert=True)  # grey taken as RGB when asked
    assert Image.open(out / "x.png").mode == "L"


def test_a_dataset_split_is_translated_by_class(run_dir, tmp_path):
    result = translate_run(run_dir, "b2a", tmp_path / "out", dataset={"name": "digits-m", "textures": 3}, split="test")
    assert len(result.files) == 1000
    assert (tmp_path / "out" / "7").is_dir() and Image.open(result.files[0]).mode == "L"
    assert Image.open(result.files[0]).size == (16, 16)  # 28 px digits resized to the run's 16
    with pytest.raises(GentoolError, match="1-channel images; the run's source domain takes 3-channel"):
        translate_run(run_dir, "b2a", tmp_path / "other", dataset="digits")


def test_a_model_that_does_not_translate_is_refused(tmp_path):
    train({"model": {"name": "gan", "width": 4, "batch_size": 4}, "steps": 1, "out": str(tmp_path / "gan"),
           "trainer": {"sample_every": 100, "checkpoint_every": 100}})
    _grey(tmp_path / "in" / "x.png", 0)
    with pytest.raises(GentoolError, match="does not translate.*Installed translation models: cyclegan"):
        translate_run(tmp_path / "gan", "a2b", tmp_path / "out", images=tmp_path / "in")


def test_the_command_translates_and_refuses_with_exit_status_2(run_dir, tmp_path):
    from support import run_gentool

    _grey(tmp_path / "in" / "x.png", 0)
    done = run_gentool("translate", str(run_dir), "--direction", "a2b", "--images", str(tmp_path / "in"),
                       "--out", str(tmp_path / "out"), "--device", "cpu")
    assert done.code == 0, done.text
    assert (tmp_path / "out" / "x.png").is_file() and (tmp_path / "out" / "grid.png").is_file()
    again = run_gentool("translate", str(run_dir), "--direction", "a2b", "--images", str(tmp_path / "in"),
                        "--out", str(tmp_path / "out"))
    assert again.code == 2 and "--overwrite" in again.text and "Traceback" not in again.text
    wrong = run_gentool("translate", str(run_dir), "--direction", "b2c", "--images", str(tmp_path / "in"),
                        "--out", str(tmp_path / "other"))
    assert wrong.code == 2 and "a2b, b2a" in wrong.text


def test_the_command_takes_the_models_translation_options(run_dir, tmp_path):
    from support import run_gentool

    _grey(tmp_path / "in" / "x.png", 0)
    done = run_gentool("translate", str(run_dir), "--direction", "a2b", "--images", str(tmp_path / "in"),
                       "--out", str(tmp_path / "out"), "--device", "cpu", "--set", "shift=1")
    assert done.code == 0, done.text
    plain = translate_run(run_dir, "a2b", tmp_path / "plain", images=tmp_path / "in")
    views = translate_run(run_dir, "a2b", tmp_path / "views", images=tmp_path / "in", options={"shift": 1})
    assert np.asarray(Image.open(views.files[0])).tolist() == np.asarray(Image.open(tmp_path / "out" / "x.png")).tolist()
    assert not np.array_equal(np.asarray(Image.open(views.files[0])), np.asarray(Image.open(plain.files[0])))
    wrong = run_gentool("translate", str(run_dir), "--direction", "a2b", "--images", str(tmp_path / "in"),
                        "--out", str(tmp_path / "wrong"), "--set", "shfit=1")
    assert wrong.code == 2 and 'Did you mean "shift"' in wrong.text and "Traceback" not in wrong.text
    assert not (tmp_path / "wrong").exists()
