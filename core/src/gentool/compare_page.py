"""The comparison report (gentool.compare.Report) as one self-contained HTML page, or as Markdown.

The HTML page embeds every image as a data: URI and its style inline: it opens offline, from any folder, in any
browser, and holds no script.
"""

from __future__ import annotations

import base64
import io
import math
from html import escape
from typing import Any

from PIL import Image

from gentool import __version__
from gentool.compare import Report, show

GRID_WIDTH, MAX_WIDTH = 300, 480  # pixels a sample grid is shown at, at least and at most
STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto; max-width: 1320px;
       padding: 0 16px; color: #222; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; }
.meta { color: #666; margin-top: 0; }
.notes { background: #fff8e1; border: 1px solid #f0d58a; padding: 8px 12px 8px 28px; border-radius: 4px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; white-space: nowrap; }
th { background: #f3f3f3; text-align: center; } td.label, th.label { text-align: left; }
tr.reference td { background: #eef6ee; font-style: italic; }
td.missing { color: #aaa; text-align: center; }
.grids { display: flex; flex-wrap: wrap; gap: 18px; }
figure { margin: 0; } figcaption { color: #444; font-size: 13px; margin-top: 4px; }
img.grid { border: 1px solid #ddd; max-width: 100%; height: auto; }
img.curves { max-width: 100%; }
"""


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _metric_header(report: Report) -> tuple[str, str]:
    """The two header rows of the metric columns: each metric over its keys; a metric whose only key is its own name
    takes both rows."""
    spans: list[tuple[str, list[str]]] = []
    for metric, key in report.columns:
        if spans and spans[-1][0] == metric:
            spans[-1][1].append(key)
        else:
            spans.append((metric, [key]))
    top, bottom = [], []
    for metric, keys in spans:
        if keys == [metric]:
            top.append(f'<th rowspan="2">{escape(metric)}</th>')
        else:
            top.append(f'<th colspan="{len(keys)}" class="group">{escape(metric)}</th>')
            bottom += [f"<th>{escape(k)}</th>" for k in keys]
    return "".join(top), "".join(bottom)


def constants_text(report: Report) -> str:
    return "Same in every row: " + ", ".join(f"{m} {k} = {show(v)}" if m != k else f"{m} = {show(v)}"
                                             for m, k, v in report.constants) + "."


INFO = ("model", "dataset", "steps", "train s")


def _metrics_html(report: Report) -> str:
    top, bottom = _metric_header(report)
    info = "".join(f'<th rowspan="2">{escape(k)}</th>' for k in INFO)
    head = f'<tr><th class="label" rowspan="2">run</th>{info}{top}</tr><tr>{bottom}</tr>'
    body = []
    for row in report.rows:
        cells = [f'<td class="label">{escape(row.label)}</td>']
        cells += [f"<td>{escape(show(row.info[k]))}</td>" if k in row.info else '<td class="missing">–</td>' for k in INFO]
        for column in report.columns:
            value = row.cells.get(column)
            cells.append('<td class="missing">–</td>' if value is None else f"<td>{escape(show(value))}</td>")
        kind = "reference" if row.reference else "run"
        body.append(f'<tr class="{kind}" data-run="{escape(row.label)}">{"".join(cells)}</tr>')
    return f'<div class="scroll"><table id="metrics"><thead>{head}</thead><tbody>{"".join(body)}</tbody></table></div>'


def _config_html(report: Report) -> str:
    if not report.differing:
        return "<p>The runs' configurations are the same (but for where each run lives).</p>"
    head = '<tr><th class="label">key</th>' + "".join(f"<th>{escape(r.label)}</th>" for r in report.runs) + "</tr>"
    rows = "".join(f'<tr><td class="label">{escape(key)}</td>' + "".join(f"<td>{escape(v)}</td>" for v in values)
                   + "</tr>" for key, values in report.differing)
    return f'<div class="scroll"><table id="config"><thead>{head}</thead><tbody>{rows}</tbody></table></div>'


def _grid_caption(path: Any) -> str:
    step = path.stem.removeprefix("step_")
    return f"step {int(step)}" if step.isdigit() else path.name


def _display_size(png: bytes) -> str:
    """width/height attributes: a small grid enlarged by a whole factor to at least GRID_WIDTH pixels (with crisp
    pixels), a large one shrunk to fit MAX_WIDTH."""
    with Image.open(io.BytesIO(png)) as image:
        w, h = image.size
    k = math.ceil(GRID_WIDTH / w) if w < GRID_WIDTH else min(1.0, MAX_WIDTH / w)
    crisp = ' style="image-rendering: pixelated"' if k > 1 else ""
    return f'width="{round(w * k)}" height="{round(h * k)}"{crisp}'


def render_html(report: Report) -> str:
    """The whole page as a string."""
    n = len(report.runs)
    parts = [f"<h1>gentool comparison of {n} run{'s' if n != 1 else ''}</h1>",
             f'<p class="meta">{escape(", ".join(str(r.root) for r in report.runs))} · gentool-core {__version__}</p>']
    if report.notes:
        parts.append('<ul class="notes">' + "".join(f"<li>{escape(note)}</li>" for note in report.notes) + "</ul>")
    parts += ["<h2>Metrics</h2>", _metrics_html(report)]
    if report.constants:
        parts.append(f'<p class="meta">{escape(constants_text(report))}</p>')
    parts += ["<p class=\"meta\">Real data: each metric run with real train items in place of samples, against the "
              "same test split, feature network and sample count; a model as good as the data scores about this.</p>",
              "<h2>Configuration: the keys that differ</h2>", _config_html(report), "<h2>Last sample grids</h2>",
              '<div class="grids">']
    for r in report.runs:
        if r.grid is None:
            parts.append(f"<figure><figcaption>{escape(r.label)}: no sample grid</figcaption></figure>")
            continue
        alt = f"last sample grid of {r.label}"
        png = r.grid.read_bytes()
        parts.append(f'<figure><img class="grid" alt="{escape(alt)}" {_display_size(png)} src="{data_uri(png)}">'
                     f"<figcaption>{escape(r.label)}, {_grid_caption(r.grid)}</figcaption></figure>")
    parts.append("</div><h2>Loss curves</h2>")
    if report.curves is None:
        parts.append("<p>No run logged any values.</p>")
    else:
        parts.append(f'<img class="curves" alt="loss curves of every run on shared axes" src="{data_uri(report.curves)}">')
    title = f"gentool comparison: {', '.join(r.label for r in report.runs)}"
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{STYLE}</style></head><body>\n" + "\n".join(parts) + "\n</body></html>\n")


def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(report: Report, images: dict[str, str]) -> str:
    """The report as Markdown; `images` maps a run's label (and "" for the curves) to its PNG's relative path."""
    lines = [f"# gentool comparison of {len(report.runs)} runs", ""]
    lines += [f"- {_md(note)}" for note in report.notes] + ([""] if report.notes else [])
    columns = [f"{m} {k}" if m != k else m for m, k in report.columns]
    lines += ["## Metrics", "", "| run | " + " | ".join(list(INFO) + columns) + " |",
              "|---" * (1 + len(INFO) + len(columns)) + "|"]
    for row in report.rows:
        label = f"*{_md(row.label)}*" if row.reference else _md(row.label)
        cells = [_md(show(row.info[k])) if k in row.info else "–" for k in INFO]
        cells += [_md(show(row.cells[c])) if c in row.cells else "–" for c in report.columns]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += [""] + ([constants_text(report), ""] if report.constants else [])
    lines += ["Real data: each metric run with real train items in place of samples, against the same test split, "
              "feature network and sample count; a model as good as the data scores about this.", "",
              "## Configuration: the keys that differ", ""]
    if report.differing:
        lines += ["| key | " + " | ".join(_md(r.label) for r in report.runs) + " |", "|---" * (1 + len(report.runs)) + "|"]
        lines += [f"| {_md(key)} | " + " | ".join(_md(v) for v in values) + " |" for key, values in report.differing]
    else:
        lines.append("The runs' configurations are the same (but for where each run lives).")
    lines += ["", "## Last sample grids", "", "| " + " | ".join(_md(r.label) for r in report.runs) + " |",
              "|---" * len(report.runs) + "|",
              "| " + " | ".join(f"![{_md(r.label)}]({images[r.label]})" if r.label in images else "no grid"
                                for r in report.runs) + " |", "", "## Loss curves", ""]
    lines.append(f"![loss curves]({images['']})" if "" in images else "No run logged any values.")
    return "\n".join(lines) + "\n"
