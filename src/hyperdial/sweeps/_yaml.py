"""Reading sweep files: YAML (or JSON) into plain dicts that remember their line numbers.

PyYAML implements YAML 1.1, where `1e-5` (no dot) is a string; real W&B files are full
of such numbers, and a YAML 1.2 reader reads them as floats, so the float resolver here
follows YAML 1.2's core schema. Booleans stay YAML 1.1's (`yes`/`no`), as W&B reads them.
Windows line endings and explicit tags (`!!float 1`) are handled by the reader itself.

Every mapping is a `Located` dict: `line_of(key)` is the 1-based line where the key
stands, so errors name the key path and the line.

>>> data = read_text("lr:\\r\\n  min: 1e-5\\r\\n  max: !!float 1\\r\\n")
>>> data["lr"]["min"], data["lr"]["max"], data["lr"].line_of("max")
(1e-05, 1.0, 3)
"""

from __future__ import annotations

import re
from typing import Any

from hyperdial._imports import optional_import
from hyperdial.sweeps.errors import SweepFileError

# YAML 1.2 core schema floats (https://yaml.org/spec/1.2.2/#1023-core-schema), plus PyYAML's
# underscores-free 1.1 forms it already had; ints are left to PyYAML's own resolver.
_FLOAT_12 = re.compile(
    r"""^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.VERBOSE,
)
_INT = re.compile(r"^[-+]?[0-9]+$")


class Located(dict[Any, Any]):
    """A dict from a sweep file that knows the line of each key (1-based; 0 when unknown)."""

    line: int = 0
    lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        return getattr(self, "lines", {}).get(key, self.line)


def _loader_class() -> Any:
    yaml = optional_import("yaml", extra="sweeps", purpose="reading sweep files")

    class Loader(yaml.SafeLoader):  # type: ignore[name-defined]
        pass

    # Replace the YAML 1.1 float resolver (which needs a dot) with YAML 1.2's.
    Loader.yaml_implicit_resolvers = {
        ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:float"]
        for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_12, list("-+0123456789."))
    # An int pattern must still win for plain integers: resolvers are tried in order, so re-add it.
    for ch in "-+0123456789":
        Loader.yaml_implicit_resolvers[ch] = [
            r for r in Loader.yaml_implicit_resolvers[ch] if r[0] == "tag:yaml.org,2002:int"
        ] + [r for r in Loader.yaml_implicit_resolvers[ch] if r[0] != "tag:yaml.org,2002:int"]

    def construct_mapping(loader: Any, node: Any) -> Located:
        out = Located()
        out.line = node.start_mark.line + 1
        out.lines = {}
        loader.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise SweepFileError(f"line {key_node.start_mark.line + 1}: a key must be a string, got {key!r}") from None
            if key in out:
                raise SweepFileError(f"line {key_node.start_mark.line + 1}: key {key!r} appears twice")
            out[key] = loader.construct_object(value_node, deep=True)
            out.lines[key] = key_node.start_mark.line + 1
        return out

    Loader.add_constructor("tag:yaml.org,2002:map", construct_mapping)
    return Loader


_LOADER: Any = None


def read_text(text: str, *, source: str = "<sweep file>") -> Any:
    """Parse YAML (JSON is YAML too) with YAML 1.2 numbers; a syntax error names the line."""
    global _LOADER
    if _LOADER is None:
        _LOADER = _loader_class()
    yaml = optional_import("yaml", extra="sweeps", purpose="reading sweep files")
    try:
        return yaml.load(text, Loader=_LOADER)
    except SweepFileError as exc:  # a duplicate or unhashable key, found while building a mapping
        raise SweepFileError(f"{source}: {exc}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "somewhere"
        raise SweepFileError(f"{source}: YAML syntax error at {where}: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise SweepFileError(f"{source}: YAML error: {exc}") from None


def is_int_text(text: str) -> bool:
    return bool(_INT.match(text))
