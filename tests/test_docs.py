"""The documentation site: it builds with ``mkdocs build --strict``, opens from disk in a real
browser (headless Chromium, no server, no network) and every internal link leads to a page
or file of the site."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
HREF = re.compile(r'<a\b[^>]*\bhref="([^"]+)"', re.IGNORECASE)
OLD_README_SECTIONS = [  # every part of the README before the docs site, by its heading
    "Getting started", "What the shipped model can and cannot do", "For CSO staff",
    "The labels", "Command line", "Evaluating a model", "Building the training corpus",
    "HTTP API (for moderators)", "Settings of the server", "POST /v1/score",
    "comments:analyze", "POST /v1/moderations", "/v1/feedback", "Errors and limits",
    "Operations: health, readiness, metrics, batching",
    "Scanning feeds and early warnings (for analysts)", "warning scan", "warning alerts",
    "warning report", "Running on a Ray cluster", "How the default model is made",
    "Data and licences", "Language identification", "Identity groups", "Text normalisation",
    "Settings", "Python", "For developers",
]


def _mkdocs() -> str:
    path = Path(sys.executable).with_name("mkdocs")
    if not path.is_file():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("CI=true and mkdocs is missing: bash scripts/setup.sh installs the "
                        "'docs' extra")
        pytest.skip("mkdocs is not installed (pip install -e '.[docs]')")
    return str(path)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [_mkdocs(), "build", "--strict", "--site-dir", str(out)], cwd=ROOT,
        capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def _dump_dom(chromium: str, page: Path, profile: Path) -> str:
    result = subprocess.run(
        [chromium, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
         "--disable-extensions", "--disable-background-networking", "--disable-sync",
         "--disable-component-update", f"--user-data-dir={profile}",
         "--virtual-time-budget=3000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def _internal_target(page: Path, href: str, site: Path) -> Path | None:
    """The file an internal link points to, or None for links that leave the site."""
    url = urlparse(href)
    if url.scheme in ("http", "https", "mailto", "javascript", "data"):
        return None
    if url.scheme == "file":
        return Path(unquote(url.path))
    path, _ = urldefrag(href)
    if not path:
        return page
    return (page.parent / unquote(path)).resolve()


def test_docs_site_opens_offline_and_every_internal_link_leads_somewhere(
        site: Path, chromium: str, tmp_path: Path) -> None:
    start = site / "index.html"
    seen: set[Path] = set()
    queue = [start.resolve()]
    broken: list[str] = []
    while queue:
        page = queue.pop()
        if page in seen:
            continue
        seen.add(page)
        dom = _dump_dom(chromium, page, tmp_path / "profile")
        assert "<h1" in dom, f"{page.relative_to(site)} has no heading after it loaded"
        for href in HREF.findall(dom):
            target = _internal_target(page, href.replace("&amp;", "&"), site)
            if target is None:
                continue
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file() or not target.is_relative_to(site.resolve()):
                broken.append(f"{page.relative_to(site)} -> {href}")
            elif target.suffix == ".html" and target not in seen:
                queue.append(target)
    assert broken == []
    pages = {p.resolve() for p in site.rglob("*.html") if p.name != "404.html"}
    assert pages <= seen, sorted(str(p.relative_to(site)) for p in pages - seen)


def test_docs_site_holds_every_part_of_the_old_readme(site: Path) -> None:
    text = "\n".join(p.read_text("utf-8") for p in site.rglob("*.html"))
    text = re.sub(r"<[^>]+>", "", text).replace("&amp;", "&")
    missing = [title for title in OLD_README_SECTIONS if title not in text]
    assert missing == []


def test_docs_site_has_the_cso_page_in_english_and_russian(site: Path) -> None:
    english = (site / "cso.html").read_text("utf-8")
    russian = (site / "cso.ru.html").read_text("utf-8")
    assert "asking a person" in english and "Спросите человека" in russian
    assert 'href="cso.ru.html"' in english and 'href="cso.html"' in russian


def test_docs_site_has_the_python_api_reference_from_docstrings(site: Path) -> None:
    reference = (site / "reference" / "models.html").read_text("utf-8")
    assert "predict_proba" in reference and "Calibrated probabilities" in reference


def test_readme_is_short_and_points_to_the_docs() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    assert readme.count("\n") <= 200
    for target in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (ROOT / target).is_file(), target
