"""The documentation site (docs/, Sphinx): built offline from this checkout with warnings as
errors and nitpicky references, as a reader gets it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _build(source: Path, out: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-q", "-b", "html"]
    return subprocess.run(
        [*command, "-c", str(ROOT / "docs"), str(source), str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_site_builds_without_a_warning(tmp_path):
    result = _build(ROOT / "docs", tmp_path)
    assert result.returncode == 0, result.stderr[-5000:]
    stages = ["data", "split", "models", "evaluation", "storage", "serving", "deploy", "tuning"]
    for page in [*stages, "cli", "MIGRATING", "ARCHITECTURE", "SETUP"]:
        assert (tmp_path / f"{page}.html").is_file(), page
    # the API reference: docstrings rendered, with their examples and parameters
    models = (tmp_path / "models.html").read_text()
    assert 'id="recommenders_kit.models.ease.pandas.EASERecommender"' in models
    assert "ease_weights" in models
    assert "&gt;&gt;&gt;" in models
    # the notebooks, with their stored outputs (tables, plots), indexed
    quick_start = tmp_path / "notebooks" / "00_quick_start" / "als_movielens.html"
    page = quick_start.read_text()
    assert "popularity (baseline)" in page
    assert "<img" in page
    index = (tmp_path / "notebooks" / "README.html").read_text()
    assert 'href="00_quick_start/als_movielens.html"' in index
    # the getting-started page is the README: its two commands
    home = (tmp_path / "index.html").read_text()
    assert "scripts/setup.sh" in home
    assert "scripts/test.sh" in home


def test_a_broken_reference_fails_the_build(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    (source / "index.md").write_text(
        "# Page\n\n```{eval-rst}\nSee :func:`recommenders_kit.models.ease.no_such_function`.\n```\n"
    )
    result = _build(source, tmp_path / "out")
    assert result.returncode != 0
    assert "recommenders_kit.models.ease.no_such_function" in result.stderr


def test_every_public_module_is_in_the_api_reference():
    """Each module a user imports (no part of its name private) has an ``automodule`` page
    section: a new module cannot be left out of the reference."""
    package = ROOT / "recommenders_kit"
    public = {
        ".".join(
            ("recommenders_kit", *path.relative_to(package).with_suffix("").parts)
        ).removesuffix(".__init__")
        for path in package.rglob("*.py")
        if not any(part.startswith("_") for part in path.relative_to(package).parts[:-1])
        and (path.name == "__init__.py" or not path.name.startswith("_"))
    }
    documented = {
        line.split("::", 1)[1].strip()
        for page in (ROOT / "docs").glob("*.md")
        for line in page.read_text().splitlines()
        if line.startswith(".. automodule::")
    }
    assert public - documented == set()
