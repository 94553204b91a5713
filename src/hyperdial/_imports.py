"""Optional dependencies are imported where used, through this one helper."""

from __future__ import annotations

import importlib
from types import ModuleType

from hyperdial.exceptions import MissingDependency


def optional_import(module: str, *, extra: str, purpose: str = "") -> ModuleType:
    """Import `module` or raise MissingDependency naming the extra that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        why = f" for {purpose}" if purpose else ""
        raise MissingDependency(
            f"{module!r} is needed{why}; install it with: pip install 'hyperdial[{extra}]'"
        ) from exc
