"""Packaging promises: a light import, typed package, public names, optional-extra errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import hyperdial as hd

HEAVY = ["scipy", "sqlalchemy", "pandas", "plotly", "matplotlib", "sklearn", "torch", "tqdm", "yaml", "psycopg"]


def test_import_is_light() -> None:
    code = (
        "import sys, hyperdial; heavy = %r; "
        "print(','.join(sorted({m.split('.')[0] for m in sys.modules} & set(heavy))))" % HEAVY
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"`import hyperdial` imported {out}"


def test_py_typed_and_public_names() -> None:
    assert (Path(hd.__file__).parent / "py.typed").exists()
    for name in ["create_study", "load_study", "delete_study", "get_all_studies", "FixedTrial", "TrialState",
                 "TrialPruned", "Float", "Int", "Categorical", "samplers", "pruners"]:
        assert hasattr(hd, name), name
    for name in ["Random", "Grid", "QMC"]:
        assert hasattr(hd.samplers, name)
    for name in ["Nop", "Median", "Percentile"]:
        assert hasattr(hd.pruners, name)


def test_missing_extra_names_the_extra() -> None:
    from hyperdial._imports import optional_import

    with pytest.raises(hd.MissingDependency, match=r"pip install 'hyperdial\[plot\]'") as info:
        optional_import("hyperdial_no_such_module", extra="plot", purpose="plots")
    assert isinstance(info.value, ImportError)
