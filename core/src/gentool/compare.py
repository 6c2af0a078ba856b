"""`gentool compare`: runs side by side, as one self-contained HTML page or as Markdown with its PNGs beside it.

    report = compare_runs([Path("runs/gan-1"), Path("runs/vae-1")], Path("report.html"))

The report holds the configuration keys that differ between the runs, a metrics table (the values real data gives
first, then one row per run), each run's last sample grid and the loss curves on shared axes. Runs of different
data, metrics, feature networks or sample counts are compared all the same, under a note saying so.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gentool.config import flatten
from gentool.errors import GentoolError
from gentool.rundir import RunDir, write_atomically

SUFFIXES = (".html", ".md")
IGNORED_KEYS = ("out",)  # differs between any two runs; the run's name already says it
RESULT_FIELDS = ("features", "reference", "error")  # entries of a metric's results that are not its values


@dataclass
class RunView:
    """One run as the report shows it: a label, its files' content and its last sample grid (None when absent)."""

    label: str
    root: Path
    config: dict[str, Any]
    summary: dict[str, Any]
    records: list[dict[str, Any]]
    grid: Path | None

    @property
    def metrics(self) -> dict[str, dict[str, Any]]:
        return self.summary.get("metrics") or {}

    @property
    def dataset(self) -> str:
        return json.dumps(self.config.get("dataset", {}), sort_keys=True)

    @property
    def eval_samples(self) -> Any:
        return (self.config.get("eval") or {}).get("samples")


@dataclass
class Row:
    """A row of the metrics table: a label, whether it is real data's reference, and {(metric, key): value}."""

    label: str
    reference: bool
    cells: dict[tuple[str, str], Any]
    info: dict[str, Any] = field(default_factory=dict)  # model, dataset, steps, training seconds


@dataclass
class Report:
    runs: list[RunView]
    notes: list[str]
    differing: list[tuple[str, list[str]]]  # (config key, its value in each run)
    columns: list[tuple[str, str]]  # (metric, key) in the order first met
    rows: list[Row]
    constants: list[tuple[str, str, Any]]  # (metric, key, value): counts that are the same in every row
    curves: bytes | None  # PNG


def load_runs(paths: list[Path]) -> list[RunView]:
    """Each path as a RunView, read through RunDir; a path that is not a run directory is a GentoolError."""
    if not paths:
        raise GentoolError("gentool compare needs at least one run directory, e.g. `gentool compare runs/gan-1 runs/vae-1`.")
    runs, names = [], [Path(p).resolve().name or str(p) for p in paths]
    for i, path in enumerate(paths):
        path = Path(path)
        if not path.is_dir():
            raise GentoolError(f'"{path}" is not a gentool run directory: {"it does not exist" if not path.exists() else "it is a file"}.')
        run = RunDir(path)
        label = names[i] if names.count(names[i]) == 1 else f"{names[i]} ({i + 1})"
        grids = sorted(run.samples.glob("step_*.png")) if run.samples.is_dir() else []
        runs.append(RunView(label, path, run.read_config(), run.read_summary(), run.read_metrics(),
                            grids[-1] if grids else None))
    return runs


def show(value: Any) -> str:
    """A value as a cell shows it: numbers to 4 significant digits, counts as integers, the rest as JSON."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) < 1e15):
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    return value if isinstance(value, str) else json.dumps(value)


def config_differences(runs: list[RunView]) -> list[tuple[str, list[str]]]:
    """(key, shown values) for each flattened config key whose value is not the same in every run ("–": absent)."""
    flat = [flatten(r.config) for r in runs]
    keys = list(dict.fromkeys(k for f in flat for k in f))
    missing = object()
    return [(k, [show(f[k]) if k in f else "–" for f in flat]) for k in keys
            if k not in IGNORED_KEYS and len({json.dumps(f.get(k, missing), sort_keys=True, default=str) for f in flat}) > 1]


def _numbers(values: dict[str, Any]) -> dict[str, float]:
    return {k: v for k, v in values.items() if k not in RESULT_FIELDS and isinstance(v, (int, float))}


def metrics_table(runs: list[RunView]) -> tuple[list[tuple[str, str]], list[Row]]:
    """The columns (metric, key) and rows: real data's values first (one row per distinct data and sample count),
    then one row per run."""
    columns = list(dict.fromkeys((m, k) for r in runs for m, v in r.metrics.items() for k in _numbers(v)))
    groups: dict[tuple[str, Any], list[RunView]] = {}
    for r in runs:
        groups.setdefault((r.dataset, r.eval_samples), []).append(r)
    rows = []
    for (_, samples), members in groups.items():
        cells: dict[tuple[str, str], Any] = {}
        for r in members:
            for m, values in r.metrics.items():
                for k, v in _numbers(values.get("reference") or {}).items():
                    cells.setdefault((m, k), v)
        if cells:
            name = members[0].summary.get("dataset") or members[0].config.get("dataset", {}).get("name", "")
            where = f"{name}, {samples} samples" if len(groups) > 1 else "train vs test split"
            rows.append(Row(f"real data ({where})", True, cells, {"dataset": name}))
    for r in runs:
        cells = {(m, k): v for m, values in r.metrics.items() for k, v in _numbers(values).items()}
        s = r.summary
        info = {"model": s.get("model") or r.config.get("model", {}).get("name", ""),
                "dataset": s.get("dataset") or r.config.get("dataset", {}).get("name", ""),
                "steps": s.get("steps"), "train s": s.get("train_seconds")}
        rows.append(Row(r.label, False, cells, {k: v for k, v in info.items() if v not in (None, "")}))
    return columns, rows


def split_constants(columns: list[tuple[str, str]], rows: list[Row]) -> tuple[list, list]:
    """(columns, constants): with two rows or more, a column holding one whole number in every row (a sample count,
    a number of classes) moves out of the table into `constants` as (metric, key, value)."""
    kept, constants = [], []
    for column in columns:
        values = {row.cells.get(column) for row in rows}
        value = next(iter(values))
        if len(rows) > 1 and len(values) == 1 and isinstance(value, (int, float)) and float(value).is_integer():
            constants.append((*column, value))
        else:
            kept.append(column)
    return kept, constants


def _who(pairs: dict[str, list[str]]) -> str:
    return "; ".join(f"{value}: {', '.join(labels)}" for value, labels in pairs.items())


def notes(runs: list[RunView]) -> list[str]:
    """What the reader must know before comparing numbers: different data, metrics, networks, sample counts;
    unfinished runs, metric errors, missing grids."""
    out = []

    def by(value_of) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for r in runs:
            value = value_of(r)
            if value is not None:
                found.setdefault(str(value), []).append(r.label)
        return found

    data = by(lambda r: r.dataset)
    if len(data) > 1:
        names = [json.loads(k).get("name", k) for k in data]
        named = {(n if names.count(n) == 1 else f"{n} {k}"): v for n, (k, v) in zip(names, data.items())}
        out.append(f"The runs use different data ({_who(named)}): metrics compare each run with its own test split, "
                   "so compare values only within the same data; each data has its own real-data row.")
    counts = by(lambda r: r.eval_samples)
    if len(counts) > 1:
        out.append(f"The runs were evaluated with different sample counts ({_who(counts)}); FID and KID depend on it.")
    names = list(dict.fromkeys(m for r in runs for m in r.metrics))
    partial: dict[tuple[str, ...], list[str]] = {}
    for m in names:
        have = tuple(r.label for r in runs if m in r.metrics)
        if len(have) < len(runs):
            partial.setdefault(have, []).append(f'"{m}"')
    for have, metrics in partial.items():
        what = f"The metric {metrics[0]} was" if len(metrics) == 1 else f"The metrics {', '.join(metrics)} were"
        out.append(f"{what} computed for {', '.join(have)} only.")
    for m in names:
        networks = by(lambda r, m=m: (r.metrics.get(m) or {}).get("features"))
        if len(networks) > 1:
            out.append(f'"{m}" was computed on different feature networks ({_who(networks)}): its values are not comparable.')
    for r in runs:
        if not r.summary:
            out.append(f"{r.label} has no summary.json (still training, or stopped early): it has no metrics.")
        if r.grid is None:
            out.append(f"{r.label} has no sample grid (samples/step_*.png).")
        for m, values in r.metrics.items():
            if "error" in values:
                out.append(f"{r.label}: {m}: {values['error']}")
    return out


def build_report(paths: list[Path]) -> Report:
    """Read the runs and gather everything the page shows (curves drawn with matplotlib)."""
    from gentool.images import curves_png

    runs = load_runs(paths)
    columns, rows = metrics_table(runs)
    columns, constants = split_constants(columns, rows)
    curves = curves_png({r.label: r.records for r in runs})
    return Report(runs, notes(runs), config_differences(runs), columns, rows, constants, curves)


def check_out(out: Path, overwrite: bool) -> None:
    if out.suffix.lower() not in SUFFIXES:
        raise GentoolError(f'Invalid --out "{out}": the report is written as .html (one self-contained page) or '
                           f".md (Markdown with its PNGs beside it), not {out.suffix or 'a file without a suffix'}.")
    if out.is_dir():
        raise GentoolError(f'--out "{out}" is a directory; give a file name ending in .html or .md.')
    if out.exists() and not overwrite:
        raise GentoolError(f'The report "{out}" already exists. Pass --overwrite to replace it, or choose another --out.')


def compare_runs(paths: list[Path], out: Path, *, overwrite: bool = False) -> Report:
    """Write the comparison of the run directories `paths` to `out` (.html or .md) and return it."""
    from gentool.compare_page import render_html, render_markdown

    out = Path(out)
    check_out(out, overwrite)
    report = build_report(paths)
    if out.suffix.lower() == ".html":
        write_atomically(out, render_html(report).encode())
    else:
        files = out.with_name(f"{out.stem}_files")
        images = {}
        for i, r in enumerate(report.runs):
            if r.grid is not None:
                name = f"{i + 1:02d}-{''.join(c if c.isalnum() or c in '-_.' else '_' for c in r.label)}.png"
                write_atomically(files / name, r.grid.read_bytes())
                images[r.label] = f"{files.name}/{name}"
        if report.curves is not None:
            write_atomically(files / "curves.png", report.curves)
            images[""] = f"{files.name}/curves.png"
        write_atomically(out, render_markdown(report, images).encode())
    return report
