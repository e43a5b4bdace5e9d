"""Task specs (math, QA, NLI) and ``get_task``, which builds one from a registered name, a class
path (``mypkg.tasks.Sentiment``) or ``{class_path: ..., init_args: {...}}``."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from typing import Any

from selftt.errors import ConfigError
from selftt.tasks.base import Example, Task
from selftt.tasks.math import MathTask
from selftt.tasks.nli import NLITask
from selftt.tasks.qa import QATask

TASKS: dict[str, type[Task]] = {"math": MathTask, "qa": QATask, "nli": NLITask}
"""The built-in tasks by short name, in report order."""


def _import_class(path: str, key: str) -> type[Task]:
    module_name, _, attr = path.rpartition(".")
    if not module_name:
        raise ConfigError(
            key, f"unknown task '{path}'; expected one of {', '.join(sorted(TASKS))} or a class path (mypkg.module.Class)"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(key, f"cannot import module '{module_name}' of task class '{path}': {exc}") from None
    cls = getattr(module, attr, None)
    if cls is None:
        raise ConfigError(key, f"module '{module_name}' has no class '{attr}'")
    if not (inspect.isclass(cls) and issubclass(cls, Task)):
        raise ConfigError(key, f"'{path}' is not a subclass of selftt.tasks.Task")
    if inspect.isabstract(cls):
        missing = ", ".join(sorted(cls.__abstractmethods__))
        raise ConfigError(key, f"task class '{path}' does not define {missing}")
    return cls


def task_class(spec: str, key: str = "data.task") -> type[Task]:
    """The class of a registered short name or a dotted class path; ConfigError naming ``key``."""
    if spec in TASKS:
        return TASKS[spec]
    return _import_class(spec, key)


def get_task(
    spec: str | Mapping[str, Any] | type[Task],
    key: str = "data.task",
    options_key: str = "data.task_options",
    **options: Any,
) -> Task:
    """Build a task from ``spec`` with keyword ``options`` (``data.task_options``).

    ``spec`` is a registered name (``"math"``, ``"qa"``, ``"nli"``), a dotted class path of a
    ``Task`` subclass importable from ``sys.path`` (``"mypkg.tasks.Sentiment"``), a mapping
    ``{"class_path": ..., "init_args": {...}}`` (init_args and ``options`` are merged, options
    winning) or a ``Task`` subclass. Raises a one-line ConfigError naming ``key`` for an unknown
    name, a module that cannot be imported, a class that is not a ``Task`` or is abstract, and
    bad init args (an unknown keyword, or a ValueError/TypeError from its ``__init__``; a
    ConfigError it raises passes through), which names ``options_key`` when ``options`` were given.
    """
    if isinstance(spec, Mapping):
        unknown = set(spec) - {"class_path", "init_args"}
        path = spec.get("class_path")
        if unknown or not isinstance(path, str) or not path:
            raise ConfigError(key, "expected a task name or {class_path: ..., init_args: {...}}")
        init_args = spec.get("init_args") or {}
        if not isinstance(init_args, Mapping):
            raise ConfigError(f"{key}.init_args", f"must be a mapping, got {init_args!r}")
        bad_args_key = options_key if options else f"{key}.init_args"
        options = {**init_args, **options}
        cls = task_class(path, key)
    elif isinstance(spec, type):
        if not issubclass(spec, Task):
            raise ConfigError(key, f"'{spec.__name__}' is not a subclass of selftt.tasks.Task")
        cls = spec
    elif isinstance(spec, str):
        cls = task_class(spec, key)
    else:
        raise ConfigError(key, f"expected a task name or class path, got {spec!r}")
    label = spec if isinstance(spec, str) else cls.__module__ + "." + cls.__qualname__
    if not isinstance(spec, Mapping):
        bad_args_key = options_key if options else key
    try:
        return cls(**options)
    except ConfigError:
        raise  # already one line naming its key
    except (TypeError, ValueError) as exc:
        message = " ".join(str(exc).split())
        raise ConfigError(bad_args_key, f"bad options for task '{label}': {message}") from None


__all__ = ["TASKS", "Example", "MathTask", "NLITask", "QATask", "Task", "get_task", "task_class"]
