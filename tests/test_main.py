"""selftt/__main__.py: the program's notes on stderr carry the ``selftt:`` prefix exactly once."""

from __future__ import annotations

import logging

from selftt.__main__ import ProgramNoteFormatter


def _line(message: str, *args) -> str:
    record = logging.LogRecord("selftt.x", logging.WARNING, __file__, 1, message, args, None)
    return ProgramNoteFormatter("%(message)s").format(record)


def test_prefix_once():
    assert _line("converting %s", "m.gguf") == "selftt: converting m.gguf"
    assert _line("selftt: task '%s' has no instruction", "math") == "selftt: task 'math' has no instruction"
