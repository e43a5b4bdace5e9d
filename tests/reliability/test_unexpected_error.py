"""An unexpected exception (a bug, not bad input) ends the command with one line and exit status 1;
``SELFTT_DEBUG=1`` shows the full traceback instead. Ctrl-C stays Ctrl-C."""

from __future__ import annotations

import pytest

import selftt.cli
from selftt.cli import cli_main


def _raising(exc: BaseException):
    def build(*args, **kwargs):
        raise exc

    return build


def test_an_unexpected_exception_is_one_line_and_exit_status_1(monkeypatch, capsys):
    monkeypatch.delenv("SELFTT_DEBUG", raising=False)
    monkeypatch.setattr(selftt.cli, "SelfTTCLI", _raising(RuntimeError("something broke\nin two lines")))
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["fit"])
    assert exit_info.value.code == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [
        "selftt: error: RuntimeError: something broke in two lines (rerun with SELFTT_DEBUG=1 for the traceback)"
    ]


def test_selftt_debug_shows_the_traceback(monkeypatch):
    monkeypatch.setenv("SELFTT_DEBUG", "1")
    monkeypatch.setattr(selftt.cli, "SelfTTCLI", _raising(RuntimeError("something broke")))
    with pytest.raises(RuntimeError, match="something broke"):
        cli_main(["fit"])


def test_keyboard_interrupt_passes_through(monkeypatch):
    monkeypatch.delenv("SELFTT_DEBUG", raising=False)
    monkeypatch.setattr(selftt.cli, "SelfTTCLI", _raising(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        cli_main(["fit"])
