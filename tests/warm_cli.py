"""``python -m selftt ARGS`` in a new process without paying for the imports each time.

Importing torch, transformers, peft and Lightning takes about 20 s of CPU on the CI machine
(2 vCPUs); the suite runs the CLI ~150 times, so a plain subprocess per run costs most of an
hour. ``run_warm`` forks each run from a forkserver (``multiprocessing``, standard library) that
imported ``selftt.cli`` once. Each run is still its own process: its own working directory,
environment, stdin (/dev/null), stdout and stderr (files at the descriptor level, so C code and
the processes it starts write there too), exit status and ``atexit`` handlers; it executes
``selftt/__main__.py`` as ``python -m selftt`` does.

What differs from a cold start is only what happens at import time. So ``warm_allowed`` sends a
run to a cold subprocess whenever its environment differs from the forkserver's in a variable
other than those in ``RUNTIME_ONLY`` (a PYTHONPATH with fakes, another HF_HOME, ...).

This file is run inside the forked child by ``runpy.run_path`` (``__name__ == "__main__"``): the
parameters arrive as the globals ``ARGS``, ``CWD``, ``ENV``, ``OUT`` and ``ERR``.
"""

from __future__ import annotations

import multiprocessing
import os
import runpy
import subprocess
import sys
import tempfile
from pathlib import Path

RUNTIME_ONLY = frozenset({"PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PYTEST_CURRENT_TEST", "COLUMNS", "LINES"})
"""Environment variables no module reads at import time: a run that sets them may still be warm."""

_server: dict = {}


def server_env() -> dict[str, str]:
    """The forkserver's environment (before it starts: the current one, which it will get)."""
    return dict(_server.get("env", os.environ))


def warm_allowed(env: dict[str, str]) -> bool:
    """True when ``env`` equals ``server_env()`` apart from ``RUNTIME_ONLY`` keys."""
    base = server_env()
    keys = (set(env) | set(base)) - RUNTIME_ONLY
    return all(env.get(k) == base.get(k) for k in keys)


def _context() -> multiprocessing.context.BaseContext:
    if "ctx" not in _server:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["selftt.cli"])
        _server.update(ctx=ctx, env=dict(os.environ))
    return _server["ctx"]


def run_warm(args: list[str], cwd: Path, env: dict[str, str], timeout: int) -> subprocess.CompletedProcess:
    """Run ``python -m selftt ARGS`` forked from the warm forkserver; the same result as
    ``subprocess.run(..., capture_output=True, text=True)``.

    Raises:
        subprocess.TimeoutExpired: the run took longer than ``timeout`` seconds (it is killed).
    """
    ctx = _context()
    command = [sys.executable, "-m", "selftt", *args]
    with tempfile.TemporaryDirectory() as tmp:
        out, err = Path(tmp) / "stdout", Path(tmp) / "stderr"
        params = {"ARGS": list(args), "CWD": str(cwd), "ENV": dict(env), "OUT": str(out), "ERR": str(err)}
        proc = ctx.Process(target=runpy.run_path, args=(__file__, params, "__main__"))
        proc.start()
        proc.join(timeout)
        if proc.exitcode is None:
            proc.kill()
            proc.join()
            raise subprocess.TimeoutExpired(command, timeout)
        stdout = out.read_text(encoding="utf-8", errors="replace") if out.exists() else ""
        stderr = err.read_text(encoding="utf-8", errors="replace") if err.exists() else ""
        return subprocess.CompletedProcess(command, proc.exitcode, stdout, stderr)


def _child() -> None:
    """In the forked child: become ``python -m selftt ARGS`` and exit with its status."""
    import atexit
    import io
    import traceback

    os.chdir(CWD)  # noqa: F821 (globals given by run_path)
    os.environ.clear()
    os.environ.update(ENV)  # noqa: F821
    multiprocessing.current_process().name = "MainProcess"
    for fd, path in ((1, OUT), (2, ERR)):  # noqa: F821
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(target, fd)
        os.close(target)
    sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", closefd=False), encoding="utf-8", line_buffering=True)
    sys.stderr = io.TextIOWrapper(os.fdopen(2, "wb", closefd=False), encoding="utf-8", line_buffering=True)
    sys.argv = [str(Path(sys.modules["selftt"].__file__).parent / "__main__.py"), *ARGS]  # noqa: F821
    code = 0
    try:
        runpy.run_module("selftt", run_name="__main__", alter_sys=True)
    except SystemExit as exc:  # as the interpreter does: None is 0, an int is the status, else print it, 1
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    except BaseException:  # noqa: BLE001 (as the interpreter does: traceback, status 1)
        traceback.print_exc()
        code = 1
    try:
        atexit._run_exitfuncs()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    _child()
