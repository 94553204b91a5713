"""One trial's child process: start it from an argv list, read its reports, stop it when told.

The child runs in its own process group (so a Ctrl-C in the terminal reaches the agent,
which then stops its children in order, and so a shell script's own children die with
it). Its stdout and stderr go, line by line, to one log file. Reports arrive as stdout
lines `hyperdial: {...}` and as JSON lines appended to the report file
(`hyperdial.report`); each is handed to `on_report`, which answers whether to prune.
Stopping (pruned, timed out, interrupted) sends SIGTERM to the group, then SIGKILL after
`grace` seconds.
"""

from __future__ import annotations

import collections
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from hyperdial.sweeps.child import parse_line

POLL = 0.05  # seconds between looks at the report file and the clock
TAIL_LINES = 20

# On Linux the program is started through this few-line launcher, which asks the kernel to
# SIGKILL it when the agent dies (PR_SET_PDEATHSIG, prctl(2)) and then execs the program: a
# child in its own session would otherwise outlive an agent killed with SIGKILL. (Doing this
# in `preexec_fn` instead is unsafe in a process with threads.) The parent pid passed in
# closes the race with an agent that died before prctl ran.
_LAUNCHER = """\
import ctypes, os, sys
ctypes.CDLL(None).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
if os.getppid() != int(sys.argv[1]):
    sys.exit(137)
try:
    os.execvp(sys.argv[2], sys.argv[2:])
except OSError as exc:
    print(f"cannot start {sys.argv[2]!r}: {exc.strerror or exc}", file=sys.stderr)
    sys.exit(127)
"""


def launcher_argv(argv: list[str]) -> list[str]:
    """`argv`, behind the launcher that ties the program's life to the agent's (Linux)."""
    if not sys.platform.startswith("linux"):
        return argv
    return [sys.executable, "-S", "-c", _LAUNCHER, str(os.getpid()), *argv]


@dataclass
class ChildResult:
    """How the child ended: its exit code (negative: killed by that signal), why it was
    stopped (None: it exited by itself), every report in order, and the tail of stderr."""

    returncode: int
    stopped: str | None
    reports: list[dict[str, Any]] = field(default_factory=list)
    stderr_tail: list[str] = field(default_factory=list)
    duration: float = 0.0


def _pump(stream: IO[bytes], name: str, log: IO[str], lock: threading.Lock, lines: queue.Queue[tuple[str, str]],
          tail: collections.deque[str] | None) -> None:
    for raw in iter(stream.readline, b""):
        text = raw.decode("utf-8", errors="replace")
        with lock:
            log.write(text if name == "out" else f"[stderr] {text}")
            log.flush()
        if tail is not None:
            tail.append(text.rstrip("\n"))
        if name == "out":
            lines.put((name, text))
    stream.close()


class _ReportFile:
    """Reads the JSON lines `hyperdial.report` appends, as they come (whole lines only)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.offset = 0

    def read(self) -> list[dict[str, Any]]:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return []
        end = data.rfind(b"\n")
        if end < 0:
            return []
        self.offset += end + 1
        out = []
        for line in data[: end + 1].splitlines():
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if isinstance(item, dict):
                out.append(item)
        return out


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def run_child(
    argv: list[str],
    *,
    env: Mapping[str, str],
    log_path: str,
    report_path: str,
    on_report: Callable[[dict[str, Any]], bool],
    timeout: float | None = None,
    grace: float = 10.0,
    stop: threading.Event | None = None,
    cwd: str | None = None,
) -> ChildResult:
    """Run `argv` to its end (or until pruned, timed out, or `stop` is set) and return how it ended.

    A program that cannot be started (not found, not executable) ends with returncode 127
    and the reason in `stderr_tail`, as a shell would report it.
    """
    start = time.monotonic()
    lines: queue.Queue[tuple[str, str]] = queue.Queue()
    tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
    reports: list[dict[str, Any]] = []
    report_file = _ReportFile(report_path)
    with open(log_path, "a", encoding="utf-8") as log:
        lock = threading.Lock()
        try:
            proc = subprocess.Popen(launcher_argv(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    env=dict(env), cwd=cwd, start_new_session=True)
        except OSError as exc:
            msg = f"cannot start {argv[0]!r}: {exc.strerror or exc}"
            log.write(f"[hyperdial] {msg}\n")
            return ChildResult(127, None, [], [msg], time.monotonic() - start)
        readers = [threading.Thread(target=_pump, args=(proc.stdout, "out", log, lock, lines, None), daemon=True),
                   threading.Thread(target=_pump, args=(proc.stderr, "err", log, lock, lines, tail), daemon=True)]
        for r in readers:
            r.start()
        stopped: str | None = None
        kill_at: float | None = None

        def take_reports() -> bool:
            new: list[dict[str, Any]] = []
            while True:
                try:
                    _, text = lines.get_nowait()
                except queue.Empty:
                    break
                item = parse_line(text)
                if item is not None:
                    new.append(item)
            new += report_file.read()
            prune = False
            for item in new:
                reports.append(item)
                if stopped is None and on_report(item):
                    prune = True
            return prune

        while True:
            done = proc.poll() is not None
            if take_reports() and stopped is None:
                stopped = "pruned"
            elif stopped is None and timeout is not None and time.monotonic() - start > timeout:
                stopped = "timeout"
            elif stopped is None and stop is not None and stop.is_set():
                stopped = "interrupted"
            if done:
                break
            if stopped is not None and kill_at is None:
                with lock:
                    log.write(f"[hyperdial] stopping the program ({stopped}): SIGTERM\n")
                _signal_group(proc, signal.SIGTERM)
                kill_at = time.monotonic() + grace
            elif kill_at is not None and time.monotonic() > kill_at:
                with lock:
                    log.write(f"[hyperdial] still running {grace:g} s after SIGTERM: SIGKILL\n")
                _signal_group(proc, signal.SIGKILL)
                kill_at = float("inf")
            time.sleep(POLL)
        if kill_at is not None:  # what the program started may outlive it: end the group
            _signal_group(proc, signal.SIGKILL)
        for r in readers:
            r.join(timeout=5)
        take_reports()
        return ChildResult(proc.returncode, stopped, reports, list(tail), time.monotonic() - start)
