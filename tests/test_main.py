"""selftt/__main__.py: the program's notes on stderr carry the ``selftt:`` prefix exactly once: the
handler adds it, so no message logged by selftt starts with it."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

from selftt.__main__ import show_progress_notes

SOURCE = Path(__file__).resolve().parents[1] / "selftt"
LEVELS = {"debug", "info", "warning", "error", "exception", "critical"}


def test_the_handler_adds_the_prefix(capsys):
    logger = logging.getLogger("selftt")
    before = list(logger.handlers)
    show_progress_notes()
    try:
        logging.getLogger("selftt.modules").warning("converting %s", "m.gguf")
    finally:
        for handler in logger.handlers[len(before):]:
            logger.removeHandler(handler)
    assert capsys.readouterr().err.splitlines() == ["selftt: converting m.gguf"]


def test_no_logged_message_carries_the_prefix_itself():
    offenders = []
    for path in sorted(SOURCE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            is_log = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in LEVELS
            first = node.args[0] if is_log and node.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value.startswith("selftt:"):
                offenders.append(f"{path.relative_to(SOURCE.parent)}:{node.lineno}")
    assert offenders == []
