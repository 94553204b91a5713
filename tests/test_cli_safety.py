"""What the `hyperdial` command prints when the storage holds hostile text, run as a real
subprocess against a real SQLite file: names and values with terminal control characters
are shown escaped, wide cells are clipped, and storage passwords never appear."""

from __future__ import annotations

import csv
import io
import os
import pty
import subprocess
import sys
from pathlib import Path

import hyperdial as hd

# OSC "set window title", BEL, a newline that would fake a row, CR, a C1 CSI and a bidi override.
EVIL = "x\x1b]0;pwned\x07\nfake row\r\x9b2J\u202e"
RAW = ("\x1b", "\x07", "\r", "\x9b", "\u202e")


def run_cli(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "HYPERDIAL_STORAGE"}
    return subprocess.run([sys.executable, "-m", "hyperdial", *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout, check=False)


def run_on_terminal(*args: str, cwd: Path) -> str:
    """stdout of the CLI when it is a terminal (a pseudo-terminal), as text."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "hyperdial", *args], cwd=cwd, stdin=subprocess.DEVNULL,
                            stdout=follower, stderr=subprocess.PIPE)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return b"".join(chunks).decode().replace("\r\n", "\n")  # the terminal turns \n into \r\n


def _hostile_study(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'evil.db'}"
    study = hd.create_study(study_name=EVIL, storage=url, direction="minimize")
    trial = study.ask()
    trial.suggest_categorical(EVIL, ["a" * 100, EVIL])
    trial.suggest_categorical("long", ["L" * 100])
    trial.set_user_attr(EVIL, EVIL)
    study.tell(trial, 1.0)
    return url


def _assert_clean(text: str) -> None:
    for ch in RAW:
        assert ch not in text, (ch, text)


def test_table_and_text_output_escape_control_characters(tmp_path: Path) -> None:
    url = _hostile_study(tmp_path)
    for args in (["studies"], ["trials", EVIL], ["best", EVIL]):
        res = run_cli("--storage", url, *args, cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        _assert_clean(res.stdout + res.stderr)
        assert "x\\x1b]0;pwned\\x07\\nfake" in res.stdout  # visible, as escapes
        assert "fake row" not in res.stdout.splitlines()[0:1]  # the newline did not start a line
    table = run_cli("--storage", url, "trials", EVIL, cwd=tmp_path).stdout
    assert "L" * 38 not in table and "L" * 37 + "..." in table  # clipped at 40 characters
    rule = table.splitlines()[1]
    assert max(len(dashes) for dashes in rule.split()) == 40


def test_errors_escape_the_name_they_quote(tmp_path: Path) -> None:
    url = _hostile_study(tmp_path)
    res = run_cli("--storage", url, "trials", "no\x1b[2Jsuch", cwd=tmp_path)
    assert res.returncode == 1
    _assert_clean(res.stderr)
    assert "no\\x1b[2Jsuch" in res.stderr


def test_csv_is_faithful_in_a_pipe_and_escaped_on_a_terminal(tmp_path: Path) -> None:
    url = _hostile_study(tmp_path)
    res = subprocess.run([sys.executable, "-m", "hyperdial", "--storage", url, "trials", EVIL, "--format", "csv"],
                         cwd=tmp_path, capture_output=True, timeout=120, check=True)  # bytes: \r kept
    row = next(csv.DictReader(io.StringIO(res.stdout.decode(), newline="")))
    want = hd.load_study(study_name=EVIL, storage=url).trials[0].params[EVIL]
    assert row[f"params_{EVIL}"] == want  # data for programs: unchanged
    shown = run_on_terminal("--storage", url, "trials", EVIL, "--format", "csv", cwd=tmp_path)
    _assert_clean(shown)
    assert "params_x\\x1b]0;pwned\\x07\\nfake row\\r\\x9b2J\\u202e" in shown


def test_json_is_escaped_by_construction(tmp_path: Path) -> None:
    url = _hostile_study(tmp_path)
    res = run_cli("--storage", url, "trials", EVIL, "--format", "json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    _assert_clean(res.stdout)
    assert "\\u001b]0;pwned\\u0007\\nfake" in res.stdout


# -- storage passwords ---------------------------------------------------------------
PASSWORD = "S3cr@tPw"  # a raw '@': SQLAlchemy alone would print "tPw" as part of the host
REFUSED = [  # nothing listens on port 1
    f"postgresql+psycopg://user:{PASSWORD}@127.0.0.1:1/db?connect_timeout=5",
    "postgresql+psycopg://user:S3cr%40tPw@127.0.0.1:1/db?connect_timeout=5",
    f"postgresql+psycopg://127.0.0.1:1/db?user=user&password={PASSWORD}&connect_timeout=5",
]


def _assert_no_password(text: str) -> None:
    for piece in ("S3cr", "tPw"):
        assert piece not in text, text


def test_cli_never_prints_a_password(tmp_path: Path) -> None:
    for url in [*REFUSED, f"postgresql+psycopg//user:{PASSWORD}@127.0.0.1:1/db"]:  # the last does not parse
        for args in (["studies"], ["trials", "x"]):
            res = run_cli("--storage", url, *args, cwd=tmp_path, timeout=60)
            assert res.returncode == 1, res.stdout
            assert "Traceback" not in res.stderr and "hyperdial: error:" in res.stderr
            _assert_no_password(res.stdout + res.stderr)


def test_python_api_errors_never_hold_a_password(tmp_path: Path) -> None:
    code = (
        "import sys, hyperdial as hd\n"
        "for url in sys.argv[1:]:\n"
        "    try:\n"
        "        hd.create_study(storage=url)\n"
        "    except Exception as exc:\n"
        "        print(type(exc).__name__, str(exc).replace(chr(10), ' '))\n"
        "    else:\n"
        "        raise SystemExit('opened ' + url)\n"
    )
    res = subprocess.run([sys.executable, "-c", code, *REFUSED], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120, check=False)
    assert res.returncode == 0, res.stderr
    raw_at, encoded, in_query = res.stdout.splitlines()
    # A raw '@' can never connect (no host name has one): refused up front, with the fix.
    assert raw_at.startswith("InvalidParameterError") and "%40" in raw_at
    assert raw_at.endswith("got postgresql+psycopg://user:***@127.0.0.1:1/db?connect_timeout=5")
    assert encoded.startswith("StorageError cannot open storage postgresql+psycopg://user:***@127.0.0.1:1/db")
    assert in_query.startswith("InvalidParameterError") and "password=***&connect_timeout=5" in in_query
    _assert_no_password(res.stdout + res.stderr)
