"""Contract checks a plugin runs against its own components in its tests (pytest or plain asserts).

    from gentool.api import check_registered, check_model_trains

    def test_my_model(tmp_path):
        check_registered("model", "mymodel")
        check_model_trains("mymodel", tmp_path, dataset="digits")

Each check raises AssertionError with a message that names the contract that was broken.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def one_torch_thread() -> Iterator[None]:
    """Run a test on one torch thread, then restore the count: a plugin's conftest makes it an autouse fixture,
    `one_thread = pytest.fixture(autouse=True)(one_torch_thread)`, so small models' tests neither fight over the
    cores nor depend on how many there are."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def check_plugins_healthy() -> None:
    """No installed gentool plugin is broken (under GENTOOL_STRICT_PLUGINS=1 a broken one fails a test session)."""
    from gentool.plugins import check_strict, plugin_state

    check_strict(plugin_state())


def check_registered(kind: str, name: str) -> Any:
    """The component is registered by a healthy plugin, imports, and has its protocol's members; returns it."""
    from gentool.introspect import check_component
    from gentool.plugins import plugin_state

    state = plugin_state()
    broken = [f"{p.name} ({p.distribution}): {p.error}" for p in state.broken]
    assert not broken, f"broken plugins: {broken}"
    assert name in state.registry.names(kind), f'{kind} "{name}" is not registered; have {state.registry.names(kind)}'
    component = state.registry.get(kind, name)
    problem = check_component(component)
    assert problem is None, problem
    return component


def check_images(x: Any, n: int, shape: tuple[int, ...]) -> None:
    """x is a float tensor (n, *shape) with every value in [0, 1] (the public image contract)."""
    import torch

    assert isinstance(x, torch.Tensor), f"expected a tensor, got {type(x).__name__}"
    assert x.is_floating_point(), f"expected floats, got {x.dtype}"
    assert tuple(x.shape) == (n, *shape), f"expected shape {(n, *shape)}, got {tuple(x.shape)}"
    assert bool(torch.isfinite(x).all()), "samples contain NaN or infinity"
    if len(shape) == 3:
        assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0, f"values outside [0, 1]: {float(x.min())}..{float(x.max())}"


def check_latents(model: Any, n: int = 3) -> None:
    """The optional latent members work together: `draw_latents(n, generator=)` is seeded, `generate(z, labels=)`
    turns the same latents into the same images of the data's shape and range, `latent_path` is slerp or lerp, and
    `encode_latents(x)`, where present, gives latents of the drawn shape."""
    import torch

    model = model.eval()
    info = model.info
    z = model.draw_latents(n, generator=torch.Generator().manual_seed(0))
    again = model.draw_latents(n, generator=torch.Generator().manual_seed(0))
    assert torch.equal(z, again), "draw_latents must follow its generator"
    labels = torch.arange(n) % info.num_classes if getattr(model, "conditional", False) else None
    with torch.no_grad():
        x = model.generate(z, labels=labels)
        check_images(x.cpu(), n, tuple(info.shape))
        assert torch.allclose(x, model.generate(z, labels=labels)), "generate must be deterministic"
    assert getattr(model, "latent_path", "slerp") in ("slerp", "lerp"), "latent_path is slerp or lerp"
    encode = getattr(model, "encode_latents", None)
    if encode is not None:
        with torch.no_grad():
            assert encode(x).shape == z.shape, "encode_latents must give latents of draw_latents' shape"


def check_model_trains(
    name: str, tmp_path: Path, *, dataset: str = "digits", steps: int = 3, options: dict | None = None,
    dataset_options: dict | None = None,
) -> Any:
    """Train `name` a few steps through the real trainer, sample the right shape and range, and reload the saved
    model in a new process where it samples the same shape. Returns the Run."""
    import torch

    from gentool.trainer.loop import train

    out = tmp_path / f"{name}-{dataset}"
    raw = {
        "model": {"name": name, "batch_size": 8, **(options or {})},
        "dataset": {"name": dataset, **(dataset_options or {})},
        "steps": steps,
        "out": str(out),
        "trainer": {"log_every": 1, "sample_every": steps, "checkpoint_every": steps, "grid_size": 16},
    }
    run = train(raw)
    expected = tuple(run.model.info.shape)
    with torch.no_grad():
        x = run.model.eval().sample(4, generator=torch.Generator().manual_seed(0)).cpu()
    check_images(x, 4, expected)
    code = (
        "import gentool, torch\n"
        f"m = gentool.load({str(out)!r})\n"
        "x = m.sample(3, generator=torch.Generator().manual_seed(0))\n"
        "print(tuple(x.shape))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"reloading {out} in a new process failed:\n{proc.stderr[-2000:]}"
    assert proc.stdout.strip() == str((3, *expected)), proc.stdout
    return run
