"""The `gentool` commands (a typer app): parse arguments and render results; the work happens in the modules they
call. `gentool.cli.main` is the entry point and answers `list` and `--help` itself when it can."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from gentool.cli import DESCRIPTION
from gentool.errors import GentoolError
from gentool.scaffold.cli import new_app  # `gentool new`: templates only, no torch

app = typer.Typer(
    name="gentool",
    help=DESCRIPTION,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

def _state():
    from gentool.plugins import plugin_state

    return plugin_state()


@app.command("list")
def list_components(
    kind: Annotated[str | None, typer.Argument(help="model, loss, quantizer, dataset, metric or features")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON array")] = False,
) -> None:
    """List the installed components: name, kind, distribution, version, summary."""
    from gentool.cli import render_list

    print(render_list(_state(), kind, as_json))


@app.command()
def info(
    name: Annotated[str, typer.Argument(help="component name, e.g. vqvae or digits")],
    kind: Annotated[str | None, typer.Option(help="the kind, when several kinds share the name")] = None,
) -> None:
    """Show a component's options: key, type, default and description."""
    from gentool.introspect import describe

    component, rows = describe(_state().registry, name, kind)
    out.print(f"[bold]{component.name}[/bold] ({component.kind}) from {component.distribution} {component.version}")
    out.print(component.summary)
    table = Table("option", "type", "default", "description")
    for row in rows:
        table.add_row(*(escape(cell) for cell in row))
    out.print(table)
    prefix = {"model": "model", "dataset": "dataset", "metric": f"metric.{component.name}"}.get(component.kind)
    if prefix:
        out.print(f"Set an option with --set {prefix}.KEY=VALUE or in a TOML file under \\[{prefix}].")
    if component.sample_config is not None:
        out.print(
            "Sample options (sample.KEY) are chosen at sample time: `gentool run|eval --set sample.KEY=VALUE`, "
            "`gentool sample RUN --set KEY=VALUE` (a translation model: `gentool translate RUN --set KEY=VALUE`)."
        )


@app.command()
def plugins(
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON array")] = False,
    check: Annotated[bool, typer.Option("--check", help="import every component and check it (exit 1 if any is broken)")] = False,
) -> None:
    """List installed plugin distributions, the hooks they implement, and broken ones with the reason."""
    state = _state()
    if check:
        from gentool.introspect import check_components

        results = check_components(state.registry)
        table = Table("component", "kind", "distribution", "status", "reason", title="component check")
        for comp, problem in results:
            table.add_row(comp.name, comp.kind, comp.distribution, "broken" if problem else "ok", escape(problem or ""))
        for p in state.broken:
            table.add_row(p.name, "plugin", p.distribution, "broken", escape(p.error or ""))
        out.print(table)
        raise typer.Exit(1 if state.broken or any(problem for _, problem in results) else 0)
    if as_json:
        print(json.dumps([p.to_json() for p in state.plugins], indent=2))
        return
    table = Table("plugin", "distribution", "version", "hooks", "status", "error", title="gentool plugins")
    for p in state.plugins:
        status = "[green]ok[/green]" if p.status == "ok" else "[red]broken[/red]"
        table.add_row(p.name, p.distribution, p.version, ", ".join(p.hooks), status, escape(p.error or ""))
    out.print(table)


def _print_metrics(metrics: dict) -> None:
    """The results table, then each metric's error as a whole paragraph (never cut to a column's width)."""
    if metrics:
        from gentool.evaluate import result_errors, results_table

        out.print(results_table(metrics))
        for name, message in result_errors(metrics):
            out.print(Text.assemble((f"{name}: ", "yellow"), message), highlight=False, soft_wrap=True)


@app.command()
def run(
    model: Annotated[str | None, typer.Option(help="model name (see `gentool list model`)")] = None,
    dataset: Annotated[str | None, typer.Option(help="dataset name (default: digits)")] = None,
    metric: Annotated[list[str] | None, typer.Option(help="metric to compute at the end (repeatable)")] = None,
    steps: Annotated[int | None, typer.Option(help="training steps (default: the model's budget)")] = None,
    minutes: Annotated[float | None, typer.Option(help="wall-clock budget instead of steps")] = None,
    seed: Annotated[int | None, typer.Option(help="random seed (default 0)")] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu, cuda or mps")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="run directory (default runs/<model>-<time>)")] = None,
    config: Annotated[Path | None, typer.Option(help="TOML config file")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="section.key=value (repeatable)")] = None,
    resume: Annotated[Path | None, typer.Option(help="continue the run in this directory")] = None,
    overwrite: Annotated[bool, typer.Option(help="replace an existing run directory")] = False,
) -> None:
    """Train a model, write its run directory, and evaluate the requested metrics."""
    from gentool.resolve import gather, gather_resume, resolve

    flags = {"model": model, "dataset": dataset, "metrics": metric, "steps": steps, "minutes": minutes,
             "seed": seed, "device": device}
    config_file = str(config) if config else None
    if resume is not None:
        raw = gather_resume(resume, config_file, flags, set_ or [])
    else:
        raw = gather(config_file, flags | {"out": str(out_dir) if out_dir else None}, set_ or [])
    resolved = resolve(raw)  # every option is checked before torch is imported or anything is written
    from gentool.trainer.loop import train

    result = train(resolved, resume=resume is not None, overwrite=overwrite)
    if not result.summary:
        return
    s = result.summary
    out.print(
        f"Trained [bold]{s['model']}[/bold] on {s['dataset']} for {s['steps']} steps in {s['train_seconds']:.1f} s "
        f"({s['images_per_second']:.0f} images/s) on {s['device']}. Run directory: {result.dir}"
    )
    _print_metrics(s.get("metrics", {}))


def _parse_labels(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise GentoolError(f'Invalid --labels "{text}": expected comma-separated class numbers, e.g. 3,3,7.') from None


@app.command()
def sample(
    run_dir: Annotated[Path, typer.Argument(help="a run directory")],
    n: Annotated[int, typer.Option("-n", min=1, help="number of samples")] = 64,
    labels: Annotated[str | None, typer.Option(help="class labels, cycled to fill n, e.g. 3,3,7")] = None,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    out_file: Annotated[Path, typer.Option("--out", help="output file")] = Path("samples.png"),
    fmt: Annotated[str, typer.Option("--format", help="png (a grid) or npz (raw arrays)")] = "png",
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or mps")] = "auto",
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="a sample option KEY=VALUE, e.g. truncation=0.7 (repeatable)")
    ] = None,
) -> None:
    """Draw samples from a trained run as a PNG grid or an .npz of arrays, with the model's sample options."""
    from gentool.sampling import sample_sets, write_samples

    if fmt not in ("png", "npz"):
        from gentool.errors import unknown_choice

        raise unknown_choice("format", fmt, ("png", "npz"))
    options = sample_sets(set_ or [])
    labels_list = _parse_labels(labels) if labels else None
    written = write_samples(run_dir, n, labels_list, seed, out_file, fmt, device, options)
    out.print(f"Wrote {n} samples to {written}")


@app.command("eval")
def evaluate_run(
    run_dir: Annotated[Path, typer.Argument(help="a finished run directory")],
    metric: Annotated[list[str], typer.Option(help="metric to compute (repeatable)")],
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="metric.key=value, eval.key=value or sample.key=value")
    ] = None,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or mps")] = "auto",
) -> None:
    """Evaluate a finished run on its held-out test split; results are merged into its summary.json."""
    from gentool.sampling import evaluate_run_dir

    _print_metrics(evaluate_run_dir(run_dir, metric, set_ or [], device))


@app.command()
def interpolate(
    run_dir: Annotated[Path, typer.Argument(help="a run directory of a model with latents")],
    out_file: Annotated[Path, typer.Option("--out", help="FILE.png (a grid), FILE.gif or FILE.webp (animated)")],
    n: Annotated[int, typer.Option("--n", help="rows: walks drawn")] = 8,
    frames: Annotated[int, typer.Option(help="images along each walk, endpoints included")] = 10,
    labels: Annotated[str | None, typer.Option(help="classes for a conditional model, e.g. 3,7")] = None,
    latents: Annotated[Path | None, typer.Option(help="walk between the latents of `gentool project` instead")] = None,
    seed: Annotated[int, typer.Option(help="random seed of the endpoints")] = 0,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or mps")] = "auto",
) -> None:
    """Walk between latents: rows of images from one random latent to another (between labels at fixed noise for a
    conditional model), as a grid or an animation."""
    from gentool.latents import run_interpolation

    walks = run_interpolation(run_dir, out_file, n=n, frames=frames, labels=_parse_labels(labels) if labels else None,
                              latents=latents, seed=seed, device=device)
    out.print(f"Wrote {len(walks.kinds)} walks of {frames} frames ({', '.join(sorted(set(walks.kinds)))}) to {out_file}")


@app.command()
def project(
    run_dir: Annotated[Path, typer.Argument(help="a run directory of a model with latents")],
    out_dir: Annotated[Path, typer.Option("--out", help="folder for projections/, latents.safetensors, grid.png")],
    images: Annotated[Path | None, typer.Option(help="a folder of .png/.jpg images")] = None,
    dataset: Annotated[str | None, typer.Option(help="a registered dataset instead of --images")] = None,
    split: Annotated[str, typer.Option(help="the dataset split: train or test")] = "test",
    count: Annotated[int | None, typer.Option(help="project only the first COUNT images")] = None,
    steps: Annotated[int, typer.Option(help="gradient steps on the latents")] = 500,
    feature_weight: Annotated[float, typer.Option(help="weight of the feature distance beside the pixel MSE")] = 1.0,
    features: Annotated[str | None, typer.Option(help="feature network (default: the one that suits the data)")] = None,
    overwrite: Annotated[bool, typer.Option(help="replace an existing --out folder's files")] = False,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or mps")] = "auto",
) -> None:
    """Find for each image the latent whose generation is closest to it (pixels plus features), from the encoder
    where the model has one; writes the projections, their latents and a PSNR table."""
    from gentool.evaluate import format_value
    from gentool.project import run_projection

    table = run_projection(run_dir, out_dir, images=images, dataset=dataset, split=split, count=count, steps=steps,
                           feature_weight=feature_weight, features=features, overwrite=overwrite, device=device)
    rows = Table("image", "start", "PSNR (dB)", "feature distance", title=f"projection ({out_dir})")
    for row in table["images"][:20]:
        rows.add_row(escape(row["image"]), row["start"], format_value(row["psnr"]), format_value(row["feature_distance"]))
    out.print(rows)
    out.print(f"{len(table['images'])} images: mean PSNR {table['mean_psnr']:.2f} dB, mean feature distance "
              f"{table['mean_feature_distance']:.4g}. Latents: {out_dir / 'latents.safetensors'}")


@app.command()
def translate(
    run_dir: Annotated[Path, typer.Argument(help="a run directory of a translation model (e.g. cyclegan)")],
    direction: Annotated[str, typer.Option(help="a2b or b2a (the model's directions)")],
    out_dir: Annotated[Path, typer.Option("--out", help="folder for the translated files and grid.png")],
    images: Annotated[Path | None, typer.Option(help="a folder of .png/.jpg images of the source domain")] = None,
    dataset: Annotated[str | None, typer.Option(help="a registered dataset instead of --images")] = None,
    split: Annotated[str, typer.Option(help="the dataset split: train or test")] = "test",
    convert: Annotated[bool, typer.Option(help="turn grey inputs into RGB (or RGB into grey) for the source domain")] = False,
    overwrite: Annotated[bool, typer.Option(help="replace files that already exist in --out")] = False,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or mps")] = "auto",
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="a translation option KEY=VALUE, e.g. shift=1 (repeatable)")
    ] = None,
) -> None:
    """Translate images to the other domain: one file per input under the same relative name, and a grid of source |
    translated | translated back."""
    from gentool.sampling import sample_sets
    from gentool.translate import translate_run

    done = translate_run(run_dir, direction, out_dir, images=images, dataset=dataset, split=split,
                         overwrite=overwrite, convert=convert, device=device, options=sample_sets(set_ or []))
    out.print(f"Translated {len(done.files)} images ({done.direction}) into {out_dir}; grid: {done.grid}")


@app.command()
def compare(
    runs: Annotated[list[Path], typer.Argument(help="run directories, one or more")],
    out_file: Annotated[Path, typer.Option("--out", help="report.html (one self-contained page) or report.md (PNGs beside it)")],
    overwrite: Annotated[bool, typer.Option(help="replace an existing report")] = False,
) -> None:
    """Put runs side by side: the config keys that differ, metrics (real data's values first), the last sample grid
    of each and the loss curves on shared axes."""
    from gentool.compare import compare_runs

    report = compare_runs(runs, out_file, overwrite=overwrite)
    out.print(f"Compared {len(report.runs)} runs in {out_file}", highlight=False)
    for note in report.notes:
        out.print(Text.assemble(("note: ", "yellow"), note), highlight=False, soft_wrap=True)


app.add_typer(new_app, name="new")
