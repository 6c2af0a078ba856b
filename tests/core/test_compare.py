"""`gentool compare`: runs side by side in one self-contained page, checked in a real headless browser too."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from support import run_gentool

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
# as root in a container without a display or network: no sandbox, no GPU, no background connections
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--hide-scrollbars"]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    return {"GENTOOL_CACHE": str(tmp_path_factory.mktemp("cache"))}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, env):
    """Three tiny runs: two on digits that differ in lr and steps, one on 2-D points."""
    root = tmp_path_factory.mktemp("runs")
    specs = {
        "fast": ["--steps", "4", "--set", "model.lr=0.01", "--metric", "fid", "--metric", "kid"],
        "slow": ["--steps", "6", "--set", "model.lr=0.003", "--metric", "fid", "--metric", "kid"],
        "points": ["--steps", "4", "--dataset", "gaussians", "--metric", "fid"],
    }
    for name, args in specs.items():
        result = run_gentool("run", "--model", "tiny", "--out", str(root / name), "--set", "trainer.log_every=1",
                             *args, env=env)
        assert result.code == 0, result.text
    return root


class Page(HTMLParser):
    """The parts of the report a test looks at: tables as lists of rows of cell texts, and the images."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.row_classes: dict[str, list[str]] = {}
        self.images: list[dict[str, str]] = []
        self.notes: list[str] = []
        self._table = self._cell = None
        self._in_notes = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self._table = a.get("id", "")
            self.tables[self._table], self.row_classes[self._table] = [], []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
            self.row_classes[self._table].append(a.get("class", ""))
        elif tag in ("td", "th") and self._table is not None:
            self._cell = ""
        elif tag == "img":
            self.images.append(a)
        elif tag == "ul" and a.get("class") == "notes":
            self._in_notes = True
        elif tag == "li" and self._in_notes:
            self.notes.append("")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[self._table][-1].append(self._cell.strip())
            self._cell = None
        elif tag == "table":
            self._table = None
        elif tag == "ul":
            self._in_notes = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        elif self._in_notes and self.notes:
            self.notes[-1] += data

    def body_rows(self, table: str) -> list[tuple[str, list[str]]]:
        return [(c, r) for c, r in zip(self.row_classes[table], self.tables[table]) if c in ("run", "reference")]


def compare(runs, *names, out, env, extra=()):
    return run_gentool("compare", *(str(runs / n) for n in names), "--out", str(out), *extra, env=env)


def test_page_lists_every_run_with_real_data_first_and_only_the_config_keys_that_differ(runs, env, tmp_path):
    out = tmp_path / "report.html"
    result = compare(runs, "fast", "slow", out=out, env=env)
    assert result.code == 0, result.text
    text = out.read_text()
    page = Page(text)
    rows = page.body_rows("metrics")
    assert [(kind, row[0]) for kind, row in rows] == [
        ("reference", "real data (train vs test split)"), ("run", "fast"), ("run", "slow")]
    header = page.tables["metrics"][0] + page.tables["metrics"][1]
    fid = next(i for i, cell in enumerate(page.tables["metrics"][1]) if cell == "fid")
    offset = len(page.tables["metrics"][0]) - 2  # run, model, dataset, steps, train s span both header rows
    values = {row[0]: float(row[offset + fid]) for _, row in rows}
    summaries = {n: json.loads((runs / n / "summary.json").read_text()) for n in ("fast", "slow")}
    for name, summary in summaries.items():
        assert values[name] == pytest.approx(summary["metrics"]["fid"]["fid"], rel=1e-3)
    reference = summaries["fast"]["metrics"]["fid"]["reference"]["fid"]
    assert values["real data (train vs test split)"] == pytest.approx(reference, rel=1e-3) and reference < 5
    assert "kid" in header and "rfid" in header
    config = {row[0]: row[1:] for row in page.tables["config"][1:]}
    assert config["model.lr"] == ["0.01", "0.003"] and config["steps"] == ["4", "6"]
    assert not {"dataset.name", "seed", "out", "model.code_dim", "metrics"} & set(config)  # the same in both
    assert len(page.images) == 3 and all(img["src"].startswith("data:image/png;base64,") for img in page.images)
    assert not re.search(r"""(src|href)=["']?(https?:|//|file:)""", text)  # opens offline: nothing outside the page
    assert page.notes == []


def test_runs_of_different_data_are_compared_under_a_note(runs, env, tmp_path):
    out = tmp_path / "report.html"
    result = compare(runs, "fast", "points", out=out, env=env)
    assert result.code == 0, result.text
    page = Page(out.read_text())
    assert any("different data" in note for note in page.notes) and "different data" in result.out
    assert any('"kid" was computed for fast only' in note for note in page.notes)
    rows = page.body_rows("metrics")
    assert [kind for kind, _ in rows] == ["reference", "reference", "run", "run"]  # one real-data row per data
    assert rows[0][1][0].startswith("real data (digits") and rows[1][1][0].startswith("real data (gaussians")
    assert {row[0] for row in page.tables["config"][1:]} >= {"dataset.name"}


def test_an_unfinished_run_is_shown_without_metrics_and_a_damaged_one_is_refused(runs, env, tmp_path):
    unfinished = tmp_path / "unfinished"
    shutil.copytree(runs / "slow", unfinished)
    (unfinished / "summary.json").unlink()
    out = tmp_path / "report.html"
    result = run_gentool("compare", str(runs / "fast"), str(unfinished), "--out", str(out), env=env)
    assert result.code == 0, result.text
    page = Page(out.read_text())
    assert any("unfinished has no summary.json" in note for note in page.notes)
    (row,) = [row for kind, row in page.body_rows("metrics") if row[0] == "unfinished"]
    assert set(row[5:]) == {"–"}  # no metric values
    (unfinished / "summary.json").write_text("{torn")
    result = run_gentool("compare", str(runs / "fast"), str(unfinished), "--out", str(out), "--overwrite", env=env)
    assert result.code == 2 and "damaged" in result.text and "summary.json" in result.text


def test_markdown_report_writes_its_pngs_beside_it(runs, env, tmp_path):
    out = tmp_path / "report.md"
    result = compare(runs, "fast", "slow", out=out, env=env)
    assert result.code == 0, result.text
    text = out.read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(links) == 3 and "| *real data (train vs test split)* |" in text
    for link in links:
        with Image.open(tmp_path / link) as image:
            assert image.format == "PNG"
    assert all((tmp_path / link).parent == tmp_path / "report_files" for link in links)


def test_bad_input_exits_2_with_the_reason(runs, env, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    cases = [
        ((str(empty),), "report.html", "not a gentool run directory"),
        ((str(tmp_path / "missing"),), "report.html", "does not exist"),
        ((str(runs / "fast"),), "report.pdf", ".html"),
        ((), "report.html", "Missing argument"),
    ]
    for paths, name, reason in cases:
        result = run_gentool("compare", *paths, "--out", str(tmp_path / name), env=env)
        assert result.code == 2 and reason in result.text and "Traceback" not in result.text, result.text
    (tmp_path / "taken.html").write_text("mine")
    result = run_gentool("compare", str(runs / "fast"), "--out", str(tmp_path / "taken.html"), env=env)
    assert result.code == 2 and "--overwrite" in result.text and (tmp_path / "taken.html").read_text() == "mine"
    assert compare(runs, "fast", out=tmp_path / "taken.html", env=env, extra=["--overwrite"]).code == 0


CHECK = """<script>
window.addEventListener("load", () => {
  for (const img of document.images) img.setAttribute("data-natural-width", img.naturalWidth);
  document.body.setAttribute("data-checked", "yes");
});
</script></body>"""


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    command = [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=180)


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs Debian's chromium)")
def test_page_as_a_person_sees_it_in_a_headless_browser(runs, env, tmp_path):
    out = tmp_path / "report.html"
    assert compare(runs, "fast", "slow", "points", out=out, env=env).code == 0
    shot = tmp_path / "screenshot.png"
    result = chromium(tmp_path, f"--screenshot={shot}", "--window-size=1360,2600", out.as_uri())
    assert shot.is_file(), result.stderr[-2000:]
    with Image.open(shot) as image:
        assert image.size == (1360, 2600)
        grey = np.asarray(image.convert("L"))
    assert len(np.unique(grey)) > 50 and (grey < 100).mean() > 0.01  # text, tables and digits, not a blank page
    # the same page with a script that records what the browser loaded, read back from the DOM it dumps
    checked = tmp_path / "checked.html"
    checked.write_text(out.read_text().replace("</body>", CHECK))
    dom = chromium(tmp_path, "--dump-dom", "--virtual-time-budget=10000", checked.as_uri()).stdout
    page = Page(dom)
    assert 'data-checked="yes"' in dom
    grids = [img for img in page.images if img.get("class") == "grid"]
    assert len(grids) == 3 and all(int(img["data-natural-width"]) > 0 for img in grids)
    assert all(int(img["data-natural-width"]) > 0 for img in page.images)  # the curves too
    assert [row[0] for kind, row in page.body_rows("metrics") if kind == "run"] == ["fast", "slow", "points"]
