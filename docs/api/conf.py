"""Sphinx configuration of the API reference: `sphinx-build -W -b html docs/api OUT`.

The reference is built from the docstrings (autodoc); the hand-written pages in docs/*.md
and the README are included as they are (MyST), so there is one copy of each."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

project = "IMC Broker"
author = "IMC Broker maintainers"
release = "0.1.0"

extensions = ["sphinx.ext.autodoc", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]

# `name` in a docstring is code, as it reads in the source.
default_role = "literal"
autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "signature"
autodoc_class_signature = "separated"

myst_heading_anchors = 3
html_theme = "alabaster"
html_static_path: list[str] = []
