"""The vqvae model: shapes for gray and colour images, the two stages, the prior, saving and reloading."""

from __future__ import annotations

import pytest
import torch

from gentool.api import (
    Batch,
    DataInfo,
    GentoolError,
    StepContext,
    build,
    check_images,
    check_model_trains,
    check_registered,
)

SMALL = {"width": 16, "code_dim": 4, "res_blocks": 1, "prior": {"width": 16, "layers": 1, "heads": 2}}


def make_vqvae(shape=(1, 28, 28), classes=10, **options):
    return build("model", "vqvae", {**SMALL, **options}, prefix="model", info=DataInfo("image", shape, classes, 100))


def context(model, stage: str) -> StepContext:
    return StepContext(
        device=torch.device("cpu"), stage=stage, optimizers=model.optimizers(stage), autocast_dtype=None, clip_norm=None
    )


@pytest.mark.parametrize("quantizer", ["vq", "vq-ema", "fsq"])
@pytest.mark.parametrize(("shape", "grid"), [((1, 28, 28), (7, 7)), ((3, 32, 32), (8, 8))])
def test_shapes_for_each_quantizer(shape, grid, quantizer):
    options = {"quantizer_options": {"levels": [5, 3]}} if quantizer == "fsq" else {}
    model = make_vqvae(shape, quantizer=quantizer, **options).eval()
    x = torch.rand(3, *shape)
    indices = model.encode_indices(x)
    assert indices.shape == (3, *grid) and indices.dtype == torch.int64
    assert int(indices.max()) < model.quantizer.codebook_size
    check_images(model.reconstruct(x), 3, shape)
    with torch.no_grad():
        check_images(model.sample(4, generator=torch.Generator().manual_seed(0)), 4, shape)


def test_fsq_codebook_size_reaches_the_prior():
    model = make_vqvae(quantizer="fsq", quantizer_options={"levels": [4, 3]})
    assert model.quantizer.codebook_size == 12 and model.prior.head.out_features == 12


def test_stages_and_what_each_trains():
    model = make_vqvae(batch_size=8)
    assert [(s.name, s.share) for s in model.stages()] == [("autoencoder", 0.43), ("prior", pytest.approx(0.57))]
    x, y = torch.rand(8, 1, 28, 28), torch.arange(8) % 10
    batch = Batch(x, y, torch.arange(8))
    logs = model.train_step(batch, context(model, "autoencoder"))
    assert {"recon", "usage", "perplexity"} <= set(logs)
    # the prior stage leaves the encoder, decoder and codebook exactly as they were
    before = {k: v.clone() for k, v in model.state_dict().items() if not k.startswith("prior.")}
    prior_before = [p.clone() for p in model.prior.parameters()]
    logs = model.train_step(batch, context(model, "prior"))
    assert {"prior_nll", "usage", "perplexity"} <= set(logs)
    for k, v in model.state_dict().items():
        if k in before:
            torch.testing.assert_close(v, before[k], msg=k)
    assert any(not torch.equal(a, b) for a, b in zip(prior_before, model.prior.parameters()))


def test_conditional_prior_reads_the_label():
    model = make_vqvae().eval()
    assert model.conditional
    codes = torch.zeros(2, 49, dtype=torch.long)
    with torch.no_grad():
        a = model.prior(codes, torch.tensor([0, 0]))
        b = model.prior(codes, torch.tensor([0, 3]))
    torch.testing.assert_close(a[0], b[0])
    assert not torch.allclose(a[1], b[1])
    assert not make_vqvae(classes=0).conditional
    assert not make_vqvae(prior={"conditional": False}).conditional


def test_cached_sampling_matches_the_full_forward_pass():
    model = make_vqvae().eval()
    labels = torch.tensor([1, 7])
    codes = model.prior.sample(2, labels, torch.Generator().manual_seed(0))
    # with a vanishing temperature each code is the argmax of the full (uncached) forward pass
    greedy = model.prior.sample(2, labels, torch.Generator().manual_seed(0), temperature=1e-6)
    with torch.no_grad():
        logits = model.prior(greedy, labels)
    assert torch.equal(logits.argmax(-1), greedy)
    assert codes.shape == (2, 49)


def test_temperature_is_a_sample_option_and_the_old_prior_key_still_loads():
    model = make_vqvae(prior={"temperature": 0.5}).eval()  # a config.json written before the option moved
    labels = torch.tensor([2, 2, 2, 2])

    def draw(options):
        with torch.no_grad():
            return model.sample(4, labels=labels, generator=torch.Generator().manual_seed(0), options=options)

    greedy = draw({"temperature": 1e-6})
    torch.testing.assert_close(greedy, greedy[:1].expand_as(greedy))  # same label, no noise left: one image
    assert not torch.allclose(draw(None)[0], draw(None)[1]), "the default temperature 1.0 varies the samples"
    with pytest.raises(GentoolError, match='"sample.temperature": 0'):
        draw({"temperature": 0})


def test_prior_disabled_trains_the_autoencoder_alone_and_decodes_random_codes():
    model = make_vqvae(prior={"enabled": False})
    assert [s.name for s in model.stages()] == ["autoencoder"] and not hasattr(model, "prior")
    assert not model.conditional and model.ema_modules == ()
    with torch.no_grad():
        check_images(model.eval().sample(3, generator=torch.Generator().manual_seed(0)), 3, (1, 28, 28))


def test_bad_options_fail_before_any_work():
    with pytest.raises(GentoolError, match="quantizer"):
        make_vqvae(quantizer="vq-emma")
    with pytest.raises(GentoolError, match="model.prior"):
        make_vqvae(prior={"width": 10, "heads": 4})
    with pytest.raises(GentoolError, match="model.quantizer_options"):
        make_vqvae(quantizer_options={"codebok_size": 64})


def test_two_stage_run_samples_and_reloads_in_a_new_process(tmp_path):
    check_registered("model", "vqvae")
    for name in ("vq", "vq-ema", "fsq"):
        check_registered("quantizer", name)
    run = check_model_trains("vqvae", tmp_path, steps=6, options=SMALL)
    stages = [
        line.split('"stage": "')[1].split('"')[0] for line in (run.dir / "metrics.jsonl").read_text().splitlines()
    ]
    assert stages[0] == "autoencoder" and stages[-1] == "prior"
    assert bool(run.model.quantizer.initialised)  # vq-ema's k-means ran, and its state was saved with the weights
    reported = run.summary["metrics"]  # none was asked for: the model's report_metrics are computed all the same
    assert 0 < reported["recon"]["mse"] < 1 and 0 < reported["codebook"]["usage"] <= 1


def test_report_metrics_can_be_turned_off(tmp_path):
    from gentool.api import train

    run = train({"model": {"name": "vqvae", "batch_size": 8, **SMALL}, "steps": 2, "out": str(tmp_path / "off"),
                 "eval": {"model_metrics": False}, "trainer": {"sample_every": 100, "checkpoint_every": 100}})
    assert run.summary["metrics"] == {}


def test_trains_on_colour_images_with_fsq(tmp_path):
    options = {**SMALL, "quantizer": "fsq", "quantizer_options": {"levels": [5, 5, 3]}}
    check_model_trains("vqvae", tmp_path, dataset="shapes", steps=4, options=options, dataset_options={"count": 60})


def test_attention_spelled_out_for_cpu_training_matches_torchs_causal_attention():
    from gentool_vqvae.prior import causal_attention

    q, k, v = torch.randn(3, 2, 2, 7, 8).unbind(0)
    # p = 1/512 rounds to no dropout but takes the spelled-out path used when training on the CPU
    ours = causal_attention(q, k, v, 1 / 512, training=True)
    assert torch.allclose(ours, torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True), atol=1e-5)
    torch.manual_seed(0)
    dropped = causal_attention(q, k, v, 0.5, training=True)
    assert not torch.allclose(dropped, ours)
    first = dropped[:, :, 0]  # the first position attends to itself alone: weight 1, dropped to 0 or kept as 2
    kept = first.abs().sum(-1) > 0
    assert kept.any() and torch.allclose(first[kept], 2 * v[:, :, 0][kept])
