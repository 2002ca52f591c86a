"""Render the study's report in a real headless Chromium."""

import os
import re
import shutil
import subprocess

import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")


def _browser():
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI"):
        pytest.fail("CI must install Chromium (see .ci/run)")
    pytest.skip("no Chromium on this machine")


def _render(path):
    """Load ``path`` headless; return (DOM after load, console messages)."""
    cmd = [
        _browser(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=5000",
        "--dump-dom",
        path.resolve().as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    console = [line for line in proc.stderr.splitlines() if "CONSOLE" in line]
    return proc.stdout, console


def test_browser_check_detects_console_errors(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text("<html><body><script>console.error('boom')</script></body></html>")
    _, console = _render(page)
    assert any("boom" in line for line in console)


def test_report_renders_images_and_headline_without_errors(tiny_study):
    result, out = tiny_study
    dom, console = _render(out / "report.html")
    match = re.search(r'data-images="(\d+)/(\d+)"', dom)
    assert match, "the report's self-check did not run"
    ok, total = map(int, match.groups())
    assert total >= 5 and ok == total
    rec = f"{100 * result.test['recommended'].accuracy:.1f}%"
    base = f"{100 * result.test['baseline'].accuracy:.1f}%"
    assert rec in dom and base in dom
    assert result.recommended.name in dom
    assert console == []


def test_report_renders_the_evidence_sections(tiny_study):
    from nooverfit.report import points
    from nooverfit.studies.evidence import evidence

    result, out = tiny_study
    dom, console = _render(out / "report.html")
    match = re.search(r'data-sections="([^"]*)"', dom)
    assert match, "the report's self-check did not run"
    expected = {
        "baseline-verdict",
        "seed-verdicts",
        "measured-advice",
        "remedies",
        "code-pytorch",
        "code-keras",
        "reproduce-command",
        "paired-test",  # the paired test difference, or that nothing beat the baseline
    }
    assert set(match.group(1).split()) == expected
    ev = evidence(result)
    # The paired figures and every seed's verdict are in the rendered page.
    for d in ev.remedies:
        assert f"{points(d.interval.mean)} points" in dom
    for v in ev.verdicts:
        assert re.search(rf"<td>{v.seed}</td><td>{v.verdict.replace('_', ' ')}</td>", dom)
    assert "torch.optim." in dom and "keras.Sequential" in dom
    assert "nooverfit study --data" in dom or "nooverfit study " in dom
    assert console == []


def test_report_keeps_every_table_within_the_page_column(tiny_study):
    # Chromium's default window (800 px) narrows the column below the remedies table's and
    # the 10 classes' recall table's widths: each scrolls in its own box, and nothing
    # reaches past the column unclipped (the tables overflowed it, review i134)
    _, out = tiny_study
    dom, console = _render(out / "report.html")
    match = re.search(r'data-overflow="([^"]*)"', dom)
    assert match, "the report's self-check did not run"
    assert match.group(1) == ""
    assert dom.count('<div class="scroll"><table') == dom.count("<table")
    assert console == []


def test_the_remedies_tables_text_columns_read_left_aligned(tiny_study, tmp_path):
    # the remedy and verdict columns' words stood right-aligned like the numbers (i134)
    _, out = tiny_study
    probe = """<script>window.addEventListener("load", function () {
      var rows = document.getElementById("remedies").rows, seen = [];
      for (var i = 0; i < rows.length; i++) {
        for (var j = 0; j < rows[i].cells.length; j++) {
          seen[j] = seen[j] || {};
          seen[j][getComputedStyle(rows[i].cells[j]).textAlign] = 1;
        }
      }
      document.body.setAttribute("data-align", seen.map(function (s) {
        return Object.keys(s).sort().join("+");
      }).join(" "));
    });</script></body>"""
    page = tmp_path / "report.html"
    page.write_text((out / "report.html").read_text().replace("</body>", probe))
    dom, _ = _render(page)
    match = re.search(r'data-align="([^"]*)"', dom)
    assert match, "the probe did not run"
    # #, remedy, best setting, val accuracy, − baseline, interval, per seed, reading,
    # gap, epochs run, verdict
    words = ["left", "left", "left", *["right"] * 4, "left", "right", "right", "left"]
    assert match.group(1).split() == words
