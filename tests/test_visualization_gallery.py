"""The docs gallery script (tests/visualization/gallery.py) on a short run: a PNG per plot kind."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from hyperdial.visualization import KINDS

GALLERY = Path(__file__).parent / "visualization" / "gallery.py"


def test_gallery_writes_every_kind(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("gallery", GALLERY)
    assert spec is not None and spec.loader is not None
    gallery = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gallery)
    paths = gallery.build(tmp_path, n_trials=8, epochs=3, dpi=30)
    assert [p.name for p in paths] == [f"plot-{k.replace('_', '-')}.png" for k in KINDS]
    for p in paths:
        assert p.read_bytes().startswith(b"\x89PNG"), p
