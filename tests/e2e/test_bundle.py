"""The built dashboard: initial JavaScript under budget, d3 only with the ontology page,
everything (fonts included) served by the platform itself."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

INITIAL_JS_BUDGET = 250 * 1024  # gzipped bytes, the entry and what it preloads


def _initial_scripts(dist: Path) -> list[Path]:
    html = (dist / "index.html").read_text()
    refs = re.findall(r'<script[^>]+src="/([^"]+\.js)"', html)
    refs += re.findall(r'<link[^>]+rel="modulepreload"[^>]+href="/([^"]+\.js)"', html)
    return [dist / r for r in refs]


def test_initial_javascript_is_under_budget(dist: Path):
    scripts = _initial_scripts(dist)
    assert scripts, "index.html loads no script"
    total = sum(len(gzip.compress(p.read_bytes(), compresslevel=9)) for p in scripts)
    print(f"initial JS: {total / 1024:.1f} KB gzipped in {len(scripts)} files")
    assert total < INITIAL_JS_BUDGET, f"initial JS is {total / 1024:.1f} KB gzipped"


def test_chunks_are_split_and_d3_waits_for_the_ontology_page(dist: Path):
    assets = [p.name for p in (dist / "assets").iterdir()]
    initial = [p.name for p in _initial_scripts(dist)]
    assert any(n.startswith("react-vendor-") for n in initial)
    d3 = [n for n in assets if n.startswith("d3-vendor-") and n.endswith(".js")]
    assert d3, "no d3-vendor chunk"
    assert not any(n.startswith("d3-") for n in initial), "d3 is in the initial load"
    static_import = re.compile(rf'(from|import)\s*"\./{re.escape(d3[0])}"')
    graph_pages = [
        n
        for n in assets
        if n.endswith(".js") and static_import.search((dist / "assets" / n).read_text())
    ]
    assert graph_pages and all(n.startswith("OntologyPage-") for n in graph_pages), graph_pages
    assert any(n.endswith(".css") for n in assets)
    assert len([n for n in assets if n.endswith(".js")]) > 5  # a chunk per page


def test_no_asset_comes_from_another_origin(dist: Path):
    fonts = [p for p in (dist / "assets").iterdir() if p.suffix in (".woff2", ".woff")]
    assert any("quicksand" in p.name for p in fonts), "Quicksand is not bundled"
    html = (dist / "index.html").read_text()
    assert not re.search(r'(src|href)="(https?:)?//', html)
    for css in (dist / "assets").glob("*.css"):
        assert not re.search(r"url\((['\"]?)(https?:)?//", css.read_text()), css.name
