"""Sphinx configuration: the documentation site, built offline from this checkout.

Sphinx because the docstrings are reStructuredText (``:func:`` roles, ``>>>`` examples,
Google-style ``Args:`` read by napoleon); MyST-NB renders the notebooks with their stored
outputs (never executes them) and the Markdown pages. Build (warnings are errors, as in the
test that builds it)::

    .venv/bin/sphinx-build -W --keep-going -n -b html docs build/docs
"""

import shutil
from pathlib import Path

import recommenders_kit

DOCS = Path(__file__).resolve().parent


def _copy_notebooks() -> None:
    """The notebooks and their index, copied in as pages (a source must sit under docs/; a
    symlink would resolve the notebooks' links to each other outside it)."""
    shutil.rmtree(DOCS / "notebooks", ignore_errors=True)
    shutil.copytree(
        DOCS.parent / "notebooks",
        DOCS / "notebooks",
        ignore=lambda folder, names: [
            n for n in names if not (n.endswith((".ipynb", ".md")) or (Path(folder) / n).is_dir())
        ],
    )


def setup(app):
    if Path(app.srcdir).resolve() == DOCS:  # not for another source tree built with this conf
        _copy_notebooks()


project = "recommenders_kit"
release = version = recommenders_kit.__version__
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "myst_nb",
]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "**/.ipynb_checkpoints"]

# the notebooks are shown as committed: their stored outputs, no kernel at build time
nb_execution_mode = "off"
myst_heading_anchors = 3
# the README's relative links name the repository's files, which the site includes as pages
myst_enable_extensions = ["colon_fence"]

# each object on the page of the module that defines it (re-exports are not repeated)
autodoc_default_options = {"members": True, "show-inheritance": True, "ignore-module-all": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
napoleon_google_docstring = True
napoleon_numpy_docstring = False

# nitpicky (-n): a reference to a name of this library that does not exist fails the build;
# references into other packages (pandas, pyspark, ...) are not resolved offline
# and neither are the private modules' names (base classes, helpers a signature mentions) or
# type variables
nitpick_ignore_regex = [
    (r"py:.*", r"(?!recommenders_kit\b).*"),
    (r"py:.*", r"recommenders_kit(\.\w+)*\._\w+.*"),
    (r"py:class", r"recommenders_kit(\.\w+)*\.[A-Z]"),
]

html_theme = "alabaster"
html_title = f"recommenders_kit {release}"
