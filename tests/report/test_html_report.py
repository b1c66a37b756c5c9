"""The HTML report: self-contained (no script, no external resource), well-formed, with the plots.

Why a parser and not a headless browser: the page is static HTML with inline SVG and no
JavaScript, so the DOM a browser renders is the one parsed here; Chromium is not on a fresh
machine (see README).
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

from validator.cli import run
from tests.conftest import ROOT

VOID = {"meta", "br", "img", "input", "link", "hr", "line", "rect"}


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.tags, self.errors, self.titles = [], [], [], []
        self.attrs: list[dict] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.append(dict(attrs))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.append(dict(attrs))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(tag)


@pytest.fixture
def page(tmp_path):
    out = tmp_path / "report.html"
    rules = tmp_path / "r.yaml"
    rules.write_text((ROOT / "rules" / "pretrain.yaml").read_text().replace("statistic: duplicate_fraction", "statistic: mean_nn\n    # was duplicate_fraction")
                     .replace("    epsilon: 0.05\n", "").replace("    max: 0.1\n", "    max: 0.5\n", 1))
    code = run(["--rules", str(rules), str(ROOT / "examples" / "data" / "pretrain_one_language.csv"), "--format", "html", "--output", str(out)])
    assert code == 1
    parser = Page()
    text = out.read_text(encoding="utf-8")
    parser.feed(text)
    return text, parser


def test_html_is_well_formed_and_self_contained(page):
    text, parser = page
    assert text.startswith("<!DOCTYPE html>") and not parser.errors and not parser.stack
    assert "script" not in parser.tags and "http://" not in text.replace("http://www.w3.org", "")
    assert not any(a.get("src") or a.get("href") for a in parser.attrs)  # nothing loaded from elsewhere


def test_html_has_the_table_and_the_plots(page):
    text, parser = page
    assert "language-entropy" in text and "FAILED" in text
    assert parser.tags.count("svg") >= 6 + 1 + 1  # one per bounded rule, the language shares, the NN histogram
    assert "language-representativeness (FAIL): data and reference shares" in text
    assert "near-duplicates (PASS): nearest-neighbour distances" in text
    assert "<title>en: data 0.95" in text  # the bars carry their values


CHROMIUM = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if Path(p).exists()), None)


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_html_renders_in_headless_chromium(page, tmp_path):
    import subprocess

    text, _ = page
    html_file = tmp_path / "page.html"
    html_file.write_text(text, encoding="utf-8")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}"]
    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, *flags, f"--screenshot={shot}", "--window-size=1300,1600", html_file.as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert shot.stat().st_size > 20_000  # a real picture, not a blank page
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", html_file.as_uri()], capture_output=True, text=True, timeout=120, check=True)
    assert dom.stdout.count("<svg") >= 8 and "language-representativeness (FAIL): data and reference shares" in dom.stdout
