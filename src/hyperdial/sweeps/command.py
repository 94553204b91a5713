"""A trial's command line: the file's argv template with W&B's macros expanded, never a shell string.

Macros (W&B's, https://docs.wandb.ai/guides/sweeps/define-sweep-configuration, "command"):
a token that is exactly `${env}`, `${interpreter}`, `${program}`, `${args}`,
`${args_no_hyphens}`, `${args_no_boolean_flags}`, `${args_json}` or `${args_json_file}` is
replaced by its expansion (the `args` ones by one token per parameter); `${envvar:NAME}`
is replaced wherever it stands. Values become argv items as they are: `x; touch pwned`
reaches the program as one literal argument, since nothing here runs a shell.

>>> expand(["${interpreter}", "train.py", "${args}"], {"lr": 0.01, "deep": True}, interpreter="python")
['python', 'train.py', '--deep=True', '--lr=0.01']
>>> expand(["run", "${args_no_boolean_flags}", "${args_no_hyphens}"], {"deep": False, "n": 2})
['run', '--n=2', 'deep=False', 'n=2']
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping
from typing import Any

from hyperdial.sweeps._checks import Where

DEFAULT_WANDB_COMMAND = ("${env}", "${interpreter}", "${program}", "${args}")
ARGS_MACROS = ("${args}", "${args_no_hyphens}", "${args_no_boolean_flags}", "${args_json}")
TOKEN_MACROS = ("${env}", "${interpreter}", "${program}", "${args_json_file}", *ARGS_MACROS)
_ENVVAR = re.compile(r"\$\{envvar:([^}]*)\}")
_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")


def check_command(where: Where, command: list[str], program: str | None) -> list[str]:
    """Errors for what cannot run (an empty command, `${program}` without `program`); warnings
    for placeholders W&B leaves unexpanded, such as `--lr=${lr}`."""
    found: list[str] = []
    key = "command" if "command" in where.node else None
    if not command:
        raise where.error(key, "must not be empty")
    for i, token in enumerate(command):
        if token == "${program}" and program is None:
            raise where.error(key, "uses ${program} but the file has no `program`", command)
        for name in _ENVVAR.findall(token):
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
                raise where.error(key, "has an ${envvar:NAME} without a valid variable name", token)
        if token in TOKEN_MACROS:
            continue
        for ph in _PLACEHOLDER.findall(_ENVVAR.sub("", token)):
            found.append(f"command[{i}] {token!r}: {ph} is not a macro and is passed to the program unexpanded "
                         f"(as W&B does); use {', '.join(ARGS_MACROS)} to pass parameters")
    return found


def arg_text(value: Any) -> str:
    """A value as W&B writes it after `--name=`: Python's str() (True, 0.001, {'a': 1})."""
    return str(value)


def env_text(value: Any) -> str:
    """A value as an environment variable: strings as they are, everything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def env_name(name: str) -> str:
    """`HYPERDIAL_PARAM_<NAME>`: the parameter's dotted name upper-cased, other characters as `_`.

    >>> env_name("optimizer.lr")
    'HYPERDIAL_PARAM_OPTIMIZER_LR'
    """
    return "HYPERDIAL_PARAM_" + re.sub(r"[^A-Za-z0-9_]", "_", name).upper()


def expand(
    command: list[str],
    config: Mapping[str, Any],
    *,
    program: str | None = None,
    interpreter: str | None = None,
    json_file: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[str]:
    """The argv of one trial: `config` is the (nested) configuration, its top-level keys the arguments."""
    env = os.environ if environ is None else environ
    keys = sorted(config)  # W&B's order: its HyperParameterSet sorts the names
    out: list[str] = []
    for token in command:
        if token == "${env}":
            if os.name != "nt":
                out.append("/usr/bin/env")
        elif token == "${interpreter}":
            out.append(interpreter or sys.executable)
        elif token == "${program}":
            out.append(str(program))
        elif token == "${args}":
            out += [f"--{k}={arg_text(config[k])}" for k in keys]
        elif token == "${args_no_hyphens}":
            out += [f"{k}={arg_text(config[k])}" for k in keys]
        elif token == "${args_no_boolean_flags}":
            for k in keys:
                v = config[k]
                if isinstance(v, bool):
                    if v:
                        out.append(f"--{k}")
                else:
                    out.append(f"--{k}={arg_text(v)}")
        elif token == "${args_json}":
            out.append(json.dumps({k: config[k] for k in keys}))
        elif token == "${args_json_file}":
            out.append(str(json_file))
        else:
            out.append(_ENVVAR.sub(lambda m: env.get(m.group(1), ""), token))
    return out


def missing_envvars(command: list[str], environ: Mapping[str, str] | None = None) -> list[str]:
    """The variables `${envvar:NAME}` names that are not set (checked before anything runs)."""
    env = os.environ if environ is None else environ
    return [name for token in command for name in _ENVVAR.findall(token) if name not in env]
