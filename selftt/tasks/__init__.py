"""Task specs (math, QA, NLI) and the registry that picks one by name."""

from __future__ import annotations

from typing import Any

from selftt.errors import ConfigError
from selftt.tasks.base import Example, Task
from selftt.tasks.math import MathTask
from selftt.tasks.nli import NLITask
from selftt.tasks.qa import QATask

TASKS: dict[str, type[Task]] = {"math": MathTask, "qa": QATask, "nli": NLITask}


def get_task(name: str, key: str = "data.task", **options: Any) -> Task:
    """Build the task called ``name`` with ``options``; a ConfigError names ``key`` otherwise."""
    if name not in TASKS:
        raise ConfigError(key, f"unknown task '{name}'; expected one of {', '.join(sorted(TASKS))}")
    try:
        return TASKS[name](**options)
    except TypeError as exc:
        raise ConfigError(key, f"bad options for task '{name}': {exc}") from None


__all__ = ["TASKS", "Example", "MathTask", "NLITask", "QATask", "Task", "get_task"]
