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


# The module each runtime extra's package provides (bench and test are for the repository).
_MODULES = {"psycopg[binary]": "psycopg", "pandas": "pandas", "distributed": "distributed", "ray": "ray",
            "scikit-learn": "sklearn", "pyyaml": "yaml"}


def test_every_extra_installs_only_what_code_uses() -> None:
    import re

    try:
        import tomllib
    except ImportError:  # Python 3.10
        tomllib = None  # type: ignore[assignment]
    root = Path(__file__).parent.parent
    text = (root / "pyproject.toml").read_text()
    if tomllib is not None:
        extras = tomllib.loads(text)["project"]["optional-dependencies"]
    else:
        block = text.split("[project.optional-dependencies]")[1].split("\n[")[0]
        extras = {m[0]: re.findall(r'"([^"]+)"', m[1]) for m in re.findall(r"^(\w+) = \[(.*?)\]", block, re.MULTILINE | re.DOTALL)}
    source = "\n".join(p.read_text() for p in (root / "src" / "hyperdial").rglob("*.py"))
    assert "pyyaml" not in text.split("[project.optional-dependencies]")[0]  # no unused core dependency
    for extra, requirements in extras.items():
        if extra in ("bench", "test"):
            continue
        for req in requirements:
            name = re.split(r"[<>=!~ ]", req)[0]
            module = _MODULES.get(name, name)
            # imported, or named as a string (optional_import, drivers that SQLAlchemy loads by name)
            used = re.search(rf'(\bimport {module}\b|\bfrom {module}\b|"{module}")', source)
            assert used, f"extra {extra!r} installs {name}, which no code of hyperdial imports"


def test_no_module_imports_another_packages_private_name() -> None:
    import re

    src = Path(hd.__file__).parent
    offenders = []
    for path in src.rglob("*.py"):
        for m in re.finditer(r"^from (hyperdial[\w.]*) import ([^\n(]+)", path.read_text(), re.MULTILINE):
            module, names = m.group(1), [n.strip().split(" as ")[0] for n in m.group(2).split(",")]
            here = ".".join(path.relative_to(src.parent).with_suffix("").parts[:-1])
            for name in names:
                # a private name from a module outside the importing package (its own package may share them)
                is_module = (src.parent / module.replace(".", "/") / f"{name}.py").exists()  # an internal module
                if name.startswith("_") and not is_module and not module.startswith(here) \
                        and not module.rsplit(".", 1)[-1].startswith("_"):
                    offenders.append(f"{path.relative_to(src)}: from {module} import {name}")
    assert not offenders, offenders


def test_the_execution_layer_uses_only_public_members() -> None:
    """Executors, the optimize loop, the progress bar and the CLI run trials through the study's
    public execution interface (hyperdial/_execution.py), never its private members."""
    import re

    src = Path(hd.__file__).parent
    files = [src / "_optimize.py", src / "_progress.py", *(src / "executors").glob("*.py"), *(src / "cli").glob("*.py")]
    private = re.compile(r"\b(study|trial|job\.study|job\.trial)\._[a-z]\w*")
    used = [f"{p.relative_to(src)}: {m.group(0)}" for p in files for m in private.finditer(p.read_text())]
    assert not used, used
